package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// Email templates: named emails email.send fills with a run's variables
// and the customer's data (docs/connectors.md).
func (s *Server) mailTemplateRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"email templates"}
	type nameInput struct {
		Name string `path:"name" maxLength:"64"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-email-templates", Method: http.MethodGet, Path: "/v1/email-templates",
		Summary: "The organisation's email templates, by name", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*bodyOut[Page[domain.MailTemplate]], error) {
			ts, err := s.store.ListMailTemplates(ctx, principal(ctx).OrgID)
			if err != nil {
				return nil, storeErr(err, "email templates")
			}
			if ts == nil {
				ts = []domain.MailTemplate{}
			}
			return &bodyOut[Page[domain.MailTemplate]]{Page[domain.MailTemplate]{Items: ts}}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-email-template", Method: http.MethodGet, Path: "/v1/email-templates/{name}",
		Summary: "An email template", Tags: tags},
		func(ctx context.Context, in *nameInput) (*bodyOut[domain.MailTemplate], error) {
			t, err := s.store.GetMailTemplate(ctx, principal(ctx).OrgID, in.Name)
			if err != nil {
				return nil, storeErr(err, "email template "+in.Name)
			}
			return &bodyOut[domain.MailTemplate]{*t}, nil
		})
	type putInput struct {
		Name string `path:"name" maxLength:"64"`
		Body struct {
			Subject string `json:"subject" doc:"One line; {{ variables }} allowed"`
			Text    string `json:"text,omitempty" doc:"The text body"`
			HTML    string `json:"html,omitempty" doc:"The HTML body (sanitised when sent)"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "put-email-template", Method: http.MethodPut, Path: "/v1/email-templates/{name}",
		Summary: "Create or replace an email template", Tags: tags,
		Description: "Variables: `{{ vars.<name> }}` (email.send's `variables`), `{{ seller }}`, `{{ customer.name }}`, `customer.firstName`, " +
			"`customer.email`, `customer.company`, `customer.title`, `customer.custom.<field>`; `{{ name | \"fallback\" }}` when empty. " +
			"Values are escaped in HTML and never expanded again."},
		func(ctx context.Context, in *putInput) (*bodyOut[domain.MailTemplate], error) {
			pr := principal(ctx)
			t := &domain.MailTemplate{OrgID: pr.OrgID, Name: in.Name, Subject: in.Body.Subject, Text: in.Body.Text, HTML: in.Body.HTML}
			if _, err := svc.PutMailTemplate(ctx, crm.Actor(pr.Actor()), t); err != nil {
				return nil, storeErr(err, "email template "+in.Name)
			}
			return &bodyOut[domain.MailTemplate]{*t}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-email-template", Method: http.MethodDelete, Path: "/v1/email-templates/{name}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete an email template", Tags: tags},
		func(ctx context.Context, in *nameInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteMailTemplate(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.Name), "email template "+in.Name)
		})
}
