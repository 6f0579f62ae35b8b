package crm

import (
	"context"
	"encoding/json"
	"errors"
	"slices"
	"strings"

	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

// Error types of the crm.* actions.
const (
	ErrNotFound          = "NotFound"
	ErrConflict          = "Conflict"
	ErrInvalidTransition = "InvalidTransition"
	ErrValidation        = "ValidationError"
	ErrNoRecords         = activities.NoRecords // the run has no organisation's records (switchboard run without --mock)
)

// Options configure the actions. Without a Store every action fails with
// NoRecords (the local runner: mock crm.* actions there).
type Options struct {
	Store domain.Store
	// PublicURL is the base of public links (https://sb.example.com); the
	// API's SWITCHBOARD_PUBLIC_URL. Empty gives links relative to the API.
	PublicURL string
}

// Actions are the declarations of the crm.* actions.
func Actions() []dsl.Action {
	return slices.Concat(customerActions(), opportunityActions(), quoteActions(), contractActions(), ticketActions(), campaignActions(), timelineActions(), calendarActions(), documentActions())
}

// Implementations returns each action's implementation by name.
func Implementations(o Options) map[string]activities.Func {
	a := &actions{svc: &crm.Service{Store: o.Store}, store: o.Store, publicURL: o.PublicURL}
	impls := map[string]activities.Func{
		"crm.customer.create":    a.createCustomer,
		"crm.customer.get":       a.getCustomer,
		"crm.customer.update":    a.updateCustomer,
		"crm.customer.search":    a.searchCustomers,
		"crm.opportunity.create": a.createOpportunity,
		"crm.opportunity.get":    a.getOpportunity,
		"crm.opportunity.update": a.updateOpportunity,
		"crm.opportunity.move":   a.moveOpportunity,
		"crm.quote.create":       a.createQuote,
		"crm.quote.get":          a.getQuote,
		"crm.quote.send":         a.sendQuote,
		"crm.contract.create":    a.createContract,
		"crm.contract.get":       a.getContract,
		"crm.contract.send":      a.sendContract,
		"crm.ticket.create":      a.createTicket,
		"crm.ticket.get":         a.getTicket,
		"crm.ticket.update":      a.updateTicket,
		"crm.ticket.move":        a.moveTicket,
		"crm.ticket.assign":      a.assignTicket,
		"crm.ticket.message":     a.messageTicket,
		"crm.campaign.enroll":    a.enrollCampaign,
		"crm.campaign.render":    a.renderCampaign,
		"crm.campaign.track":     a.trackCampaign,
		"crm.suppression.check":  a.checkSuppression,
		"crm.timeline.log":       a.logTimeline,
		"crm.calendar.deadline":  a.calendarDeadline,
		"docs.render":            a.renderDocument,
		"esign.request":          a.requestSignature,
	}
	for name, fn := range impls {
		impls[name] = a.guard(name, fn)
	}
	return impls
}

type actions struct {
	svc       *crm.Service
	store     domain.Store
	publicURL string
}

// call is what an action knows about the run that called it.
type call struct {
	org   string
	actor crm.Actor
	// key identifies this activity of this run: the same across its retries.
	key string
}

type callKey struct{}

// guard resolves the calling run's organisation and maps domain errors to
// typed, non-retryable application errors (infrastructure errors stay
// retryable).
func (a *actions) guard(name string, fn activities.Func) activities.Func {
	return func(ctx context.Context, args map[string]any) (any, error) {
		rc, err := activities.PlatformCall(ctx, name, a.store != nil)
		if err != nil {
			return nil, err
		}
		c := call{org: rc.Org, actor: crm.Actor("run:" + rc.Run), key: rc.Key}
		out, err := fn(context.WithValue(ctx, callKey{}, c), args)
		return out, typed(name, err)
	}
}

// link is a public link of kind (quotes, contracts) with token.
func (a *actions) link(kind, token string) string {
	return strings.TrimSuffix(a.publicURL, "/") + "/p/" + kind + "/" + token
}

func callOf(ctx context.Context) call {
	c, _ := ctx.Value(callKey{}).(call)
	return c
}

// changing returns ctx for a change that must happen once per activity.
func changing(ctx context.Context) context.Context {
	return crm.WithIdempotencyKey(ctx, callOf(ctx).key)
}

// typed maps domain errors to application errors with the action's error types.
func typed(name string, err error) error {
	var ve *domain.ValidationError
	var ae *temporal.ApplicationError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &ae):
		return err
	case errors.As(err, &ve):
		return temporal.NewNonRetryableApplicationError(name+": "+ve.Error(), ErrValidation, nil, ve.Fields)
	case errors.Is(err, domain.ErrInvalidTransition):
		return temporal.NewNonRetryableApplicationError(name+": "+err.Error(), ErrInvalidTransition, nil)
	case errors.Is(err, domain.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(name+": "+err.Error(), ErrNotFound, nil)
	case errors.Is(err, domain.ErrConflict):
		return temporal.NewNonRetryableApplicationError(name+": "+err.Error(), ErrConflict, nil)
	case errors.Is(err, domain.ErrInvalid):
		return temporal.NewNonRetryableApplicationError(name+": "+err.Error(), ErrValidation, nil)
	}
	return err // retryable: the database may be back on the next attempt
}

// decode turns an action's arguments (already checked against its input
// schema) into v.
func decode(args map[string]any, v any) error {
	b, err := json.Marshal(args)
	if err != nil {
		return err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &domain.ValidationError{Record: "arguments", Fields: []domain.FieldError{{Field: "with", Message: err.Error()}}}
	}
	return nil
}
