package stripe_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	stripeact "switchboard/activities/stripe"
	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/store"
)

type fakeSecrets = activities.MapSecrets

// fakeStripe speaks Stripe's API as stripe-go uses it: form-encoded POSTs,
// bearer secret key, and Idempotency-Key replay (the same key answers the
// first answer again and creates nothing).
type fakeStripe struct {
	mu       sync.Mutex
	requests []stripeRequest
	created  map[string]int    // objects created, by kind
	replies  map[string][]byte // by idempotency key
	objects  map[string]any    // by id
	script   []func(http.ResponseWriter, *http.Request) bool
	n        int
}

type stripeRequest struct {
	Method, Path, Auth, IdempotencyKey string
	Form                               url.Values
}

func newFakeStripe() *fakeStripe {
	return &fakeStripe{created: map[string]int{}, replies: map[string][]byte{}, objects: map[string]any{}}
}

func (f *fakeStripe) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	_ = r.ParseForm()
	req := stripeRequest{Method: r.Method, Path: r.URL.Path, Auth: r.Header.Get("Authorization"), IdempotencyKey: r.Header.Get("Idempotency-Key"), Form: r.PostForm}
	f.mu.Lock()
	f.requests = append(f.requests, req)
	var step func(http.ResponseWriter, *http.Request) bool
	if len(f.script) > 0 {
		step, f.script = f.script[0], f.script[1:]
	}
	f.mu.Unlock()
	if step != nil && step(w, r) {
		return
	}
	w.Header().Set("Content-Type", "application/json")
	f.mu.Lock()
	defer f.mu.Unlock()
	if b, ok := f.replies[req.IdempotencyKey]; ok && req.IdempotencyKey != "" {
		w.Header().Set("Idempotent-Replayed", "true")
		_, _ = w.Write(b)
		return
	}
	var obj map[string]any
	f.n++
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions":
		id := fmt.Sprintf("cs_test_%d", f.n)
		obj = map[string]any{"id": id, "object": "checkout.session", "url": "https://checkout.stripe.test/c/pay/" + id, "payment_status": "unpaid",
			"status": "open", "mode": "payment", "metadata": meta(r.PostForm)}
		f.created["checkout"]++
	case r.Method == http.MethodPost && r.URL.Path == "/v1/customers":
		obj = map[string]any{"id": fmt.Sprintf("cus_%d", f.n), "object": "customer", "email": r.PostForm.Get("email")}
		f.created["customer"]++
	case r.Method == http.MethodPost && r.URL.Path == "/v1/invoices":
		obj = map[string]any{"id": fmt.Sprintf("in_%d", f.n), "object": "invoice", "status": "draft", "metadata": meta(r.PostForm)}
		f.created["invoice"]++
	case r.Method == http.MethodPost && r.URL.Path == "/v1/invoiceitems":
		obj = map[string]any{"id": fmt.Sprintf("ii_%d", f.n), "object": "invoiceitem"}
		f.created["invoiceitem"]++
	case r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/finalize"):
		id := strings.TrimSuffix(strings.TrimPrefix(r.URL.Path, "/v1/invoices/"), "/finalize")
		obj = map[string]any{"id": id, "object": "invoice", "status": "open", "hosted_invoice_url": "https://invoice.stripe.test/i/" + id}
		f.created["finalize"]++
	case r.Method == http.MethodGet && strings.HasPrefix(r.URL.Path, "/v1/checkout/sessions/"):
		id := strings.TrimPrefix(r.URL.Path, "/v1/checkout/sessions/")
		obj = map[string]any{"id": id, "object": "checkout.session", "payment_status": "paid", "status": "complete"}
	default:
		w.WriteHeader(http.StatusNotFound)
		_, _ = w.Write([]byte(`{"error": {"type": "invalid_request_error", "message": "Unrecognized request URL"}}`))
		return
	}
	b, _ := json.Marshal(obj)
	if req.IdempotencyKey != "" {
		f.replies[req.IdempotencyKey] = b
	}
	_, _ = w.Write(b)
}

func meta(form url.Values) map[string]string {
	m := map[string]string{}
	for k, v := range form {
		if strings.HasPrefix(k, "metadata[") {
			m[strings.TrimSuffix(strings.TrimPrefix(k, "metadata["), "]")] = v[0]
		}
	}
	return m
}

