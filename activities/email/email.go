package email

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/sendgrid/sendgrid-go"
	"github.com/sendgrid/sendgrid-go/helpers/mail"
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

// Settings (organisation secrets) email.send reads.
const (
	// SettingSendGridKey is the SendGrid API key; without it email goes to the outbox.
	SettingSendGridKey = "sendgrid_api_key"
	// SettingFrom is the sender used when `from` is not given.
	SettingFrom = "email_from"
)

// DefaultSendGridURL is SendGrid's API host.
const DefaultSendGridURL = "https://api.sendgrid.com"

// Custom args every email sent through SendGrid carries: SendGrid returns
// them with each event of its event webhook.
const (
	ArgMessage = "sb_message"
	ArgRun     = "sb_run"
	ArgStep    = "sb_step"
)

// Options configure the connector. Without a Store the action fails with
// NoRecords (mock it in `switchboard run`).
type Options struct {
	Store domain.Store
	// Secrets holds the organisations' SendGrid keys; without it every
	// email goes to the outbox.
	Secrets activities.Secrets
	// SendGridURL is SendGrid's API host; default DefaultSendGridURL.
	SendGridURL string
}

// Action declares email.send.
func Action() dsl.Action {
	return dsl.Action{
		Name:  "email.send",
		Title: "Send an email",
		Description: "Sends an email: `to`, `subject`, `text` and/or `html` (sanitised) — or an organisation's email `template` " +
			"(GET /v1/email-templates) filled with `variables` and the customer's data — optionally `from` and the `customerId` / `campaignId` " +
			"it concerns (`to` defaults to the customer's address). With the organisation's secret `sendgrid_api_key` it goes through " +
			"SendGrid (its event webhook then reports delivered/opened/clicked/bounced); without it, to the organisation's outbox " +
			"(GET /v1/outbox). Once per step, however often the activity is retried. A suppressed address fails with `Suppressed` (not retried).",
		Input: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {
			"to": {"type": "string", "minLength": 3, "maxLength": 254}, "from": {"type": "string", "maxLength": 254},
			"template": {"type": "string", "minLength": 1, "maxLength": 64}, "variables": {"type": "object"},
			"subject": {"type": "string", "minLength": 1, "maxLength": 998}, "text": {"type": "string"}, "html": {"type": "string"},
			"customerId": {"type": "string"}, "campaignId": {"type": "string"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["messageId", "status", "provider"], "properties": {
			"messageId": {"type": "string"}, "status": {"enum": ["queued", "sent", "unconfirmed"]}, "provider": {"enum": ["outbox", "sendgrid"]},
			"providerId": {"type": "string"}}}`),
		Errors: []string{ErrSuppressed, ErrValidation, activities.ErrRateLimited, activities.ErrProviderUnavailable,
			activities.ErrProviderAuth, activities.ErrProviderRejected, activities.NoRecords},
	}
}

type sender struct {
	o   Options
	svc *crm.Service
}

// New returns the implementation of email.send.
func New(o Options) activities.Func {
	if o.SendGridURL == "" {
		o.SendGridURL = DefaultSendGridURL
	}
	s := &sender{o: o, svc: &crm.Service{Store: o.Store}}
	return s.send
}

func (s *sender) send(ctx context.Context, args map[string]any) (any, error) {
	call, err := activities.PlatformCall(ctx, "email.send", s.o.Store != nil)
	if err != nil {
		return nil, err
	}
	var e crm.OutgoingEmail
	b, _ := json.Marshal(args)
	if err := json.Unmarshal(b, &e); err != nil {
		return nil, temporal.NewNonRetryableApplicationError("email.send: "+err.Error(), ErrValidation, nil)
	}
	if name, _ := args["template"].(string); name != "" {
		vars, _ := args["variables"].(map[string]any)
		if err := s.svc.ApplyTemplate(ctx, call.Org, name, vars, &e); err != nil {
			return nil, failure(err)
		}
	}
	key, err := activities.Setting(ctx, s.o.Secrets, call.Org, SettingSendGridKey)
	if err != nil {
		return nil, err
	}
	actor := crm.Actor("run:" + call.Run)
	if key == "" {
		m, err := s.svc.QueueEmail(crm.WithIdempotencyKey(ctx, call.Key), actor, call.Org, call.Step, &e)
		if err != nil {
			return nil, failure(err)
		}
		if m.Provider != "outbox" {
			// an earlier attempt handed it to SendGrid before the key was
			// removed: report what became of it
			if m, err = s.o.Store.GetOutbox(ctx, call.Org, m.ID); err != nil {
				return nil, err
			}
			if m.Status == "retrying" {
				return nil, temporal.NewNonRetryableApplicationError("email.send: the message was begun with SendGrid but the secret "+
					SettingSendGridKey+" is no longer set", activities.ErrNotConfigured, nil)
			}
		}
		return outcome(m)
	}
	if e.From == "" {
		if e.From, err = activities.Setting(ctx, s.o.Secrets, call.Org, SettingFrom); err != nil {
			return nil, err
		}
	}
	if err := e.Check(); err != nil {
		return nil, failure(err)
	}
	if e.From == "" {
		return nil, temporal.NewNonRetryableApplicationError("email.send: SendGrid needs a sender: give `from`, or set the secret "+SettingFrom,
			ErrValidation, nil, []domain.FieldError{{Field: "from", Message: "is required with SendGrid"}})
	}
	m := e.Message()
	m.Provider, m.StepID = "sendgrid", call.Step
	send, err := s.svc.BeginSend(ctx, actor, call.Org, call.Key, m)
	if err != nil {
		return nil, failure(err)
	}
	if send.Now {
		if m, err = s.sendGrid(ctx, key, actor, call, send.Message, &e); err != nil {
			return nil, err
		}
	} else {
		m = send.Message
	}
	return outcome(m)
}

// outcome is the step's output for the ledger row of its message, however
// it got there (this attempt, an earlier one, or the provider's events).
func outcome(m *domain.OutboxMessage) (any, error) {
	out := map[string]any{"messageId": m.ID, "provider": m.Provider}
	switch {
	case m.Provider == "outbox":
		// the step queued it before a SendGrid key was set: it stays queued
		out["status"] = "queued"
		return out, nil
	case m.Status == "failed":
		return nil, activities.RecordedFailure(m.Error)
	case m.Status == "retrying" || m.Status == "sending":
		// another attempt holds it meanwhile
		return nil, temporal.NewApplicationError("email.send: the message is being sent by another attempt", activities.ErrProviderUnavailable)
	case m.Status == "unconfirmed":
		out["status"] = "unconfirmed"
		return out, nil
	}
	out["status"] = "sent" // or further: delivered, opened, ...
	if m.ProviderID != "" {
		out["providerId"] = m.ProviderID
	}
	return out, nil
}

// sendGrid calls SendGrid's mail send with the message BeginSend handed
// over and records its answer.
func (s *sender) sendGrid(ctx context.Context, key string, actor crm.Actor, call activities.Call, m *domain.OutboxMessage, e *crm.OutgoingEmail) (*domain.OutboxMessage, error) {
	msg := mail.NewV3Mail()
	msg.SetFrom(mail.NewEmail("", e.From))
	msg.Subject = e.Subject
	p := mail.NewPersonalization()
	p.AddTos(mail.NewEmail("", e.To))
	p.SetCustomArg(ArgMessage, m.ID)
	p.SetCustomArg(ArgRun, call.Run)
	p.SetCustomArg(ArgStep, call.Step)
	msg.AddPersonalizations(p)
	if e.Text != "" {
		msg.AddContent(mail.NewContent("text/plain", e.Text))
	}
	if e.HTML != "" {
		msg.AddContent(mail.NewContent("text/html", e.HTML))
	}
	if e.CampaignID != "" {
		msg.AddCategories("campaign-" + e.CampaignID)
	}
	req := sendgrid.GetRequest(key, "/v3/mail/send", s.o.SendGridURL)
	req.Method = http.MethodPost
	client := &sendgrid.Client{Request: req}
	resp, err := client.SendWithContext(ctx, msg)

	done := func(status, providerID, why string) (*domain.OutboxMessage, error) {
		return s.svc.SendDone(ctx, actor, call.Org, m.ID, status, providerID, why)
	}
	switch {
	case err != nil && activities.NeverSent(err):
		failure := activities.NetworkFailure(ctx, "email.send", "SendGrid", err)
		if _, derr := done("retrying", "", activities.FailureText(failure)); derr != nil {
			return nil, derr
		}
		return nil, failure
	case err != nil:
		// the request may have reached SendGrid: the message stays
		// "sending" and the next attempt marks it unconfirmed
		return nil, activities.NetworkFailure(ctx, "email.send", "SendGrid", err)
	case resp.StatusCode >= 200 && resp.StatusCode < 300:
		return done("sent", firstHeader(resp.Headers, "X-Message-Id"), "")
	}
	failure := activities.HTTPFailure("email.send", "SendGrid", resp.StatusCode, http.Header(resp.Headers), sendGridErrors(resp.Body))
	status := "failed"
	switch {
	case resp.StatusCode == http.StatusTooManyRequests || resp.StatusCode == http.StatusServiceUnavailable:
		status = "retrying" // refused before it was taken: safe to send again
	case activities.Retryable(failure):
		// another 5xx (500, 502, 504): SendGrid may have taken it all the
		// same; the message stays "sending" and the next attempt marks it
		// unconfirmed rather than sending it twice
		return nil, failure
	}
	if _, err := done(status, "", activities.FailureText(failure)); err != nil {
		return nil, err
	}
	return nil, failure
}

// sendGridErrors reads the messages of SendGrid's error answer
// ({"errors": [{"message", "field"}]}).
func sendGridErrors(body string) string {
	var v struct {
		Errors []struct {
			Message string `json:"message"`
			Field   string `json:"field"`
		} `json:"errors"`
	}
	if json.Unmarshal([]byte(body), &v) != nil {
		return ""
	}
	var parts []string
	for _, e := range v.Errors {
		if e.Field != "" {
			parts = append(parts, fmt.Sprintf("%s: %s", e.Field, e.Message))
		} else {
			parts = append(parts, e.Message)
		}
	}
	return strings.Join(parts, "; ")
}

func firstHeader(h map[string][]string, name string) string {
	if v := http.Header(h).Values(name); len(v) > 0 {
		return v[0]
	}
	return ""
}

// failure types the errors of the records: validation and suppression are
// not retried; the database is.
func failure(err error) error {
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		return temporal.NewNonRetryableApplicationError("email.send: "+ve.Error(), ErrValidation, nil, ve.Fields)
	case errors.Is(err, crm.ErrSuppressed):
		return temporal.NewNonRetryableApplicationError("email.send: "+err.Error(), ErrSuppressed, nil)
	}
	return err
}
