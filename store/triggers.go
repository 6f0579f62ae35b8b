package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"switchboard/domain"
)

// Trigger routes, webhook deliveries and events (domain.Repo, continued).

const routeCols = `org_id, kind, key, definition_id, definition, revision, idx`

func scanRoute(s scanner) (rt domain.TriggerRoute, err error) {
	return rt, s.Scan(&rt.OrgID, &rt.Kind, &rt.Key, &rt.DefinitionID, &rt.Definition, &rt.Revision, &rt.Index)
}

// SetTriggerRoutes replaces the routes of a definition, in r's transaction
// or a new one. It fills in each route's OrgID, DefinitionID and
// Definition (the definition's name); a route that names another
// organisation, definition or name is invalid, as is an unknown kind, an
// empty key, a revision below 1 or a negative index. ErrNotFound: no such
// definition or revision. ErrConflict: a webhook path is routed to another
// definition of the organisation (or twice in routes).
func (r *repo) SetTriggerRoutes(ctx context.Context, orgID, definitionID string, routes []domain.TriggerRoute) error {
	if err := need("trigger routes", "orgId", orgID, "definitionId", definitionID); err != nil {
		return err
	}
	for i := range routes {
		rt := &routes[i]
		switch {
		case rt.Kind != domain.TriggerWebhook && rt.Kind != domain.TriggerEvent && rt.Kind != domain.TriggerSchedule:
			return fmt.Errorf("%w: trigger route %d: unknown kind %q", domain.ErrInvalid, i, rt.Kind)
		case rt.Key == "":
			return fmt.Errorf("%w: trigger route %d: key is required", domain.ErrInvalid, i)
		case rt.Revision < 1 || rt.Index < 0:
			return fmt.Errorf("%w: trigger route %d: revision %d, index %d", domain.ErrInvalid, i, rt.Revision, rt.Index)
		case rt.OrgID != "" && rt.OrgID != orgID, rt.DefinitionID != "" && rt.DefinitionID != definitionID:
			return fmt.Errorf("%w: trigger route %d belongs to %s/%s, not %s/%s", domain.ErrInvalid, i,
				rt.OrgID, rt.DefinitionID, orgID, definitionID)
		}
	}
	what := "set trigger routes of definition " + definitionID
	return r.atomic(ctx, func(r *repo) error {
		var name string
		err := r.queryRow(ctx, `SELECT name FROM definitions WHERE org_id = ? AND id = ?`, orgID, definitionID).Scan(&name)
		if err != nil {
			return wrap(what, translate(err))
		}
		if _, err := r.exec(ctx, `DELETE FROM trigger_routes WHERE org_id = ? AND definition_id = ?`, orgID, definitionID); err != nil {
			return wrap(what, err)
		}
		for i := range routes {
			rt := &routes[i]
			if rt.Definition != "" && rt.Definition != name {
				return fmt.Errorf("%w: %s: route %d names definition %q, not %q", domain.ErrInvalid, what, i, rt.Definition, name)
			}
			rt.OrgID, rt.DefinitionID, rt.Definition = orgID, definitionID, name
			_, err := r.exec(ctx, `INSERT INTO trigger_routes (`+routeCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
				rt.OrgID, rt.Kind, rt.Key, rt.DefinitionID, rt.Definition, rt.Revision, rt.Index)
			if err != nil {
				return wrap(fmt.Sprintf("%s: %s route %q", what, rt.Kind, rt.Key), err)
			}
		}
		return nil
	})
}

func (r *repo) WebhookRoute(ctx context.Context, orgID, path string) (*domain.TriggerRoute, error) {
	return get(ctx, r, "webhook route "+path, scanRoute,
		`SELECT `+routeCols+` FROM trigger_routes WHERE org_id = ? AND kind = ? AND key = ?`, orgID, domain.TriggerWebhook, path)
}

// EventRoutes lists the routes of an event type by definition name, then
// position in the revision's triggers.
func (r *repo) EventRoutes(ctx context.Context, orgID, eventType string) ([]domain.TriggerRoute, error) {
	return list(ctx, r, "event routes "+eventType, scanRoute,
		`SELECT `+routeCols+` FROM trigger_routes WHERE org_id = ? AND kind = ? AND key = ? ORDER BY definition, idx`,
		orgID, domain.TriggerEvent, eventType)
}