func (f *fakeStripe) sent() []stripeRequest {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]stripeRequest(nil), f.requests...)
}

func (f *fakeStripe) count(kind string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.created[kind]
}

type env struct {
	st     domain.Store
	org    string
	stripe *fakeStripe
	url    string
	creds  fakeSecrets
	dev    bool
}

func newEnv(t *testing.T) *env {
	st, err := store.Open(t.Context(), "sqlite::memory:", store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	o := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(t.Context(), o))
	f := newFakeStripe()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	return &env{st: st, org: o.ID, stripe: f, url: srv.URL, creds: fakeSecrets{o.ID + "/stripe_secret_key": "sk_test_123"}}
}

// run runs one action as step "pay" of run flow:<run> with Temporal's retries.
func (e *env) run(t *testing.T, run, action string, args map[string]any, attempts int32) (map[string]any, error) {
	var s testsuite.WorkflowTestSuite
	w := s.NewTestWorkflowEnvironment()
	w.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: e.org + "/flow:" + run})
	impls := stripeact.Implementations(stripeact.Options{Store: e.st, Secrets: e.creds, URL: e.url, PublicURL: "https://sb.example", Dev: e.dev})
	w.RegisterActivityWithOptions(impls[action], activity.RegisterOptions{Name: action})
	w.RegisterWorkflowWithOptions(func(ctx workflow.Context) (map[string]any, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{ActivityID: "pay", StartToCloseTimeout: 10 * time.Second,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: attempts}})
		var out map[string]any
		err := workflow.ExecuteActivity(ctx, action, args).Get(ctx, &out)
		return out, err
	}, workflow.RegisterOptions{Name: "flow"})
	w.ExecuteWorkflow("flow")
	require.True(t, w.IsWorkflowCompleted())
	if err := w.GetWorkflowError(); err != nil {
		return nil, err
	}
	var out map[string]any
	require.NoError(t, w.GetWorkflowResult(&out))
	return out, nil
}

// quote makes a customer, a deal and a quote of two lines: 2 × 1,500.00 at
// 19 % tax and 1 × 99.99 with 10 % off.
func (e *env) quote(t *testing.T) *domain.Quote {
	svc := &crm.Service{Store: e.st}
	c, err := svc.CreateCustomer(t.Context(), "user:test", &domain.Customer{OrgID: e.org, Name: "Ada Lovelace", Email: "ada@example.com"})
	require.NoError(t, err)
	o, err := svc.CreateOpportunity(t.Context(), "user:test", &domain.Opportunity{OrgID: e.org, CustomerID: c.ID, Name: "Engines",
		Amount: domain.Money{Currency: "EUR"}})
	require.NoError(t, err)
	q, err := svc.CreateQuote(t.Context(), "user:test", &domain.Quote{OrgID: e.org, OpportunityID: o.ID, Currency: "EUR",
		ValidUntil: time.Now().AddDate(0, 1, 0).Format(time.DateOnly),
		LineItems:  []domain.LineItem{{Product: "Engine", Quantity: 2, UnitPrice: 150000, TaxRateBps: 1900}, {Product: "Manual", Quantity: 1, UnitPrice: 9999, DiscountBps: 1000}}})
	require.NoError(t, err)
	return q
}

func cause(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "%v", err)
	return ae
}

