package crm

import (
	"context"
	"encoding/json"

	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

const moneySchema = `{"type": "object", "required": ["amount", "currency"], "additionalProperties": false,
	"description": "Integer minor units of an ISO 4217 currency",
	"properties": {"amount": {"type": "integer", "minimum": 0}, "currency": {"type": "string"}}}`

const lineItemSchema = `{"type": "object", "required": ["product", "quantity", "unitPrice"], "additionalProperties": false, "properties": {
	"product": {"type": "string"}, "description": {"type": "string"},
	"quantity": {"type": "integer", "minimum": 1}, "unitPrice": {"type": "integer", "minimum": 0, "description": "minor units"},
	"discountBps": {"type": "integer", "minimum": 0, "maximum": 10000}, "taxRateBps": {"type": "integer", "minimum": 0, "maximum": 10000}}}`

const stageEnum = `{"enum": ["lead", "qualified", "proposal", "negotiation", "closed_won", "closed_lost"]}`

// opportunityFieldsSchema are the fields of a deal a create or update sets.
const opportunityFieldsSchema = `
	"customerId": {"type": "string", "minLength": 1},
	"name": {"type": "string", "minLength": 1, "maxLength": 200},
	"amount": ` + moneySchema + `,
	"probability": {"type": "integer", "minimum": 0, "maximum": 100},
	"expectedClose": {"type": "string", "description": "YYYY-MM-DD"},
	"ownerId": {"type": "string"},
	"lineItems": {"type": "array", "items": ` + lineItemSchema + `},
	"nextSteps": {"type": "string"}`

const opportunitySchema = `{"type": "object", "additionalProperties": false, "required": ["id", "customerId", "name", "amount", "stage", "probability", "version"],
	"properties": {"id": {"type": "string"}, "version": {"type": "integer"}, "stage": ` + stageEnum + `,
	"actualClose": {"type": "string"}, "lostReason": {"type": "string"},
	"createdAt": {"type": "string"}, "updatedAt": {"type": "string"},` + opportunityFieldsSchema + `}}`

func opportunityActions() []dsl.Action {
	errs := []string{ErrNotFound, ErrConflict, ErrValidation, ErrInvalidTransition, ErrNoRecords}
	return []dsl.Action{{
		Name:        "crm.opportunity.create",
		Title:       "Create a deal",
		Description: "Creates a deal of a customer (`stage` defaults to lead; the amount is the line items' total when there are any). Emits `opportunity.created`.",
		Input: json.RawMessage(`{"type": "object", "required": ["customerId", "name", "amount"], "additionalProperties": false, "properties": {` +
			opportunityFieldsSchema + `, "stage": ` + stageEnum + `}}`),
		Output: json.RawMessage(opportunitySchema),
		Errors: errs,
	}, {
		Name:   "crm.opportunity.get",
		Title:  "Get a deal",
		Input:  json.RawMessage(`{"type": "object", "required": ["id"], "additionalProperties": false, "properties": {"id": {"type": "string", "minLength": 1}}}`),
		Output: json.RawMessage(opportunitySchema),
		Errors: errs,
	}, {
		Name:        "crm.opportunity.update",
		Title:       "Change a deal",
		Description: "`set` is a merge patch of the deal's fields (not its stage: use crm.opportunity.move). Emits `opportunity.updated`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id", "set"], "additionalProperties": false, "properties": {
			"id": {"type": "string", "minLength": 1}, "version": {"type": "integer", "minimum": 1},
			"set": {"type": "object", "additionalProperties": false, "properties": {` + nullable(opportunityFieldsSchema) + `}}}}`),
		Output: json.RawMessage(opportunitySchema),
		Errors: errs,
	}, {
		Name:  "crm.opportunity.move",
		Title: "Move a deal to a stage",
		Description: "Open stages move freely; a closed deal reopens only with a `reason` (else `InvalidTransition`). " +
			"Emits `opportunity.stage_changed`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id", "stage"], "additionalProperties": false, "properties": {
			"id": {"type": "string", "minLength": 1}, "stage": ` + stageEnum + `, "reason": {"type": "string", "maxLength": 500},
			"version": {"type": "integer", "minimum": 1}}}`),
		Output: json.RawMessage(opportunitySchema),
		Errors: errs,
	}}
}

func (a *actions) createOpportunity(ctx context.Context, args map[string]any) (any, error) {
	o := &domain.Opportunity{}
	if err := decode(args, o); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	o.OrgID = k.org
	saved, err := a.svc.CreateOpportunity(changing(ctx), k.actor, o)
	if err != nil {
		return nil, err
	}
	return view(saved)
}

func (a *actions) getOpportunity(ctx context.Context, args map[string]any) (any, error) {
	o, err := a.store.GetOpportunity(ctx, callOf(ctx).org, args["id"].(string))
	if err != nil {
		return nil, err
	}
	return view(o)
}

func (a *actions) updateOpportunity(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	patch, _ := args["set"].(map[string]any)
	o, err := a.svc.UpdateOpportunity(changing(ctx), k.actor, k.org, args["id"].(string), intArg(args, "version"), func(o *domain.Opportunity) error {
		return crm.PatchOpportunity(o, patch)
	})
	if err != nil {
		return nil, err
	}
	return view(o)
}

func (a *actions) moveOpportunity(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	reason, _ := args["reason"].(string)
	o, err := a.svc.MoveOpportunity(changing(ctx), k.actor, k.org, args["id"].(string), args["stage"].(string), reason, intArg(args, "version"))
	if err != nil {
		return nil, err
	}
	return view(o)
}

// intArg is an optional integer argument (0 when absent).
func intArg(args map[string]any, name string) int {
	switch v := args[name].(type) {
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}
