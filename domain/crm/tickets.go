package crm

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"switchboard/domain"
)

// TicketEvent is the data of ticket.* events.
type TicketEvent struct {
	Ticket *domain.Ticket `json:"ticket"`
	// Message is the message added (ticket.message_added).
	Message *domain.TicketMessage `json:"message,omitempty"`
	// Changes names the fields a change changed (ticket.updated).
	Changes []string `json:"changes,omitempty"`
	// From, To and Reason describe a status change (ticket.status_changed).
	From   string `json:"from,omitempty"`
	To     string `json:"to,omitempty"`
	Reason string `json:"reason,omitempty"`
	Actor  Actor  `json:"actor"`
}

// Assignment says who gets a ticket: a user, or the next user with Role
// by Strategy — "round_robin" (in turn, by user id) or "least_loaded" (the
// fewest open tickets; ties to the lowest id).
type Assignment struct {
	UserID   string      `json:"userId,omitempty"`
	Strategy string      `json:"strategy,omitempty"`
	Role     domain.Role `json:"role,omitempty"`
}

// AssignStrategies are the ways of picking an assignee among a role.
var AssignStrategies = []string{"round_robin", "least_loaded"}

func ticketField(field, format string, args ...any) error {
	return &domain.ValidationError{Record: "ticket", Fields: []domain.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// SLAPolicy is the organisation's policy name, or the built-in default.
func SLAPolicy(ctx context.Context, r domain.Repo, orgID, name string) (*domain.SLAPolicy, error) {
	p, err := r.GetSLAPolicy(ctx, orgID, name)
	return orBuiltin(name, p, err, func() *domain.SLAPolicy { return domain.DefaultSLAPolicy(orgID) })
}

// SLAPolicies lists the organisation's policies, "default" always among them.
func (s *Service) SLAPolicies(ctx context.Context, orgID string) ([]domain.SLAPolicy, error) {
	ps, err := s.Store.ListSLAPolicies(ctx, orgID)
	return withBuiltin(ps, err, func(p domain.SLAPolicy) string { return p.Name }, func() *domain.SLAPolicy { return domain.DefaultSLAPolicy(orgID) })
}

// PutSLAPolicy stores a policy; its calendar must exist. Tickets already
// open keep their targets.
func (s *Service) PutSLAPolicy(ctx context.Context, actor Actor, p *domain.SLAPolicy) (*domain.SLAPolicy, error) {
	return change(ctx, s, p.OrgID, actor, func(tx domain.Repo) (*domain.SLAPolicy, []*domain.Event, *domain.AuditEntry, error) {
		if err := p.Validate(); err != nil {
			return nil, nil, nil, err
		}
		if _, err := calendarIn(ctx, tx, p.OrgID, p.Calendar); errors.Is(err, domain.ErrNotFound) {
			return nil, nil, nil, &domain.ValidationError{Record: "SLA policy", Fields: []domain.FieldError{{Field: "calendar", Message: "is not a calendar of this organisation"}}}
		} else if err != nil {
			return nil, nil, nil, err
		}
		if err := tx.PutSLAPolicy(ctx, p); err != nil {
			return nil, nil, nil, err
		}
		return p, nil, &domain.AuditEntry{Action: "sla_policy.put", Target: "sla-policy/" + p.Name}, nil
	})
}

// DeleteSLAPolicy removes a policy ("default" falls back to the built-in one).
func (s *Service) DeleteSLAPolicy(ctx context.Context, actor Actor, orgID, name string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (struct{}, []*domain.Event, *domain.AuditEntry, error) {
		return struct{}{}, nil, &domain.AuditEntry{Action: "sla_policy.delete", Target: "sla-policy/" + name}, tx.DeleteSLAPolicy(ctx, orgID, name)
	})
	return err
}

// setDue computes the ticket's SLA deadlines from its creation.
func setDue(ctx context.Context, tx domain.Repo, t *domain.Ticket) error {
	p, err := SLAPolicy(ctx, tx, t.OrgID, t.SLAPolicy)
	if errors.Is(err, domain.ErrNotFound) {
		return ticketField("slaPolicy", "is %q; the organisation has no such SLA policy", t.SLAPolicy)
	}
	if err != nil {
		return err
	}
	cal, err := calendarIn(ctx, tx, t.OrgID, p.Calendar)
	if err != nil {
		return fmt.Errorf("SLA policy %s: calendar %s: %w", p.Name, p.Calendar, err)
	}
	start := t.CreatedAt
	if start.IsZero() {
		start = time.Now().UTC()
	}
	t.FirstResponseDue, t.ResolutionDue = p.Due(cal, t.Priority, start)
	return nil
}

// pickAssignee resolves an assignment to a user of the organisation.
func pickAssignee(ctx context.Context, tx domain.Repo, orgID string, a *Assignment) (string, error) {
	if a.UserID != "" {
		return a.UserID, checkUser(ctx, tx, orgID, "ticket", "assigneeId", a.UserID)
	}
	if !slices.Contains(AssignStrategies, a.Strategy) {
		return "", ticketField("assign.strategy", "is %q; want a userId, or one of %s with a role", a.Strategy, strings.Join(AssignStrategies, ", "))
	}
	if !a.Role.Valid() {
		return "", ticketField("assign.role", "is %q; want a role", a.Role)
	}
	var pool []string
	for pg := (domain.Page{Limit: 500}); ; {
		us, err := tx.ListUsers(ctx, orgID, pg)
		if err != nil {
			return "", err
		}
		for _, u := range us {
			if u.Role == a.Role {
				pool = append(pool, u.ID)
			}
		}
		if len(us) < pg.Size() {
			break
		}
		pg.After = us[len(us)-1].ID
	}
	if len(pool) == 0 {
		return "", ticketField("assign.role", "no user of this organisation has the role %s", a.Role)
	}
	// the rotation row serialises assignments from this pool (a row lock on
	// Postgres, the write transaction on SQLite), so concurrent picks see
	// each other's tickets
	seq, err := tx.NextInRotation(ctx, orgID, "role:"+string(a.Role))
	if err != nil {
		return "", err
	}
	if a.Strategy == "round_robin" {
		return pool[int((seq-1)%int64(len(pool)))], nil
	}
	loads, err := tx.OpenTickets(ctx, orgID, pool)
	if err != nil {
		return "", err
	}
	best := pool[0]
	for _, u := range pool[1:] {
		if loads[u] < loads[best] {
			best = u
		}
	}
	return best, nil
}

// CreateTicket opens a ticket for a customer, with SLA deadlines from its
// policy (default "default") and priority, assigned when assign is set.
// Emits ticket.created.
func (s *Service) CreateTicket(ctx context.Context, actor Actor, t *domain.Ticket, assign *Assignment) (*domain.Ticket, error) {
	return change(ctx, s, t.OrgID, actor, func(tx domain.Repo) (*domain.Ticket, []*domain.Event, *domain.AuditEntry, error) {
		t.Normalize()
		t.Status, t.RunID, t.FirstResponseAt, t.ResolvedAt, t.ClosedAt, t.Satisfaction = "open", runOf(actor), nil, nil, nil, nil
		if err := t.Validate(); err != nil {
			return nil, nil, nil, err
		}
		if _, err := tx.GetCustomer(ctx, t.OrgID, t.CustomerID); errors.Is(err, domain.ErrNotFound) {
			return nil, nil, nil, ticketField("customerId", "is not a customer of this organisation")
		} else if err != nil {
			return nil, nil, nil, err
		}
		if assign != nil {
			id, err := pickAssignee(ctx, tx, t.OrgID, assign)
			if err != nil {
				return nil, nil, nil, err
			}
			t.AssigneeID = id
		} else if err := checkUser(ctx, tx, t.OrgID, "ticket", "assigneeId", t.AssigneeID); err != nil {
			return nil, nil, nil, err
		}
		t.CreatedAt = time.Now().UTC().Truncate(time.Microsecond)
		if err := setDue(ctx, tx, t); err != nil {
			return nil, nil, nil, err
		}
		if err := tx.CreateTicket(ctx, t); err != nil {
			return nil, nil, nil, err
		}
		return t, []*domain.Event{event("ticket.created", TicketEvent{Ticket: t, Actor: actor})},
			&domain.AuditEntry{Action: "ticket.create", Target: "ticket/" + t.ID}, nil
	})
}

// UpdateTicket changes a ticket's subject, description, priority,
// category or SLA policy (the deadlines follow, from its creation); the
// status, assignee, thread and rating change through their own methods.
// Emits ticket.updated.
func (s *Service) UpdateTicket(ctx context.Context, actor Actor, orgID, id string, version int, edit func(*domain.Ticket) error) (*domain.Ticket, error) {
	return updateRecord(ctx, s, actor, orgID, id, version, edit, editable[domain.Ticket]{
		kind:    "ticket",
		get:     func(tx domain.Repo) (*domain.Ticket, error) { return tx.GetTicket(ctx, orgID, id) },
		save:    func(tx domain.Repo, t *domain.Ticket) error { return tx.UpdateTicket(ctx, t) },
		version: func(t *domain.Ticket) int { return t.Version },
		allow: func(t *domain.Ticket) error {
			if t.Status == "closed" {
				return fmt.Errorf("%w: the ticket is closed; reopen it (with a reason) to change it", domain.ErrInvalidTransition)
			}
			return nil
		},
		keep: func(before, t *domain.Ticket) {
			keepTicket(before, t)
			t.Normalize()
		},
		check: func(tx domain.Repo, t *domain.Ticket, changes []string) error {
			if slices.Contains(changes, "priority") || slices.Contains(changes, "slaPolicy") {
				return setDue(ctx, tx, t)
			}
			return nil
		},
		events: func(_, t *domain.Ticket, changes []string) []*domain.Event {
			return []*domain.Event{event("ticket.updated", TicketEvent{Ticket: t, Changes: changes, Actor: actor})}
		},
	})
}

// keepTicket restores on t what a patch may not change.
func keepTicket(before, t *domain.Ticket) {
	t.ID, t.OrgID, t.Version, t.CreatedAt, t.CustomerID, t.RunID = before.ID, before.OrgID, before.Version, before.CreatedAt, before.CustomerID, before.RunID
	t.Status, t.AssigneeID, t.Satisfaction = before.Status, before.AssigneeID, before.Satisfaction
	t.FirstResponseDue, t.ResolutionDue, t.FirstResponseAt, t.ResolvedAt, t.ClosedAt = before.FirstResponseDue, before.ResolutionDue, before.FirstResponseAt, before.ResolvedAt, before.ClosedAt
	t.FirstResponseBreached, t.ResolutionBreached = before.FirstResponseBreached, before.ResolutionBreached
}

// moveStatus sets t's status and the times that go with it.
func moveStatus(t *domain.Ticket, to string) {
	now := time.Now().UTC()
	switch to {
	case "resolved":
		t.ResolvedAt, t.ClosedAt = &now, nil
	case "closed":
		if t.ResolvedAt == nil {
			t.ResolvedAt = &now
		}
		t.ClosedAt = &now
	default:
		t.ResolvedAt, t.ClosedAt = nil, nil
	}
	t.Status = to
}

// MoveTicket changes a ticket's status: a closed ticket reopens only with
// a reason (InvalidTransition). Resolving stamps resolvedAt, closing
// closedAt; reopening clears both. Emits ticket.status_changed and
// ticket.updated.
func (s *Service) MoveTicket(ctx context.Context, actor Actor, orgID, id, to, reason string, version int) (*domain.Ticket, error) {
	reason = strings.TrimSpace(reason)
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Ticket, []*domain.Event, *domain.AuditEntry, error) {
		t, err := tx.GetTicket(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := checkVersion("ticket", id, t.Version, version); err != nil {
			return nil, nil, nil, err
		}
		from := t.Status
		if err := domain.CanMoveTicket(from, to, reason); err != nil {
			return nil, nil, nil, err
		}
		moveStatus(t, to)
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return nil, nil, nil, err
		}
		return t, []*domain.Event{
				event("ticket.status_changed", TicketEvent{Ticket: t, From: from, To: to, Reason: reason, Actor: actor}),
				event("ticket.updated", TicketEvent{Ticket: t, Changes: []string{"status"}, Actor: actor}),
			},
			&domain.AuditEntry{Action: "ticket.status", Target: "ticket/" + id, Details: details(map[string]any{"from": from, "to": to, "reason": reason})}, nil
	})
}

