package crm

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/domain"
)

// QuoteEvent is the data of quote.* events. It never holds a public link:
// the link is a credential for the customer, events are read by staff.
type QuoteEvent struct {
	Quote   *domain.Quote `json:"quote"`
	Changes []string      `json:"changes,omitempty"`
	Actor   Actor         `json:"actor"`
}

// SentQuote is a sent quote and the secret of its public link, returned
// once (only its hash is kept).
type SentQuote struct {
	Quote *domain.Quote `json:"quote"`
	Token string        `json:"token"`
}

// DefaultQuoteValidity is how long a quote is valid when it does not say.
const DefaultQuoteValidity = 30 * 24 * time.Hour

// runOf is the public id of the run an actor names ("run:<id>"), or "".
func runOf(actor Actor) string {
	id, _ := strings.CutPrefix(string(actor), "run:")
	if id == string(actor) {
		return ""
	}
	return id
}

// CreateQuote creates a draft quote on an opportunity (its customer, and by
// default its currency and a validity of 30 days) and emits quote.created.
// A quote created by a run remembers the run (RunID).
func (s *Service) CreateQuote(ctx context.Context, actor Actor, q *domain.Quote) (*domain.Quote, error) {
	return change(ctx, s, q.OrgID, actor, func(tx domain.Repo) (*domain.Quote, []*domain.Event, *domain.AuditEntry, error) {
		opp, err := tx.GetOpportunity(ctx, q.OrgID, q.OpportunityID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, nil, nil, &domain.ValidationError{Record: "quote", Fields: []domain.FieldError{{Field: "opportunityId", Message: "is not an opportunity of this organisation"}}}
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if q.Currency == "" {
			q.Currency = opp.Amount.Currency
		}
		if q.ValidUntil == "" {
			q.ValidUntil = time.Now().UTC().Add(DefaultQuoteValidity).Format(time.DateOnly)
		}
		q.Status, q.RunID, q.SentAt, q.DecidedAt, q.Decision = "draft", runOf(actor), nil, nil, nil
		if err := tx.CreateQuote(ctx, q); err != nil {
			return nil, nil, nil, err
		}
		return q, []*domain.Event{event("quote.created", QuoteEvent{Quote: q, Actor: actor})},
			&domain.AuditEntry{Action: "quote.create", Target: "quote/" + q.ID}, nil
	})
}

// UpdateQuote changes a draft (its lines, currency, validity, notes);
// totals are recomputed. A sent or decided quote does not change
// (InvalidTransition): make a new one.
func (s *Service) UpdateQuote(ctx context.Context, actor Actor, orgID, id string, version int, edit func(*domain.Quote) error) (*domain.Quote, error) {
	return updateRecord(ctx, s, actor, orgID, id, version, edit, editable[domain.Quote]{
		kind:    "quote",
		get:     func(tx domain.Repo) (*domain.Quote, error) { return tx.GetQuote(ctx, orgID, id) },
		save:    func(tx domain.Repo, q *domain.Quote) error { return tx.UpdateQuote(ctx, q) },
		version: func(q *domain.Quote) int { return q.Version },
		allow: func(q *domain.Quote) error {
			if q.Status != "draft" {
				return fmt.Errorf("%w: the quote is %s; only a draft changes (create a new quote)", domain.ErrInvalidTransition, q.Status)
			}
			return nil
		},
		keep: func(before, q *domain.Quote) {
			q.ID, q.OrgID, q.Version, q.CreatedAt, q.Status = before.ID, before.OrgID, before.Version, before.CreatedAt, before.Status
			q.OpportunityID, q.CustomerID, q.RunID, q.SentAt, q.DecidedAt, q.Decision = before.OpportunityID, before.CustomerID, before.RunID, nil, nil, nil
			q.PaidAt = before.PaidAt
			q.Normalize()
		},
		events: func(_, q *domain.Quote, changes []string) []*domain.Event {
			return []*domain.Event{event("quote.updated", QuoteEvent{Quote: q, Changes: changes, Actor: actor})}
		},
	})
}

// SendQuote marks a draft (or an already sent quote: a new link) sent and
// issues a public link valid to the end of its last valid day; earlier
// links of the quote stop working. Emits quote.sent.
func (s *Service) SendQuote(ctx context.Context, actor Actor, orgID, id string) (*SentQuote, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*SentQuote, []*domain.Event, *domain.AuditEntry, error) {
		q, err := tx.GetQuote(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		today := time.Now().UTC().Format(time.DateOnly)
		switch {
		case q.Status != "draft" && q.Status != "sent":
			return nil, nil, nil, fmt.Errorf("%w: the quote is %s", domain.ErrInvalidTransition, q.Status)
		case q.ValidUntil < today:
			return nil, nil, nil, fmt.Errorf("%w: the quote was valid until %s; change validUntil first", domain.ErrInvalidTransition, q.ValidUntil)
		}
		last, _ := time.Parse(time.DateOnly, q.ValidUntil)
		token, err := issueToken(ctx, tx, orgID, "quote", q.ID, last.Add(24*time.Hour))
		if err != nil {
			return nil, nil, nil, err
		}
		now := time.Now().UTC()
		q.Status, q.SentAt = "sent", &now
		if err := tx.UpdateQuote(ctx, q); err != nil {
			return nil, nil, nil, err
		}
		return &SentQuote{Quote: q, Token: token}, []*domain.Event{event("quote.sent", QuoteEvent{Quote: q, Actor: actor})},
			&domain.AuditEntry{Action: "quote.send", Target: "quote/" + id}, nil
	})
}

