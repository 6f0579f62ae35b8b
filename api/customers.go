package api

import (
	"context"
	"errors"
	"net/http"
	"slices"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// CustomerFields are a customer's writable fields: the body of a create,
// and what a merge patch may change.
type CustomerFields struct {
	Name          string          `json:"name" minLength:"1" maxLength:"200"`
	Email         string          `json:"email,omitempty" maxLength:"254" doc:"Unique in the organisation, case-insensitively; kept lower-case"`
	Phone         string          `json:"phone,omitempty" maxLength:"30"`
	Company       string          `json:"company,omitempty" maxLength:"200"`
	Title         string          `json:"title,omitempty" maxLength:"200"`
	Address       *domain.Address `json:"address,omitempty"`
	Status        string          `json:"status,omitempty" enum:"lead,prospect,customer,churned" doc:"Default lead"`
	Type          string          `json:"type,omitempty" enum:"individual,business,enterprise" doc:"Default individual"`
	LifetimeValue *domain.Money   `json:"lifetimeValue,omitempty" doc:"Integer minor units of an ISO 4217 currency: {\"amount\": 1999, \"currency\": \"USD\"} is $19.99"`
	Source        string          `json:"source,omitempty" maxLength:"100" doc:"How the customer was acquired"`
	OwnerID       string          `json:"ownerId,omitempty" maxLength:"64" doc:"A user of the organisation"`
	Health        *domain.Health  `json:"health,omitempty"`
	Tags          []string        `json:"tags,omitempty" maxItems:"50"`
	Custom        map[string]any  `json:"custom,omitempty" doc:"Custom fields (a JSON object)"`
}

func (f *CustomerFields) apply(c *domain.Customer) {
	c.Name, c.Email, c.Phone, c.Company, c.Title = f.Name, f.Email, f.Phone, f.Company, f.Title
	c.Address, c.Status, c.Type, c.LifetimeValue = f.Address, f.Status, f.Type, f.LifetimeValue
	c.Source, c.OwnerID, c.Health, c.Tags = f.Source, f.OwnerID, f.Health, f.Tags
	c.Custom = nil
	if f.Custom != nil {
		c.Custom = mustJSON(f.Custom)
	}
}

func (s *Server) customerRoutes() {
	svc := &crm.Service{Store: s.store}
	type createInput struct {
		Body CustomerFields
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-customer", Method: http.MethodPost, Path: "/v1/customers",
		DefaultStatus: http.StatusCreated, Summary: "Create a customer", Tags: []string{"customers"},
		Description: "Emits `customer.created`."},
		func(ctx context.Context, in *createInput) (*recordOut[domain.Customer], error) {
			pr := principal(ctx)
			c := &domain.Customer{OrgID: pr.OrgID}
			in.Body.apply(c)
			if _, err := svc.CreateCustomer(ctx, crm.Actor(pr.Actor()), c); err != nil {
				return nil, storeErr(err, "customer")
			}
			return out(c, c.Version), nil
		})

	type listInput struct {
		Status string `query:"status" enum:"lead,prospect,customer,churned"`
		Type   string `query:"type" enum:"individual,business,enterprise"`
		Owner  string `query:"owner" maxLength:"64" doc:"Owner's user id"`
		Source string `query:"source" maxLength:"100"`
		Tag    string `query:"tag" maxLength:"63"`
		Email  string `query:"email" maxLength:"254" doc:"Emails starting with this (case-insensitive)"`
		Q      string `query:"q" maxLength:"200" doc:"Search: every word starts a word of the name, company or email (and, on PostgreSQL, the text may occur inside the name or email)"`
		Sort   string `query:"sort" enum:"created,-created,name,-name,updated,-updated,value,-value" doc:"Order (default created); a leading - reverses it"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size (default 50)"`
		Cursor string `query:"cursor" maxLength:"1000" doc:"nextCursor of the previous page"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-customers", Method: http.MethodGet, Path: "/v1/customers",
		Summary: "List, filter and search customers", Tags: []string{"customers"}},
		func(ctx context.Context, in *listInput) (*bodyOut[Page[domain.Customer]], error) {
			q := domain.CustomerQuery{Status: in.Status, Type: in.Type, OwnerID: in.Owner, Source: in.Source, Tag: in.Tag,
				EmailPrefix: in.Email, Search: in.Q, Limit: in.Limit, After: in.Cursor}
			q.Sort, q.Desc = sortParam(in.Sort)
			cs, next, err := s.store.ListCustomers(ctx, principal(ctx).OrgID, q)
			if err != nil {
				return nil, storeErr(err, "customers")
			}
			return &bodyOut[Page[domain.Customer]]{Page[domain.Customer]{Items: cs, NextCursor: next}}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-customer", Method: http.MethodGet, Path: "/v1/customers/{id}",
		Summary: "Get a customer", Tags: []string{"customers"}},
		func(ctx context.Context, in *idInput) (*recordOut[domain.Customer], error) {
			c, err := s.store.GetCustomer(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "customer "+in.ID)
			}
			return out(c, c.Version), nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "update-customer", Method: http.MethodPatch, Path: "/v1/customers/{id}",
		Summary: "Change a customer (JSON merge patch)", Tags: []string{"customers"},
		Description: "Emits `customer.updated` with the changed fields, and `customer.status_changed` when the status moves."},
		func(ctx context.Context, in *patchInput) (*recordOut[domain.Customer], error) {
			pr := principal(ctx)
			version, patch, err := in.parse()
			if err != nil {
				return nil, err
			}
			c, err := svc.UpdateCustomer(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, version, func(c *domain.Customer) error {
				return crm.PatchCustomer(c, patch)
			})
			if err != nil {
				return nil, recordErr(err, version != 0, "customer "+in.ID)
			}
			return out(c, c.Version), nil
		})

	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-customer", Method: http.MethodDelete, Path: "/v1/customers/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete a customer", Tags: []string{"customers"},
		Description: "Emits `customer.deleted`."},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteCustomer(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID), "customer "+in.ID)
		})
}

// Customer360 is everything about one customer on one page.
type Customer360 struct {
	Customer      *domain.Customer       `json:"customer"`
	Opportunities []domain.Opportunity   `json:"opportunities" doc:"Up to 100, oldest first"`
	Quotes        []domain.Quote         `json:"quotes" doc:"Up to 100, oldest first"`
	Contracts     []domain.Contract      `json:"contracts" doc:"Up to 100, newest first, without their documents"`
	Tickets       []domain.Ticket        `json:"tickets" doc:"Up to 100, newest first"`
	Timeline      []domain.TimelineEntry `json:"timeline" doc:"The latest 50 entries, newest first"`
	// Runs are the runs that changed the customer's records or logged
	// their interactions, newest first (from the timeline).
	Runs []string `json:"runs"`
}

func (s *Server) customerTimelineRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"customers"}
	type timelineInput struct {
		ID     string `path:"id" maxLength:"64"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor string `query:"cursor" maxLength:"100"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "customer-timeline", Method: http.MethodGet, Path: "/v1/customers/{id}/timeline",
		Summary: "A customer's interaction timeline, newest first", Tags: tags},
		func(ctx context.Context, in *timelineInput) (*bodyOut[Page[domain.TimelineEntry]], error) {
			org := principal(ctx).OrgID
			if _, err := s.store.GetCustomer(ctx, org, in.ID); err != nil {
				return nil, storeErr(err, "customer "+in.ID)
			}
			pg := domain.Page{Limit: in.Limit, After: in.Cursor}
			es, err := s.store.ListTimeline(ctx, org, in.ID, pg)
			if err != nil {
				return nil, storeErr(err, "timeline")
			}
			return &bodyOut[Page[domain.TimelineEntry]]{Page[domain.TimelineEntry]{Items: es, NextCursor: nextCursor(es, pg, func(e domain.TimelineEntry) string { return e.ID })}}, nil
		})

	type logInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Kind    string `json:"kind" enum:"note,email,call,meeting"`
			Summary string `json:"summary" minLength:"1" maxLength:"500"`
			Body    string `json:"body,omitempty" maxLength:"20000"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "log-interaction", Method: http.MethodPost, Path: "/v1/customers/{id}/timeline",
		DefaultStatus: http.StatusCreated, Summary: "Log a note, email, call or meeting", Tags: tags, Description: "Emits `timeline.logged`."},
		func(ctx context.Context, in *logInput) (*bodyOut[domain.TimelineEntry], error) {
			pr := principal(ctx)
			e := &domain.TimelineEntry{OrgID: pr.OrgID, CustomerID: in.ID, Kind: in.Body.Kind, Summary: in.Body.Summary, Body: in.Body.Body}
			if _, err := svc.LogInteraction(ctx, crm.Actor(pr.Actor()), e); err != nil {
				var ve *domain.ValidationError
				if errors.As(err, &ve) && ve.Fields[0].Field == "customerId" {
					return nil, problem(http.StatusNotFound, ProbNotFound, "customer %s not found", in.ID)
				}
				return nil, storeErr(err, "timeline entry")
			}
			return &bodyOut[domain.TimelineEntry]{*e}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "customer-360", Method: http.MethodGet, Path: "/v1/customers/{id}/360",
		Summary: "Everything about a customer: deals, quotes, contracts, tickets, timeline (messages included) and runs", Tags: tags},
		func(ctx context.Context, in *idInput) (*bodyOut[Customer360], error) {
			org := principal(ctx).OrgID
			c, err := s.store.GetCustomer(ctx, org, in.ID)
			if err != nil {
				return nil, storeErr(err, "customer "+in.ID)
			}
			out := Customer360{Customer: c, Runs: []string{}}
			if out.Opportunities, _, err = s.store.ListOpportunities(ctx, org, domain.OpportunityQuery{CustomerID: c.ID, Limit: 100}); err != nil {
				return nil, storeErr(err, "opportunities")
			}
			if out.Quotes, _, err = s.store.ListQuotes(ctx, org, domain.QuoteQuery{CustomerID: c.ID, Limit: 100}); err != nil {
				return nil, storeErr(err, "quotes")
			}
			if out.Contracts, _, err = s.store.ListContracts(ctx, org, domain.ContractQuery{CustomerID: c.ID, Limit: 100}); err != nil {
				return nil, storeErr(err, "contracts")
			}
			if out.Tickets, _, err = s.store.ListTickets(ctx, org, domain.TicketQuery{CustomerID: c.ID, Limit: 100}); err != nil {
				return nil, storeErr(err, "tickets")
			}
			if out.Timeline, err = s.store.ListTimeline(ctx, org, c.ID, domain.Page{Limit: 50}); err != nil {
				return nil, storeErr(err, "timeline")
			}
			for _, e := range out.Timeline {
				if e.RunID != "" && !slices.Contains(out.Runs, e.RunID) {
					out.Runs = append(out.Runs, e.RunID)
				}
			}
			return &bodyOut[Customer360]{out}, nil
		})
}
