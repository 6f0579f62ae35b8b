package stripe

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	stripe "github.com/stripe/stripe-go/v76"
	"github.com/stripe/stripe-go/v76/client"
	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

// Settings (organisation secrets) the actions read.
const (
	// SettingSecretKey is the Stripe secret key (sk_live_… / sk_test_… or a
	// restricted rk_… key); without it the actions use the sandbox.
	SettingSecretKey = "stripe_secret_key"
)

// Error types.
const (
	ErrValidation = "ValidationError"
	ErrNotFound   = "NotFound"
	// ErrInvalidTransition: the quote cannot be paid (rejected, expired).
	ErrInvalidTransition = "InvalidTransition"
)

// Metadata keys every Stripe object the actions create carries; the
// webhook finds the payment by them.
const (
	MetaOrg     = "sb_org"
	MetaPayment = "sb_payment"
	MetaRun     = "sb_run"
)

// DefaultURL is Stripe's API.
const DefaultURL = "https://api.stripe.com"

// Options configure the connector.
type Options struct {
	Store   domain.Store
	Secrets activities.Secrets
	// URL is Stripe's API base; default DefaultURL (tests point it at a
	// local server).
	URL string
	// PublicURL is the base of the sandbox checkout links and of the page
	// Stripe returns the payer to.
	PublicURL string
	// HTTPClient calls Stripe; nil: stripe-go's default.
	HTTPClient *http.Client
	// Dev lets every organisation without a Stripe key use the sandbox
	// (`switchboard dev`). Otherwise an organisation opts in with the
	// secret stripe_sandbox=true: in production a forgotten key must not
	// turn payment links into pages that take "payments" without a card.
	Dev bool
}

// SettingSandbox opts an organisation without a Stripe key in to the sandbox.
const SettingSandbox = "stripe_sandbox"

type connector struct {
	o   Options
	svc *crm.Service
}

