package store

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"switchboard/domain"
)

// Campaigns, enrollments and the suppression list (domain.CampaignRepo).

const campaignCols = `org_id, id, name, type, status, audience, content, start_at, end_at, version, created_at, updated_at`

func scanCampaign(s scanner) (c domain.Campaign, err error) {
	var audience, content json.RawMessage
	err = s.Scan(&c.OrgID, &c.ID, &c.Name, &c.Type, &c.Status, jsonDest{&audience}, jsonDest{&content}, scanNullTime(&c.StartAt),
		scanNullTime(&c.EndAt), &c.Version, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt))
	if err != nil {
		return c, err
	}
	if err := json.Unmarshal(audience, &c.Audience); err != nil {
		return c, err
	}
	return c, json.Unmarshal(content, &c.Content)
}

func checkCampaign(c *domain.Campaign) error {
	if err := need("campaign", "orgId", c.OrgID); err != nil {
		return err
	}
	c.Normalize()
	return c.Validate()
}

func (r *repo) campaignArgs(c *domain.Campaign) []any {
	a, _ := json.Marshal(c.Audience)
	b, _ := json.Marshal(c.Content)
	return []any{c.Name, c.Type, c.Status, string(a), string(b), r.tsp(stampp(c.StartAt)), r.tsp(stampp(c.EndAt))}
}

