package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"slices"
	"strings"
	"time"
	"unicode"

	"switchboard/domain"
)

// Tickets, their messages, SLA policies and rotations (domain.TicketRepo).

const ticketCols = `org_id, id, customer_id, subject, description, status, priority, category, assignee_id, sla_policy,
	first_response_due, resolution_due, first_response_at, resolved_at, closed_at, satisfaction, run_id, version, created_at, updated_at`

func scanTicket(s scanner) (t domain.Ticket, err error) {
	var assignee sql.NullString
	var sat json.RawMessage
	err = s.Scan(&t.OrgID, &t.ID, &t.CustomerID, &t.Subject, &t.Description, &t.Status, &t.Priority, &t.Category, &assignee, &t.SLAPolicy,
		scanNullTime(&t.FirstResponseDue), scanNullTime(&t.ResolutionDue), scanNullTime(&t.FirstResponseAt), scanNullTime(&t.ResolvedAt),
		scanNullTime(&t.ClosedAt), jsonDest{&sat}, &t.RunID, &t.Version, scanTime(&t.CreatedAt), scanTime(&t.UpdatedAt))
	if err != nil {
		return t, err
	}
	t.AssigneeID = assignee.String
	if len(sat) > 0 {
		t.Satisfaction = new(domain.Satisfaction)
		if err := json.Unmarshal(sat, t.Satisfaction); err != nil {
			return t, err
		}
	}
	t.SetBreaches(time.Now())
	return t, nil
}

func checkTicket(t *domain.Ticket) error {
	if err := need("ticket", "orgId", t.OrgID); err != nil {
		return err
	}
	t.Normalize()
	return t.Validate()
}

// ticketArgs are the columns after org_id and id, to updated_at excluded of version and created_at.
func (r *repo) ticketArgs(t *domain.Ticket) []any {
	var assignee, sat any
	if t.AssigneeID != "" {
		assignee = t.AssigneeID
	}
	if t.Satisfaction != nil {
		b, _ := json.Marshal(t.Satisfaction)
		sat = string(b)
	}
	return []any{t.CustomerID, t.Subject, t.Description, t.Status, t.Priority, t.Category, assignee, t.SLAPolicy,
		r.tsp(stampp(t.FirstResponseDue)), r.tsp(stampp(t.ResolutionDue)), r.tsp(stampp(t.FirstResponseAt)), r.tsp(stampp(t.ResolvedAt)),
		r.tsp(stampp(t.ClosedAt)), sat, t.RunID}
}

func (r *repo) CreateTicket(ctx context.Context, t *domain.Ticket) error {
	if err := checkTicket(t); err != nil {
		return err
	}
	t.ID, t.Version = newID(t.ID), 1
	t.CreatedAt = stamp(t.CreatedAt)
	t.UpdatedAt = t.CreatedAt
	args := append([]any{t.OrgID, t.ID}, r.ticketArgs(t)...)
	_, err := r.exec(ctx, `INSERT INTO tickets (`+ticketCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		append(args, t.Version, r.ts(t.CreatedAt), r.ts(t.UpdatedAt))...)
	if isForeignKey(err) {
		return wrap("create ticket: its customer or assignee", domain.ErrNotFound)
	}
	t.SetBreaches(time.Now())
	return wrap("create ticket", err)
}