// ListTriggerRoutes lists all of an organisation's routes by kind, key,
// definition name and position.
func (r *repo) ListTriggerRoutes(ctx context.Context, orgID string) ([]domain.TriggerRoute, error) {
	return list(ctx, r, "list trigger routes", scanRoute,
		`SELECT `+routeCols+` FROM trigger_routes WHERE org_id = ? ORDER BY kind, key, definition, idx`, orgID)
}

const deliveryCols = `org_id, id, path, definition, status, http_status, dedupe_key, workflow_id, run_id, error, received_at, duration_ms`

func (r *repo) AddDelivery(ctx context.Context, d *domain.WebhookDelivery) error {
	if err := need("webhook delivery", "orgId", d.OrgID, "status", d.Status); err != nil {
		return err
	}
	d.ID, d.ReceivedAt = newID(d.ID), stamp(d.ReceivedAt)
	_, err := r.exec(ctx, `INSERT INTO webhook_deliveries (`+deliveryCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		d.OrgID, d.ID, d.Path, d.Definition, d.Status, d.HTTPStatus, d.DedupeKey, d.WorkflowID, d.RunID, d.Error,
		r.ts(d.ReceivedAt), d.DurationMS)
	return wrap("add webhook delivery", err)
}

func (r *repo) ListDeliveries(ctx context.Context, orgID string, p domain.Page) ([]domain.WebhookDelivery, error) {
	q, args := newestFirst(`SELECT `+deliveryCols+` FROM webhook_deliveries WHERE org_id = ?`, []any{orgID}, p)
	return list(ctx, r, "list webhook deliveries", func(s scanner) (d domain.WebhookDelivery, err error) {
		return d, s.Scan(&d.OrgID, &d.ID, &d.Path, &d.Definition, &d.Status, &d.HTTPStatus, &d.DedupeKey,
			&d.WorkflowID, &d.RunID, &d.Error, scanTime(&d.ReceivedAt), &d.DurationMS)
	}, q, args...)
}

const eventCols = `org_id, id, type, data, source, created_at, delivered_at, attempts, last_error, runs`

func scanEvent(s scanner) (e domain.Event, err error) {
	var runs json.RawMessage
	err = s.Scan(&e.OrgID, &e.ID, &e.Type, jsonDest{&e.Data}, &e.Source, scanTime(&e.CreatedAt),
		scanNullTime(&e.DeliveredAt), &e.Attempts, &e.LastError, jsonDest{&runs})
	if err == nil && len(runs) > 0 {
		if err = json.Unmarshal(runs, &e.Runs); err != nil {
			err = fmt.Errorf("store: event %s: runs: %w", e.ID, err)
		}
	}
	return e, err
}

// runsArg is the runs column's argument: NULL when there are none, so
// they come back nil.
func runsArg(runs []string) (any, error) {
	if len(runs) == 0 {
		return nil, nil
	}
	b, err := json.Marshal(runs)
	return string(b), err
}

// PublishEvent adds an event to the outbox, claimable at once. Data is
// required and must be valid JSON; the delivery fields (DeliveredAt,
// Attempts, LastError, Runs) are the store's to set and start empty.
func (r *repo) PublishEvent(ctx context.Context, e *domain.Event) error {
	if err := need("event", "orgId", e.OrgID, "type", e.Type); err != nil {
		return err
	}
	if len(e.Data) == 0 || !json.Valid(e.Data) {
		return fmt.Errorf("%w: event %s: data is not valid JSON", domain.ErrInvalid, e.Type)
	}
	e.ID, e.CreatedAt = newID(e.ID), stamp(e.CreatedAt)
	e.DeliveredAt, e.Attempts, e.LastError, e.Runs = nil, 0, "", nil
	// Claimable from now, whatever CreatedAt the caller chose.
	_, err := r.exec(ctx, `INSERT INTO events (`+eventCols+`, available_at) VALUES (?, ?, ?, ?, ?, ?, NULL, 0, '', NULL, ?)`,
		e.OrgID, e.ID, e.Type, string(e.Data), e.Source, r.ts(e.CreatedAt), r.ts(stamp(time.Time{})))
	return wrap("publish event "+e.Type, err)
}

