package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"switchboard/domain"
)

// Opportunities (domain.OpportunityRepo).

const opportunityCols = `org_id, id, customer_id, name, amount, currency, stage, probability, expected_close, actual_close,
	owner_id, line_items, next_steps, lost_reason, version, created_at, updated_at`

func scanOpportunity(s scanner) (o domain.Opportunity, err error) {
	var items json.RawMessage
	err = s.Scan(&o.OrgID, &o.ID, &o.CustomerID, &o.Name, &o.Amount.Amount, &o.Amount.Currency, &o.Stage, &o.Probability,
		&o.ExpectedClose, &o.ActualClose, &o.OwnerID, jsonDest{&items}, &o.NextSteps, &o.LostReason, &o.Version,
		scanTime(&o.CreatedAt), scanTime(&o.UpdatedAt))
	if err == nil {
		err = json.Unmarshal(items, &o.LineItems)
	}
	if len(o.LineItems) == 0 {
		o.LineItems = nil
	}
	return o, err
}

func checkOpportunity(o *domain.Opportunity) error {
	if err := need("opportunity", "orgId", o.OrgID); err != nil {
		return err
	}
	o.Normalize()
	return o.Validate()
}

func lineItemsArg(items []domain.LineItem) string {
	b, _ := json.Marshal(cmpOr(items, []domain.LineItem{}))
	return string(b)
}

// CreateOpportunity inserts o; ErrNotFound when its customer is not in the organisation.
func (r *repo) CreateOpportunity(ctx context.Context, o *domain.Opportunity) error {
	if err := checkOpportunity(o); err != nil {
		return err
	}
	o.ID, o.Version = newID(o.ID), 1
	o.CreatedAt = stamp(o.CreatedAt)
	o.UpdatedAt = o.CreatedAt
	_, err := r.exec(ctx, `INSERT INTO opportunities (`+opportunityCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		o.OrgID, o.ID, o.CustomerID, o.Name, o.Amount.Amount, o.Amount.Currency, o.Stage, o.Probability, o.ExpectedClose,
		o.ActualClose, o.OwnerID, lineItemsArg(o.LineItems), o.NextSteps, o.LostReason, o.Version, r.ts(o.CreatedAt), r.ts(o.UpdatedAt))
	if isForeignKey(err) {
		return fmt.Errorf("%w: create opportunity: customer %s", domain.ErrNotFound, o.CustomerID)
	}
	return wrap("create opportunity", err)
}

func (r *repo) GetOpportunity(ctx context.Context, orgID, id string) (*domain.Opportunity, error) {
	return get(ctx, r, "opportunity "+id, scanOpportunity, `SELECT `+opportunityCols+` FROM opportunities WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
}

func (r *repo) UpdateOpportunity(ctx context.Context, o *domain.Opportunity) error {
	if err := checkOpportunity(o); err != nil {
		return err
	}
	what := "update opportunity " + o.ID
	o.UpdatedAt = stamp(time.Time{})
	n, err := r.exec(ctx, `UPDATE opportunities SET customer_id = ?, name = ?, amount = ?, currency = ?, stage = ?, probability = ?,
		expected_close = ?, actual_close = ?, owner_id = ?, line_items = ?, next_steps = ?, lost_reason = ?, updated_at = ?,
		version = version + 1 WHERE org_id = ? AND id = ? AND version = ?`,
		o.CustomerID, o.Name, o.Amount.Amount, o.Amount.Currency, o.Stage, o.Probability, o.ExpectedClose, o.ActualClose,
		o.OwnerID, lineItemsArg(o.LineItems), o.NextSteps, o.LostReason, r.ts(o.UpdatedAt), o.OrgID, o.ID, o.Version)
	switch {
	case isForeignKey(err):
		return fmt.Errorf("%w: %s: customer %s", domain.ErrNotFound, what, o.CustomerID)
	case err != nil:
		return wrap(what, err)
	case n == 0:
		return r.versionConflict(ctx, what, "opportunities", o.OrgID, o.ID, o.Version)
	}
	o.Version++
	return nil
}

// versionConflict explains an update that changed no row: ErrNotFound, or
// ErrConflict naming the current version.
func (r *repo) versionConflict(ctx context.Context, what, table, orgID, id string, version int) error {
	var v int
	if err := r.queryRow(ctx, `SELECT version FROM `+table+` WHERE org_id = ? AND id = ?`, orgID, id).Scan(&v); err != nil {
		return wrap(what, translate(err))
	}
	return fmt.Errorf("%w: %s: version %d is not the current version %d", domain.ErrConflict, what, version, v)
}

func (r *repo) DeleteOpportunity(ctx context.Context, orgID, id string) error {
	return r.deleteRecord(ctx, "opportunities", "opportunity", orgID, id, "quotes refer to it")
}

var opportunityPages = &keyset[domain.Opportunity]{
	record: "opportunity query",
	order:  domain.OpportunitySorts,
	from:   `SELECT ` + opportunityCols + ` FROM opportunities`,
	scan:   scanOpportunity,
	sorts: map[string]sortKey[domain.Opportunity]{
		"created":       {},
		"amount":        {col: "amount", kind: sortInt, value: func(o *domain.Opportunity) any { return o.Amount.Amount }},
		"expectedClose": {col: "expected_close", kind: sortText, value: func(o *domain.Opportunity) any { return o.ExpectedClose }},
		"updated":       {col: "updated_at", kind: sortTime, value: func(o *domain.Opportunity) any { return o.UpdatedAt }},
	},
}

func (r *repo) ListOpportunities(ctx context.Context, orgID string, q domain.OpportunityQuery) ([]domain.Opportunity, string, error) {
	if q.Sort == "" {
		q.Sort = "created"
	}
	where, args := []string{"org_id = ?"}, []any{orgID}
	for _, f := range []struct{ col, v string }{{"customer_id", q.CustomerID}, {"stage", q.Stage}, {"owner_id", q.OwnerID}} {
		if f.v != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.v)
		}
	}
	if q.Open {
		where = append(where, "stage NOT IN ('closed_won', 'closed_lost')")
	}
	return opportunityPages.page(ctx, r, where, args, q.Sort, q.Desc, q.After, q.Limit, func(o *domain.Opportunity) string { return o.ID })
}