func TestCheckoutOfAQuote(t *testing.T) {
	e := newEnv(t)
	q := e.quote(t)
	out, err := e.run(t, "1", "stripe.createPaymentLink", map[string]any{"quoteId": q.ID}, 3)
	require.NoError(t, err)
	require.Equal(t, "stripe", out["provider"])
	require.Equal(t, "open", out["status"])
	require.EqualValues(t, q.Totals.Total, out["amount"], "the quote's total")
	require.Equal(t, "EUR", out["currency"])
	require.True(t, strings.HasPrefix(out["url"].(string), "https://checkout.stripe.test/"), "%v", out["url"])

	reqs := e.stripe.sent()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "Bearer sk_test_123", r.Auth)
	require.NotEmpty(t, r.IdempotencyKey)
	require.Equal(t, "payment", r.Form.Get("mode"))
	require.Equal(t, "eur", r.Form.Get("line_items[0][price_data][currency]"))
	require.Equal(t, "357000", r.Form.Get("line_items[0][price_data][unit_amount]"), "2 × 1,500.00 + 19 %")
	require.Equal(t, "Engine × 2", r.Form.Get("line_items[0][price_data][product_data][name]"))
	require.Equal(t, "8999", r.Form.Get("line_items[1][price_data][unit_amount]"), "99.99 − 10 %, rounded half away from zero")
	require.Equal(t, out["paymentId"], r.Form.Get("metadata[sb_payment]"))
	require.Equal(t, out["paymentId"], r.Form.Get("payment_intent_data[metadata][sb_payment]"), "a failed payment intent names the payment too")
	require.Equal(t, "ada@example.com", r.Form.Get("customer_email"))
	var sum int64
	for _, li := range q.LineItems {
		tt, _ := domain.ComputeTotals([]domain.LineItem{li})
		sum += tt.Total
	}
	require.Equal(t, q.Totals.Total, sum, "Stripe charges exactly the quote's total")

	// the same step again: the recorded payment, no second request
	again, err := e.run(t, "1", "stripe.createPaymentLink", map[string]any{"quoteId": q.ID}, 3)
	require.NoError(t, err)
	require.Equal(t, out, again)
	require.Len(t, e.stripe.sent(), 1)
	// another step (another run): another idempotency key
	_, err = e.run(t, "2", "stripe.createPaymentLink", map[string]any{"quoteId": q.ID}, 3)
	require.NoError(t, err)
	reqs = e.stripe.sent()
	require.Len(t, reqs, 2)
	require.NotEqual(t, reqs[0].IdempotencyKey, reqs[1].IdempotencyKey)
}

// TestAnswerLostIsNotChargedTwice: Stripe created the session but the
// answer never reached the worker (the connection dropped — as if the
// worker died between Stripe accepting and the activity completing). The
// retry sends the same Idempotency-Key: Stripe answers the same session,
// and nothing is created twice.
func TestAnswerLostIsNotChargedTwice(t *testing.T) {
	e := newEnv(t)
	e.stripe.script = []func(http.ResponseWriter, *http.Request) bool{func(w http.ResponseWriter, r *http.Request) bool {
		// let the fake create it, then drop the connection before answering
		rec := httptest.NewRecorder()
		e.stripe.script = nil
		e.stripe.ServeHTTP(rec, r)
		conn, _, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		_ = conn.Close()
		return true
	}}
	out, err := e.run(t, "1", "stripe.createPaymentLink", map[string]any{"currency": "usd", "lineItems": []any{map[string]any{"product": "Seat", "quantity": 3, "unitPrice": 1200}}}, 3)
	require.NoError(t, err)
	reqs := e.stripe.sent()
	require.GreaterOrEqual(t, len(reqs), 3, "the dropped request (seen twice by the fake) and the retry")
	keys := map[string]bool{}
	for _, r := range reqs {
		keys[r.IdempotencyKey] = true
	}
	require.Len(t, keys, 1, "every attempt sent the same Idempotency-Key")
	require.Equal(t, 1, e.stripe.count("checkout"), "one checkout session")
	require.EqualValues(t, 3600, out["amount"])
	ps, err := e.st.ListPayments(t.Context(), e.org, domain.Page{})
	require.NoError(t, err)
	require.Len(t, ps, 1)
}

func TestInvoice(t *testing.T) {
	e := newEnv(t)
	q := e.quote(t)
	out, err := e.run(t, "1", "stripe.createInvoice", map[string]any{"quoteId": q.ID, "daysUntilDue": 14}, 3)
	require.NoError(t, err)
	require.Equal(t, "invoice", out["kind"])
	require.True(t, strings.HasPrefix(out["url"].(string), "https://invoice.stripe.test/i/in_"))
	require.Equal(t, 1, e.stripe.count("customer"))
	require.Equal(t, 1, e.stripe.count("invoice"))
	require.Equal(t, 2, e.stripe.count("invoiceitem"))
	require.Equal(t, 1, e.stripe.count("finalize"))
	var keys []string
	for _, r := range e.stripe.sent() {
		keys = append(keys, r.IdempotencyKey)
		if r.Path == "/v1/invoices" {
			require.Equal(t, "send_invoice", r.Form.Get("collection_method"))
			require.Equal(t, "14", r.Form.Get("days_until_due"))
			require.Equal(t, out["paymentId"], r.Form.Get("metadata[sb_payment]"))
		}
	}
	require.Len(t, keys, 5)
	seen := map[string]bool{}
	for _, k := range keys {
		require.False(t, seen[k], "each request of the step has its own key")
		seen[k] = true
	}
}

