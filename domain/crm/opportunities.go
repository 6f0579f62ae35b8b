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

// OpportunityEvent is the data of opportunity.* events.
type OpportunityEvent struct {
	Opportunity *domain.Opportunity `json:"opportunity"`
	Changes     []string            `json:"changes,omitempty"` // opportunity.updated
	From        string              `json:"from,omitempty"`    // opportunity.stage_changed
	To          string              `json:"to,omitempty"`
	Reason      string              `json:"reason,omitempty"`
	Actor       Actor               `json:"actor"`
}

// CreateOpportunity creates o and emits opportunity.created. Its stage is
// where the deal starts; the probability defaults to the stage's.
func (s *Service) CreateOpportunity(ctx context.Context, actor Actor, o *domain.Opportunity) (*domain.Opportunity, error) {
	return change(ctx, s, o.OrgID, actor, func(tx domain.Repo) (*domain.Opportunity, []*domain.Event, *domain.AuditEntry, error) {
		if o.Stage == "" {
			o.Stage = "lead"
		}
		if o.Probability == 0 {
			o.Probability = domain.DefaultProbability[o.Stage]
		}
		if domain.IsClosedStage(o.Stage) && o.ActualClose == "" {
			o.ActualClose = today()
		}
		if err := checkUser(ctx, tx, o.OrgID, "opportunity", "ownerId", o.OwnerID); err != nil {
			return nil, nil, nil, err
		}
		if err := tx.CreateOpportunity(ctx, o); err != nil {
			return nil, nil, nil, customerRef(err, "opportunity")
		}
		return o, []*domain.Event{event("opportunity.created", OpportunityEvent{Opportunity: o, Actor: actor})},
			&domain.AuditEntry{Action: "opportunity.create", Target: "opportunity/" + o.ID}, nil
	})
}

// UpdateOpportunity applies edit and emits opportunity.updated. The stage
// moves only through MoveOpportunity, where its rules are.
func (s *Service) UpdateOpportunity(ctx context.Context, actor Actor, orgID, id string, version int, edit func(*domain.Opportunity) error) (*domain.Opportunity, error) {
	return updateRecord(ctx, s, actor, orgID, id, version, edit, editable[domain.Opportunity]{
		kind: "opportunity",
		get:  func(tx domain.Repo) (*domain.Opportunity, error) { return tx.GetOpportunity(ctx, orgID, id) },
		save: func(tx domain.Repo, o *domain.Opportunity) error {
			return customerRef(tx.UpdateOpportunity(ctx, o), "opportunity")
		},
		version: func(o *domain.Opportunity) int { return o.Version },
		keep: func(before, o *domain.Opportunity) {
			o.ID, o.OrgID, o.Version, o.CreatedAt = before.ID, before.OrgID, before.Version, before.CreatedAt
			o.Normalize()
		},
		check: func(tx domain.Repo, o *domain.Opportunity, changes []string) error {
			if slices.Contains(changes, "stage") {
				return &domain.ValidationError{Record: "opportunity", Fields: []domain.FieldError{{Field: "stage",
					Message: "moves through the stage change (POST /v1/opportunities/{id}/stage, crm.opportunity.move), where its rules apply"}}}
			}
			if slices.Contains(changes, "ownerId") {
				return checkUser(ctx, tx, orgID, "opportunity", "ownerId", o.OwnerID)
			}
			return nil
		},
		events: func(_, o *domain.Opportunity, changes []string) []*domain.Event {
			return []*domain.Event{event("opportunity.updated", OpportunityEvent{Opportunity: o, Changes: changes, Actor: actor})}
		},
	})
}

// MoveOpportunity moves a deal to another stage (domain.CanMoveStage):
// the probability becomes the stage's, closing sets the close date (and,
// when lost, the reason), reopening clears them. Emits
// opportunity.stage_changed with from, to and reason.
func (s *Service) MoveOpportunity(ctx context.Context, actor Actor, orgID, id, to, reason string, version int) (*domain.Opportunity, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Opportunity, []*domain.Event, *domain.AuditEntry, error) {
		o, err := tx.GetOpportunity(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := checkVersion("opportunity", id, o.Version, version); err != nil {
			return nil, nil, nil, err
		}
		from := o.Stage
		if err := domain.CanMoveStage(from, to, reason); err != nil {
			return nil, nil, nil, err
		}
		o.Stage, o.Probability = to, domain.DefaultProbability[to]
		switch {
		case domain.IsClosedStage(to):
			o.ActualClose = today()
			if to == "closed_lost" {
				o.LostReason = strings.TrimSpace(reason)
			}
		case domain.IsClosedStage(from):
			o.ActualClose, o.LostReason = "", ""
		}
		if err := tx.UpdateOpportunity(ctx, o); err != nil {
			return nil, nil, nil, err
		}
		return o, []*domain.Event{event("opportunity.stage_changed", OpportunityEvent{Opportunity: o, From: from, To: to, Reason: reason, Actor: actor})},
			&domain.AuditEntry{Action: "opportunity.stage", Target: "opportunity/" + id, Details: details(map[string]any{"from": from, "to": to, "reason": reason})}, nil
	})
}

// DeleteOpportunity deletes a deal and emits opportunity.deleted.
func (s *Service) DeleteOpportunity(ctx context.Context, actor Actor, orgID, id string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Opportunity, []*domain.Event, *domain.AuditEntry, error) {
		o, err := tx.GetOpportunity(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := tx.DeleteOpportunity(ctx, orgID, id); err != nil {
			return nil, nil, nil, err
		}
		return o, []*domain.Event{event("opportunity.deleted", OpportunityEvent{Opportunity: o, Actor: actor})},
			&domain.AuditEntry{Action: "opportunity.delete", Target: "opportunity/" + id}, nil
	})
	return err
}

func checkVersion(record, id string, current, want int) error {
	if want != 0 && want != current {
		return fmt.Errorf("%w: %s %s is at version %d, not %d", domain.ErrConflict, record, id, current, want)
	}
	return nil
}

// customerRef turns "the customer is not in the organisation" into a
// field error.
func customerRef(err error, record string) error {
	if errors.Is(err, domain.ErrNotFound) && strings.Contains(err.Error(), "customer") {
		return &domain.ValidationError{Record: record, Fields: []domain.FieldError{{Field: "customerId", Message: "is not a customer of this organisation"}}}
	}
	return err
}

// today is the current UTC date. Changes run in activities and API
// handlers, never in workflow code, so the clock is allowed here.
func today() string { return time.Now().UTC().Format(time.DateOnly) }
