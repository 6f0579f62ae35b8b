package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// OpportunityFields are the fields a new deal is created with.
type OpportunityFields struct {
	CustomerID    string            `json:"customerId" minLength:"1" maxLength:"64"`
	Name          string            `json:"name" minLength:"1" maxLength:"200"`
	Amount        domain.Money      `json:"amount" doc:"Integer minor units; with line items, their total (computed)"`
	Stage         string            `json:"stage,omitempty" enum:"lead,qualified,proposal,negotiation,closed_won,closed_lost" doc:"Default lead"`
	Probability   int               `json:"probability,omitempty" minimum:"0" maximum:"100" doc:"Percent; default by stage"`
	ExpectedClose string            `json:"expectedClose,omitempty" doc:"YYYY-MM-DD"`
	OwnerID       string            `json:"ownerId,omitempty" maxLength:"64"`
	LineItems     []domain.LineItem `json:"lineItems,omitempty" maxItems:"200"`
	NextSteps     string            `json:"nextSteps,omitempty" maxLength:"2000"`
}

func (s *Server) opportunityRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"opportunities"}
	type createInput struct {
		Body OpportunityFields
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-opportunity", Method: http.MethodPost, Path: "/v1/opportunities",
		DefaultStatus: http.StatusCreated, Summary: "Create a deal", Tags: tags, Description: "Emits `opportunity.created`."},
		func(ctx context.Context, in *createInput) (*recordOut[domain.Opportunity], error) {
			pr := principal(ctx)
			b := in.Body
			o := &domain.Opportunity{OrgID: pr.OrgID, CustomerID: b.CustomerID, Name: b.Name, Amount: b.Amount, Stage: b.Stage,
				Probability: b.Probability, ExpectedClose: b.ExpectedClose, OwnerID: b.OwnerID, LineItems: b.LineItems, NextSteps: b.NextSteps}
			if _, err := svc.CreateOpportunity(ctx, crm.Actor(pr.Actor()), o); err != nil {
				return nil, storeErr(err, "opportunity")
			}
			return out(o, o.Version), nil
		})

	type listInput struct {
		Customer string `query:"customer" maxLength:"64"`
		Stage    string `query:"stage" enum:"lead,qualified,proposal,negotiation,closed_won,closed_lost"`
		Owner    string `query:"owner" maxLength:"64"`
		Open     bool   `query:"open" doc:"Only deals not closed"`
		Sort     string `query:"sort" enum:"created,-created,amount,-amount,expectedClose,-expectedClose,updated,-updated" doc:"Order (default created); a leading - reverses it"`
		Limit    int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor   string `query:"cursor" maxLength:"1000"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-opportunities", Method: http.MethodGet, Path: "/v1/opportunities",
		Summary: "List deals", Tags: tags},
		func(ctx context.Context, in *listInput) (*bodyOut[Page[domain.Opportunity]], error) {
			q := domain.OpportunityQuery{CustomerID: in.Customer, Stage: in.Stage, OwnerID: in.Owner, Open: in.Open, Limit: in.Limit, After: in.Cursor}
			q.Sort, q.Desc = sortParam(in.Sort)
			os, next, err := s.store.ListOpportunities(ctx, principal(ctx).OrgID, q)
			if err != nil {
				return nil, storeErr(err, "opportunities")
			}
			return &bodyOut[Page[domain.Opportunity]]{Page[domain.Opportunity]{Items: os, NextCursor: next}}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-opportunity", Method: http.MethodGet, Path: "/v1/opportunities/{id}",
		Summary: "Get a deal", Tags: tags},
		func(ctx context.Context, in *idInput) (*recordOut[domain.Opportunity], error) {
			o, err := s.store.GetOpportunity(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "opportunity "+in.ID)
			}
			return out(o, o.Version), nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "update-opportunity", Method: http.MethodPatch, Path: "/v1/opportunities/{id}",
		Summary: "Change a deal (JSON merge patch)", Tags: tags,
		Description: "Emits `opportunity.updated`. The stage changes only through `POST /v1/opportunities/{id}/stage`."},
		func(ctx context.Context, in *patchInput) (*recordOut[domain.Opportunity], error) {
			pr := principal(ctx)
			version, patch, err := in.parse()
			if err != nil {
				return nil, err
			}
			o, err := svc.UpdateOpportunity(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, version, func(o *domain.Opportunity) error {
				return crm.PatchOpportunity(o, patch)
			})
			if err != nil {
				return nil, recordErr(err, version != 0, "opportunity "+in.ID)
			}
			return out(o, o.Version), nil
		})

	type stageInput struct {
		ID      string `path:"id" maxLength:"64"`
		IfMatch string `header:"If-Match"`
		Body    struct {
			Stage  string `json:"stage" enum:"lead,qualified,proposal,negotiation,closed_won,closed_lost"`
			Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why; required to reopen a closed deal, kept as the lost reason"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "move-opportunity", Method: http.MethodPost, Path: "/v1/opportunities/{id}/stage",
		Summary: "Move a deal to another stage", Tags: tags,
		Description: "Open stages move freely; a closed deal reopens only with a `reason` (else 409 `invalid-transition`). " +
			"Closing sets `actualClose`; the probability becomes the stage's. Emits `opportunity.stage_changed`."},
		func(ctx context.Context, in *stageInput) (*recordOut[domain.Opportunity], error) {
			pr := principal(ctx)
			version, err := ifMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			o, err := svc.MoveOpportunity(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, in.Body.Stage, in.Body.Reason, version)
			if err != nil {
				return nil, recordErr(err, version != 0, "opportunity "+in.ID)
			}
			return out(o, o.Version), nil
		})

	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-opportunity", Method: http.MethodDelete, Path: "/v1/opportunities/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete a deal", Tags: tags, Description: "Emits `opportunity.deleted`."},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteOpportunity(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID), "opportunity "+in.ID)
		})
}
