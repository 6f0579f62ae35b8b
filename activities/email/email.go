package email

import (
	"context"
	"encoding/json"
	"errors"

	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

// Error types of email.send.
const (
	ErrSuppressed = "Suppressed"
	ErrValidation = "ValidationError"
)

// Options configure the connector. Without a Store the action fails with
// NoRecords (mock it in `switchboard run`).
type Options struct {
	Store domain.Store
}

// Action declares email.send.
func Action() dsl.Action {
	return dsl.Action{
		Name:  "email.send",
		Title: "Send an email",
		Description: "Sends an email: `to`, `subject`, `text` and/or `html` (sanitised), optionally `from` and the `customerId` / `campaignId` " +
			"it concerns (a campaign email rendered by crm.campaign.render). With no email provider configured it goes to the " +
			"organisation's outbox (GET /v1/outbox). Once per step, however often the activity is retried. A suppressed address " +
			"fails with `Suppressed` (not retried). Emits `email.queued`.",
		Input: json.RawMessage(`{"type": "object", "required": ["to", "subject"], "additionalProperties": false, "properties": {
			"to": {"type": "string", "minLength": 3, "maxLength": 254}, "from": {"type": "string", "maxLength": 254},
			"subject": {"type": "string", "minLength": 1, "maxLength": 998}, "text": {"type": "string"}, "html": {"type": "string"},
			"customerId": {"type": "string"}, "campaignId": {"type": "string"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["messageId", "status", "provider"], "properties": {
			"messageId": {"type": "string"}, "status": {"enum": ["queued"]}, "provider": {"enum": ["outbox"]}}}`),
		Errors: []string{ErrSuppressed, ErrValidation, activities.NoRecords},
	}
}

// New returns the implementation of email.send.
func New(o Options) activities.Func {
	svc := &crm.Service{Store: o.Store}
	return func(ctx context.Context, args map[string]any) (any, error) {
		call, err := activities.PlatformCall(ctx, "email.send", o.Store != nil)
		if err != nil {
			return nil, err
		}
		var e crm.OutgoingEmail
		b, _ := json.Marshal(args)
		if err := json.Unmarshal(b, &e); err != nil {
			return nil, temporal.NewNonRetryableApplicationError("email.send: "+err.Error(), ErrValidation, nil)
		}
		m, err := svc.QueueEmail(crm.WithIdempotencyKey(ctx, call.Key), crm.Actor("run:"+call.Run), call.Org, call.Step, &e)
		var ve *domain.ValidationError
		switch {
		case errors.As(err, &ve):
			return nil, temporal.NewNonRetryableApplicationError("email.send: "+ve.Error(), ErrValidation, nil, ve.Fields)
		case errors.Is(err, crm.ErrSuppressed):
			return nil, temporal.NewNonRetryableApplicationError("email.send: "+err.Error(), ErrSuppressed, nil)
		case err != nil:
			return nil, err // the database: retried
		}
		return map[string]any{"messageId": m.ID, "status": "queued", "provider": "outbox"}, nil
	}
}
