package store

import (
	"context"
	"encoding/json"
	"time"

	"switchboard/domain"
)

// Email templates (domain.MailTemplateRepo).

type emailTemplateData struct {
	Subject string `json:"subject"`
	Text    string `json:"text,omitempty"`
	HTML    string `json:"html,omitempty"`
}

var emailTemplates = namedDocs[domain.MailTemplate]{table: "email_templates", what: "email template",
	data: func(t *domain.MailTemplate) any {
		return emailTemplateData{Subject: t.Subject, Text: t.Text, HTML: t.HTML}
	},
	fill: func(t *domain.MailTemplate, orgID, name string, doc json.RawMessage, at time.Time) error {
		var d emailTemplateData
		err := json.Unmarshal(doc, &d)
		*t = domain.MailTemplate{OrgID: orgID, Name: name, Subject: d.Subject, Text: d.Text, HTML: d.HTML, UpdatedAt: at}
		return err
	}}

func (r *repo) PutMailTemplate(ctx context.Context, t *domain.MailTemplate) error {
	if err := need("email template", "orgId", t.OrgID); err != nil {
		return err
	}
	if err := t.Validate(); err != nil {
		return err
	}
	at, err := emailTemplates.put(ctx, r, t.OrgID, t.Name, t)
	t.UpdatedAt = at
	return err
}

func (r *repo) GetMailTemplate(ctx context.Context, orgID, name string) (*domain.MailTemplate, error) {
	return emailTemplates.get(ctx, r, orgID, name)
}

func (r *repo) ListMailTemplates(ctx context.Context, orgID string) ([]domain.MailTemplate, error) {
	return emailTemplates.list(ctx, r, orgID)
}

func (r *repo) DeleteMailTemplate(ctx context.Context, orgID, name string) error {
	return emailTemplates.delete(ctx, r, orgID, name)
}
