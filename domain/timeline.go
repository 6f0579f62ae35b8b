package domain

import (
	"context"
	"time"
)

// Timeline entry kinds: the ones people log, and the ones record changes write.
var (
	LoggedTimelineKinds = []string{"note", "email", "call", "meeting"}
	TimelineKinds       = []string{"note", "email", "call", "meeting", "customer", "deal", "quote", "contract", "ticket", "payment"}
)

// TimelineEntry is one interaction with a customer: a note, email, call or
// meeting someone logged, or a change of one of the customer's records
// (written in the change's transaction).
type TimelineEntry struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"-"`
	CustomerID string    `json:"customerId"`
	Kind       string    `json:"kind"`
	Summary    string    `json:"summary"`
	Body       string    `json:"body,omitempty"`
	Ref        string    `json:"ref,omitempty"`   // the record it is about: opportunity/<id>, quote/<id>
	Event      string    `json:"event,omitempty"` // the event type that wrote it
	Actor      string    `json:"actor"`
	RunID      string    `json:"runId,omitempty"` // the run that made it, when one did
	At         time.Time `json:"at"`
}

// Validate checks a logged entry.
func (e *TimelineEntry) Validate() error {
	v := &fieldChecker{record: "timeline entry"}
	v.text("customerId", e.CustomerID, 64, true)
	v.oneOf("kind", e.Kind, TimelineKinds)
	v.text("summary", e.Summary, 500, true)
	if len(e.Body) > 20000 {
		v.add("body", "is longer than 20000 bytes")
	}
	return v.err()
}

// TimelineRepo keeps customers' timelines (part of Repo).
type TimelineRepo interface {
	// AddTimeline appends an entry; ErrNotFound when the customer is not
	// in the organisation.
	AddTimeline(ctx context.Context, e *TimelineEntry) error
	// ListTimeline lists a customer's entries newest first; Page.After is an entry id.
	ListTimeline(ctx context.Context, orgID, customerID string, p Page) ([]TimelineEntry, error)
}
