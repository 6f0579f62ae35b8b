package crm

import (
	"context"
	"encoding/json"

	"switchboard/domain"
	"switchboard/dsl"
)

// contractSchema is a contract as actions return it: without its document
// (runs carry the hash; the document is read through the API).
const contractSchema = `{"type": "object", "additionalProperties": false, "required": ["id", "quoteId", "opportunityId", "customerId", "title", "template", "documentHash", "status", "version"],
	"properties": {"id": {"type": "string"}, "quoteId": {"type": "string"}, "opportunityId": {"type": "string"}, "customerId": {"type": "string"},
	"title": {"type": "string"}, "template": {"type": "string"}, "documentHash": {"type": "string"},
	"status": {"enum": ["draft", "sent", "signed", "void"]}, "signerName": {"type": "string"}, "signerEmail": {"type": "string"},
	"runId": {"type": "string"}, "sentAt": {"type": "string"}, "signedAt": {"type": "string"}, "voidedAt": {"type": "string"},
	"voidReason": {"type": "string"}, "paidAt": {"type": "string"}, "signatures": {"type": "array", "items": {"type": "object"}},
	"version": {"type": "integer"}, "createdAt": {"type": "string"}, "updatedAt": {"type": "string"}}}`

func contractActions() []dsl.Action {
	errs := []string{ErrNotFound, ErrConflict, ErrValidation, ErrInvalidTransition, ErrNoRecords}
	id := json.RawMessage(`{"type": "object", "required": ["id"], "additionalProperties": false, "properties": {"id": {"type": "string", "minLength": 1}}}`)
	return []dsl.Action{{
		Name:  "crm.contract.create",
		Title: "Make a contract from an accepted quote",
		Description: "Renders the document from a contract template (default `default`) and stores it with its SHA-256 " +
			"(`documentHash`; the output leaves the document out). A quote has at most one contract that is not void (`Conflict`); " +
			"a quote that is not accepted fails with `InvalidTransition`. Emits `contract.created`.",
		Input: json.RawMessage(`{"type": "object", "required": ["quoteId"], "additionalProperties": false, "properties": {
			"quoteId": {"type": "string", "minLength": 1}, "title": {"type": "string"}, "template": {"type": "string"},
			"signerName": {"type": "string"}, "signerEmail": {"type": "string"}}}`),
		Output: json.RawMessage(contractSchema),
		Errors: errs,
	}, {
		Name:   "crm.contract.get",
		Title:  "Get a contract",
		Input:  id,
		Output: json.RawMessage(contractSchema),
		Errors: errs,
	}, {
		Name:  "crm.contract.send",
		Title: "Send a contract for signature",
		Description: "Marks the contract sent and returns its signing link (`url`, valid 30 days); email it with an email action. " +
			"Emits `contract.sent`; the signature emits `contract.signed`.",
		Input: id,
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["contract", "url"], "properties": {
			"contract": ` + contractSchema + `, "url": {"type": "string"}}}`),
		Errors: errs,
	}}
}

func contractView(c *domain.Contract) (any, error) {
	v := *c
	v.Document = ""
	return view(&v)
}

func (a *actions) createContract(ctx context.Context, args map[string]any) (any, error) {
	c := &domain.Contract{}
	if err := decode(args, c); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	c.OrgID = k.org
	saved, err := a.svc.CreateContract(changing(ctx), k.actor, c)
	if err != nil {
		return nil, err
	}
	return contractView(saved)
}

func (a *actions) getContract(ctx context.Context, args map[string]any) (any, error) {
	c, err := a.store.GetContract(ctx, callOf(ctx).org, args["id"].(string))
	if err != nil {
		return nil, err
	}
	return contractView(c)
}

func (a *actions) sendContract(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	sent, err := a.svc.SendContract(changing(ctx), k.actor, k.org, args["id"].(string))
	if err != nil {
		return nil, err
	}
	c, err := contractView(sent.Contract)
	if err != nil {
		return nil, err
	}
	return map[string]any{"contract": c, "url": a.link("contracts", sent.Token)}, nil
}