// Actions declares the stripe.* actions.
func Actions() []dsl.Action {
	errs := []string{ErrValidation, ErrNotFound, activities.ErrRateLimited, activities.ErrProviderUnavailable, activities.ErrProviderAuth,
		activities.ErrProviderRejected, activities.NoRecords}
	payment := `{"type": "object", "additionalProperties": false, "required": ["paymentId", "status", "provider", "amount", "currency"], "properties": {
		"paymentId": {"type": "string"}, "status": {"enum": ["creating", "open", "paid", "failed", "canceled"]}, "provider": {"enum": ["sandbox", "stripe"]},
		"kind": {"enum": ["checkout", "invoice"]}, "url": {"type": "string"}, "providerId": {"type": "string"}, "amount": {"type": "integer"},
		"currency": {"type": "string"}, "quoteId": {"type": "string"}, "contractId": {"type": "string"}, "customerId": {"type": "string"}, "failure": {"type": "string"}}}`
	items := `"lineItems": {"type": "array", "minItems": 1, "items": {"type": "object", "required": ["product", "quantity", "unitPrice"], "additionalProperties": false,
		"properties": {"product": {"type": "string", "minLength": 1}, "description": {"type": "string"}, "quantity": {"type": "integer", "minimum": 1},
		"unitPrice": {"type": "integer", "minimum": 0}, "discountBps": {"type": "integer", "minimum": 0, "maximum": 10000},
		"taxRateBps": {"type": "integer", "minimum": 0, "maximum": 10000}}}},
		"currency": {"type": "string", "pattern": "^[A-Za-z]{3}$"}, "quoteId": {"type": "string"}, "contractId": {"type": "string"}, "customerId": {"type": "string"},
		"email": {"type": "string"}, "description": {"type": "string", "maxLength": 500}`
	return []dsl.Action{
		{
			Name: "stripe.createCustomer", Title: "Create a Stripe customer",
			Description: "Creates the Stripe customer of a customer record (`customerId`) or of `email`/`name`; once per step (Stripe " +
				"Idempotency-Key). Without the secret stripe_secret_key: a sandbox customer id.",
			Input: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {"customerId": {"type": "string"},
				"email": {"type": "string"}, "name": {"type": "string"}}}`),
			Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["id", "provider"], "properties": {
				"id": {"type": "string"}, "provider": {"enum": ["sandbox", "stripe"]}}}`),
			Errors: errs,
		},
		{
			Name: "stripe.createPaymentLink", Title: "Ask for a payment (checkout link)",
			Description: "Records a payment of a contract (`contractId`: as its quote), a quote (`quoteId`: its line items, currency and customer) or of `lineItems` + `currency`, and " +
				"returns the link where it is paid: a Stripe Checkout page, or without the secret stripe_secret_key the platform's sandbox " +
				"checkout page. Paying emits `payment.succeeded` (failing `payment.failed`), whose data names this run. Once per step.",
			Input:  json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {` + items + `, "successUrl": {"type": "string"}}}`),
			Output: json.RawMessage(payment),
			Errors: append(errs, ErrInvalidTransition),
		},
		{
			Name: "stripe.createInvoice", Title: "Send an invoice",
			Description: "Records a payment of a quote or of line items and issues a Stripe invoice for it (one invoice item per line, " +
				"finalised; the payer pays on Stripe's hosted invoice page), or without the secret stripe_secret_key a sandbox invoice " +
				"paid on the platform's sandbox page. `invoice.paid` emits `payment.succeeded`. Once per step.",
			Input: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {` + items + `,
				"stripeCustomerId": {"type": "string"}, "daysUntilDue": {"type": "integer", "minimum": 0, "maximum": 365}}}`),
			Output: json.RawMessage(payment),
			Errors: append(errs, ErrInvalidTransition),
		},
		{
			Name: "stripe.getPayment", Title: "Get a payment",
			Description: "Reads a payment (`paymentId`); an open Stripe payment is refreshed from Stripe first.",
			Input:       json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["paymentId"], "properties": {"paymentId": {"type": "string"}}}`),
			Output:      json.RawMessage(payment),
			Errors:      errs,
		},
	}
}

// Implementations returns the actions' implementations by name.
func Implementations(o Options) map[string]activities.Func {
	if o.URL == "" {
		o.URL = DefaultURL
	}
	c := &connector{o: o, svc: &crm.Service{Store: o.Store}}
	return map[string]activities.Func{
		"stripe.createCustomer": c.createCustomer,
		"stripe.createPaymentLink": func(ctx context.Context, args map[string]any) (any, error) {
			return c.createPayment(ctx, "checkout", args)
		},
		"stripe.createInvoice": func(ctx context.Context, args map[string]any) (any, error) {
			return c.createPayment(ctx, "invoice", args)
		},
		"stripe.getPayment": c.getPayment,
	}
}

// begin resolves the call and the organisation's Stripe client (nil: the
// sandbox).
func (c *connector) begin(ctx context.Context, action string) (activities.Call, *client.API, error) {
	call, err := activities.PlatformCall(ctx, action, c.o.Store != nil)
	if err != nil {
		return call, nil, err
	}
	key, err := activities.Setting(ctx, c.o.Secrets, call.Org, SettingSecretKey)
	if err != nil {
		return call, nil, err
	}
	if key == "" {
		if action == "stripe.getPayment" || c.o.Dev {
			return call, nil, nil
		}
		opt, err := activities.Setting(ctx, c.o.Secrets, call.Org, SettingSandbox)
		if err != nil {
			return call, nil, err
		}
		if opt != "true" && opt != "on" {
			return call, nil, temporal.NewNonRetryableApplicationError(action+": no Stripe key: set the secret "+SettingSecretKey+
				" (or "+SettingSandbox+"=true to take payments on the platform's sandbox page, where no card is charged)", activities.ErrNotConfigured, nil)
		}
		return call, nil, nil
	}
	cfg := &stripe.BackendConfig{URL: stripe.String(c.o.URL), HTTPClient: c.o.HTTPClient,
		// Temporal retries, after the provider's delay; the SDK must not
		MaxNetworkRetries: stripe.Int64(0),
		LeveledLogger:     &stripe.LeveledLogger{Level: stripe.LevelNull}}
	api := client.New(key, &stripe.Backends{API: stripe.GetBackendWithConfig(stripe.APIBackend, cfg),
		Connect: stripe.GetBackendWithConfig(stripe.ConnectBackend, cfg), Uploads: stripe.GetBackendWithConfig(stripe.UploadsBackend, cfg)})
	return call, api, nil
}

// idempotencyKey is the Stripe Idempotency-Key of one request of a step:
// the same in every attempt of the step, different for each request
// (part) and for every other step and run.
func idempotencyKey(call activities.Call, part string) string {
	h := sha256.Sum256([]byte(call.Org + "\x00" + call.Key + "\x00" + part))
	return "sb_" + hex.EncodeToString(h[:20])
}

func (c *connector) createCustomer(ctx context.Context, args map[string]any) (any, error) {
	call, api, err := c.begin(ctx, "stripe.createCustomer")
	if err != nil {
		return nil, err
	}
	email, _ := args["email"].(string)
	name, _ := args["name"].(string)
	custID, _ := args["customerId"].(string)
	if custID != "" {
		cust, err := c.o.Store.GetCustomer(ctx, call.Org, custID)
		if err != nil {
			return nil, recordErr("stripe.createCustomer", err)
		}
		email, name = cmpOr(email, cust.Email), cmpOr(name, cust.Name)
	}
	if email == "" && name == "" {
		return nil, temporal.NewNonRetryableApplicationError("stripe.createCustomer: give customerId, email or name", ErrValidation, nil)
	}
	if api == nil {
		h := sha256.Sum256([]byte(call.Org + "\x00" + strings.ToLower(email) + "\x00" + name))
		return map[string]any{"id": "cus_sandbox_" + hex.EncodeToString(h[:8]), "provider": "sandbox"}, nil
	}
	p := &stripe.CustomerParams{Email: optional(email), Name: optional(name)}
	p.Context = ctx
	p.SetIdempotencyKey(idempotencyKey(call, "customer"))
	p.AddMetadata(MetaOrg, call.Org)
	if custID != "" {
		p.AddMetadata("sb_customer", custID)
	}
	cust, err := api.Customers.New(p)
	if err != nil {
		return nil, stripeErr(ctx, "stripe.createCustomer", err)
	}
	return map[string]any{"id": cust.ID, "provider": "stripe"}, nil
}

func (c *connector) createPayment(ctx context.Context, kind string, args map[string]any) (any, error) {
	action := map[string]string{"checkout": "stripe.createPaymentLink", "invoice": "stripe.createInvoice"}[kind]
	call, api, err := c.begin(ctx, action)
	if err != nil {
		return nil, err
	}
	var in struct {
		LineItems        []domain.LineItem `json:"lineItems"`
		Currency         string            `json:"currency"`
		QuoteID          string            `json:"quoteId"`
		ContractID       string            `json:"contractId"`
		CustomerID       string            `json:"customerId"`
		Email            string            `json:"email"`
		Description      string            `json:"description"`
		SuccessURL       string            `json:"successUrl"`
		StripeCustomerID string            `json:"stripeCustomerId"`
		DaysUntilDue     *int64            `json:"daysUntilDue"`
	}
	b, _ := json.Marshal(args)
	if err := json.Unmarshal(b, &in); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(action+": "+err.Error(), ErrValidation, nil)
	}
	if in.QuoteID == "" && in.ContractID == "" && len(in.LineItems) == 0 {
		return nil, temporal.NewNonRetryableApplicationError(action+": give contractId, quoteId, or lineItems and currency", ErrValidation, nil)
	}
	provider := "sandbox"
	if api != nil {
		provider = "stripe"
	}
	actor := crm.Actor("run:" + call.Run)
	p, err := c.svc.CreatePayment(crm.WithIdempotencyKey(ctx, call.Key), actor, &domain.Payment{OrgID: call.Org, Provider: provider, Kind: kind,
		LineItems: in.LineItems, Currency: in.Currency, QuoteID: in.QuoteID, ContractID: in.ContractID, CustomerID: in.CustomerID, Email: in.Email,
		Description: in.Description, StepID: call.Step})
	if err != nil {
		return nil, recordErr(action, err)
	}
	// a retried step gets the payment as first recorded: what became of it?
	if p, err = c.o.Store.GetPayment(ctx, call.Org, p.ID); err != nil {
		return nil, err
	}
	if p.Status == "creating" {
		switch {
		case p.Provider == "sandbox":
			p, err = c.svc.OpenSandboxPayment(ctx, actor, call.Org, p.ID, c.o.PublicURL)
		case api == nil:
			// the key was removed after the payment was recorded with Stripe
			return nil, temporal.NewNonRetryableApplicationError(action+": the payment was begun with Stripe but the secret "+SettingSecretKey+
				" is no longer set", activities.ErrNotConfigured, nil)
		case kind == "checkout":
			p, err = c.checkout(ctx, api, call, actor, p, in.SuccessURL)
		default:
			p, err = c.invoice(ctx, api, call, actor, p, in.StripeCustomerID, in.DaysUntilDue)
		}
		if err != nil {
			return nil, err
		}
	}
	return view(p), nil
}

// checkout creates the Stripe Checkout Session of p: one line per quote
// line, priced at the line's total (discount and tax included, rounded as
// the quote rounds), so Stripe charges exactly the recorded amount.
func (c *connector) checkout(ctx context.Context, api *client.API, call activities.Call, actor crm.Actor, p *domain.Payment, successURL string) (*domain.Payment, error) {
	base := strings.TrimRight(c.o.PublicURL, "/")
	params := &stripe.CheckoutSessionParams{
		Mode:              stripe.String(string(stripe.CheckoutSessionModePayment)),
		SuccessURL:        stripe.String(cmpOr(successURL, base+"/p/payments/done")),
		ClientReferenceID: stripe.String(p.ID),
		CustomerEmail:     optional(p.Email),
		PaymentIntentData: &stripe.CheckoutSessionPaymentIntentDataParams{Description: optional(p.Description),
			Metadata: map[string]string{MetaOrg: call.Org, MetaPayment: p.ID, MetaRun: call.Run}},
	}
	for _, li := range p.LineItems {
		t, _ := domain.ComputeTotals([]domain.LineItem{li})
		params.LineItems = append(params.LineItems, &stripe.CheckoutSessionLineItemParams{Quantity: stripe.Int64(1),
			PriceData: &stripe.CheckoutSessionLineItemPriceDataParams{Currency: stripe.String(strings.ToLower(p.Currency)), UnitAmount: stripe.Int64(t.Total),
				ProductData: &stripe.CheckoutSessionLineItemPriceDataProductDataParams{Name: stripe.String(lineName(li)), Description: optional(li.Description)}}})
	}
	params.Context = ctx
	params.SetIdempotencyKey(idempotencyKey(call, "checkout"))
	params.AddMetadata(MetaOrg, call.Org)
	params.AddMetadata(MetaPayment, p.ID)
	params.AddMetadata(MetaRun, call.Run)
	s, err := api.CheckoutSessions.New(params)
	if err != nil {
		return nil, stripeErr(ctx, "stripe.createPaymentLink", err)
	}
	return c.svc.OpenPayment(ctx, actor, call.Org, p.ID, s.ID, s.URL)
}

// invoice issues p as a Stripe invoice: a draft, an invoice item per line,
// finalised; each request with its own idempotency key, so a retry picks
// up where the last attempt stopped.
func (c *connector) invoice(ctx context.Context, api *client.API, call activities.Call, actor crm.Actor, p *domain.Payment, customer string, days *int64) (*domain.Payment, error) {
	const action = "stripe.createInvoice"
	if customer == "" {
		cp := &stripe.CustomerParams{Email: optional(p.Email)}
		cp.Context = ctx
		cp.SetIdempotencyKey(idempotencyKey(call, "customer"))
		cp.AddMetadata(MetaOrg, call.Org)
		if p.CustomerID != "" {
			if cust, err := c.o.Store.GetCustomer(ctx, call.Org, p.CustomerID); err == nil {
				cp.Name = optional(cust.Name)
			}
			cp.AddMetadata("sb_customer", p.CustomerID)
		}
		cust, err := api.Customers.New(cp)
		if err != nil {
			return nil, stripeErr(ctx, action, err)
		}
		customer = cust.ID
	}
	if days == nil {
		days = stripe.Int64(30)
	}
	ip := &stripe.InvoiceParams{Customer: stripe.String(customer), Currency: stripe.String(strings.ToLower(p.Currency)),
		CollectionMethod: stripe.String(string(stripe.InvoiceCollectionMethodSendInvoice)), DaysUntilDue: days,
		Description: optional(p.Description), AutoAdvance: stripe.Bool(false),
		PendingInvoiceItemsBehavior: stripe.String("exclude")}
	ip.Context = ctx
	ip.SetIdempotencyKey(idempotencyKey(call, "invoice"))
	ip.AddMetadata(MetaOrg, call.Org)
	ip.AddMetadata(MetaPayment, p.ID)
	ip.AddMetadata(MetaRun, call.Run)
	inv, err := api.Invoices.New(ip)
	if err != nil {
		return nil, stripeErr(ctx, action, err)
	}
	for i, li := range p.LineItems {
		t, _ := domain.ComputeTotals([]domain.LineItem{li})
		ii := &stripe.InvoiceItemParams{Customer: stripe.String(customer), Invoice: stripe.String(inv.ID), Amount: stripe.Int64(t.Total),
			Currency: stripe.String(strings.ToLower(p.Currency)), Description: stripe.String(lineName(li))}
		ii.Context = ctx
		ii.SetIdempotencyKey(idempotencyKey(call, fmt.Sprintf("item:%d", i)))
		if _, err := api.InvoiceItems.New(ii); err != nil {
			return nil, stripeErr(ctx, action, err)
		}
	}
	fp := &stripe.InvoiceFinalizeInvoiceParams{}
	fp.Context = ctx
	fp.SetIdempotencyKey(idempotencyKey(call, "finalize"))
	inv, err = api.Invoices.FinalizeInvoice(inv.ID, fp)
	if err != nil {
		return nil, stripeErr(ctx, action, err)
	}
	return c.svc.OpenPayment(ctx, actor, call.Org, p.ID, inv.ID, inv.HostedInvoiceURL)
}

func (c *connector) getPayment(ctx context.Context, args map[string]any) (any, error) {
	call, api, err := c.begin(ctx, "stripe.getPayment")
	if err != nil {
		return nil, err
	}
	id, _ := args["paymentId"].(string)
	p, err := c.o.Store.GetPayment(ctx, call.Org, id)
	if err != nil {
		return nil, recordErr("stripe.getPayment", err)
	}
	if p.Provider == "stripe" && p.Status == "open" && api != nil {
		paid := false
		switch p.Kind {
		case "checkout":
			gp := &stripe.CheckoutSessionParams{}
			gp.Context = ctx
			s, err := api.CheckoutSessions.Get(p.ProviderID, gp)
			if err != nil {
				return nil, stripeErr(ctx, "stripe.getPayment", err)
			}
			paid = s.PaymentStatus == stripe.CheckoutSessionPaymentStatusPaid
		case "invoice":
			gp := &stripe.InvoiceParams{}
			gp.Context = ctx
			inv, err := api.Invoices.Get(p.ProviderID, gp)
			if err != nil {
				return nil, stripeErr(ctx, "stripe.getPayment", err)
			}
			paid = inv.Status == stripe.InvoiceStatusPaid
		}
		if paid {
			if p, _, err = c.svc.SettlePayment(ctx, crm.Actor("run:"+call.Run), call.Org, p.ID, "paid", ""); err != nil {
				return nil, err
			}
		}
	}
	return view(p), nil
}

func view(p *domain.Payment) map[string]any {
	out := map[string]any{"paymentId": p.ID, "status": p.Status, "provider": p.Provider, "kind": p.Kind, "amount": p.Amount, "currency": p.Currency}
	for k, v := range map[string]string{"url": p.URL, "providerId": p.ProviderID, "quoteId": p.QuoteID, "contractId": p.ContractID,
		"customerId": p.CustomerID, "failure": p.Failure} {
		if v != "" {
			out[k] = v
		}
	}
	return out
}

func lineName(li domain.LineItem) string {
	if li.Quantity == 1 {
		return li.Product
	}
	return fmt.Sprintf("%s × %d", li.Product, li.Quantity)
}

// stripeErr types a stripe-go error: Stripe's answer by its HTTP status
// (its message carries no credential), else a network failure — retried
// either way safely, since every creating request has its idempotency key.
func stripeErr(ctx context.Context, action string, err error) error {
	var se *stripe.Error
	if errors.As(err, &se) && se.HTTPStatusCode != 0 {
		detail := se.Msg
		if se.Code != "" {
			detail = string(se.Code) + ": " + detail
		}
		switch se.HTTPStatusCode {
		case http.StatusConflict:
			// idempotency_key_in_use: the same request of an earlier
			// attempt is still being processed; its answer will be replayed
			return temporal.NewApplicationError(fmt.Sprintf("%s: Stripe is still processing this step's earlier request (409): %s", action, detail),
				activities.ErrProviderUnavailable)
		case http.StatusUnauthorized, http.StatusForbidden:
			// Stripe's message quotes part of the key
			detail = "the secret stripe_secret_key was refused (wrong, revoked, or lacking a permission)"
		}
		return activities.HTTPFailure(action, "Stripe", se.HTTPStatusCode, nil, detail)
	}
	return activities.NetworkFailure(ctx, action, "Stripe", err)
}

// recordErr types the errors of the records.
func recordErr(action string, err error) error {
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		return temporal.NewNonRetryableApplicationError(action+": "+ve.Error(), ErrValidation, nil, ve.Fields)
	case errors.Is(err, domain.ErrNotFound):
		return temporal.NewNonRetryableApplicationError(action+": "+err.Error(), ErrNotFound, nil)
	case errors.Is(err, domain.ErrInvalidTransition):
		return temporal.NewNonRetryableApplicationError(action+": "+err.Error(), ErrInvalidTransition, nil)
	}
	return err
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return stripe.String(s)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}