func TestStripeErrors(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		status    int
		body      string
		typ       string
		retryable bool
	}{
		{402, `{"error": {"type": "card_error", "code": "card_declined", "message": "Your card was declined."}}`, activities.ErrProviderRejected, false},
		{401, `{"error": {"type": "invalid_request_error", "message": "Invalid API Key provided: sk_test_***123"}}`, activities.ErrProviderAuth, false},
		{429, `{"error": {"type": "rate_limit_error", "message": "Too many requests"}}`, activities.ErrRateLimited, true},
		{500, `{"error": {"type": "api_error", "message": "Something went wrong"}}`, activities.ErrProviderUnavailable, true},
		{409, `{"error": {"type": "idempotency_error", "code": "idempotency_key_in_use", "message": "There is currently another in-progress request using this Idempotent Key"}}`,
			activities.ErrProviderUnavailable, true},
	} {
		e.stripe.script = []func(http.ResponseWriter, *http.Request) bool{func(w http.ResponseWriter, r *http.Request) bool {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(c.body))
			return true
		}}
		_, err := e.run(t, fmt.Sprint(c.status), "stripe.createPaymentLink", map[string]any{"currency": "eur",
			"lineItems": []any{map[string]any{"product": "Seat", "quantity": 1, "unitPrice": 100}}}, 1)
		ae := cause(t, err)
		require.Equal(t, c.typ, ae.Type(), "%d: %v", c.status, err)
		require.Equal(t, c.retryable, !ae.NonRetryable(), "%d", c.status)
		require.NotContains(t, err.Error(), "sk_test_123")
	}
	// a retryable failure is retried with the same key and then succeeds
	e.stripe.script = []func(http.ResponseWriter, *http.Request) bool{func(w http.ResponseWriter, r *http.Request) bool {
		w.WriteHeader(http.StatusServiceUnavailable)
		return true
	}}
	out, err := e.run(t, "retry", "stripe.createPaymentLink", map[string]any{"currency": "eur",
		"lineItems": []any{map[string]any{"product": "Seat", "quantity": 1, "unitPrice": 100}}}, 3)
	require.NoError(t, err)
	require.Equal(t, "open", out["status"])
}

func TestSandbox(t *testing.T) {
	e := newEnv(t)
	e.creds = fakeSecrets{}
	// in server mode, no key and no opt-in: not configured
	_, err := e.run(t, "0", "stripe.createPaymentLink", map[string]any{"currency": "eur", "lineItems": []any{map[string]any{"product": "x", "quantity": 1, "unitPrice": 1}}}, 1)
	ae := cause(t, err)
	require.Equal(t, activities.ErrNotConfigured, ae.Type())
	require.Contains(t, ae.Error(), "stripe_sandbox=true")
	e.creds = fakeSecrets{e.org + "/stripe_sandbox": "true"}
	q := e.quote(t)
	out, err := e.run(t, "1", "stripe.createPaymentLink", map[string]any{"quoteId": q.ID}, 3)
	require.NoError(t, err)
	require.Equal(t, "sandbox", out["provider"])
	require.Equal(t, "open", out["status"])
	require.Regexp(t, `^https://sb\.example/p/payments/[A-Za-z0-9_-]{43}$`, out["url"])
	require.Empty(t, e.stripe.sent(), "Stripe is not called")

	// paying emits payment.succeeded naming the run; a second report changes nothing
	svc := &crm.Service{Store: e.st}
	p, moved, err := svc.SettlePayment(t.Context(), "payer:sandbox", e.org, out["paymentId"].(string), "paid", "")
	require.NoError(t, err)
	require.True(t, moved)
	require.Equal(t, "paid", p.Status)
	_, moved, err = svc.SettlePayment(t.Context(), "payer:sandbox", e.org, p.ID, "paid", "")
	require.NoError(t, err)
	require.False(t, moved)
	evs, err := e.st.ListEvents(t.Context(), e.org, domain.Page{Limit: 100})
	require.NoError(t, err)
	n := 0
	for _, ev := range evs {
		if ev.Type == "payment.succeeded" {
			n++
			require.Contains(t, string(ev.Data), `"runId":"flow:1"`)
		}
	}
	require.Equal(t, 1, n)

	paidQuote, err := e.st.GetQuote(t.Context(), e.org, q.ID)
	require.NoError(t, err)
	require.NotNil(t, paidQuote.PaidAt, "the quote remembers it was paid")
	require.Equal(t, q.Version+1, paidQuote.Version)

	got, err := e.run(t, "2", "stripe.getPayment", map[string]any{"paymentId": p.ID}, 1)
	require.NoError(t, err)
	require.Equal(t, "paid", got["status"])
	cust, err := e.run(t, "3", "stripe.createCustomer", map[string]any{"email": "ada@example.com"}, 1)
	require.NoError(t, err)
	require.Equal(t, "sandbox", cust["provider"])
}

