package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"switchboard/domain"
)

// Quotes and public tokens (domain.QuoteRepo).

const quoteCols = `org_id, id, opportunity_id, customer_id, currency, line_items, subtotal, discount, tax, total, valid_until,
	notes, status, run_id, sent_at, decided_at, decision, paid_at, version, created_at, updated_at`

// scanQuote scans a quote; a sent quote past its last valid day reads as
// expired (today is the UTC day of the read).
func scanQuote(s scanner) (q domain.Quote, err error) {
	var items, decision json.RawMessage
	err = s.Scan(&q.OrgID, &q.ID, &q.OpportunityID, &q.CustomerID, &q.Currency, jsonDest{&items}, &q.Totals.Subtotal,
		&q.Totals.Discount, &q.Totals.Tax, &q.Totals.Total, &q.ValidUntil, &q.Notes, &q.Status, &q.RunID,
		scanNullTime(&q.SentAt), scanNullTime(&q.DecidedAt), jsonDest{&decision}, scanNullTime(&q.PaidAt), &q.Version, scanTime(&q.CreatedAt), scanTime(&q.UpdatedAt))
	if err != nil {
		return q, err
	}
	if err := json.Unmarshal(items, &q.LineItems); err != nil {
		return q, err
	}
	if len(decision) > 0 {
		q.Decision = new(domain.QuoteDecision)
		if err := json.Unmarshal(decision, q.Decision); err != nil {
			return q, err
		}
	}
	if q.Status == "sent" && q.Expired(time.Now().UTC().Format(time.DateOnly)) {
		q.Status = "expired"
	}
	return q, nil
}

func checkQuote(q *domain.Quote) error {
	if err := need("quote", "orgId", q.OrgID); err != nil {
		return err
	}
	q.Normalize()
	return q.Validate()
}

func (r *repo) quoteArgs(q *domain.Quote) []any {
	var decision any
	if q.Decision != nil {
		b, _ := json.Marshal(q.Decision)
		decision = string(b)
	}
	return []any{q.OpportunityID, q.CustomerID, q.Currency, lineItemsArg(q.LineItems), q.Totals.Subtotal, q.Totals.Discount,
		q.Totals.Tax, q.Totals.Total, q.ValidUntil, q.Notes, q.Status, q.RunID, r.tsp(q.SentAt), r.tsp(q.DecidedAt), decision, r.tsp(q.PaidAt)}
}

// CreateQuote inserts q with the customer of its opportunity.
func (r *repo) CreateQuote(ctx context.Context, q *domain.Quote) error {
	if err := checkQuote(q); err != nil {
		return err
	}
	return r.atomic(ctx, func(r *repo) error {
		if err := r.queryRow(ctx, `SELECT customer_id FROM opportunities WHERE org_id = ? AND id = ?`, q.OrgID, q.OpportunityID).Scan(&q.CustomerID); err != nil {
			return wrap("create quote: opportunity "+q.OpportunityID, translate(err))
		}
		q.ID, q.Version = newID(q.ID), 1
		q.CreatedAt = stamp(q.CreatedAt)
		q.UpdatedAt = q.CreatedAt
		args := append([]any{q.OrgID, q.ID}, r.quoteArgs(q)...)
		_, err := r.exec(ctx, `INSERT INTO quotes (`+quoteCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			append(args, q.Version, r.ts(q.CreatedAt), r.ts(q.UpdatedAt))...)
		return wrap("create quote", err)
	})
}

