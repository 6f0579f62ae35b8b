package devserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"switchboard/activities/catalog"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/store"
	"switchboard/workers/platform"
	"switchboard/workflows"
)

type orgSecrets map[string]string

func (s orgSecrets) Secret(_ context.Context, org, name string) (string, error) {
	if v, ok := s[org+"/"+name]; ok {
		return v, nil
	}
	return "", domain.ErrNotFound
}

// TestWorkerStoppedAfterStripeAccepted: the worker running a Stripe step
// is stopped after Stripe created the checkout session and before the
// activity could complete (Stripe's answer never reaches it). Another
// worker retries the step: it sends the same Idempotency-Key, so Stripe
// creates nothing more, and the run finishes with the one session.
func TestWorkerStoppedAfterStripeAccepted(t *testing.T) {
	ctx := t.Context()
	c := testServer(ctx, t)
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "sb.db"), store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	org := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(ctx, org))

	// Stripe: sessions by idempotency key, as Stripe replays them
	var (
		mu       sync.Mutex
		sessions = map[string]string{}
		requests int
		stopA    = make(chan struct{})
		stopped  = make(chan struct{})
	)
	stripe := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		key := r.Header.Get("Idempotency-Key")
		mu.Lock()
		requests++
		first := requests == 1
		id, ok := sessions[key]
		if !ok {
			id = fmt.Sprintf("cs_test_%d", len(sessions)+1)
			sessions[key] = id
		}
		mu.Unlock()
		if first {
			// accepted: now the worker goes away before it hears back
			close(stopA)
			<-stopped
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "checkout.session", "url": "https://checkout.stripe.test/" + id})
	}))
	defer stripe.Close()

	opts := func() platform.Options {
		return platform.Options{Client: c, Store: st, TaskQueue: "crash", Worker: worker.Options{WorkerStopTimeout: 200 * time.Millisecond},
			Catalog: catalog.Options{Secrets: orgSecrets{org.ID + "/stripe_secret_key": "sk_test_crash"}, Providers: catalog.Providers{Stripe: stripe.URL}}}
	}
	a, err := platform.New(opts())
	require.NoError(t, err)
	require.NoError(t, a.Start())

	src := []byte(`switchboard: v1
name: crash-pay
steps:
  - id: link
    call: stripe.createPaymentLink
    retry: {initialInterval: 100ms}
    with: {currency: EUR, lineItems: [{product: Seat, quantity: 1, unitPrice: 500}]}
output: ${ steps.link.output }
`)
	p, diags := dsl.Compile("crash-pay.yaml", src, dsl.Options{Registry: catalog.Registry()})
	require.Empty(t, diags)
	p.Steps[0].Call.Timeout = dsl.Duration(3 * time.Second) // a lost attempt is retried after 3s, not a minute
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: org.ID + "/crash-pay:1", TaskQueue: "crash"},
		workflows.WorkflowName, workflows.RunInput{Plan: p, Meta: workflows.RunMeta{ID: "crash-pay:1"}})
	require.NoError(t, err)

	select {
	case <-stopA:
	case <-time.After(30 * time.Second):
		t.Fatal("the step never reached Stripe")
	}
	a.Stop() // the worker goes away with the activity in flight
	close(stopped)

	b, err := platform.New(opts())
	require.NoError(t, err)
	require.NoError(t, b.Start())
	defer b.Stop()

	var out map[string]any
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, run.Get(wctx, &out))
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, requests, 2, "the step was sent again after the worker went away")
	require.Len(t, sessions, 1, "every attempt sent the same Idempotency-Key: one checkout session")
	require.Equal(t, "open", out["status"])
	require.Equal(t, "https://checkout.stripe.test/cs_test_1", out["url"])
	ps, err := st.ListPayments(ctx, org.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, ps, 1, "one payment recorded")
}

// TestWorkerStoppedAfterSendGridAccepted: the same for an email. SendGrid
// takes no idempotency key: the message ledger row written before the send
// makes the retry on another worker mark it unconfirmed instead of sending
// it again — one email, and the run goes on.
func TestWorkerStoppedAfterSendGridAccepted(t *testing.T) {
	ctx := t.Context()
	c := testServer(ctx, t)
	st, err := store.Open(ctx, "sqlite:"+filepath.Join(t.TempDir(), "sb.db"), store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	org := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(ctx, org))

	var (
		mu      sync.Mutex
		sends   int
		stopA   = make(chan struct{})
		stopped = make(chan struct{})
	)
	sendgrid := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sends++
		first := sends == 1
		mu.Unlock()
		if first {
			close(stopA)
			<-stopped
			if conn, _, err := w.(http.Hijacker).Hijack(); err == nil {
				_ = conn.Close()
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sendgrid.Close()
	opts := func() platform.Options {
		return platform.Options{Client: c, Store: st, TaskQueue: "crash-mail", Worker: worker.Options{WorkerStopTimeout: 200 * time.Millisecond},
			Catalog: catalog.Options{Providers: catalog.Providers{SendGrid: sendgrid.URL},
				Secrets: orgSecrets{org.ID + "/sendgrid_api_key": "SG.crash", org.ID + "/email_from": "sales@acme.test"}}}
	}
	a, err := platform.New(opts())
	require.NoError(t, err)
	require.NoError(t, a.Start())

	src := []byte(`switchboard: v1
name: crash-mail
steps:
  - id: mail
    call: email.send
    retry: {initialInterval: 100ms}
    with: {to: ada@example.com, subject: Your quote, text: Hello}
output: ${ steps.mail.output }
`)
	p, diags := dsl.Compile("crash-mail.yaml", src, dsl.Options{Registry: catalog.Registry()})
	require.Empty(t, diags)
	p.Steps[0].Call.Timeout = dsl.Duration(3 * time.Second)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: org.ID + "/crash-mail:1", TaskQueue: "crash-mail"},
		workflows.WorkflowName, workflows.RunInput{Plan: p, Meta: workflows.RunMeta{ID: "crash-mail:1"}})
	require.NoError(t, err)
	select {
	case <-stopA:
	case <-time.After(30 * time.Second):
		t.Fatal("the step never reached SendGrid")
	}
	a.Stop()
	close(stopped)
	b, err := platform.New(opts())
	require.NoError(t, err)
	require.NoError(t, b.Start())
	defer b.Stop()

	var out map[string]any
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, run.Get(wctx, &out))
	mu.Lock()
	require.Equal(t, 1, sends, "never sent twice")
	mu.Unlock()
	require.Equal(t, "unconfirmed", out["status"])
	ms, err := st.ListOutbox(ctx, org.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Equal(t, "unconfirmed", ms[0].Status)
}