func TestValidation(t *testing.T) {
	e := newEnv(t)
	_, err := e.run(t, "1", "stripe.createPaymentLink", map[string]any{"currency": "EURO", "lineItems": []any{map[string]any{"product": "x", "quantity": 1, "unitPrice": 0}}}, 3)
	require.Equal(t, stripeact.ErrValidation, cause(t, err).Type())
	_, err = e.run(t, "2", "stripe.createPaymentLink", map[string]any{"quoteId": "nope"}, 3)
	require.Equal(t, stripeact.ErrNotFound, cause(t, err).Type())
	_, err = e.run(t, "3", "stripe.createPaymentLink", map[string]any{"currency": "EUR", "customerId": "nobody",
		"lineItems": []any{map[string]any{"product": "x", "quantity": 1, "unitPrice": 100}}}, 3)
	require.Equal(t, stripeact.ErrValidation, cause(t, err).Type(), "an unknown customer is refused before Stripe is asked")
	require.Empty(t, e.stripe.sent())
}

func TestGetPaymentRefreshesFromStripe(t *testing.T) {
	e := newEnv(t)
	out, err := e.run(t, "1", "stripe.createPaymentLink", map[string]any{"currency": "eur", "lineItems": []any{map[string]any{"product": "Seat", "quantity": 1, "unitPrice": 100}}}, 1)
	require.NoError(t, err)
	got, err := e.run(t, "2", "stripe.getPayment", map[string]any{"paymentId": out["paymentId"]}, 1)
	require.NoError(t, err)
	require.Equal(t, "paid", got["status"], "the session is paid at Stripe")
}

// TestContractPayment: a contract is paid as its quote; paying marks both.
func TestContractPayment(t *testing.T) {
	e := newEnv(t)
	e.creds, e.dev = fakeSecrets{}, true
	q := e.quote(t)
	svc := &crm.Service{Store: e.st}
	_, err := svc.SendQuote(t.Context(), "user:test", e.org, q.ID)
	require.NoError(t, err)
	_, err = svc.DecideQuote(t.Context(), "user:test", e.org, q.ID, domain.QuoteDecision{Accepted: true, Name: "Ada Lovelace", Via: "api"})
	require.NoError(t, err)
	k, err := svc.CreateContract(t.Context(), "user:test", &domain.Contract{OrgID: e.org, QuoteID: q.ID})
	require.NoError(t, err)

	out, err := e.run(t, "1", "stripe.createPaymentLink", map[string]any{"contractId": k.ID}, 1)
	require.NoError(t, err)
	require.Equal(t, k.ID, out["contractId"])
	require.Equal(t, q.ID, out["quoteId"])
	require.EqualValues(t, q.Totals.Total, out["amount"])
	_, moved, err := svc.SettlePayment(t.Context(), "payer:sandbox", e.org, out["paymentId"].(string), "paid", "")
	require.NoError(t, err)
	require.True(t, moved)
	paid, err := e.st.GetContract(t.Context(), e.org, k.ID)
	require.NoError(t, err)
	require.NotNil(t, paid.PaidAt)
	pq, err := e.st.GetQuote(t.Context(), e.org, q.ID)
	require.NoError(t, err)
	require.NotNil(t, pq.PaidAt)

	// a void contract is not paid
	_, err = svc.VoidContract(t.Context(), "user:test", e.org, k.ID, "replaced")
	require.NoError(t, err)
	_, err = e.run(t, "2", "stripe.createPaymentLink", map[string]any{"contractId": k.ID}, 1)
	require.Equal(t, stripeact.ErrInvalidTransition, cause(t, err).Type())
}
