package domain

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Ticket statuses and priorities.
var (
	TicketStatuses   = []string{"open", "in_progress", "waiting_customer", "escalated", "resolved", "closed"}
	TicketPriorities = []string{"low", "medium", "high", "critical"}
	// MessageDirections: from the customer, to the customer, or a note among staff.
	MessageDirections = []string{"inbound", "outbound", "internal"}
)

// Ticket is a support request of a customer. Its SLA targets (first
// response and resolution) are deadlines in working time of the SLA
// policy's calendar, counted from creation; the breach flags are computed
// when the ticket is read.
type Ticket struct {
	ID          string `json:"id"`
	OrgID       string `json:"-"`
	CustomerID  string `json:"customerId"`
	Subject     string `json:"subject"`
	Description string `json:"description,omitempty"`
	Status      string `json:"status"`
	Priority    string `json:"priority"`
	Category    string `json:"category,omitempty"`
	AssigneeID  string `json:"assigneeId,omitempty"`
	// SLAPolicy names the policy the targets come from ("default").
	SLAPolicy        string     `json:"slaPolicy"`
	FirstResponseDue *time.Time `json:"firstResponseDue,omitempty"`
	ResolutionDue    *time.Time `json:"resolutionDue,omitempty"`
	FirstResponseAt  *time.Time `json:"firstResponseAt,omitempty"`
	ResolvedAt       *time.Time `json:"resolvedAt,omitempty"`
	ClosedAt         *time.Time `json:"closedAt,omitempty"`
	// Breaches are computed on read: a target passed without (or before) the response or resolution.
	FirstResponseBreached bool          `json:"firstResponseBreached"`
	ResolutionBreached    bool          `json:"resolutionBreached"`
	Satisfaction          *Satisfaction `json:"satisfaction,omitempty"`
	// RunID is the run that created the ticket (its public id), when a run did.
	RunID     string    `json:"runId,omitempty"`
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// Satisfaction is the customer's rating of a resolved ticket.
type Satisfaction struct {
	Rating  int    `json:"rating"` // 1–5
	Comment string `json:"comment,omitempty"`
}

// Normalize trims text and sets the defaults (open, medium, default policy).
func (t *Ticket) Normalize() {
	for _, p := range []*string{&t.CustomerID, &t.Subject, &t.Description, &t.Category, &t.AssigneeID, &t.SLAPolicy} {
		*p = strings.TrimSpace(*p)
	}
	t.Category = strings.ToLower(t.Category)
	if t.Status == "" {
		t.Status = "open"
	}
	if t.Priority == "" {
		t.Priority = "medium"
	}
	if t.SLAPolicy == "" {
		t.SLAPolicy = "default"
	}
}

// Validate checks every field and reports all the invalid ones at once.
func (t *Ticket) Validate() error {
	v := &fieldChecker{record: "ticket"}
	v.text("customerId", t.CustomerID, 64, true)
	v.text("subject", t.Subject, 300, true)
	if len(t.Description) > 100<<10 {
		v.add("description", "is larger than 100 KiB")
	}
	v.oneOf("status", t.Status, TicketStatuses)
	v.oneOf("priority", t.Priority, TicketPriorities)
	if t.Category != "" && !tagRe.MatchString(t.Category) {
		v.add("category", "is %q; categories are 1–63 letters, digits, spaces and _ . : / -", t.Category)
	}
	v.text("assigneeId", t.AssigneeID, 64, false)
	if !templateNameRe.MatchString(t.SLAPolicy) {
		v.add("slaPolicy", "is %q; names are 1–64 letters, digits, _ . -", t.SLAPolicy)
	}
	if s := t.Satisfaction; s != nil {
		if s.Rating < 1 || s.Rating > 5 {
			v.add("satisfaction.rating", "is %d; want 1 to 5", s.Rating)
		}
		v.text("satisfaction.comment", s.Comment, 2000, false)
	}
	return v.err()
}

// SetBreaches computes the breach flags at now.
func (t *Ticket) SetBreaches(now time.Time) {
	late := func(due, done *time.Time) bool {
		if due == nil {
			return false
		}
		if done != nil {
			return done.After(*due)
		}
		return now.After(*due)
	}
	t.FirstResponseBreached = late(t.FirstResponseDue, t.FirstResponseAt)
	t.ResolutionBreached = late(t.ResolutionDue, t.ResolvedAt)
}

// Open reports whether the ticket still needs work (it counts towards its
// assignee's load).
func (t *Ticket) Open() bool { return t.Status != "resolved" && t.Status != "closed" }

// CanMoveTicket checks a status change: a closed ticket reopens only with
// a reason, and only to open or in_progress.
func CanMoveTicket(from, to, reason string) error {
	switch {
	case !slices.Contains(TicketStatuses, to):
		return &ValidationError{Record: "ticket", Fields: []FieldError{{Field: "status", Message: fmt.Sprintf("is %q; want one of %s", to, strings.Join(TicketStatuses, ", "))}}}
	case from == to:
		return fmt.Errorf("%w: the ticket is already %s", ErrInvalidTransition, to)
	case from == "closed" && to != "open" && to != "in_progress":
		return fmt.Errorf("%w: a closed ticket reopens to open or in_progress", ErrInvalidTransition)
	case from == "closed" && strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: reopening a closed ticket needs a reason", ErrInvalidTransition)
	}
	return nil
}

// TicketMessage is one message of a ticket's thread.
type TicketMessage struct {
	ID        string    `json:"id"`
	TicketID  string    `json:"ticketId"`
	Direction string    `json:"direction"` // inbound, outbound, internal
	Author    string    `json:"author"`    // the actor, or the customer's email for inbound
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"createdAt"`
}

// Validate checks a message.
func (m *TicketMessage) Validate() error {
	v := &fieldChecker{record: "message"}
	v.oneOf("direction", m.Direction, MessageDirections)
	if strings.TrimSpace(m.Body) == "" {
		v.add("body", "is required")
	}
	if len(m.Body) > 100<<10 {
		v.add("body", "is larger than 100 KiB")
	}
	v.text("author", m.Author, 300, false)
	return v.err()
}

// SLAPolicy holds a first-response and a resolution target per priority,
// in working time of Calendar.
type SLAPolicy struct {
	OrgID     string               `json:"-"`
	Name      string               `json:"name"`
	Calendar  string               `json:"calendar"`
	Targets   map[string]SLATarget `json:"targets"` // priority → targets; a priority left out has none
	UpdatedAt time.Time            `json:"updatedAt"`
	Builtin   bool                 `json:"builtin,omitempty"`
}

// SLATarget is working time, as Go durations ("30m", "4h", "16h" = two 8-hour days).
type SLATarget struct {
	FirstResponse string `json:"firstResponse,omitempty"`
	Resolution    string `json:"resolution,omitempty"`
}

// DefaultSLAPolicy is every organisation's "default" until it stores its own.
func DefaultSLAPolicy(orgID string) *SLAPolicy {
	return &SLAPolicy{OrgID: orgID, Name: "default", Calendar: "default", Builtin: true, Targets: map[string]SLATarget{
		"critical": {FirstResponse: "1h", Resolution: "4h"},
		"high":     {FirstResponse: "4h", Resolution: "16h"},
		"medium":   {FirstResponse: "8h", Resolution: "40h"},
		"low":      {FirstResponse: "24h", Resolution: "80h"},
	}}
}

// Validate checks the name, calendar name, priorities and durations.
func (p *SLAPolicy) Validate() error {
	v := &fieldChecker{record: "SLA policy"}
	if !templateNameRe.MatchString(p.Name) {
		v.add("name", "is %q; names are 1–64 letters, digits, _ . -", p.Name)
	}
	if p.Calendar == "" {
		p.Calendar = "default"
	}
	v.text("calendar", p.Calendar, 63, true)
	for prio, tg := range p.Targets {
		if !slices.Contains(TicketPriorities, prio) {
			v.add("targets."+prio, "is not a priority; want %s", strings.Join(TicketPriorities, ", "))
		}
		for field, d := range map[string]string{"firstResponse": tg.FirstResponse, "resolution": tg.Resolution} {
			if d == "" {
				continue
			}
			if x, err := time.ParseDuration(d); err != nil || x <= 0 || x > 10000*time.Hour {
				v.add("targets."+prio+"."+field, "is %q; want a positive duration such as 30m or 4h (working time)", d)
			}
		}
	}
	return v.err()
}

// Due is when the targets for priority end for a ticket created at start
// in calendar c (nil: no target).
func (p *SLAPolicy) Due(c *Calendar, priority string, start time.Time) (firstResponse, resolution *time.Time) {
	tg := p.Targets[priority]
	at := func(s string) *time.Time {
		d, err := time.ParseDuration(s)
		if s == "" || err != nil {
			return nil
		}
		t := c.Add(start, d).UTC()
		return &t
	}
	return at(tg.FirstResponse), at(tg.Resolution)
}

// TicketQuery selects tickets; every filter set must hold. Breached
// selects tickets past a target (first response or resolution) at now.
type TicketQuery struct {
	Status, Priority, AssigneeID, CustomerID, Category string
	// Open selects tickets not resolved or closed.
	Open     bool
	Breached bool
	// Search: every word must start a word of the subject or description (stemmed).
	Search string
	// Sort is "created" (default) or "updated"; Desc reverses it (lists
	// default to newest first).
	Sort  string
	Desc  bool
	After string
	Limit int
}

// TicketRepo keeps tickets, their messages and SLA policies (part of Repo).
type TicketRepo interface {
	// CreateTicket inserts t; ErrNotFound when its customer or assignee is
	// not in the organisation.
	CreateTicket(ctx context.Context, t *Ticket) error
	GetTicket(ctx context.Context, orgID, id string) (*Ticket, error)
	// UpdateTicket saves t when its stored version is t.Version (else ErrConflict).
	UpdateTicket(ctx context.Context, t *Ticket) error
	// ListTickets lists tickets in q's order (default newest first).
	ListTickets(ctx context.Context, orgID string, q TicketQuery) ([]Ticket, string, error)
	AddTicketMessage(ctx context.Context, orgID string, m *TicketMessage) error
	// ListTicketMessages lists a ticket's thread oldest first.
	ListTicketMessages(ctx context.Context, orgID, ticketID string, p Page) ([]TicketMessage, error)
	// OpenTickets counts the open tickets (not resolved or closed) of each
	// of users (0 for those with none).
	OpenTickets(ctx context.Context, orgID string, users []string) (map[string]int, error)
	// NextInRotation advances the organisation's round-robin counter of
	// pool and returns it (1, 2, 3, ...); concurrent callers get distinct values.
	NextInRotation(ctx context.Context, orgID, pool string) (int64, error)

	PutSLAPolicy(ctx context.Context, p *SLAPolicy) error
	GetSLAPolicy(ctx context.Context, orgID, name string) (*SLAPolicy, error)
	ListSLAPolicies(ctx context.Context, orgID string) ([]SLAPolicy, error)
	DeleteSLAPolicy(ctx context.Context, orgID, name string) error
}
