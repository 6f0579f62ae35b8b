package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"switchboard/domain"
)

// Payments: a run asks for one (stripe.createPaymentLink / createInvoice),
// in three steps that a retried activity can repeat safely:
//
//  1. CreatePayment records it ("creating"), once per idempotency key.
//  2. The provider is asked — Stripe with an idempotency key derived from
//     the same run and step, so asking twice creates one checkout — or the
//     sandbox issues its own checkout link.
//  3. OpenPayment (OpenSandboxPayment) records the provider's id and URL.
//
// SettlePayment then marks it paid or failed, from Stripe's webhook or the
// sandbox page alike, and emits payment.succeeded / payment.failed, whose
// data names the run that asked for it.

// PaymentEvent is the data of payment.* events.
type PaymentEvent struct {
	Payment *domain.Payment `json:"payment"`
	Actor   Actor           `json:"actor"`
}

// sandboxLinkLife is how long a sandbox checkout link works.
const sandboxLinkLife = 30 * 24 * time.Hour

// CreatePayment records a payment to ask a provider for: of a contract
// (ContractID: as its quote), of a quote (QuoteID set: its line items,
// currency, total and customer) or of the line items given. With an idempotency key in ctx it records it once.
func (s *Service) CreatePayment(ctx context.Context, actor Actor, p *domain.Payment) (*domain.Payment, error) {
	return change(ctx, s, p.OrgID, actor, func(tx domain.Repo) (*domain.Payment, []*domain.Event, *domain.AuditEntry, error) {
		if p.ContractID != "" {
			// a contract is paid as its quote
			k, err := tx.GetContract(ctx, p.OrgID, p.ContractID)
			if err != nil {
				return nil, nil, nil, err
			}
			if k.Status == "void" {
				return nil, nil, nil, fmt.Errorf("%w: the contract is void", domain.ErrInvalidTransition)
			}
			p.QuoteID = k.QuoteID
			if p.Description == "" {
				p.Description = k.Title
			}
		}
		if p.QuoteID != "" {
			q, err := tx.GetQuote(ctx, p.OrgID, p.QuoteID)
			if err != nil {
				return nil, nil, nil, err
			}
			if q.Status == "rejected" || q.Status == "expired" {
				return nil, nil, nil, fmt.Errorf("%w: the quote is %s", domain.ErrInvalidTransition, q.Status)
			}
			p.LineItems, p.Currency, p.CustomerID = q.LineItems, q.Currency, q.CustomerID
			if p.Description == "" {
				p.Description = "Quote " + q.ID
			}
		}
		if err := checkPayment(p); err != nil {
			return nil, nil, nil, err
		}
		if p.CustomerID != "" {
			c, err := tx.GetCustomer(ctx, p.OrgID, p.CustomerID)
			if errors.Is(err, domain.ErrNotFound) {
				return nil, nil, nil, &domain.ValidationError{Record: "payment", Fields: []domain.FieldError{{Field: "customerId", Message: "is not a customer of this organisation"}}}
			}
			if err != nil {
				return nil, nil, nil, err
			}
			if p.Email == "" {
				p.Email = c.Email
			}
		}
		p.Status, p.RunID = "creating", runOf(actor)
		if err := tx.CreatePayment(ctx, p); err != nil {
			return nil, nil, nil, err
		}
		return p, nil, &domain.AuditEntry{Action: "payment.create", Target: "payment/" + p.ID,
			Details: details(map[string]any{"provider": p.Provider, "amount": p.Amount, "currency": p.Currency})}, nil
	})
}

// checkPayment computes the amount from the line items (the quote's
// rounding rule) and reports every invalid field.
func checkPayment(p *domain.Payment) error {
	v := &domain.ValidationError{Record: "payment"}
	bad := func(field, msg string) { v.Fields = append(v.Fields, domain.FieldError{Field: field, Message: msg}) }
	p.Currency = strings.ToUpper(strings.TrimSpace(p.Currency))
	if !domain.IsCurrency(p.Currency) {
		bad("currency", "is not an ISO 4217 code")
	}
	if len(p.LineItems) == 0 {
		bad("lineItems", "at least one is required")
	}
	t, err := domain.ComputeTotals(p.LineItems)
	if err != nil {
		bad("lineItems", err.Error())
	}
	if t.Total <= 0 && err == nil && len(p.LineItems) > 0 {
		bad("lineItems", "the total must be more than zero")
	}
	if len(v.Fields) > 0 {
		return v
	}
	p.Amount = t.Total
	return nil
}

// OpenPayment records the provider's id and URL of a payment being
// created; a payment already open (an earlier attempt opened it) is
// returned as it is.
func (s *Service) OpenPayment(ctx context.Context, actor Actor, orgID, id, providerID, url string) (*domain.Payment, error) {
	return change(withoutKey(ctx), s, orgID, actor, func(tx domain.Repo) (*domain.Payment, []*domain.Event, *domain.AuditEntry, error) {
		return s.open(ctx, tx, actor, orgID, id, func(*domain.Payment) (string, string, error) { return providerID, url, nil })
	})
}