func (r *repo) GetTicket(ctx context.Context, orgID, id string) (*domain.Ticket, error) {
	return get(ctx, r, "ticket "+id, scanTicket, `SELECT `+ticketCols+` FROM tickets WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
}

func (r *repo) UpdateTicket(ctx context.Context, t *domain.Ticket) error {
	if err := checkTicket(t); err != nil {
		return err
	}
	what := "update ticket " + t.ID
	t.UpdatedAt = stamp(time.Time{})
	args := append(r.ticketArgs(t), r.ts(t.UpdatedAt), t.OrgID, t.ID, t.Version)
	n, err := r.exec(ctx, `UPDATE tickets SET customer_id = ?, subject = ?, description = ?, status = ?, priority = ?, category = ?,
		assignee_id = ?, sla_policy = ?, first_response_due = ?, resolution_due = ?, first_response_at = ?, resolved_at = ?, closed_at = ?,
		satisfaction = ?, run_id = ?, updated_at = ?, version = version + 1 WHERE org_id = ? AND id = ? AND version = ?`, args...)
	switch {
	case isForeignKey(err):
		return wrap(what+": its customer or assignee", domain.ErrNotFound)
	case err != nil:
		return wrap(what, err)
	case n == 0:
		return r.versionConflict(ctx, what, "tickets", t.OrgID, t.ID, t.Version)
	}
	t.Version++
	t.SetBreaches(time.Now())
	return nil
}

var ticketPages = &keyset[domain.Ticket]{
	record: "ticket query",
	order:  []string{"created", "updated"},
	from:   `SELECT ` + ticketCols + ` FROM tickets`,
	scan:   scanTicket,
	sorts: map[string]sortKey[domain.Ticket]{"created": {},
		"updated": {col: "updated_at", kind: sortTime, value: func(t *domain.Ticket) any { return t.UpdatedAt }}},
}

// ListTickets lists tickets in q's order: by default newest first.
func (r *repo) ListTickets(ctx context.Context, orgID string, q domain.TicketQuery) ([]domain.Ticket, string, error) {
	where, args := []string{"org_id = ?"}, []any{orgID}
	for _, f := range []struct{ col, v string }{{"status", q.Status}, {"priority", q.Priority}, {"assignee_id", q.AssigneeID},
		{"customer_id", q.CustomerID}, {"category", strings.ToLower(q.Category)}} {
		if f.v != "" {
			where, args = append(where, f.col+" = ?"), append(args, f.v)
		}
	}
	if q.Open {
		where = append(where, "status NOT IN ('resolved', 'closed')")
	}
	if q.Breached {
		now := r.ts(stamp(time.Now()))
		where = append(where, `((first_response_due IS NOT NULL AND COALESCE(first_response_at, ?) > first_response_due)
			OR (resolution_due IS NOT NULL AND COALESCE(resolved_at, ?) > resolution_due))`)
		args = append(args, now, now)
	}
	if words := searchWords(q.Search, 8); len(words) > 0 {
		terms := make([]string, len(words))
		if r.postgres {
			for i, w := range words {
				terms[i] = w + ":*" // only letters and digits: nothing for to_tsquery to parse
			}
			where, args = append(where, "search @@ to_tsquery('english', ?)"), append(args, strings.Join(terms, " & "))
		} else {
			for i, w := range words {
				terms[i] = `"` + w + `"*` // a quoted FTS5 string: no operator inside
			}
			where, args = append(where, "rowid IN (SELECT rowid FROM tickets_fts WHERE tickets_fts MATCH ?)"), append(args, strings.Join(terms, " "))
		}
	} else if strings.TrimSpace(q.Search) != "" {
		return []domain.Ticket{}, "", nil // only punctuation: nothing matches
	}
	sort, desc := q.Sort, q.Desc
	if sort == "" {
		sort, desc = "created", true
	}
	return ticketPages.page(ctx, r, where, args, sort, desc, q.After, q.Limit, func(t *domain.Ticket) string { return t.ID })
}

// searchWords are the lower-cased words of a search, at most max.
func searchWords(s string, max int) []string {
	words := strings.FieldsFunc(strings.ToLower(s), func(r rune) bool { return !unicode.IsLetter(r) && !unicode.IsNumber(r) })
	if len(words) > max {
		words = words[:max]
	}
	return slices.Compact(words)
}

func (r *repo) AddTicketMessage(ctx context.Context, orgID string, m *domain.TicketMessage) error {
	if err := need("message", "orgId", orgID, "ticketId", m.TicketID); err != nil {
		return err
	}
	if err := m.Validate(); err != nil {
		return err
	}
	m.ID = newID(m.ID)
	m.CreatedAt = stamp(m.CreatedAt)
	_, err := r.exec(ctx, `INSERT INTO ticket_messages (org_id, id, ticket_id, direction, author, body, created_at) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		orgID, m.ID, m.TicketID, m.Direction, m.Author, m.Body, r.ts(m.CreatedAt))
	return wrap("add ticket message", err)
}

