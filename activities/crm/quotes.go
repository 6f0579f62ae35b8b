package crm

import (
	"context"
	"encoding/json"

	"switchboard/domain"
	"switchboard/dsl"
)

const quoteSchema = `{"type": "object", "additionalProperties": false, "required": ["id", "opportunityId", "customerId", "currency", "lineItems", "totals", "validUntil", "status", "version"],
	"properties": {"id": {"type": "string"}, "opportunityId": {"type": "string"}, "customerId": {"type": "string"},
	"currency": {"type": "string"}, "lineItems": {"type": "array", "items": ` + lineItemSchema + `},
	"totals": {"type": "object", "additionalProperties": false, "required": ["subtotal", "discount", "tax", "total"], "properties": {
		"subtotal": {"type": "integer"}, "discount": {"type": "integer"}, "tax": {"type": "integer"}, "total": {"type": "integer"}}},
	"validUntil": {"type": "string"}, "notes": {"type": "string"},
	"status": {"enum": ["draft", "sent", "accepted", "rejected", "expired"]},
	"runId": {"type": "string"}, "sentAt": {"type": "string"}, "decidedAt": {"type": "string"}, "paidAt": {"type": "string"},
	"decision": {"type": "object"}, "version": {"type": "integer"}, "createdAt": {"type": "string"}, "updatedAt": {"type": "string"}}}`

func quoteActions() []dsl.Action {
	errs := []string{ErrNotFound, ErrConflict, ErrValidation, ErrInvalidTransition, ErrNoRecords}
	return []dsl.Action{{
		Name:  "crm.quote.create",
		Title: "Create a draft quote",
		Description: "A quote on an opportunity, its totals computed by the server (integer minor units, see docs/records.md). " +
			"It remembers the run that created it (`runId`), so a trigger can signal that run when the customer answers. Emits `quote.created`.",
		Input: json.RawMessage(`{"type": "object", "required": ["opportunityId", "lineItems"], "additionalProperties": false, "properties": {
			"opportunityId": {"type": "string", "minLength": 1}, "currency": {"type": "string"},
			"lineItems": {"type": "array", "minItems": 1, "items": ` + lineItemSchema + `},
			"validUntil": {"type": "string", "description": "YYYY-MM-DD; default in 30 days"}, "notes": {"type": "string"}}}`),
		Output: json.RawMessage(quoteSchema),
		Errors: errs,
	}, {
		Name:   "crm.quote.get",
		Title:  "Get a quote",
		Input:  json.RawMessage(`{"type": "object", "required": ["id"], "additionalProperties": false, "properties": {"id": {"type": "string", "minLength": 1}}}`),
		Output: json.RawMessage(quoteSchema),
		Errors: errs,
	}, {
		Name:  "crm.quote.send",
		Title: "Send a quote",
		Description: "Marks the quote sent and returns its public link (`url`), where the customer accepts or rejects it; " +
			"email the link with an email action. Emits `quote.sent`; the answer emits `quote.accepted` or `quote.rejected`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id"], "additionalProperties": false, "properties": {"id": {"type": "string", "minLength": 1}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["quote", "url"], "properties": {
			"quote": ` + quoteSchema + `, "url": {"type": "string"}}}`),
		Errors: errs,
	}}
}

func (a *actions) createQuote(ctx context.Context, args map[string]any) (any, error) {
	q := &domain.Quote{}
	if err := decode(args, q); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	q.OrgID = k.org
	saved, err := a.svc.CreateQuote(changing(ctx), k.actor, q)
	if err != nil {
		return nil, err
	}
	return view(saved)
}

func (a *actions) getQuote(ctx context.Context, args map[string]any) (any, error) {
	q, err := a.store.GetQuote(ctx, callOf(ctx).org, args["id"].(string))
	if err != nil {
		return nil, err
	}
	return view(q)
}

func (a *actions) sendQuote(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	sent, err := a.svc.SendQuote(changing(ctx), k.actor, k.org, args["id"].(string))
	if err != nil {
		return nil, err
	}
	q, err := view(sent.Quote)
	if err != nil {
		return nil, err
	}
	return map[string]any{"quote": q, "url": a.link("quotes", sent.Token)}, nil
}