// OpenSandboxPayment opens a sandbox payment: a single-purpose link to the
// platform's own checkout page (publicBase + /p/payments/<token>), where
// the payer pays or declines — for development and tests without a Stripe
// key.
func (s *Service) OpenSandboxPayment(ctx context.Context, actor Actor, orgID, id, publicBase string) (*domain.Payment, error) {
	return change(withoutKey(ctx), s, orgID, actor, func(tx domain.Repo) (*domain.Payment, []*domain.Event, *domain.AuditEntry, error) {
		return s.open(ctx, tx, actor, orgID, id, func(p *domain.Payment) (string, string, error) {
			token, err := issueToken(ctx, tx, orgID, "payment", p.ID, time.Now().Add(sandboxLinkLife))
			if err != nil {
				return "", "", err
			}
			return "sandbox_" + p.ID, strings.TrimRight(publicBase, "/") + "/p/payments/" + token, nil
		})
	})
}

func (s *Service) open(ctx context.Context, tx domain.Repo, actor Actor, orgID, id string, provider func(*domain.Payment) (string, string, error)) (*domain.Payment, []*domain.Event, *domain.AuditEntry, error) {
	p, err := tx.GetPayment(ctx, orgID, id)
	if err != nil {
		return nil, nil, nil, err
	}
	if p.Status != "creating" {
		return p, nil, &domain.AuditEntry{Action: "payment.open", Target: "payment/" + id}, nil
	}
	pid, url, err := provider(p)
	if err != nil {
		return nil, nil, nil, err
	}
	if err := tx.OpenPayment(ctx, orgID, id, pid, url); err != nil {
		return nil, nil, nil, err
	}
	if p, err = tx.GetPayment(ctx, orgID, id); err != nil {
		return nil, nil, nil, err
	}
	return p, []*domain.Event{event("payment.created", PaymentEvent{Payment: p, Actor: actor})},
		&domain.AuditEntry{Action: "payment.open", Target: "payment/" + id, Details: details(map[string]any{"providerId": pid})}, nil
}

// SettlePayment records a payment's outcome: "paid" (from open, creating
// or failed: a failed attempt may be followed by a successful one) or
// "failed" (from open). The first time it emits payment.succeeded or
// payment.failed; a repeated report (a provider retrying its webhook)
// changes nothing and says false.
func (s *Service) SettlePayment(ctx context.Context, actor Actor, orgID, id, status, failure string) (*domain.Payment, bool, error) {
	from := map[string][]string{"paid": {"creating", "open", "failed"}, "failed": {"creating", "open"}}[status]
	if from == nil {
		return nil, false, fmt.Errorf("%w: payment status %q", domain.ErrInvalid, status)
	}
	type settled struct {
		P     *domain.Payment
		Moved bool
	}
	r, err := change(withoutKey(ctx), s, orgID, actor, func(tx domain.Repo) (settled, []*domain.Event, *domain.AuditEntry, error) {
		err := tx.SetPaymentStatus(ctx, orgID, id, from, status, failure)
		moved := err == nil
		if err != nil && !errors.Is(err, domain.ErrConflict) {
			return settled{}, nil, nil, err
		}
		p, err := tx.GetPayment(ctx, orgID, id)
		if err != nil {
			return settled{}, nil, nil, err
		}
		audit := &domain.AuditEntry{Action: "payment." + status, Target: "payment/" + id, Details: details(map[string]any{"changed": moved})}
		if !moved {
			return settled{p, false}, nil, audit, nil
		}
		typ := map[string]string{"paid": "payment.succeeded", "failed": "payment.failed"}[status]
		evs := []*domain.Event{event(typ, PaymentEvent{Payment: p, Actor: actor})}
		if status == "paid" && p.QuoteID != "" {
			// the quote it paid remembers it
			q, err := tx.GetQuote(ctx, orgID, p.QuoteID)
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return settled{}, nil, nil, err
			}
			if err == nil && q.PaidAt == nil {
				q.PaidAt = p.PaidAt
				if err := tx.UpdateQuote(ctx, q); err != nil {
					return settled{}, nil, nil, err
				}
				if q, err = tx.GetQuote(ctx, orgID, p.QuoteID); err != nil {
					return settled{}, nil, nil, err
				}
				evs = append(evs, event("quote.paid", QuoteEvent{Quote: q, Actor: actor}))
			}
		}
		if status == "paid" && p.ContractID != "" {
			k, err := tx.GetContract(ctx, orgID, p.ContractID)
			if err != nil && !errors.Is(err, domain.ErrNotFound) {
				return settled{}, nil, nil, err
			}
			if err == nil && k.PaidAt == nil {
				k.PaidAt = p.PaidAt
				if err := tx.UpdateContract(ctx, k); err != nil {
					return settled{}, nil, nil, err
				}
				evs = append(evs, contractEvent("contract.paid", k, nil, actor))
			}
		}
		return settled{p, true}, evs, audit, nil
	})
	return r.P, r.Moved, err
}
