package store

import (
	"context"
	"fmt"

	"switchboard/domain"
)

// Timelines (domain.TimelineRepo).

const timelineCols = `org_id, id, customer_id, kind, summary, body, ref, event, actor, run_id, at`

func (r *repo) AddTimeline(ctx context.Context, e *domain.TimelineEntry) error {
	if err := need("timeline entry", "orgId", e.OrgID); err != nil {
		return err
	}
	if err := e.Validate(); err != nil {
		return err
	}
	e.ID, e.At = newID(e.ID), stamp(e.At)
	// only when the customer exists: a failed foreign key would abort a
	// PostgreSQL transaction, and a caller may go on without the entry
	n, err := r.exec(ctx, `INSERT INTO timeline (`+timelineCols+`) SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?
		WHERE EXISTS (SELECT 1 FROM customers WHERE org_id = ? AND id = ?)`,
		e.OrgID, e.ID, e.CustomerID, e.Kind, e.Summary, e.Body, e.Ref, e.Event, e.Actor, e.RunID, r.ts(e.At), e.OrgID, e.CustomerID)
	if isForeignKey(err) || (err == nil && n == 0) {
		return fmt.Errorf("%w: add timeline entry: customer %s", domain.ErrNotFound, e.CustomerID)
	}
	return wrap("add timeline entry", err)
}

func (r *repo) ListTimeline(ctx context.Context, orgID, customerID string, p domain.Page) ([]domain.TimelineEntry, error) {
	q, args := newestFirst(`SELECT `+timelineCols+` FROM timeline WHERE org_id = ? AND customer_id = ?`, []any{orgID, customerID}, p)
	return list(ctx, r, "list timeline", func(s scanner) (e domain.TimelineEntry, err error) {
		return e, s.Scan(&e.OrgID, &e.ID, &e.CustomerID, &e.Kind, &e.Summary, &e.Body, &e.Ref, &e.Event, &e.Actor, &e.RunID, scanTime(&e.At))
	}, q, args...)
}
