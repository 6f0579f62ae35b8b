package crm

import (
	"context"
	"encoding/json"
	"errors"

	"switchboard/domain"
	"switchboard/dsl"
)

func campaignActions() []dsl.Action {
	errs := []string{ErrNotFound, ErrConflict, ErrValidation, ErrInvalidTransition, ErrNoRecords}
	return []dsl.Action{{
		Name:  "crm.campaign.enroll",
		Title: "Enroll customers in a campaign",
		Description: "Adds `customerIds` to an active campaign (else `InvalidTransition`), skipping those already in it and those whose address " +
			"is suppressed. Emits `campaign.enrolled`.",
		Input: json.RawMessage(`{"type": "object", "required": ["campaignId", "customerIds"], "additionalProperties": false, "properties": {
			"campaignId": {"type": "string", "minLength": 1}, "customerIds": {"type": "array", "minItems": 1, "maxItems": 5000, "items": {"type": "string"}}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["enrolled", "considered"], "properties": {
			"enrolled": {"type": "integer"}, "considered": {"type": "integer"}}}`),
		Errors: errs,
	}, {
		Name:  "crm.campaign.render",
		Title: "Render a campaign email for a customer",
		Description: "Step `step` (default 0) of the campaign's content with the customer's {{ variables }} (escaped in HTML). A suppressed address " +
			"gives `suppressed: true` and no bodies: do not send. Send the result with an email action.",
		Input: json.RawMessage(`{"type": "object", "required": ["campaignId", "customerId"], "additionalProperties": false, "properties": {
			"campaignId": {"type": "string", "minLength": 1}, "customerId": {"type": "string", "minLength": 1}, "step": {"type": "integer", "minimum": 0}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["to", "subject", "step", "suppressed"], "properties": {
			"to": {"type": "string"}, "subject": {"type": "string"}, "html": {"type": "string"}, "text": {"type": "string"},
			"step": {"type": "integer"}, "suppressed": {"type": "boolean"}}}`),
		Errors: errs,
	}, {
		Name:  "crm.campaign.track",
		Title: "Record what happened to a campaign email",
		Description: "`event`: sent, delivered, opened, clicked, converted or unsubscribed; each counts once per enrollment (`first` says whether " +
			"this was the first time). `unsubscribed` suppresses the address. The first time emits `campaign.<event>`.",
		Input: json.RawMessage(`{"type": "object", "required": ["campaignId", "customerId", "event"], "additionalProperties": false, "properties": {
			"campaignId": {"type": "string", "minLength": 1}, "customerId": {"type": "string", "minLength": 1},
			"event": {"enum": ["sent", "delivered", "opened", "clicked", "converted", "unsubscribed"]}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["first"], "properties": {"first": {"type": "boolean"}}}`),
		Errors: errs,
	}, {
		Name:        "crm.suppression.check",
		Title:       "Is an address suppressed?",
		Description: "Whether the organisation's suppression list holds `email` (unsubscribed, bounced, complained or added by hand), and why.",
		Input:       json.RawMessage(`{"type": "object", "required": ["email"], "additionalProperties": false, "properties": {"email": {"type": "string", "minLength": 1}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["suppressed"], "properties": {
			"suppressed": {"type": "boolean"}, "reason": {"type": "string"}}}`),
		Errors: errs,
	}}
}

func (a *actions) enrollCampaign(ctx context.Context, args map[string]any) (any, error) {
	var in struct {
		CampaignID  string   `json:"campaignId"`
		CustomerIDs []string `json:"customerIds"`
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	n, err := a.svc.Enroll(changing(ctx), k.actor, k.org, in.CampaignID, in.CustomerIDs)
	if err != nil {
		return nil, err
	}
	return view(n)
}

func (a *actions) renderCampaign(ctx context.Context, args map[string]any) (any, error) {
	e, err := a.svc.RenderEmail(ctx, callOf(ctx).org, args["campaignId"].(string), args["customerId"].(string), intArg(args, "step"))
	if err != nil {
		return nil, err
	}
	return view(e)
}

func (a *actions) trackCampaign(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	first, err := a.svc.Track(changing(ctx), k.actor, k.org, args["campaignId"].(string), args["customerId"].(string), args["event"].(string))
	if err != nil {
		return nil, err
	}
	return map[string]any{"first": first}, nil
}

func (a *actions) checkSuppression(ctx context.Context, args map[string]any) (any, error) {
	s, err := a.store.GetSuppression(ctx, callOf(ctx).org, args["email"].(string))
	switch {
	case errors.Is(err, domain.ErrNotFound):
		return map[string]any{"suppressed": false}, nil
	case err != nil:
		return nil, err
	}
	return map[string]any{"suppressed": true, "reason": s.Reason}, nil
}