func (r *repo) GetQuote(ctx context.Context, orgID, id string) (*domain.Quote, error) {
	return get(ctx, r, "quote "+id, scanQuote, `SELECT `+quoteCols+` FROM quotes WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
}

func (r *repo) UpdateQuote(ctx context.Context, q *domain.Quote) error {
	if err := checkQuote(q); err != nil {
		return err
	}
	what := "update quote " + q.ID
	q.UpdatedAt = stamp(time.Time{})
	args := append(r.quoteArgs(q), r.ts(q.UpdatedAt), q.OrgID, q.ID, q.Version)
	n, err := r.exec(ctx, `UPDATE quotes SET opportunity_id = ?, customer_id = ?, currency = ?, line_items = ?, subtotal = ?, discount = ?,
		tax = ?, total = ?, valid_until = ?, notes = ?, status = ?, run_id = ?, sent_at = ?, decided_at = ?, decision = ?, paid_at = ?,
		updated_at = ?, version = version + 1 WHERE org_id = ? AND id = ? AND version = ?`, args...)
	switch {
	case err != nil:
		return wrap(what, err)
	case n == 0:
		return r.versionConflict(ctx, what, "quotes", q.OrgID, q.ID, q.Version)
	}
	q.Version++
	return nil
}

var quotePages = &keyset[domain.Quote]{
	record: "quote query",
	order:  []string{"created"},
	from:   `SELECT ` + quoteCols + ` FROM quotes`,
	scan:   scanQuote,
	sorts:  map[string]sortKey[domain.Quote]{"created": {}},
}

// ListQuotes lists quotes in creation order.
func (r *repo) ListQuotes(ctx context.Context, orgID string, q domain.QuoteQuery) ([]domain.Quote, string, error) {
	where, args := []string{"org_id = ?"}, []any{orgID}
	for _, f := range []struct{ col, v string }{{"opportunity_id", q.OpportunityID}, {"customer_id", q.CustomerID}} {
		if f.v != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.v)
		}
	}
	today := q.Today
	if today == "" {
		today = time.Now().UTC().Format(time.DateOnly)
	}
	switch q.Status {
	case "":
	case "expired":
		where, args = append(where, "(status = 'expired' OR (status = 'sent' AND valid_until < ?))"), append(args, today)
	case "sent":
		where, args = append(where, "status = 'sent' AND valid_until >= ?"), append(args, today)
	default:
		where, args = append(where, "status = ?"), append(args, q.Status)
	}
	return quotePages.page(ctx, r, where, args, "created", false, q.After, q.Limit, func(q *domain.Quote) string { return q.ID })
}

func (r *repo) CreatePublicToken(ctx context.Context, t *domain.PublicToken) error {
	if err := need("public token", "orgId", t.OrgID, "kind", t.Kind, "recordId", t.RecordID); err != nil {
		return err
	}
	if len(t.Hash) != 32 {
		return fmt.Errorf("%w: public token: the hash is %d bytes, want 32", domain.ErrInvalid, len(t.Hash))
	}
	t.CreatedAt, t.ExpiresAt = stamp(t.CreatedAt), stamp(t.ExpiresAt)
	_, err := r.exec(ctx, `INSERT INTO public_tokens (hash, org_id, kind, record_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
		t.Hash, t.OrgID, t.Kind, t.RecordID, r.ts(t.ExpiresAt), r.ts(t.CreatedAt))
	return wrap("create public token", err)
}

func (r *repo) PublicTokenByHash(ctx context.Context, hash []byte, now time.Time) (*domain.PublicToken, error) {
	return get(ctx, r, "public token", func(s scanner) (t domain.PublicToken, err error) {
		return t, s.Scan(&t.Hash, &t.OrgID, &t.Kind, &t.RecordID, scanTime(&t.ExpiresAt), scanTime(&t.CreatedAt), scanNullTime(&t.RevokedAt))
	}, `SELECT hash, org_id, kind, record_id, expires_at, created_at, revoked_at FROM public_tokens
		WHERE hash = ? AND revoked_at IS NULL AND expires_at > ?`, hash, r.ts(stamp(now)))
}

func (r *repo) RevokePublicTokens(ctx context.Context, orgID, kind, recordID string) error {
	_, err := r.exec(ctx, `UPDATE public_tokens SET revoked_at = ? WHERE org_id = ? AND kind = ? AND record_id = ? AND revoked_at IS NULL`,
		r.ts(stamp(time.Time{})), orgID, kind, recordID)
	return wrap("revoke public tokens", err)
}

func (r *repo) ExpireQuote(ctx context.Context, orgID, id, today string) (bool, error) {
	n, err := r.exec(ctx, `UPDATE quotes SET status = 'expired', updated_at = ?, version = version + 1
		WHERE org_id = ? AND id = ? AND status = 'sent' AND valid_until < ?`, r.ts(stamp(time.Time{})), orgID, id, today)
	return n > 0, wrap("expire quote "+id, err)
}