// AssignTicket gives a ticket to a user, or to the next of a role by a
// strategy. Emits ticket.assigned and ticket.updated.
func (s *Service) AssignTicket(ctx context.Context, actor Actor, orgID, id string, a Assignment) (*domain.Ticket, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Ticket, []*domain.Event, *domain.AuditEntry, error) {
		t, err := tx.GetTicket(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if t.Status == "closed" {
			return nil, nil, nil, fmt.Errorf("%w: the ticket is closed", domain.ErrInvalidTransition)
		}
		user, err := pickAssignee(ctx, tx, orgID, &a)
		if err != nil {
			return nil, nil, nil, err
		}
		from := t.AssigneeID
		t.AssigneeID = user
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return nil, nil, nil, err
		}
		return t, []*domain.Event{
				event("ticket.assigned", TicketEvent{Ticket: t, From: from, To: user, Actor: actor}),
				event("ticket.updated", TicketEvent{Ticket: t, Changes: []string{"assigneeId"}, Actor: actor}),
			},
			&domain.AuditEntry{Action: "ticket.assign", Target: "ticket/" + id, Details: details(map[string]any{"from": from, "to": user, "strategy": a.Strategy})}, nil
	})
}

// AddTicketMessage adds a message to a ticket's thread. The first outbound
// message is the first response (firstResponseAt); an inbound message to a
// ticket waiting for the customer or resolved reopens it (open). A closed
// ticket takes no messages (InvalidTransition: reopen it, or open a new
// one). Emits ticket.message_added (and ticket.status_changed).
func (s *Service) AddTicketMessage(ctx context.Context, actor Actor, orgID, id string, m *domain.TicketMessage) (*domain.TicketMessage, error) {
	m.Body, m.Author = strings.TrimSpace(m.Body), strings.TrimSpace(m.Author)
	if m.Author == "" || m.Direction != "inbound" {
		m.Author = string(actor)
	}
	m.TicketID, m.ID, m.CreatedAt = id, "", time.Time{}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.TicketMessage, []*domain.Event, *domain.AuditEntry, error) {
		t, err := tx.GetTicket(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if t.Status == "closed" {
			return nil, nil, nil, fmt.Errorf("%w: the ticket is closed; reopen it (with a reason) or open a new one", domain.ErrInvalidTransition)
		}
		if err := tx.AddTicketMessage(ctx, orgID, m); err != nil {
			return nil, nil, nil, err
		}
		from := t.Status
		changed := false
		if m.Direction == "outbound" && t.FirstResponseAt == nil {
			at := m.CreatedAt
			t.FirstResponseAt, changed = &at, true
		}
		if m.Direction == "inbound" && (t.Status == "waiting_customer" || t.Status == "resolved") {
			moveStatus(t, "open")
			changed = true
		}
		if changed {
			if err := tx.UpdateTicket(ctx, t); err != nil {
				return nil, nil, nil, err
			}
		}
		events := []*domain.Event{event("ticket.message_added", TicketEvent{Ticket: t, Message: m, Actor: actor})}
		if t.Status != from {
			events = append(events, event("ticket.status_changed", TicketEvent{Ticket: t, From: from, To: t.Status, Reason: "customer replied", Actor: actor}))
		}
		return m, events, &domain.AuditEntry{Action: "ticket.message", Target: "ticket/" + id, Details: details(map[string]any{"direction": m.Direction})}, nil
	})
}

// RateTicket records the customer's satisfaction with a resolved or
// closed ticket (a new rating replaces the old). Emits ticket.updated.
func (s *Service) RateTicket(ctx context.Context, actor Actor, orgID, id string, sat domain.Satisfaction) (*domain.Ticket, error) {
	sat.Comment = strings.TrimSpace(sat.Comment)
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Ticket, []*domain.Event, *domain.AuditEntry, error) {
		t, err := tx.GetTicket(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if t.Open() {
			return nil, nil, nil, fmt.Errorf("%w: the ticket is %s; a rating is for a resolved or closed ticket", domain.ErrInvalidTransition, t.Status)
		}
		t.Satisfaction = &sat
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return nil, nil, nil, err
		}
		return t, []*domain.Event{event("ticket.updated", TicketEvent{Ticket: t, Changes: []string{"satisfaction"}, Actor: actor})},
			&domain.AuditEntry{Action: "ticket.rate", Target: "ticket/" + id, Details: details(map[string]any{"rating": sat.Rating})}, nil
	})
}
