package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

func (s *Server) campaignRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"campaigns"}

	type createCampaignInput struct {
		Body struct {
			Name     string                 `json:"name" minLength:"1" maxLength:"200"`
			Type     string                 `json:"type,omitempty" enum:"broadcast,drip" doc:"Default broadcast (one email); a drip sends a sequence"`
			Audience domain.Audience        `json:"audience,omitempty" doc:"A saved filter over customers, as the customer list's filters"`
			Content  []domain.EmailTemplate `json:"content,omitempty" maxItems:"50" doc:"Emails with {{ variables }} (see docs/records.md)"`
			StartAt  *time.Time             `json:"startAt,omitempty"`
			EndAt    *time.Time             `json:"endAt,omitempty"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-campaign", Method: http.MethodPost, Path: "/v1/campaigns",
		DefaultStatus: http.StatusCreated, Summary: "Create a draft campaign", Tags: tags,
		Description: "Template variables are checked: an unknown {{ variable }} is a 422 naming the field. Emits `campaign.created`."},
		func(ctx context.Context, in *createCampaignInput) (*recordOut[domain.Campaign], error) {
			pr := principal(ctx)
			b := in.Body
			c := &domain.Campaign{OrgID: pr.OrgID, Name: b.Name, Type: b.Type, Audience: b.Audience, Content: b.Content, StartAt: b.StartAt, EndAt: b.EndAt}
			if _, err := svc.CreateCampaign(ctx, crm.Actor(pr.Actor()), c); err != nil {
				return nil, storeErr(err, "campaign")
			}
			return out(c, c.Version), nil
		})

	type listCampaignsInput struct {
		Status string `query:"status" enum:"draft,active,paused,completed,archived"`
		Type   string `query:"type" enum:"broadcast,drip"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor string `query:"cursor" maxLength:"1000"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-campaigns", Method: http.MethodGet, Path: "/v1/campaigns",
		Summary: "List campaigns, newest first (metrics: read one)", Tags: tags},
		func(ctx context.Context, in *listCampaignsInput) (*bodyOut[Page[domain.Campaign]], error) {
			cs, next, err := s.store.ListCampaigns(ctx, principal(ctx).OrgID, domain.CampaignQuery{Status: in.Status, Type: in.Type, Limit: in.Limit, After: in.Cursor})
			if err != nil {
				return nil, storeErr(err, "campaigns")
			}
			return &bodyOut[Page[domain.Campaign]]{Page[domain.Campaign]{Items: cs, NextCursor: next}}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-campaign", Method: http.MethodGet, Path: "/v1/campaigns/{id}",
		Summary: "Get a campaign with its metrics", Tags: tags},
		func(ctx context.Context, in *idInput) (*recordOut[domain.Campaign], error) {
			org := principal(ctx).OrgID
			c, err := s.store.GetCampaign(ctx, org, in.ID)
			if err != nil {
				return nil, storeErr(err, "campaign "+in.ID)
			}
			if c.Metrics, err = s.store.CampaignMetrics(ctx, org, in.ID); err != nil {
				return nil, storeErr(err, "campaign "+in.ID)
			}
			return out(c, c.Version), nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "update-campaign", Method: http.MethodPatch, Path: "/v1/campaigns/{id}",
		Summary: "Change a campaign (JSON merge patch)", Tags: tags,
		Description: "`name`, `type`, `audience`, `content`, `startAt`, `endAt`; not once completed or archived. Emits `campaign.updated`."},
		func(ctx context.Context, in *patchInput) (*recordOut[domain.Campaign], error) {
			pr := principal(ctx)
			version, patch, err := in.parse()
			if err != nil {
				return nil, err
			}
			c, err := svc.UpdateCampaign(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, version, func(c *domain.Campaign) error {
				return crm.PatchCampaign(c, patch)
			})
			if err != nil {
				return nil, recordErr(err, version != 0, "campaign "+in.ID)
			}
			return out(c, c.Version), nil
		})

	type campaignStatusInput struct {
		ID      string `path:"id" maxLength:"64"`
		IfMatch string `header:"If-Match"`
		Body    struct {
			Status string `json:"status" enum:"draft,active,paused,completed,archived"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "move-campaign", Method: http.MethodPost, Path: "/v1/campaigns/{id}/status",
		Summary: "Change a campaign's status", Tags: tags,
		Description: "draft → active (with content) ⇄ paused → completed → archived; draft and paused may be archived. Others answer 409 " +
			"`invalid-transition`. Emits `campaign.status_changed`."},
		func(ctx context.Context, in *campaignStatusInput) (*recordOut[domain.Campaign], error) {
			pr := principal(ctx)
			version, err := ifMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			c, err := svc.MoveCampaign(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, in.Body.Status, version)
			if err != nil {
				return nil, recordErr(err, version != 0, "campaign "+in.ID)
			}
			return out(c, c.Version), nil
		})

	type enrollInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			CustomerIDs []string `json:"customerIds,omitempty" maxItems:"5000"`
			Audience    bool     `json:"audience,omitempty" doc:"Enroll every customer the campaign's audience matches"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "enroll-campaign", Method: http.MethodPost, Path: "/v1/campaigns/{id}/enrollments",
		Summary: "Enroll customers in an active campaign", Tags: tags,
		Description: "`customerIds`, or `audience: true`. Customers already enrolled, of other organisations, or whose address is suppressed " +
			"are skipped. Emits `campaign.enrolled`."},
		func(ctx context.Context, in *enrollInput) (*bodyOut[crm.Enrolled], error) {
			pr := principal(ctx)
			var (
				n   *crm.Enrolled
				err error
			)
			switch {
			case in.Body.Audience && len(in.Body.CustomerIDs) > 0:
				return nil, problem(http.StatusUnprocessableEntity, ProbValidation, "give customerIds or audience, not both")
			case in.Body.Audience:
				n, err = svc.EnrollAudience(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID)
			default:
				n, err = svc.Enroll(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, in.Body.CustomerIDs)
			}
			if err != nil {
				return nil, storeErr(err, "campaign "+in.ID)
			}
			return &bodyOut[crm.Enrolled]{*n}, nil
		})

	type listEnrollmentsInput struct {
		ID     string `path:"id" maxLength:"64"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor string `query:"cursor" maxLength:"100"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-enrollments", Method: http.MethodGet, Path: "/v1/campaigns/{id}/enrollments",
		Summary: "A campaign's enrollments", Tags: tags},
		func(ctx context.Context, in *listEnrollmentsInput) (*bodyOut[Page[domain.Enrollment]], error) {
			org := principal(ctx).OrgID
			if _, err := s.store.GetCampaign(ctx, org, in.ID); err != nil {
				return nil, storeErr(err, "campaign "+in.ID)
			}
			pg := domain.Page{Limit: in.Limit, After: in.Cursor}
			es, err := s.store.ListEnrollments(ctx, org, in.ID, pg)
			if err != nil {
				return nil, storeErr(err, "enrollments")
			}
			return &bodyOut[Page[domain.Enrollment]]{Page[domain.Enrollment]{Items: es,
				NextCursor: nextCursor(es, pg, func(e domain.Enrollment) string { return e.CustomerID })}}, nil
		})

	type trackInput struct {
		ID       string `path:"id" maxLength:"64"`
		Customer string `path:"customer" maxLength:"64"`
		Body     struct {
			Event string `json:"event" enum:"sent,delivered,opened,clicked,converted,unsubscribed"`
		}
	}
	type tracked struct {
		First bool `json:"first" doc:"Whether the enrollment reached this step now for the first time (counted)"`
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "track-enrollment", Method: http.MethodPost, Path: "/v1/campaigns/{id}/enrollments/{customer}/events",
		Summary: "Record what happened to a customer's campaign email", Tags: tags,
		Description: "Each step counts once per enrollment. `unsubscribed` also suppresses the address and ends the enrollment. " +
			"The first time emits `campaign.<event>`."},
		func(ctx context.Context, in *trackInput) (*bodyOut[tracked], error) {
			pr := principal(ctx)
			first, err := svc.Track(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, in.Customer, in.Body.Event)
			if err != nil {
				return nil, storeErr(err, "enrollment of "+in.Customer)
			}
			return &bodyOut[tracked]{tracked{First: first}}, nil
		})

	type renderInput struct {
		ID       string `path:"id" maxLength:"64"`
		Customer string `path:"customer" maxLength:"64"`
		Step     int    `query:"step" minimum:"0" maximum:"49"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "render-campaign-email", Method: http.MethodGet, Path: "/v1/campaigns/{id}/enrollments/{customer}/email",
		Summary: "A campaign email as an enrolled customer gets it", Tags: tags},
		func(ctx context.Context, in *renderInput) (*bodyOut[crm.Email], error) {
			e, err := svc.RenderEmail(ctx, principal(ctx).OrgID, in.ID, in.Customer, in.Step)
			if err != nil {
				return nil, storeErr(err, "campaign "+in.ID)
			}
			return &bodyOut[crm.Email]{*e}, nil
		})

	stags := []string{"suppressions"}
	type listSuppressionsInput struct {
		Limit  int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor string `query:"cursor" maxLength:"300"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-suppressions", Method: http.MethodGet, Path: "/v1/suppressions",
		Summary: "The organisation's suppression list", Tags: stags},
		func(ctx context.Context, in *listSuppressionsInput) (*bodyOut[Page[domain.Suppression]], error) {
			pg := domain.Page{Limit: in.Limit, After: in.Cursor}
			ss, err := s.store.ListSuppressions(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "suppressions")
			}
			return &bodyOut[Page[domain.Suppression]]{Page[domain.Suppression]{Items: ss, NextCursor: nextCursor(ss, pg, func(x domain.Suppression) string { return x.Email })}}, nil
		})
	type addSuppressionInput struct {
		Body struct {
			Email  string `json:"email" minLength:"3" maxLength:"254"`
			Reason string `json:"reason,omitempty" enum:"unsubscribed,bounced,complained,manual" doc:"Default manual"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "add-suppression", Method: http.MethodPost, Path: "/v1/suppressions",
		DefaultStatus: http.StatusCreated, Summary: "Suppress an address: no campaign email goes to it", Tags: stags,
		Description: "An address already suppressed keeps its first reason. Emits `suppression.added`."},
		func(ctx context.Context, in *addSuppressionInput) (*bodyOut[domain.Suppression], error) {
			pr := principal(ctx)
			reason := in.Body.Reason
			if reason == "" {
				reason = "manual"
			}
			x, err := svc.Suppress(ctx, crm.Actor(pr.Actor()), pr.OrgID, &domain.Suppression{Email: in.Body.Email, Reason: reason})
			if err != nil {
				return nil, storeErr(err, "suppression")
			}
			return &bodyOut[domain.Suppression]{*x}, nil
		})
	type emailInput struct {
		Email string `path:"email" maxLength:"254"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-suppression", Method: http.MethodGet, Path: "/v1/suppressions/{email}",
		Summary: "Whether an address is suppressed (404 when not)", Tags: stags},
		func(ctx context.Context, in *emailInput) (*bodyOut[domain.Suppression], error) {
			x, err := s.store.GetSuppression(ctx, principal(ctx).OrgID, in.Email)
			if err != nil {
				return nil, storeErr(err, "suppression")
			}
			return &bodyOut[domain.Suppression]{*x}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-suppression", Method: http.MethodDelete, Path: "/v1/suppressions/{email}",
		DefaultStatus: http.StatusNoContent, Summary: "Remove an address from the suppression list", Tags: stags},
		func(ctx context.Context, in *emailInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.Unsuppress(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.Email), "suppression")
		})
}
