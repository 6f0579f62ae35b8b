package crm

import (
	"context"
	"encoding/json"

	"switchboard/domain"
	"switchboard/dsl"
)

func timelineActions() []dsl.Action {
	return []dsl.Action{{
		Name:        "crm.timeline.log",
		Title:       "Log an interaction on a customer's timeline",
		Description: "A note, email, call or meeting, recorded with the run that logged it. Emits `timeline.logged`.",
		Input: json.RawMessage(`{"type": "object", "required": ["customerId", "kind", "summary"], "additionalProperties": false, "properties": {
			"customerId": {"type": "string", "minLength": 1}, "kind": {"enum": ["note", "email", "call", "meeting"]},
			"summary": {"type": "string", "minLength": 1, "maxLength": 500}, "body": {"type": "string", "maxLength": 20000}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["id", "customerId", "kind", "summary", "at"], "properties": {
			"id": {"type": "string"}, "customerId": {"type": "string"}, "kind": {"type": "string"}, "summary": {"type": "string"},
			"body": {"type": "string"}, "ref": {"type": "string"}, "event": {"type": "string"}, "actor": {"type": "string"},
			"runId": {"type": "string"}, "at": {"type": "string"}}}`),
		Errors: []string{ErrNotFound, ErrValidation, ErrNoRecords},
	}}
}

func (a *actions) logTimeline(ctx context.Context, args map[string]any) (any, error) {
	e := &domain.TimelineEntry{}
	if err := decode(args, e); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	e.OrgID = k.org
	saved, err := a.svc.LogInteraction(changing(ctx), k.actor, e)
	if err != nil {
		return nil, err
	}
	return view(saved)
}
