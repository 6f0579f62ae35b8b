package devserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"switchboard/activities"
	"switchboard/activities/catalog"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/store"
	"switchboard/workers/devserver"
	"switchboard/workers/platform"
	"switchboard/workflows"
)

// The crash tests run the first worker as a separate process (this test
// binary, re-executed with SB_CRASH_WORKER set) and kill it with SIGKILL
// after the provider accepted the request and before the activity could
// complete; a second worker, in the test, retries the step.

func TestMain(m *testing.M) {
	if os.Getenv("SB_CRASH_WORKER") != "" {
		if err := crashWorker(); err != nil {
			fmt.Fprintln(os.Stderr, "crash worker:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

type orgSecrets = activities.MapSecrets

// crashSetup is what both workers need: where Temporal and the store are,
// the organisation, its secrets and the provider stand-in.
type crashSetup struct {
	Temporal, DB, Queue, Org, Provider string
	Secrets                            orgSecrets
}

func (cs crashSetup) worker(ctx context.Context) (func(), error) {
	st, err := store.Open(ctx, cs.DB, store.Options{})
	if err != nil {
		return nil, err
	}
	c, err := client.Dial(client.Options{HostPort: cs.Temporal})
	if err != nil {
		return nil, err
	}
	w, err := platform.New(platform.Options{Client: c, Store: st, TaskQueue: cs.Queue,
		Catalog: catalog.Options{Secrets: cs.Secrets, Providers: catalog.Providers{Stripe: cs.Provider, SendGrid: cs.Provider}}})
	if err != nil {
		return nil, err
	}
	if err := w.Start(); err != nil {
		return nil, err
	}
	return func() { w.Stop(); c.Close(); _ = st.Close() }, nil
}

// crashWorker is the process that gets killed: it works until it is.
func crashWorker() error {
	var cs crashSetup
	if err := json.Unmarshal([]byte(os.Getenv("SB_CRASH_WORKER")), &cs); err != nil {
		return err
	}
	stop, err := cs.worker(context.Background())
	if err != nil {
		return err
	}
	defer stop()
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, os.Interrupt)
	<-sig
	return nil
}

// crashRun starts src as a run of the organisation on a worker process,
// SIGKILLs that process once accepted is closed (the provider took the
// request), then runs a second worker and returns the run's output.
func crashRun(t *testing.T, cs crashSetup, src string, accepted <-chan struct{}) map[string]any {
	ctx := t.Context()
	srv, err := devserver.Start(ctx, devserver.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	cs.Temporal = srv.Address
	c, err := srv.Client(client.Options{})
	require.NoError(t, err)
	t.Cleanup(c.Close)

	env, _ := json.Marshal(cs)
	proc := exec.Command(os.Args[0], "-test.run=^$")
	proc.Env = append(os.Environ(), "SB_CRASH_WORKER="+string(env))
	proc.Stderr = os.Stderr
	require.NoError(t, proc.Start())
	t.Cleanup(func() { _ = proc.Process.Kill(); _ = proc.Wait() })

	p, diags := dsl.Compile("crash.yaml", []byte(src), dsl.Options{Registry: catalog.Registry()})
	require.Empty(t, diags)
	p.Steps[0].Call.Timeout = dsl.Duration(3 * time.Second) // a lost attempt is retried after 3s, not a minute
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: cs.Org + "/" + p.Name + ":1", TaskQueue: cs.Queue},
		workflows.WorkflowName, workflows.RunInput{Plan: p, Meta: workflows.RunMeta{ID: p.Name + ":1"}})
	require.NoError(t, err)

	select {
	case <-accepted:
	case <-time.After(60 * time.Second):
		t.Fatal("the step never reached the provider")
	}
	require.NoError(t, proc.Process.Kill()) // SIGKILL: no goodbye to Temporal, no answer recorded
	_ = proc.Wait()

	stop, err := cs.worker(ctx)
	require.NoError(t, err)
	defer stop()
	var out map[string]any
	wctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	require.NoError(t, run.Get(wctx, &out))
	return out
}

func crashStore(t *testing.T) (domain.Store, string, string) {
	db := "sqlite:" + filepath.Join(t.TempDir(), "sb.db")
	st, err := store.Open(t.Context(), db, store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	org := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(t.Context(), org))
	return st, db, org.ID
}

// TestWorkerKilledAfterStripeAccepted: Stripe created the checkout session;
// the worker is killed before the activity completes. The retry, on
// another worker, sends the same Idempotency-Key: Stripe answers the same
// session and nothing is created twice.
func TestWorkerKilledAfterStripeAccepted(t *testing.T) {
	st, db, org := crashStore(t)
	var (
		mu       sync.Mutex
		sessions = map[string]string{}
		requests int
		accepted = make(chan struct{})
		over     = make(chan struct{})
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
			close(accepted) // created; the worker dies before it hears back
			select {        // the worker is killed: the connection drops
			case <-r.Context().Done():
			case <-over:
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "checkout.session", "url": "https://checkout.stripe.test/" + id})
	}))
	defer stripe.Close()
	defer close(over) // before Close: the first request's handler may still wait

	out := crashRun(t, crashSetup{DB: db, Queue: "crash-pay", Org: org, Provider: stripe.URL,
		Secrets: orgSecrets{org + "/stripe_secret_key": "sk_test_crash"}}, `switchboard: v1
name: crash-pay
steps:
  - id: link
    call: stripe.createPaymentLink
    retry: {initialInterval: 100ms}
    with: {currency: EUR, lineItems: [{product: Seat, quantity: 1, unitPrice: 500}]}
output: ${ steps.link.output }
`, accepted)
	mu.Lock()
	defer mu.Unlock()
	require.GreaterOrEqual(t, requests, 2, "the step was sent again after the worker died")
	require.Len(t, sessions, 1, "every attempt sent the same Idempotency-Key: one checkout session")
	require.Equal(t, "open", out["status"])
	require.Equal(t, "https://checkout.stripe.test/cs_test_1", out["url"])
	ps, err := st.ListPayments(t.Context(), org, domain.Page{})
	require.NoError(t, err)
	require.Len(t, ps, 1, "one payment recorded")
}

