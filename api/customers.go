package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"

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

// customerOut is a customer with its ETag (the version, for If-Match).
type customerOut struct {
	ETag string `header:"ETag"`
	Body *domain.Customer
}

func etag(version int) string { return strconv.Quote(strconv.Itoa(version)) }

// ifMatch parses an If-Match header of one version ETag; 0 when absent.
func ifMatch(h string) (int, error) {
	h = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(h), "W/"))
	if h == "" || h == "*" {
		return 0, nil
	}
	v, err := strconv.Unquote(h)
	if err == nil {
		var n int
		if n, err = strconv.Atoi(v); err == nil && n > 0 {
			return n, nil
		}
	}
	return 0, problem(http.StatusBadRequest, ProbBadRequest, "If-Match must be one ETag of this customer, such as \"3\"")
}

func (s *Server) customerRoutes() {
	svc := &crm.Service{Store: s.store}
	type createInput struct {
		Body CustomerFields
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-customer", Method: http.MethodPost, Path: "/v1/customers",
		DefaultStatus: http.StatusCreated, Summary: "Create a customer", Tags: []string{"customers"},
		Description: "Emits `customer.created`."},
		func(ctx context.Context, in *createInput) (*customerOut, error) {
			pr := principal(ctx)
			c := &domain.Customer{OrgID: pr.OrgID}
			in.Body.apply(c)
			if _, err := svc.CreateCustomer(ctx, crm.Actor(pr.Actor()), c); err != nil {
				return nil, storeErr(err, "customer")
			}
			return &customerOut{ETag: etag(c.Version), Body: c}, nil
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
				EmailPrefix: in.Email, Search: in.Q, Sort: strings.TrimPrefix(in.Sort, "-"), Desc: strings.HasPrefix(in.Sort, "-"),
				Limit: in.Limit, After: in.Cursor}
			cs, next, err := s.store.ListCustomers(ctx, principal(ctx).OrgID, q)
			if err != nil {
				return nil, storeErr(err, "customers")
			}
			return &bodyOut[Page[domain.Customer]]{Page[domain.Customer]{Items: cs, NextCursor: next}}, nil
		})

	type idInput struct {
		ID string `path:"id" maxLength:"64"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-customer", Method: http.MethodGet, Path: "/v1/customers/{id}",
		Summary: "Get a customer", Tags: []string{"customers"}},
		func(ctx context.Context, in *idInput) (*customerOut, error) {
			c, err := s.store.GetCustomer(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "customer "+in.ID)
			}
			return &customerOut{ETag: etag(c.Version), Body: c}, nil
		})

	type patchInput struct {
		ID          string `path:"id" maxLength:"64"`
		IfMatch     string `header:"If-Match" doc:"The ETag read with the customer: the change applies only to that version (else 412)"`
		ContentType string `header:"Content-Type"`
		RawBody     []byte `contentType:"application/merge-patch+json" doc:"A JSON merge patch (RFC 7396) of the customer's fields: members set fields, null clears them"`
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "update-customer", Method: http.MethodPatch, Path: "/v1/customers/{id}",
		Summary: "Change a customer (JSON merge patch)", Tags: []string{"customers"},
		Description: "Emits `customer.updated` with the changed fields, and `customer.status_changed` when the status moves."},
		func(ctx context.Context, in *patchInput) (*customerOut, error) {
			pr := principal(ctx)
			version, err := ifMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			var patch map[string]any
			if err := json.Unmarshal(in.RawBody, &patch); err != nil || patch == nil {
				return nil, problem(http.StatusBadRequest, ProbBadRequest, "the body must be a JSON object (a merge patch)")
			}
			c, err := svc.UpdateCustomer(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, version, func(c *domain.Customer) error {
				return crm.PatchCustomer(c, patch)
			})
			switch {
			case version != 0 && errors.Is(err, domain.ErrConflict) && strings.Contains(err.Error(), "is at version"):
				return nil, problem(http.StatusPreconditionFailed, ProbPrecondition, "the customer changed since you read it (If-Match %s): read it again", in.IfMatch)
			case err != nil:
				return nil, storeErr(err, "customer "+in.ID)
			}
			return &customerOut{ETag: etag(c.Version), Body: c}, nil
		})

	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-customer", Method: http.MethodDelete, Path: "/v1/customers/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete a customer", Tags: []string{"customers"},
		Description: "Emits `customer.deleted`."},
		func(ctx context.Context, in *idInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteCustomer(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID), "customer "+in.ID)
		})
}