func (r *repo) CreateCampaign(ctx context.Context, c *domain.Campaign) error {
	if err := checkCampaign(c); err != nil {
		return err
	}
	c.ID, c.Version = newID(c.ID), 1
	c.CreatedAt = stamp(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	args := append([]any{c.OrgID, c.ID}, r.campaignArgs(c)...)
	_, err := r.exec(ctx, `INSERT INTO campaigns (`+campaignCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(args, c.Version, r.ts(c.CreatedAt), r.ts(c.UpdatedAt))...)
	return wrap("create campaign", err)
}

func (r *repo) GetCampaign(ctx context.Context, orgID, id string) (*domain.Campaign, error) {
	return get(ctx, r, "campaign "+id, scanCampaign, `SELECT `+campaignCols+` FROM campaigns WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
}

// CampaignMetrics counts from the enrollments (their primary key's prefix).
func (r *repo) CampaignMetrics(ctx context.Context, orgID, id string) (*domain.CampaignCounts, error) {
	m := &domain.CampaignCounts{}
	err := r.queryRow(ctx, `SELECT COUNT(*), COUNT(sent_at), COUNT(delivered_at), COUNT(opened_at), COUNT(clicked_at), COUNT(converted_at),
		COUNT(unsubscribed_at) FROM campaign_enrollments WHERE org_id = ? AND campaign_id = ?`, orgID, id).
		Scan(&m.Enrolled, &m.Sent, &m.Delivered, &m.Opened, &m.Clicked, &m.Converted, &m.Unsubscribed)
	return m, wrap("campaign metrics "+id, err)
}

func (r *repo) UpdateCampaign(ctx context.Context, c *domain.Campaign) error {
	if err := checkCampaign(c); err != nil {
		return err
	}
	what := "update campaign " + c.ID
	c.UpdatedAt = stamp(time.Time{})
	args := append(r.campaignArgs(c), r.ts(c.UpdatedAt), c.OrgID, c.ID, c.Version)
	n, err := r.exec(ctx, `UPDATE campaigns SET name = ?, type = ?, status = ?, audience = ?, content = ?, start_at = ?, end_at = ?,
		updated_at = ?, version = version + 1 WHERE org_id = ? AND id = ? AND version = ?`, args...)
	switch {
	case err != nil:
		return wrap(what, err)
	case n == 0:
		return r.versionConflict(ctx, what, "campaigns", c.OrgID, c.ID, c.Version)
	}
	c.Version++
	return nil
}

var campaignPages = &keyset[domain.Campaign]{
	record: "campaign query",
	order:  []string{"created"},
	from:   `SELECT ` + campaignCols + ` FROM campaigns`,
	scan:   scanCampaign,
	sorts:  map[string]sortKey[domain.Campaign]{"created": {}},
}

// ListCampaigns lists campaigns newest first (without metrics: read one for them).
func (r *repo) ListCampaigns(ctx context.Context, orgID string, q domain.CampaignQuery) ([]domain.Campaign, string, error) {
	where, args := []string{"org_id = ?"}, []any{orgID}
	for _, f := range []struct{ col, v string }{{"status", q.Status}, {"type", q.Type}} {
		if f.v != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.v)
		}
	}
	return campaignPages.page(ctx, r, where, args, "created", true, q.After, q.Limit, func(c *domain.Campaign) string { return c.ID })
}

// Enroll inserts enrollments for the customers of the organisation among
// ids whose email is not suppressed, skipping those already enrolled.
func (r *repo) Enroll(ctx context.Context, orgID, campaignID string, ids []string, runID string) (int, error) {
	total := 0
	err := r.atomic(ctx, func(r *repo) error {
		var one int
		if err := r.queryRow(ctx, `SELECT 1 FROM campaigns WHERE org_id = ? AND id = ?`, orgID, campaignID).Scan(&one); err != nil {
			return wrap("enroll: campaign "+campaignID, translate(err))
		}
		now := r.ts(stamp(time.Time{}))
		for chunk := range slices.Chunk(ids, 500) {
			args := []any{campaignID, runID, now, orgID}
			for _, id := range chunk {
				args = append(args, id)
			}
			n, err := r.exec(ctx, `INSERT INTO campaign_enrollments (org_id, campaign_id, customer_id, status, step, run_id, enrolled_at)
				SELECT c.org_id, ?, c.id, 'active', 0, ?, ? FROM customers c
				WHERE c.org_id = ? AND c.id IN (`+placeholders(len(chunk))+`)
				AND NOT EXISTS (SELECT 1 FROM suppressions s WHERE s.org_id = c.org_id AND s.email = c.email)
				ON CONFLICT (org_id, campaign_id, customer_id) DO NOTHING`, args...)
			if err != nil {
				return wrap("enroll", err)
			}
			total += int(n)
		}
		return nil
	})
	return total, err
}

const enrollmentCols = `campaign_id, customer_id, status, step, run_id, enrolled_at, sent_at, delivered_at, opened_at, clicked_at, converted_at, unsubscribed_at`

func scanEnrollment(s scanner) (e domain.Enrollment, err error) {
	t := &e.Events
	return e, s.Scan(&e.CampaignID, &e.CustomerID, &e.Status, &e.Step, &e.RunID, scanTime(&e.EnrolledAt), scanNullTime(&t.Sent),
		scanNullTime(&t.Delivered), scanNullTime(&t.Opened), scanNullTime(&t.Clicked), scanNullTime(&t.Converted), scanNullTime(&t.Unsubscribed))
}

func (r *repo) GetEnrollment(ctx context.Context, orgID, campaignID, customerID string) (*domain.Enrollment, error) {
	return get(ctx, r, "enrollment of "+customerID, scanEnrollment, `SELECT `+enrollmentCols+` FROM campaign_enrollments
		WHERE org_id = ? AND campaign_id = ? AND customer_id = ?`, orgID, campaignID, customerID)
}

func (r *repo) UpdateEnrollment(ctx context.Context, orgID string, e *domain.Enrollment) error {
	if !slices.Contains([]string{"active", "completed", "exited"}, e.Status) || e.Step < 0 {
		return fmt.Errorf("%w: enrollment: status %q, step %d", domain.ErrInvalid, e.Status, e.Step)
	}
	return r.execOne(ctx, "update enrollment of "+e.CustomerID, `UPDATE campaign_enrollments SET status = ?, step = ?
		WHERE org_id = ? AND campaign_id = ? AND customer_id = ?`, e.Status, e.Step, orgID, e.CampaignID, e.CustomerID)
}

func (r *repo) TrackEnrollment(ctx context.Context, orgID, campaignID, customerID, metric string, at time.Time) (bool, error) {
	if !slices.Contains(domain.CampaignMetrics, metric) {
		return false, fmt.Errorf("%w: %q is not a campaign metric; want one of %s", domain.ErrInvalid, metric, strings.Join(domain.CampaignMetrics, ", "))
	}
	col := metric + "_at" // one of a fixed list
	n, err := r.exec(ctx, `UPDATE campaign_enrollments SET `+col+` = ? WHERE org_id = ? AND campaign_id = ? AND customer_id = ? AND `+col+` IS NULL`,
		r.ts(stamp(at)), orgID, campaignID, customerID)
	if err != nil || n > 0 {
		return n > 0, wrap("track "+metric, err)
	}
	_, err = r.GetEnrollment(ctx, orgID, campaignID, customerID)
	return false, err
}

func (r *repo) ListEnrollments(ctx context.Context, orgID, campaignID string, p domain.Page) ([]domain.Enrollment, error) {
	return list(ctx, r, "list enrollments", scanEnrollment, `SELECT `+enrollmentCols+` FROM campaign_enrollments
		WHERE org_id = ? AND campaign_id = ? AND customer_id > ? ORDER BY customer_id LIMIT ?`, orgID, campaignID, p.After, p.Size())
}

func (r *repo) Suppress(ctx context.Context, orgID string, s *domain.Suppression) error {
	s.Email = strings.ToLower(strings.TrimSpace(s.Email))
	if err := need("suppression", "orgId", orgID, "email", s.Email); err != nil {
		return err
	}
	if !slices.Contains(domain.SuppressionReasons, s.Reason) {
		return &domain.ValidationError{Record: "suppression", Fields: []domain.FieldError{{Field: "reason",
			Message: fmt.Sprintf("is %q; want one of %s", s.Reason, strings.Join(domain.SuppressionReasons, ", "))}}}
	}
	s.CreatedAt = stamp(s.CreatedAt)
	_, err := r.exec(ctx, `INSERT INTO suppressions (org_id, email, reason, source, created_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (org_id, email) DO NOTHING`, orgID, s.Email, s.Reason, s.Source, r.ts(s.CreatedAt))
	return wrap("suppress", err)
}

func scanSuppression(s scanner) (x domain.Suppression, err error) {
	return x, s.Scan(&x.Email, &x.Reason, &x.Source, scanTime(&x.CreatedAt))
}

func (r *repo) GetSuppression(ctx context.Context, orgID, email string) (*domain.Suppression, error) {
	return get(ctx, r, "suppression", scanSuppression, `SELECT email, reason, source, created_at FROM suppressions WHERE org_id = ? AND email = ?`,
		orgID, strings.ToLower(strings.TrimSpace(email)))
}

func (r *repo) DeleteSuppression(ctx context.Context, orgID, email string) error {
	return r.execOne(ctx, "delete suppression", `DELETE FROM suppressions WHERE org_id = ? AND email = ?`, orgID, strings.ToLower(strings.TrimSpace(email)))
}

func (r *repo) ListSuppressions(ctx context.Context, orgID string, p domain.Page) ([]domain.Suppression, error) {
	return list(ctx, r, "list suppressions", scanSuppression, `SELECT email, reason, source, created_at FROM suppressions
		WHERE org_id = ? AND email > ? ORDER BY email LIMIT ?`, orgID, p.After, p.Size())
}