// TestWorkerKilledAfterSendGridAccepted: the same for an email. SendGrid
// takes no idempotency key: the ledger row written before the send makes
// the retry mark the message unconfirmed instead of sending it again — one
// email, and the run goes on.
func TestWorkerKilledAfterSendGridAccepted(t *testing.T) {
	st, db, org := crashStore(t)
	var (
		mu       sync.Mutex
		sends    int
		accepted = make(chan struct{})
		over     = make(chan struct{})
	)
	sendgrid := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		sends++
		first := sends == 1
		mu.Unlock()
		if first {
			close(accepted)
			select { // the worker is killed: the connection drops
			case <-r.Context().Done():
			case <-over:
			}
			return
		}
		w.WriteHeader(http.StatusAccepted)
	}))
	defer sendgrid.Close()
	defer close(over) // before Close: the first request's handler may still wait

	out := crashRun(t, crashSetup{DB: db, Queue: "crash-mail", Org: org, Provider: sendgrid.URL,
		Secrets: orgSecrets{org + "/sendgrid_api_key": "SG.crash", org + "/email_from": "sales@acme.test"}}, `switchboard: v1
name: crash-mail
steps:
  - id: mail
    call: email.send
    retry: {initialInterval: 100ms}
    with: {to: ada@example.com, subject: Your quote, text: Hello}
output: ${ steps.mail.output }
`, accepted)
	mu.Lock()
	require.Equal(t, 1, sends, "never sent twice")
	mu.Unlock()
	require.Equal(t, "unconfirmed", out["status"])
	ms, err := st.ListOutbox(t.Context(), org, domain.Page{})
	require.NoError(t, err)
	require.Len(t, ms, 1)
	require.Equal(t, "unconfirmed", ms[0].Status)
}
