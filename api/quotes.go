package api

import (
	"context"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// QuoteFields are what a quote is created with.
type QuoteFields struct {
	OpportunityID string            `json:"opportunityId" minLength:"1" maxLength:"64"`
	Currency      string            `json:"currency,omitempty" doc:"ISO 4217; default the opportunity's"`
	LineItems     []domain.LineItem `json:"lineItems" minItems:"1" maxItems:"200"`
	ValidUntil    string            `json:"validUntil,omitempty" doc:"YYYY-MM-DD, the last day it can be accepted (UTC); default in 30 days"`
	Notes         string            `json:"notes,omitempty" maxLength:"5000"`
}

// SentQuoteView is a sent quote with its public link (shown once).
type SentQuoteView struct {
	Quote *domain.Quote `json:"quote"`
	URL   string        `json:"url" doc:"The public page where the customer accepts or rejects the quote. Only its hash is kept: it is shown once"`
}

type baseKey struct{}

// publicBase is the base of public links: the configured PublicURL, or the
// scheme and host of the request (set by withBase).
func (s *Server) publicBase(ctx context.Context) string {
	if s.opts.PublicURL != "" {
		return strings.TrimSuffix(s.opts.PublicURL, "/")
	}
	base, _ := ctx.Value(baseKey{}).(string)
	return base
}

// withBase remembers the request's scheme and host for publicBase.
func withBase(c *gin.Context) {
	scheme := "http"
	if c.Request.TLS != nil || strings.EqualFold(c.GetHeader("X-Forwarded-Proto"), "https") {
		scheme = "https"
	}
	c.Request = c.Request.WithContext(context.WithValue(c.Request.Context(), baseKey{}, scheme+"://"+c.Request.Host))
	c.Next()
}

func (s *Server) quoteRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"quotes"}
	type createInput struct {
		Body QuoteFields
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-quote", Method: http.MethodPost, Path: "/v1/quotes",
		DefaultStatus: http.StatusCreated, Summary: "Create a draft quote on an opportunity", Tags: tags,
		Description: "Totals are computed by the server (see docs/records.md). Emits `quote.created`."},
		func(ctx context.Context, in *createInput) (*recordOut[domain.Quote], error) {
			pr := principal(ctx)
			b := in.Body
			q := &domain.Quote{OrgID: pr.OrgID, OpportunityID: b.OpportunityID, Currency: b.Currency, LineItems: b.LineItems, ValidUntil: b.ValidUntil, Notes: b.Notes}
			if _, err := svc.CreateQuote(ctx, crm.Actor(pr.Actor()), q); err != nil {
				return nil, storeErr(err, "quote")
			}
			return out(q, q.Version), nil
		})

	type listInput struct {
		Opportunity string `query:"opportunity" maxLength:"64"`
		Customer    string `query:"customer" maxLength:"64"`
		Status      string `query:"status" enum:"draft,sent,accepted,rejected,expired"`
		Limit       int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor      string `query:"cursor" maxLength:"1000"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-quotes", Method: http.MethodGet, Path: "/v1/quotes",
		Summary: "List quotes", Tags: tags},
		func(ctx context.Context, in *listInput) (*bodyOut[Page[domain.Quote]], error) {
			qs, next, err := s.store.ListQuotes(ctx, principal(ctx).OrgID, domain.QuoteQuery{OpportunityID: in.Opportunity,
				CustomerID: in.Customer, Status: in.Status, Limit: in.Limit, After: in.Cursor})
			if err != nil {
				return nil, storeErr(err, "quotes")
			}
			return &bodyOut[Page[domain.Quote]]{Page[domain.Quote]{Items: qs, NextCursor: next}}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-quote", Method: http.MethodGet, Path: "/v1/quotes/{id}",
		Summary: "Get a quote", Tags: tags},
		func(ctx context.Context, in *idInput) (*recordOut[domain.Quote], error) {
			q, err := s.store.GetQuote(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "quote "+in.ID)
			}
			return out(q, q.Version), nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "update-quote", Method: http.MethodPatch, Path: "/v1/quotes/{id}",
		Summary: "Change a draft quote (JSON merge patch)", Tags: tags,
		Description: "Only a draft changes (409 `invalid-transition` otherwise): `lineItems`, `currency`, `validUntil`, `notes`. Emits `quote.updated`."},
		func(ctx context.Context, in *patchInput) (*recordOut[domain.Quote], error) {
			pr := principal(ctx)
			version, patch, err := in.parse()
			if err != nil {
				return nil, err
			}
			q, err := svc.UpdateQuote(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, version, func(q *domain.Quote) error {
				return crm.PatchQuote(q, patch)
			})
			if err != nil {
				return nil, recordErr(err, version != 0, "quote "+in.ID)
			}
			return out(q, q.Version), nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "send-quote", Method: http.MethodPost, Path: "/v1/quotes/{id}/send",
		Summary: "Send a quote: its public link", Tags: tags,
		Description: "Marks a draft sent (a sent quote gets a new link; the old one stops working) and returns the public link, " +
			"valid to the end of `validUntil`. Emits `quote.sent`."},
		func(ctx context.Context, in *struct {
			ID string `path:"id" maxLength:"64"`
		}) (*bodyOut[SentQuoteView], error) {
			pr := principal(ctx)
			sent, err := svc.SendQuote(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "quote "+in.ID)
			}
			return &bodyOut[SentQuoteView]{SentQuoteView{Quote: sent.Quote, URL: s.publicBase(ctx) + "/p/quotes/" + sent.Token}}, nil
		})

	type decideInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Accepted bool   `json:"accepted"`
			Name     string `json:"name,omitempty" maxLength:"200" doc:"Who decided (required to accept)"`
			Email    string `json:"email,omitempty" maxLength:"254"`
			Reason   string `json:"reason,omitempty" maxLength:"2000"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "decide-quote", Method: http.MethodPost, Path: "/v1/quotes/{id}/decision",
		Summary: "Record the customer's decision on a sent quote", Tags: tags,
		Description: "For decisions received another way than the public page (recorded with `via: api`). " +
			"An expired or decided quote answers 409 `invalid-transition`. Emits `quote.accepted` or `quote.rejected`."},
		func(ctx context.Context, in *decideInput) (*recordOut[domain.Quote], error) {
			pr := principal(ctx)
			b := in.Body
			q, err := svc.DecideQuote(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, domain.QuoteDecision{Accepted: b.Accepted,
				Name: b.Name, Email: b.Email, Reason: b.Reason, Via: "api"})
			if err != nil {
				return nil, storeErr(err, "quote "+in.ID)
			}
			return out(q, q.Version), nil
		})
}
