package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"strings"

	"switchboard/domain"
)

// ErrSuppressed: the address is on the organisation's suppression list.
var ErrSuppressed = errors.New("suppressed")

// Email content limits.
const maxEmailBody = domain.MaxEmailBody

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

// PutMailTemplate checks and stores an organisation's email template
// (audited).
func (s *Service) PutMailTemplate(ctx context.Context, actor Actor, t *domain.MailTemplate) (*domain.MailTemplate, error) {
	return change(ctx, s, t.OrgID, actor, func(tx domain.Repo) (*domain.MailTemplate, []*domain.Event, *domain.AuditEntry, error) {
		if err := tx.PutMailTemplate(ctx, t); err != nil {
			return nil, nil, nil, err
		}
		return t, nil, &domain.AuditEntry{Action: "email_template.put", Target: "email-template/" + t.Name}, nil
	})
}

// DeleteMailTemplate removes an email template (audited).
func (s *Service) DeleteMailTemplate(ctx context.Context, actor Actor, orgID, name string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (struct{}, []*domain.Event, *domain.AuditEntry, error) {
		return struct{}{}, nil, &domain.AuditEntry{Action: "email_template.delete", Target: "email-template/" + name}, tx.DeleteMailTemplate(ctx, orgID, name)
	})
	return err
}

// ApplyTemplate fills e from the organisation's email template name:
// {{ customer.* }} from the customer e.CustomerID names (and e.To from
// their address when e has none), {{ seller }}, {{ vars.<name> }} from
// vars (strings, numbers and booleans; other values are left out). Fields
// e already has (subject, text, html) win over the template's.
func (s *Service) ApplyTemplate(ctx context.Context, orgID, name string, vars map[string]any, e *OutgoingEmail) error {
	t, err := s.Store.GetMailTemplate(ctx, orgID, name)
	if errors.Is(err, domain.ErrNotFound) {
		return &domain.ValidationError{Record: "email", Fields: []domain.FieldError{{Field: "template", Message: fmt.Sprintf("is %q; the organisation has no such email template", name)}}}
	}
	if err != nil {
		return err
	}
	values := map[string]string{}
	for k, v := range vars {
		switch x := v.(type) {
		case string:
			values["vars."+k] = x
		case float64, int, int64, bool, json.Number:
			values["vars."+k] = fmt.Sprint(x)
		}
	}
	if o, err := s.Store.GetOrg(ctx, orgID); err == nil {
		values["seller"] = o.Name
	}
	if e.CustomerID != "" {
		c, err := s.Store.GetCustomer(ctx, orgID, e.CustomerID)
		if errors.Is(err, domain.ErrNotFound) {
			return &domain.ValidationError{Record: "email", Fields: []domain.FieldError{{Field: "customerId", Message: "is not a customer of this organisation"}}}
		}
		if err != nil {
			return err
		}
		first, _, _ := strings.Cut(c.Name, " ")
		for k, v := range map[string]string{"customer.name": c.Name, "customer.firstName": first, "customer.email": c.Email,
			"customer.company": c.Company, "customer.title": c.Title} {
			values[k] = v
		}
		var custom map[string]any
		_ = json.Unmarshal(c.Custom, &custom)
		for k, v := range custom {
			if v != nil {
				values["customer.custom."+k] = fmt.Sprint(v)
			}
		}
		if e.To == "" {
			e.To = c.Email
		}
	}
	if e.Subject == "" {
		e.Subject = domain.ExpandTemplate(t.Subject, values, subjectLine)
	}
	if e.Text == "" && e.HTML == "" {
		e.Text = domain.ExpandTemplate(t.Text, values, nil)
		if t.HTML != "" {
			e.HTML = domain.ExpandTemplate(t.HTML, values, html.EscapeString)
		}
	}
	return nil
}
