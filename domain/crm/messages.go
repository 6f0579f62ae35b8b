package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	"switchboard/domain"
)

// Sending a message through a provider that takes no idempotency key
// (SendGrid, Slack) is made at most once per step by a ledger row written
// before the provider is called:
//
//  1. BeginSend records the message as "sending", once per idempotency key
//     (run + step), and says whether to call the provider now.
//  2. The connector calls the provider.
//  3. SendDone records the answer: sent (with the provider's id), retrying
//     (refused in a way that is safe to send again: 429, 5xx, no
//     connection) or failed (rejected for good).
//
// A retried attempt that finds the message still "sending" cannot know
// whether the provider has it (the worker died between the two), so it
// marks it "unconfirmed" and does not send it again: a lost confirmation
// never becomes a second email. The provider's own events (SendGrid's
// event webhook) confirm it later.

// Send is BeginSend's answer.
type Send struct {
	Message *domain.OutboxMessage
	// Now says the caller holds the message and must call the provider,
	// then SendDone.
	Now bool
}

// BeginSend records m (Provider set, Status ignored) as being sent, once
// per idempotency key; an email to a suppressed address is refused with
// ErrSuppressed and nothing is written.
func (s *Service) BeginSend(ctx context.Context, actor Actor, orgID, key string, m *domain.OutboxMessage) (*Send, error) {
	if key == "" {
		return nil, errors.New("crm: BeginSend needs an idempotency key")
	}
	created := false
	rec, err := change(WithIdempotencyKey(ctx, key), s, orgID, actor, func(tx domain.Repo) (*domain.OutboxMessage, []*domain.Event, *domain.AuditEntry, error) {
		if m.Channel == "email" {
			if err := notSuppressed(ctx, tx, orgID, m.To); err != nil {
				return nil, nil, nil, err
			}
		}
		m.OrgID, m.Status, m.RunID = orgID, "sending", runOf(actor)
		if err := tx.AddOutbox(ctx, m); err != nil {
			return nil, nil, nil, err
		}
		created = true
		return m, nil, &domain.AuditEntry{Action: m.Channel + ".send", Target: "message/" + m.ID,
			Details: details(map[string]any{"provider": m.Provider, "to": m.To})}, nil
	})
	if err != nil {
		return nil, err
	}
	if created {
		return &Send{Message: rec, Now: true}, nil
	}
	// a retried attempt: what became of the first?
	cur, err := s.Store.GetOutbox(ctx, orgID, rec.ID)
	if err != nil {
		return nil, err
	}
	switch cur.Status {
	case "retrying":
		// the provider refused it before; take it (one attempt at a time),
		// unless the address was suppressed meanwhile
		if cur.Channel == "email" {
			if err := notSuppressed(ctx, s.Store, orgID, cur.To); err != nil {
				if errors.Is(err, ErrSuppressed) {
					_ = s.Store.SetOutboxStatus(ctx, orgID, cur.ID, []string{"retrying"}, "failed", "", "Suppressed: "+err.Error())
				}
				return nil, err
			}
		}
		err := s.Store.SetOutboxStatus(ctx, orgID, cur.ID, []string{"retrying"}, "sending", "", "")
		if err == nil {
			cur.Status = "sending"
			return &Send{Message: cur, Now: true}, nil
		}
		if !errors.Is(err, domain.ErrConflict) {
			return nil, err
		}
	case "sending":
		err := s.Store.SetOutboxStatus(ctx, orgID, cur.ID, []string{"sending"}, "unconfirmed", "",
			"an earlier attempt ended without recording the provider's answer; not sent again")
		if err != nil && !errors.Is(err, domain.ErrConflict) {
			return nil, err
		}
	default:
		return &Send{Message: cur}, nil
	}
	cur, err = s.Store.GetOutbox(ctx, orgID, rec.ID)
	if err != nil {
		return nil, err
	}
	return &Send{Message: cur}, nil
}

