package crm

import (
	"context"
	"strings"

	"switchboard/domain"
)

// QueueSlack puts a Slack message in the organisation's outbox — where
// Slack messages go when no bot token is configured, readable at GET
// /v1/outbox — and emits slack.queued. m gives To (the channel or user as
// the run named it) and Body; its channel, provider and status are set
// here (slack, outbox, queued). With an idempotency key in ctx it queues
// once: a repeated call returns the message queued first.
func (s *Service) QueueSlack(ctx context.Context, actor Actor, orgID, stepID string, m *domain.OutboxMessage) (*domain.OutboxMessage, error) {
	if strings.TrimSpace(m.To) == "" {
		return nil, &domain.ValidationError{Record: "slack message", Fields: []domain.FieldError{{Field: "to", Message: "is required"}}}
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.OutboxMessage, []*domain.Event, *domain.AuditEntry, error) {
		m.OrgID, m.RunID, m.StepID = orgID, runOf(actor), stepID
		m.Channel, m.Provider, m.Status = "slack", "outbox", "queued"
		if err := tx.AddOutbox(ctx, m); err != nil {
			return nil, nil, nil, err
		}
		// the event names the message; its text stays in the outbox
		return m, []*domain.Event{messageEvent("slack.queued", m)}, &domain.AuditEntry{Action: "slack.queue", Target: "outbox/" + m.ID}, nil
	})
}
