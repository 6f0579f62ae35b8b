package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"switchboard/domain"
)

// ErrSuppressed: the address is on the organisation's suppression list.
var ErrSuppressed = errors.New("suppressed")

// Email content limits.
const maxEmailBody = 256 << 10

// OutgoingEmail is an email a run sends.
type OutgoingEmail struct {
	To         string `json:"to"`
	From       string `json:"from,omitempty"`
	Subject    string `json:"subject"`
	Text       string `json:"text,omitempty"`
	HTML       string `json:"html,omitempty"`
	CustomerID string `json:"customerId,omitempty"`
	CampaignID string `json:"campaignId,omitempty"`
}

// Check normalises the email (lower-cased addresses, a one-line subject)
// and reports every invalid field.
func (e *OutgoingEmail) Check() error {
	e.To, e.From = strings.ToLower(strings.TrimSpace(e.To)), strings.ToLower(strings.TrimSpace(e.From))
	e.Subject = strings.TrimSpace(subjectLine(e.Subject))
	v := &domain.ValidationError{Record: "email"}
	bad := func(field, msg string) { v.Fields = append(v.Fields, domain.FieldError{Field: field, Message: msg}) }
	if !domain.IsEmail(e.To) {
		bad("to", "is not an email address")
	}
	if e.From != "" && !domain.IsEmail(e.From) {
		bad("from", "is not an email address")
	}
	if e.Subject == "" {
		bad("subject", "is required")
	}
	switch {
	case e.Text == "" && e.HTML == "":
		bad("text", "is required when there is no html")
	case len(e.Text) > maxEmailBody || len(e.HTML) > maxEmailBody:
		bad("html", fmt.Sprintf("is larger than %d bytes", maxEmailBody))
	}
	if len(v.Fields) > 0 {
		return v
	}
	if e.HTML != "" {
		e.HTML = emailPolicy.Sanitize(e.HTML)
	}
	return nil
}

// Message is the outbox record of the email (provider outbox, queued).
func (e *OutgoingEmail) Message() *domain.OutboxMessage {
	body, _ := json.Marshal(map[string]any{"from": e.From, "text": e.Text, "html": e.HTML, "customerId": e.CustomerID, "campaignId": e.CampaignID})
	return &domain.OutboxMessage{Channel: "email", To: e.To, Subject: e.Subject, Body: body}
}

// QueueEmail puts an email in the organisation's outbox — where email
// goes when no provider is configured, readable at GET /v1/outbox — and
// emits email.queued. A suppressed address is refused (ErrSuppressed)
// and nothing is written. With an idempotency key in ctx it queues once.
func (s *Service) QueueEmail(ctx context.Context, actor Actor, orgID, stepID string, e *OutgoingEmail) (*domain.OutboxMessage, error) {
	if err := e.Check(); err != nil {
		return nil, err
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.OutboxMessage, []*domain.Event, *domain.AuditEntry, error) {
		if err := notSuppressed(ctx, tx, orgID, e.To); err != nil {
			return nil, nil, nil, err
		}
		m := e.Message()
		m.OrgID, m.RunID, m.StepID = orgID, runOf(actor), stepID
		if err := tx.AddOutbox(ctx, m); err != nil {
			return nil, nil, nil, err
		}
		// the event names the message; its body stays in the outbox
		ev := messageEvent("email.queued", m)
		return m, []*domain.Event{ev}, &domain.AuditEntry{Action: "email.queue", Target: "outbox/" + m.ID}, nil
	})
}