// ClaimEvents leases up to limit undelivered events whose availability
// time (creation, end of the previous lease, or retry time) has passed,
// lowest id (oldest) first, until now + lease, and counts an attempt on
// each. It returns them oldest first, as they are after the claim.
//
// This is the dispatcher's one query across organisations: it must see
// every organisation's outbox; what it returns carries each event's OrgID,
// and every later call (MarkEventDelivered, MarkEventFailed, the routes)
// acts in that organisation.
//
// The claim is one UPDATE. On Postgres the events are picked in a
// subquery with FOR UPDATE SKIP LOCKED, so concurrent claimers skip rows
// another is claiming rather than wait for them or claim them twice (and a
// row updated in between is re-checked against the condition). On SQLite
// the statement is a write transaction: claimers run one after another.
func (r *repo) ClaimEvents(ctx context.Context, limit int, lease time.Duration) ([]domain.Event, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("%w: claim events: limit %d and lease %v must be positive", domain.ErrInvalid, limit, lease)
	}
	now := stamp(time.Time{})
	until := stamp(now.Add(lease))
	returning := `RETURNING ` + eventCols
	q := `UPDATE events SET available_at = ?, attempts = attempts + 1
		WHERE (org_id, id) IN (
			SELECT org_id, id FROM events WHERE delivered_at IS NULL AND available_at <= ? ORDER BY id LIMIT ?)
		` + returning
	if r.postgres {
		// MATERIALIZED: the subquery runs (and locks) exactly once, whatever
		// the plan.
		q = `WITH claimed AS MATERIALIZED (
				SELECT org_id, id FROM events WHERE delivered_at IS NULL AND available_at <= ?
				ORDER BY id LIMIT ? FOR UPDATE SKIP LOCKED)
			UPDATE events e SET available_at = ?, attempts = e.attempts + 1
			FROM claimed c WHERE e.org_id = c.org_id AND e.id = c.id
			RETURNING e.` + strings.ReplaceAll(eventCols, ", ", ", e.")
	}
	args := []any{r.ts(until), r.ts(now), limit}
	if r.postgres {
		args = []any{r.ts(now), limit, r.ts(until)}
	}
	events, err := list(ctx, r, "claim events", scanEvent, q, args...)
	if err != nil {
		return nil, err
	}
	// RETURNING has no order.
	slices.SortFunc(events, func(a, b domain.Event) int {
		return cmp.Or(strings.Compare(a.ID, b.ID), strings.Compare(a.OrgID, b.OrgID))
	})
	return events, nil
}

// MarkEventDelivered records that an event was delivered, and the runs it
// started or signalled. Marking it again replaces the runs and keeps the
// first delivery time.
func (r *repo) MarkEventDelivered(ctx context.Context, orgID, id string, runs []string) error {
	arg, err := runsArg(runs)
	if err != nil {
		return wrap("mark event delivered "+id, err)
	}
	return r.execOne(ctx, "mark event delivered "+id,
		`UPDATE events SET delivered_at = COALESCE(delivered_at, ?), runs = ? WHERE org_id = ? AND id = ?`,
		r.ts(stamp(time.Time{})), arg, orgID, id)
}

// MarkEventFailed records a failed attempt: the event may be claimed again
// from retryAt (now when zero). A delivered event stays delivered.
func (r *repo) MarkEventFailed(ctx context.Context, orgID, id string, attempt int, reason string, retryAt time.Time) error {
	n, err := r.exec(ctx, `UPDATE events SET last_error = ?, available_at = ?
		WHERE org_id = ? AND id = ? AND attempts = ? AND delivered_at IS NULL`,
		reason, r.ts(stamp(retryAt)), orgID, id, attempt)
	if err != nil || n > 0 {
		return wrap("mark event failed "+id, err)
	}
	if _, err := r.GetEvent(ctx, orgID, id); err != nil {
		return err
	}
	return wrap("mark event failed "+id, fmt.Errorf("%w: the event was claimed again or delivered since attempt %d", domain.ErrConflict, attempt))
}

func (r *repo) GetEvent(ctx context.Context, orgID, id string) (*domain.Event, error) {
	return get(ctx, r, "event "+id, scanEvent, `SELECT `+eventCols+` FROM events WHERE org_id = ? AND id = ?`, orgID, id)
}

func (r *repo) ListEvents(ctx context.Context, orgID string, p domain.Page) ([]domain.Event, error) {
	q, args := newestFirst(`SELECT `+eventCols+` FROM events WHERE org_id = ?`, []any{orgID}, p)
	return list(ctx, r, "list events", scanEvent, q, args...)
}
