package crm

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/google/uuid"

	"switchboard/domain"
)

// RenderDocument renders one of the organisation's document templates
// (the contract templates: PUT /v1/contract-templates/<name>) with a run's
// data — `.Data` in the template, plus `.Customer` when customerID names
// one — and stores the HTML with its SHA-256. With an idempotency key in
// ctx it renders once. Emits document.rendered.
func (s *Service) RenderDocument(ctx context.Context, actor Actor, orgID, templateName, title, customerID string, data map[string]any) (*domain.Document, error) {
	if err := checkDocumentData(data, "data", 0); err != nil {
		return nil, err
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Document, []*domain.Event, *domain.AuditEntry, error) {
		tpl, err := ContractTemplate(ctx, tx, orgID, templateName)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, nil, nil, documentField("template", "is %q; the organisation has no such template", templateName)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		d := &DocumentData{Title: title, Number: uuid.Must(uuid.NewV7()).String(), Date: time.Now().UTC().Format(time.DateOnly), Data: data}
		if customerID != "" {
			if d.Customer, err = tx.GetCustomer(ctx, orgID, customerID); errors.Is(err, domain.ErrNotFound) {
				return nil, nil, nil, documentField("customerId", "is not a customer of this organisation")
			} else if err != nil {
				return nil, nil, nil, err
			}
		}
		if o, err := tx.GetOrg(ctx, orgID); err == nil {
			d.Seller = o.Name
		}
		html, err := renderDocument(tpl, d)
		var ve *domain.ValidationError
		if errors.As(err, &ve) {
			ve.Record = "document"
		}
		if err != nil {
			return nil, nil, nil, err
		}
		doc := &domain.Document{ID: d.Number, OrgID: orgID, Title: title, Template: tpl.Name, HTML: html, SHA256: DocumentHash(html),
			CustomerID: customerID, RunID: runOf(actor)}
		if err := tx.CreateDocument(ctx, doc); err != nil {
			return nil, nil, nil, err
		}
		ev := event("document.rendered", map[string]any{"document": map[string]any{"id": doc.ID, "title": doc.Title, "template": doc.Template,
			"sha256": doc.SHA256, "customerId": doc.CustomerID, "runId": doc.RunID}, "actor": actor})
		return doc, []*domain.Event{ev}, &domain.AuditEntry{Action: "document.render", Target: "document/" + doc.ID}, nil
	})
}

func documentField(field, format string, args ...any) error {
	return &domain.ValidationError{Record: "document", Fields: []domain.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// checkDocumentData bounds a document's data: lists (and objects) of at
// most MaxDocumentList entries, nested at most 16 deep.
func checkDocumentData(v any, at string, depth int) error {
	if depth > 16 {
		return documentField(at, "is nested more than 16 levels deep")
	}
	switch x := v.(type) {
	case []any:
		if len(x) > MaxDocumentList {
			return documentField(at, "has %d items; at most %d", len(x), MaxDocumentList)
		}
		for i, e := range x {
			if err := checkDocumentData(e, fmt.Sprintf("%s[%d]", at, i), depth+1); err != nil {
				return err
			}
		}
	case map[string]any:
		if len(x) > MaxDocumentList {
			return documentField(at, "has %d fields; at most %d", len(x), MaxDocumentList)
		}
		for k, e := range x {
			if err := checkDocumentData(e, at+"."+k, depth+1); err != nil {
				return err
			}
		}
	}
	return nil
}
