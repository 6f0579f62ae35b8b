package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"switchboard/domain"
)

// timelineOf is the customer-timeline entry a record change's event writes,
// or nil when the event concerns no (remaining) customer.
func timelineOf(e *domain.Event, actor Actor) *domain.TimelineEntry {
	var d struct {
		Customer    *domain.Customer      `json:"customer"`
		Opportunity *domain.Opportunity   `json:"opportunity"`
		Quote       *domain.Quote         `json:"quote"`
		Contract    *domain.Contract      `json:"contract"`
		Signature   *domain.Signature     `json:"signature"`
		Ticket      *domain.Ticket        `json:"ticket"`
		Message     *domain.TicketMessage `json:"message"`
		Campaign    *domain.Campaign      `json:"campaign"`
		Payment     *domain.Payment       `json:"payment"`
		CustomerID  string                `json:"customerId"`
		Changes     []string              `json:"changes"`
		From        string                `json:"from"`
		To          string                `json:"to"`
		Reason      string                `json:"reason"`
	}
	if json.Unmarshal(e.Data, &d) != nil {
		return nil
	}
	entry := &domain.TimelineEntry{Event: e.Type, Actor: string(actor), RunID: runOf(actor)}
	_, verb, _ := strings.Cut(e.Type, ".")
	verb = strings.ReplaceAll(verb, "_", " ")
	switch {
	case e.Type == "customer.deleted":
		return nil // the timeline goes with the customer
	case d.Customer != nil:
		entry.Kind, entry.CustomerID, entry.Ref = "customer", d.Customer.ID, "customer/"+d.Customer.ID
		entry.Summary = "Customer " + verb
		if e.Type == "customer.status_changed" {
			entry.Summary = fmt.Sprintf("Status changed from %s to %s", d.From, d.Customer.Status)
		}
	case d.Opportunity != nil:
		o := d.Opportunity
		entry.Kind, entry.CustomerID, entry.Ref = "deal", o.CustomerID, "opportunity/"+o.ID
		entry.Summary = fmt.Sprintf("Deal %q %s", o.Name, verb)
		if e.Type == "opportunity.stage_changed" {
			entry.Summary = fmt.Sprintf("Deal %q moved from %s to %s", o.Name, d.From, d.To)
			entry.Body = d.Reason
		}
	case d.Payment != nil:
		p := d.Payment
		if p.CustomerID == "" {
			return nil
		}
		entry.Kind, entry.CustomerID, entry.Ref = "payment", p.CustomerID, "payment/"+p.ID
		entry.Summary = fmt.Sprintf("Payment of %s %s %s", domain.FormatMinor(p.Amount, p.Currency), p.Currency, verb)
		entry.Body = p.Failure
	case d.Quote != nil:
		q := d.Quote
		entry.Kind, entry.CustomerID, entry.Ref = "quote", q.CustomerID, "quote/"+q.ID
		entry.Summary = fmt.Sprintf("Quote of %s %s %s", domain.FormatMinor(q.Totals.Total, q.Currency), q.Currency, verb)
		if q.Decision != nil && q.Decision.Reason != "" {
			entry.Body = q.Decision.Reason
		}
	case d.Contract != nil:
		c := d.Contract
		entry.Kind, entry.CustomerID, entry.Ref = "contract", c.CustomerID, "contract/"+c.ID
		entry.Summary = fmt.Sprintf("Contract %q %s", c.Title, verb)
		switch {
		case d.Signature != nil:
			entry.Summary += " by " + d.Signature.Name
		case c.VoidReason != "":
			entry.Body = c.VoidReason
		}
	case d.Ticket != nil:
		tk := d.Ticket
		entry.Kind, entry.CustomerID, entry.Ref = "ticket", tk.CustomerID, "ticket/"+tk.ID
		entry.Summary = fmt.Sprintf("Ticket %q %s", tk.Subject, verb)
		switch e.Type {
		case "ticket.updated":
			if len(d.Changes) == 1 && (d.Changes[0] == "status" || d.Changes[0] == "assigneeId") {
				return nil // told by ticket.status_changed / ticket.assigned
			}
		case "ticket.status_changed":
			entry.Summary, entry.Body = fmt.Sprintf("Ticket %q moved from %s to %s", tk.Subject, d.From, d.To), d.Reason
		case "ticket.message_added":
			if d.Message == nil || d.Message.Direction == "internal" {
				return nil // staff notes stay on the ticket
			}
			entry.Summary = fmt.Sprintf("Ticket %q: %s message", tk.Subject, d.Message.Direction)
			entry.Body = d.Message.Body
			if len(entry.Body) > 2000 {
				entry.Body = strings.ToValidUTF8(entry.Body[:2000], "")
			}
		}
	case d.Campaign != nil && d.CustomerID != "":
		// a campaign email's journey: sent, delivered, opened, clicked, converted, unsubscribed
		entry.Kind, entry.CustomerID, entry.Ref = "email", d.CustomerID, "campaign/"+d.Campaign.ID
		entry.Summary = fmt.Sprintf("Campaign %q: %s", d.Campaign.Name, verb)
	default:
		return nil
	}
	if len(d.Changes) > 0 {
		entry.Summary += ": " + strings.Join(d.Changes, ", ")
	}
	return entry
}

// LogInteraction adds a note, email, call or meeting to a customer's
// timeline and emits timeline.logged.
func (s *Service) LogInteraction(ctx context.Context, actor Actor, e *domain.TimelineEntry) (*domain.TimelineEntry, error) {
	return change(ctx, s, e.OrgID, actor, func(tx domain.Repo) (*domain.TimelineEntry, []*domain.Event, *domain.AuditEntry, error) {
		if !slices.Contains(domain.LoggedTimelineKinds, e.Kind) {
			return nil, nil, nil, &domain.ValidationError{Record: "timeline entry", Fields: []domain.FieldError{{Field: "kind",
				Message: fmt.Sprintf("is %q; want one of %s", e.Kind, strings.Join(domain.LoggedTimelineKinds, ", "))}}}
		}
		e.Actor, e.RunID, e.Event = string(actor), runOf(actor), ""
		e.Summary, e.Body = strings.TrimSpace(e.Summary), strings.TrimSpace(e.Body)
		if err := tx.AddTimeline(ctx, e); err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				return nil, nil, nil, &domain.ValidationError{Record: "timeline entry", Fields: []domain.FieldError{{Field: "customerId", Message: "is not a customer of this organisation"}}}
			}
			return nil, nil, nil, err
		}
		return e, []*domain.Event{event("timeline.logged", map[string]any{"entry": e, "actor": actor})},
			&domain.AuditEntry{Action: "timeline.log", Target: "customer/" + e.CustomerID}, nil
	})
}