func (r *repo) ListTicketMessages(ctx context.Context, orgID, ticketID string, p domain.Page) ([]domain.TicketMessage, error) {
	return list(ctx, r, "list ticket messages", func(s scanner) (m domain.TicketMessage, err error) {
		return m, s.Scan(&m.ID, &m.TicketID, &m.Direction, &m.Author, &m.Body, scanTime(&m.CreatedAt))
	}, `SELECT id, ticket_id, direction, author, body, created_at FROM ticket_messages
		WHERE org_id = ? AND ticket_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, ticketID, p.After, p.Size())
}

func (r *repo) OpenTickets(ctx context.Context, orgID string, users []string) (map[string]int, error) {
	out := make(map[string]int, len(users))
	if len(users) == 0 {
		return out, nil
	}
	for _, u := range users {
		out[u] = 0
	}
	args := []any{orgID}
	for _, u := range users {
		args = append(args, u)
	}
	type load struct {
		user string
		n    int
	}
	loads, err := list(ctx, r, "open tickets", func(s scanner) (l load, err error) { return l, s.Scan(&l.user, &l.n) },
		`SELECT assignee_id, COUNT(*) FROM tickets WHERE org_id = ? AND assignee_id IN (`+placeholders(len(users))+`)
		AND status NOT IN ('resolved', 'closed') GROUP BY assignee_id`, args...)
	for _, l := range loads {
		out[l.user] = l.n
	}
	return out, err
}

func (r *repo) NextInRotation(ctx context.Context, orgID, pool string) (int64, error) {
	var seq int64
	err := r.queryRow(ctx, `INSERT INTO assignment_rotations (org_id, pool, seq) VALUES (?, ?, 1)
		ON CONFLICT (org_id, pool) DO UPDATE SET seq = assignment_rotations.seq + 1 RETURNING seq`, orgID, pool).Scan(&seq)
	return seq, wrap("next in rotation "+pool, translate(err))
}

type slaData struct {
	Calendar string                      `json:"calendar"`
	Targets  map[string]domain.SLATarget `json:"targets"`
}

var slaPolicies = namedDocs[domain.SLAPolicy]{table: "sla_policies", what: "SLA policy",
	data: func(p *domain.SLAPolicy) any { return slaData{Calendar: p.Calendar, Targets: p.Targets} },
	fill: func(p *domain.SLAPolicy, orgID, name string, doc json.RawMessage, at time.Time) error {
		var d slaData
		err := json.Unmarshal(doc, &d)
		*p = domain.SLAPolicy{OrgID: orgID, Name: name, Calendar: d.Calendar, Targets: d.Targets, UpdatedAt: at}
		return err
	}}

func (r *repo) PutSLAPolicy(ctx context.Context, p *domain.SLAPolicy) error {
	if err := need("SLA policy", "orgId", p.OrgID); err != nil {
		return err
	}
	if err := p.Validate(); err != nil {
		return err
	}
	at, err := slaPolicies.put(ctx, r, p.OrgID, p.Name, p)
	p.UpdatedAt = at
	return err
}

func (r *repo) GetSLAPolicy(ctx context.Context, orgID, name string) (*domain.SLAPolicy, error) {
	return slaPolicies.get(ctx, r, orgID, name)
}

func (r *repo) ListSLAPolicies(ctx context.Context, orgID string) ([]domain.SLAPolicy, error) {
	return slaPolicies.list(ctx, r, orgID)
}

func (r *repo) DeleteSLAPolicy(ctx context.Context, orgID, name string) error {
	return slaPolicies.delete(ctx, r, orgID, name)
}
