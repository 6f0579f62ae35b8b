package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"switchboard/domain"
)

// Payments (domain.PaymentRepo).

const paymentCols = `org_id, id, provider, kind, status, amount, currency, description, line_items, customer_id, quote_id, contract_id,
	email, run_id, step_id, provider_id, url, failure, paid_at, created_at, updated_at`

func scanPayment(s scanner) (p domain.Payment, err error) {
	var items json.RawMessage
	err = s.Scan(&p.OrgID, &p.ID, &p.Provider, &p.Kind, &p.Status, &p.Amount, &p.Currency, &p.Description, jsonDest{&items},
		&p.CustomerID, &p.QuoteID, &p.ContractID, &p.Email, &p.RunID, &p.StepID, &p.ProviderID, &p.URL, &p.Failure,
		scanNullTime(&p.PaidAt), scanTime(&p.CreatedAt), scanTime(&p.UpdatedAt))
	if err == nil && len(items) > 0 {
		err = json.Unmarshal(items, &p.LineItems)
	}
	return p, err
}

func (r *repo) CreatePayment(ctx context.Context, p *domain.Payment) error {
	if err := need("payment", "orgId", p.OrgID, "provider", p.Provider, "kind", p.Kind, "currency", p.Currency); err != nil {
		return err
	}
	if p.Status == "" {
		p.Status = "creating"
	}
	if !slices.Contains(domain.PaymentStatuses, p.Status) || p.Amount < 0 {
		return fmt.Errorf("create payment: %w: status %q, amount %d", domain.ErrInvalid, p.Status, p.Amount)
	}
	items, err := json.Marshal(cmpOr(p.LineItems, []domain.LineItem{}))
	if err != nil {
		return err
	}
	p.ID, p.CreatedAt = newID(p.ID), stamp(p.CreatedAt)
	p.UpdatedAt = p.CreatedAt
	_, err = r.exec(ctx, `INSERT INTO payments (`+paymentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		p.OrgID, p.ID, p.Provider, p.Kind, p.Status, p.Amount, p.Currency, p.Description, jsonArg(items), p.CustomerID, p.QuoteID,
		p.ContractID, p.Email, p.RunID, p.StepID, p.ProviderID, p.URL, p.Failure, r.tsp(p.PaidAt), r.ts(p.CreatedAt), r.ts(p.UpdatedAt))
	return wrap("create payment", err)
}

func (r *repo) GetPayment(ctx context.Context, orgID, id string) (*domain.Payment, error) {
	return get(ctx, r, "payment "+id, scanPayment, `SELECT `+paymentCols+` FROM payments WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
}

func (r *repo) OpenPayment(ctx context.Context, orgID, id, providerID, url string) error {
	n, err := r.exec(ctx, `UPDATE payments SET status = 'open', provider_id = ?, url = ?, updated_at = ? WHERE org_id = ? AND id = ? AND status = 'creating'`,
		providerID, url, r.ts(time.Now()), orgID, id)
	return r.moved(ctx, "open payment", orgID, id, n, err)
}

func (r *repo) SetPaymentStatus(ctx context.Context, orgID, id string, from []string, status, failure string) error {
	if !slices.Contains(domain.PaymentStatuses, status) || len(from) == 0 {
		return fmt.Errorf("set payment status: %w: status %q", domain.ErrInvalid, status)
	}
	now := time.Now()
	var paid *time.Time
	if status == "paid" {
		paid = &now
	}
	args := []any{status, failure, r.tsp(paid), r.ts(now), orgID, id}
	for _, f := range from {
		args = append(args, f)
	}
	n, err := r.exec(ctx, `UPDATE payments SET status = ?, failure = ?, paid_at = COALESCE(paid_at, ?), updated_at = ?
		WHERE org_id = ? AND id = ? AND status IN (`+placeholders(len(from))+`)`, args...)
	return r.moved(ctx, "set payment status", orgID, id, n, err)
}

// moved turns an update of one payment that matched no row into
// ErrNotFound (no such payment) or ErrConflict (not in the expected status).
func (r *repo) moved(ctx context.Context, what, orgID, id string, n int64, err error) error {
	if err != nil {
		return wrap(what, err)
	}
	if n == 0 {
		var status string
		if err := r.queryRow(ctx, `SELECT status FROM payments WHERE org_id = ? AND id = ?`, orgID, id).Scan(&status); err != nil {
			return wrap(what+" "+id, translate(err))
		}
		return fmt.Errorf("%s %s: %w: it is %s", what, id, domain.ErrConflict, status)
	}
	return nil
}

func (r *repo) ListPayments(ctx context.Context, orgID string, p domain.Page) ([]domain.Payment, error) {
	q, args := newestFirst(`SELECT `+paymentCols+` FROM payments WHERE org_id = ?`, []any{orgID}, p)
	return list(ctx, r, "list payments", scanPayment, q, args...)
}

// Documents (domain.DocumentRepo).

const documentCols = `org_id, id, title, template, html, sha256, customer_id, run_id, created_at`

func (r *repo) CreateDocument(ctx context.Context, d *domain.Document) error {
	if err := need("document", "orgId", d.OrgID, "sha256", d.SHA256); err != nil {
		return err
	}
	d.ID, d.CreatedAt = newID(d.ID), stamp(d.CreatedAt)
	_, err := r.exec(ctx, `INSERT INTO documents (`+documentCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.OrgID, d.ID, d.Title, d.Template, d.HTML, d.SHA256, d.CustomerID, d.RunID, r.ts(d.CreatedAt))
	return wrap("create document", err)
}

func (r *repo) GetDocument(ctx context.Context, orgID, id string) (*domain.Document, error) {
	return get(ctx, r, "document "+id, func(s scanner) (d domain.Document, err error) {
		return d, s.Scan(&d.OrgID, &d.ID, &d.Title, &d.Template, &d.HTML, &d.SHA256, &d.CustomerID, &d.RunID, scanTime(&d.CreatedAt))
	}, `SELECT `+documentCols+` FROM documents WHERE org_id = ? AND id = ?`, orgID, id)
}