// issueToken revokes the record's live links and issues a new one: 256
// random bits, base64url; only its SHA-256 is stored.
func issueToken(ctx context.Context, tx domain.Repo, orgID, kind, recordID string, expires time.Time) (string, error) {
	if err := tx.RevokePublicTokens(ctx, orgID, kind, recordID); err != nil {
		return "", err
	}
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return "", err
	}
	token := base64.RawURLEncoding.EncodeToString(secret)
	h := TokenHash(token)
	return token, tx.CreatePublicToken(ctx, &domain.PublicToken{Hash: h, OrgID: orgID, Kind: kind, RecordID: recordID, ExpiresAt: expires})
}

// TokenHash is how a public link's secret is looked up.
func TokenHash(token string) []byte {
	h := sha256.Sum256([]byte(token))
	return h[:]
}

// DecideQuote records the customer's acceptance or rejection of a sent
// quote and emits quote.accepted or quote.rejected. A quote past its last
// valid day is marked expired (quote.expired) and the decision refused
// with InvalidTransition; so is a quote already decided.
func (s *Service) DecideQuote(ctx context.Context, actor Actor, orgID, id string, d domain.QuoteDecision) (*domain.Quote, error) {
	d.Name, d.Email, d.Reason = strings.TrimSpace(d.Name), strings.ToLower(strings.TrimSpace(d.Email)), strings.TrimSpace(d.Reason)
	v := &domain.ValidationError{Record: "decision"}
	if d.Accepted && d.Name == "" {
		v.Fields = append(v.Fields, domain.FieldError{Field: "name", Message: "is required to accept: type your full name"})
	}
	if len(d.Name) > 200 || len(d.Email) > 254 || len(d.Reason) > 2000 || len(d.UserAgent) > 500 {
		v.Fields = append(v.Fields, domain.FieldError{Field: "name", Message: "name, email or reason is too long"})
	}
	if len(v.Fields) > 0 {
		return nil, v
	}
	var refused error
	q, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Quote, []*domain.Event, *domain.AuditEntry, error) {
		q, err := tx.GetQuote(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		today := time.Now().UTC().Format(time.DateOnly)
		if refused = q.CanDecide(today); refused != nil {
			if q.Status != "expired" {
				return nil, nil, nil, refused
			}
			// past its last day: record that it expired (once), then refuse
			changed, err := tx.ExpireQuote(ctx, orgID, id, today)
			if err != nil || !changed {
				return nil, nil, nil, cmpErr(err, refused)
			}
			return q, []*domain.Event{event("quote.expired", QuoteEvent{Quote: q, Actor: actor})},
				&domain.AuditEntry{Action: "quote.expire", Target: "quote/" + id}, nil
		}
		now := time.Now().UTC()
		q.Status, q.DecidedAt, q.Decision = "rejected", &now, &d
		typ := "quote.rejected"
		if d.Accepted {
			q.Status, typ = "accepted", "quote.accepted"
		}
		if err := tx.UpdateQuote(ctx, q); err != nil {
			return nil, nil, nil, err
		}
		return q, []*domain.Event{event(typ, QuoteEvent{Quote: q, Actor: actor})},
			&domain.AuditEntry{Action: "quote.decide", Target: "quote/" + id, Details: details(map[string]any{"accepted": d.Accepted, "via": d.Via, "name": d.Name})}, nil
	})
	if err == nil && q.Status == "expired" {
		return q, cmpErr(refused, fmt.Errorf("%w: the quote expired after %s", domain.ErrInvalidTransition, q.ValidUntil))
	}
	return q, err
}

// cmpErr is the first non-nil error.
func cmpErr(errs ...error) error {
	for _, err := range errs {
		if err != nil {
			return err
		}
	}
	return nil
}
