package domain

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// MailTemplate is an organisation's named email (PUT
// /v1/email-templates/<name>): a subject, a text and/or an HTML body with
// {{ variables }} — customer.* (the email's customer), seller, and
// vars.<name> (the `variables` email.send is given). Values are data:
// escaped in HTML, never expanded again.
type MailTemplate struct {
	OrgID     string    `json:"-"`
	Name      string    `json:"name"`
	Subject   string    `json:"subject"`
	Text      string    `json:"text,omitempty"`
	HTML      string    `json:"html,omitempty"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// MaxEmailBody bounds an email's text and HTML bodies.
const MaxEmailBody = 256 << 10

var (
	templateName = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]{0,63}$`)
	varsVar      = regexp.MustCompile(`^vars\.[A-Za-z0-9_]{1,64}$`)
)

// Validate reports every invalid field.
func (t *MailTemplate) Validate() error {
	v := &ValidationError{Record: "email template"}
	bad := func(field, format string, args ...any) {
		v.Fields = append(v.Fields, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
	}
	if !templateName.MatchString(t.Name) {
		bad("name", "must be 1–64 lower-case letters, digits, - or _")
	}
	if strings.TrimSpace(t.Subject) == "" || len(t.Subject) > 998 {
		bad("subject", "is required, at most 998 bytes")
	}
	if t.Text == "" && t.HTML == "" {
		bad("text", "is required when there is no html")
	}
	for field, text := range map[string]string{"subject": t.Subject, "text": t.Text, "html": t.HTML} {
		if len(text) > MaxEmailBody {
			bad(field, "is larger than %d bytes", MaxEmailBody)
			continue
		}
		if err := EmailTemplateVars(text); err != nil {
			bad(field, "%v", err)
		}
	}
	if len(v.Fields) > 0 {
		slices.SortFunc(v.Fields, func(a, b FieldError) int { return strings.Compare(a.Field, b.Field) })
		return v
	}
	return nil
}

// EmailTemplateVars checks the {{ variables }} of an email template's text.
func EmailTemplateVars(text string) error {
	for _, m := range templateVar.FindAllStringSubmatch(text, -1) {
		name := m[1]
		if name == "campaign.name" || !(slices.Contains(TemplateVariables, name) || customVar.MatchString(name) || varsVar.MatchString(name)) {
			return fmt.Errorf("{{ %s }} is not a variable; use vars.<name>, seller, customer.custom.<field> or one of customer.name, customer.firstName, customer.email, customer.company, customer.title", name)
		}
	}
	if rest := templateVar.ReplaceAllString(text, ""); strings.Contains(rest, "{{") {
		return fmt.Errorf("a {{ is not closed as {{ variable }} or {{ variable | \"fallback\" }}")
	}
	return nil
}

// MailTemplateRepo stores email templates.
type MailTemplateRepo interface {
	PutMailTemplate(ctx context.Context, t *MailTemplate) error
	GetMailTemplate(ctx context.Context, orgID, name string) (*MailTemplate, error)
	ListMailTemplates(ctx context.Context, orgID string) ([]MailTemplate, error)
	DeleteMailTemplate(ctx context.Context, orgID, name string) error
}