func notSuppressed(ctx context.Context, tx domain.Repo, orgID, email string) error {
	x, err := tx.GetSuppression(ctx, orgID, email)
	if err == nil {
		return fmt.Errorf("%w: %s is on the suppression list (%s)", ErrSuppressed, email, x.Reason)
	}
	if !errors.Is(err, domain.ErrNotFound) {
		return err
	}
	return nil
}

// SendDone records the provider's answer to a message BeginSend let the
// caller send: status sent (providerID is the provider's id of it),
// retrying or failed (errText says why, without secrets). A sent message
// emits <channel>.sent; a failed one <channel>.failed.
func (s *Service) SendDone(ctx context.Context, actor Actor, orgID, id, status, providerID, errText string) (*domain.OutboxMessage, error) {
	if !slices.Contains([]string{"sent", "retrying", "failed"}, status) {
		return nil, fmt.Errorf("crm: SendDone: status %q", status)
	}
	return change(context.WithoutCancel(withoutKey(ctx)), s, orgID, actor, func(tx domain.Repo) (*domain.OutboxMessage, []*domain.Event, *domain.AuditEntry, error) {
		// an attempt that outlived its timeout may find the message marked
		// unconfirmed by the next one: its answer still counts
		from := []string{"sending", "unconfirmed"}
		if status == "retrying" {
			from = []string{"sending"}
		}
		if err := tx.SetOutboxStatus(ctx, orgID, id, from, status, providerID, errText); err != nil {
			if errors.Is(err, domain.ErrConflict) && status == "retrying" {
				// the next attempt already gave up on it (unconfirmed) and
				// the step went on: the provider refused it, so it failed
				if ferr := tx.SetOutboxStatus(ctx, orgID, id, []string{"unconfirmed"}, "failed", "", errText); ferr == nil {
					m, gerr := tx.GetOutbox(ctx, orgID, id)
					if gerr != nil {
						return nil, nil, nil, gerr
					}
					return m, []*domain.Event{messageEvent(m.Channel+".failed", m)}, &domain.AuditEntry{Action: m.Channel + ".failed", Target: "message/" + id}, nil
				}
			}
			if !errors.Is(err, domain.ErrConflict) || status != "sent" {
				return nil, nil, nil, err
			}
			// the provider's events got there first (processed, delivered,
			// ...): the message is further on; keep its status
			m, gerr := tx.GetOutbox(ctx, orgID, id)
			if gerr != nil || !slices.Contains(DeliveryStatuses, m.Status) {
				return nil, nil, nil, err
			}
			if providerID != "" && m.ProviderID == "" {
				// keep the status, record the provider's id
				if err := tx.SetOutboxStatus(ctx, orgID, id, []string{m.Status}, m.Status, providerID, m.Error); err != nil {
					return nil, nil, nil, err
				}
				m.ProviderID = providerID
			}
			return m, nil, &domain.AuditEntry{Action: m.Channel + ".sent", Target: "message/" + id,
				Details: details(map[string]any{"provider": m.Provider, "providerId": providerID, "reportedFirst": m.Status})}, nil
		}
		m, err := tx.GetOutbox(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		var evs []*domain.Event
		if status != "retrying" {
			evs = append(evs, messageEvent(m.Channel+"."+status, m))
		}
		return m, evs, &domain.AuditEntry{Action: m.Channel + "." + status, Target: "message/" + id,
			Details: details(map[string]any{"provider": m.Provider, "providerId": m.ProviderID})}, nil
	})
}

// MessageEvent is the data of an email.* or slack.* event: the message's
// identity and where it came from, never its body.
func messageEvent(typ string, m *domain.OutboxMessage) *domain.Event {
	var b struct {
		CustomerID string `json:"customerId"`
		CampaignID string `json:"campaignId"`
	}
	_ = json.Unmarshal(m.Body, &b)
	return event(typ, map[string]any{"message": map[string]any{"id": m.ID, "channel": m.Channel, "to": m.To, "subject": m.Subject,
		"provider": m.Provider, "status": m.Status, "customerId": b.CustomerID, "campaignId": b.CampaignID, "runId": m.RunID, "stepId": m.StepID}})
}

func withoutKey(ctx context.Context) context.Context { return context.WithValue(ctx, keyCtx{}, "") }

// deliveryFrom is, for each status a provider's event can report, the
// statuses a message moves to it from: forward only, so that an open
// reported after the click changes nothing.
var deliveryFrom = map[string][]string{
	// the provider has it: confirms a message whose answer was lost
	"sent":         {"sending", "unconfirmed"},
	"delivered":    {"sending", "sent", "unconfirmed"},
	"opened":       {"sending", "sent", "unconfirmed", "delivered"},
	"clicked":      {"sending", "sent", "unconfirmed", "delivered", "opened"},
	"bounced":      {"sending", "sent", "unconfirmed", "delivered"},
	"dropped":      {"sending", "sent", "unconfirmed"},
	"complained":   {"sending", "sent", "unconfirmed", "delivered", "opened", "clicked"},
	"unsubscribed": {"sending", "sent", "unconfirmed", "delivered", "opened", "clicked", "complained"},
}

// DeliveryStatuses are the statuses RecordDelivery accepts.
var DeliveryStatuses = []string{"sent", "delivered", "opened", "clicked", "bounced", "dropped", "complained", "unsubscribed"}

// RecordDelivery records what a provider reported of a sent email (sent
// — it has a message whose answer was lost —, delivered, opened, clicked,
// bounced, dropped, complained, unsubscribed). The first time a message reaches a status it emits
// email.<status> — whose data names the run that sent it, so an `event`
// trigger can signal that run — and, for a campaign email, tracks the
// campaign metric; a bounce, complaint or unsubscribe suppresses the
// address. A repeated or out-of-order report changes nothing and says
// false.
func (s *Service) RecordDelivery(ctx context.Context, actor Actor, orgID, id, status string) (bool, error) {
	from, ok := deliveryFrom[status]
	if !ok {
		return false, fmt.Errorf("%w: delivery status %q", domain.ErrInvalid, status)
	}
	ctx = withoutKey(ctx)
	var body struct {
		CustomerID string `json:"customerId"`
		CampaignID string `json:"campaignId"`
	}
	moved, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (bool, []*domain.Event, *domain.AuditEntry, error) {
		err := tx.SetOutboxStatus(ctx, orgID, id, from, status, "", "")
		if errors.Is(err, domain.ErrConflict) {
			return false, nil, &domain.AuditEntry{Action: "email.report", Target: "message/" + id, Details: details(map[string]any{"status": status, "changed": false})}, nil
		}
		if err != nil {
			return false, nil, nil, err
		}
		m, err := tx.GetOutbox(ctx, orgID, id)
		if err != nil {
			return false, nil, nil, err
		}
		_ = json.Unmarshal(m.Body, &body)
		if reason := map[string]string{"bounced": "bounced", "complained": "complained", "unsubscribed": "unsubscribed"}[status]; reason != "" && m.Channel == "email" {
			if err := tx.Suppress(ctx, orgID, &domain.Suppression{Email: m.To, Reason: reason, Source: "message/" + id}); err != nil {
				return false, nil, nil, err
			}
		}
		return true, []*domain.Event{messageEvent("email."+status, m)},
			&domain.AuditEntry{Action: "email.report", Target: "message/" + id, Details: details(map[string]any{"status": status, "changed": true})}, nil
	})
	if err != nil || !moved {
		return moved, err
	}
	metric := map[string]string{"delivered": "delivered", "opened": "opened", "clicked": "clicked", "unsubscribed": "unsubscribed"}[status]
	if body.CampaignID != "" && body.CustomerID != "" && metric != "" {
		if _, err := s.Track(ctx, actor, orgID, body.CampaignID, body.CustomerID, metric); err != nil && !errors.Is(err, domain.ErrNotFound) {
			return true, err
		}
	}
	return true, nil
}
