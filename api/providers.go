package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"switchboard/api/webhook"
	"switchboard/domain"
	"switchboard/domain/crm"
)

// Provider endpoints: where SendGrid, Stripe and Slack report back about
// what the connectors sent them. POST /providers/<org>/<provider>, verified
// against the raw body with the organisation's secret of that provider:
//
//	sendgrid  sendgrid_webhook_key   (the event webhook's verification key)
//	stripe    stripe_webhook_secret  (the endpoint's signing secret, whsec_...)
//	slack     slack_signing_secret   (interactivity: buttons that decide tasks, slack.go)
//
// A delivery is answered 2xx only once everything it reports is recorded;
// recording is idempotent, so the provider's retries of a batch change
// nothing twice.
var providerSecrets = map[string]string{
	"sendgrid": "sendgrid_webhook_key",
	"stripe":   "stripe_webhook_secret",
	"slack":    "slack_signing_secret",
}

// ProviderAnswer is what a provider endpoint answers: how many of the
// reported events it recorded and how many it ignored (unknown messages,
// events it does not track, repeats).
type ProviderAnswer struct {
	Received int `json:"received"`
	Applied  int `json:"applied"`
	Ignored  int `json:"ignored"`
}

func (s *Server) provider(c *gin.Context) {
	org, name := c.Param("org"), c.Param("provider")
	secret, ok := providerSecrets[name]
	if !ok {
		writeJSONProblem(c, problem(http.StatusNotFound, ProbNotFound, "no provider endpoint at this address"))
		return
	}
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*s.opts.Timeout)
	defer cancel()
	body, ok := s.webhookBody(c)
	if !ok {
		return
	}
	if _, err := s.store.GetOrg(ctx, org); err != nil {
		if isNotFound(err) || errors.Is(err, domain.ErrInvalid) {
			writeJSONProblem(c, problem(http.StatusNotFound, ProbNotFound, "no provider endpoint at this address"))
			return
		}
		writeJSONProblem(c, retryable(storeErr(err, "organisation")))
		return
	}
	secrets, err := s.hookSecrets(ctx, org, secret)
	if err != nil {
		writeJSONProblem(c, retryable(err))
		return
	}
	err = webhook.Verify(webhook.Config{Scheme: name}, secrets, webhook.Request{Header: c.Request.Header, Query: c.Request.URL.Query(), Body: body, Now: time.Now()})
	if err != nil {
		writeJSONProblem(c, verifyProblem(err))
		return
	}
	var answer any
	switch name {
	case "sendgrid":
		answer, err = s.sendGridEvents(ctx, org, body)
	case "stripe":
		answer, err = s.stripeEvent(ctx, org, body)
	case "slack":
		answer, err = s.slackInteraction(ctx, org, body)
	default:
		err = problem(http.StatusNotFound, ProbNotFound, "no provider endpoint at this address")
	}
	if err != nil {
		var p *Problem
		if errors.As(err, &p) && p.Status < 500 {
			writeJSONProblem(c, p)
			return
		}
		s.opts.Logger.Error("provider events", "org", org, "provider", name, "error", err)
		writeJSONProblem(c, retryable(err))
		return
	}
	c.JSON(http.StatusOK, answer)
}

// sendGridStatuses maps SendGrid's event names to message statuses;
// deferred and the rest are not tracked (processed only confirms a message
// whose answer was lost).
var sendGridStatuses = map[string]string{
	"processed": "sent", "delivered": "delivered", "open": "opened", "click": "clicked", "bounce": "bounced", "dropped": "dropped",
	"spamreport": "complained", "unsubscribe": "unsubscribed", "group_unsubscribe": "unsubscribed",
}

// sendGridEvents records a batch of SendGrid's event webhook: each event
// names the message by the custom arg email.send gave it.
func (s *Server) sendGridEvents(ctx context.Context, org string, body []byte) (*ProviderAnswer, error) {
	var events []struct {
		Event   string `json:"event"`
		Message string `json:"sb_message"`
	}
	if err := json.Unmarshal(body, &events); err != nil {
		return nil, problem(http.StatusBadRequest, ProbBadRequest, "the body is not an array of SendGrid events: %v", err)
	}
	svc := &crm.Service{Store: s.store}
	a := &ProviderAnswer{Received: len(events)}
	for _, e := range events {
		status, ok := sendGridStatuses[e.Event]
		if !ok || e.Message == "" {
			a.Ignored++
			continue
		}
		moved, err := svc.RecordDelivery(ctx, "provider:sendgrid", org, e.Message, status)
		if isNotFound(err) {
			a.Ignored++ // not a message of this organisation
			continue
		}
		if err != nil {
			return nil, err
		}
		if moved {
			a.Applied++
		} else {
			a.Ignored++
		}
	}
	return a, nil
}

// stripeEvent records one Stripe event about a payment a stripe.* action
// asked for (it names the payment in its metadata): checkout completed
// and paid, or an invoice paid → paid; a payment intent failed, or an
// asynchronous checkout payment failed → failed. Other events, and events
// of objects this organisation did not create, are acknowledged and ignored.
func (s *Server) stripeEvent(ctx context.Context, org string, body []byte) (*ProviderAnswer, error) {
	var e struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			Object struct {
				Metadata         map[string]string `json:"metadata"`
				PaymentStatus    string            `json:"payment_status"`
				LastPaymentError *struct {
					Message string `json:"message"`
					Code    string `json:"code"`
				} `json:"last_payment_error"`
			} `json:"object"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &e); err != nil || e.Type == "" {
		return nil, problem(http.StatusBadRequest, ProbBadRequest, "the body is not a Stripe event")
	}
	a := &ProviderAnswer{Received: 1}
	obj := e.Data.Object
	status, failure := "", ""
	switch e.Type {
	case "checkout.session.completed":
		if obj.PaymentStatus == "paid" {
			status = "paid"
		}
	case "checkout.session.async_payment_succeeded", "invoice.paid":
		status = "paid"
	case "checkout.session.async_payment_failed":
		status, failure = "failed", "the payment failed"
	case "payment_intent.payment_failed":
		status, failure = "failed", "the payment failed"
		if le := obj.LastPaymentError; le != nil {
			failure = strings.TrimSpace(le.Code + ": " + le.Message)
		}
	}
	id := obj.Metadata["sb_payment"]
	if status == "" || id == "" || (obj.Metadata["sb_org"] != "" && obj.Metadata["sb_org"] != org) {
		a.Ignored++
		return a, nil
	}
	p, err := s.store.GetPayment(ctx, org, id)
	if isNotFound(err) {
		a.Ignored++ // not a payment of this organisation
		return a, nil
	} else if err != nil {
		return nil, err
	}
	if e.Type == "payment_intent.payment_failed" && p.Kind == "checkout" {
		// a declined card on the Checkout page: the payer may try another
		// in the same session; only the session's own outcome settles it
		a.Ignored++
		return a, nil
	}
	_, moved, err := (&crm.Service{Store: s.store}).SettlePayment(ctx, crm.Actor("provider:stripe"), org, id, status, failure)
	switch {
	case err != nil:
		// any error, not-found included (a record it touches), is retried
		return nil, err
	case moved:
		a.Applied++
	default:
		a.Ignored++
	}
	return a, nil
}
