package store

import (
	"context"
	"errors"
	"fmt"
	"time"

	"switchboard/domain"
)

// validMonth checks a usage month: "2006-01".
func validMonth(month string) error {
	if _, err := time.Parse("2006-01", month); err != nil || len(month) != 7 {
		return fmt.Errorf("%w: ai usage: month %q is not YYYY-MM", domain.ErrInvalid, month)
	}
	return nil
}

// AddAIUsage adds tokens to the month's row, creating it, in one statement:
// concurrent adders never lose each other's tokens.
func (r *repo) AddAIUsage(ctx context.Context, orgID, month string, tokens int64) (int64, error) {
	if err := need("ai usage", "orgId", orgID, "month", month); err != nil {
		return 0, err
	}
	if err := validMonth(month); err != nil {
		return 0, err
	}
	if tokens < 0 {
		return 0, fmt.Errorf("%w: ai usage: tokens %d < 0", domain.ErrInvalid, tokens)
	}
	var total int64
	err := r.queryRow(ctx, `INSERT INTO ai_usage (org_id, month, tokens, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, month) DO UPDATE SET tokens = ai_usage.tokens + excluded.tokens, updated_at = excluded.updated_at
		RETURNING tokens`, orgID, month, tokens, r.ts(stamp(time.Time{}))).Scan(&total)
	if err != nil {
		return 0, wrap("add ai usage "+month, translate(err)) // ErrNotFound: no such org
	}
	return total, nil
}

func (r *repo) AIUsage(ctx context.Context, orgID, month string) (int64, error) {
	if err := validMonth(month); err != nil {
		return 0, err
	}
	var total int64
	err := r.queryRow(ctx, `SELECT tokens FROM ai_usage WHERE org_id = ? AND month = ?`, orgID, month).Scan(&total)
	switch err := translate(err); {
	case errors.Is(err, domain.ErrNotFound):
		return 0, nil
	case err != nil:
		return 0, wrap("ai usage "+month, err)
	}
	return total, nil
}
