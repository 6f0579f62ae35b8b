package email_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
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
	"switchboard/activities/email"
	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/store"
)

type fakeSecrets = activities.MapSecrets

// sendGrid speaks SendGrid's v3 mail send: it records every request and
// answers with the next scripted reply (202 with an X-Message-Id after
// the script runs out).
type sendGrid struct {
	mu       sync.Mutex
	requests []sgRequest
	replies  []func(w http.ResponseWriter)
}

type sgRequest struct {
	Auth string
	Body struct {
		From             struct{ Email string } `json:"from"`
		Subject          string                 `json:"subject"`
		Personalizations []struct {
			To         []struct{ Email string } `json:"to"`
			CustomArgs map[string]string        `json:"custom_args"`
		} `json:"personalizations"`
		Content []struct{ Type, Value string } `json:"content"`
	}
}

func (s *sendGrid) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v3/mail/send" {
		http.NotFound(w, r)
		return
	}
	var req sgRequest
	req.Auth = r.Header.Get("Authorization")
	b, _ := io.ReadAll(r.Body)
	if err := json.Unmarshal(b, &req.Body); err != nil {
		w.WriteHeader(http.StatusBadRequest)
		return
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	var reply func(http.ResponseWriter)
	if len(s.replies) > 0 {
		reply, s.replies = s.replies[0], s.replies[1:]
	}
	s.mu.Unlock()
	if reply != nil {
		reply(w)
		return
	}
	w.Header().Set("X-Message-Id", "sg-msg-1")
	w.WriteHeader(http.StatusAccepted)
}

func (s *sendGrid) sent() []sgRequest {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]sgRequest(nil), s.requests...)
}

type env struct {
	st    domain.Store
	org   string
	sg    *sendGrid
	creds fakeSecrets
	runs  int
}

func newEnv(t *testing.T) *env {
	st, err := store.Open(t.Context(), "sqlite::memory:", store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	o := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(t.Context(), o))
	sg := &sendGrid{}
	srv := httptest.NewServer(sg)
	t.Cleanup(srv.Close)
	e := &env{st: st, org: o.ID, sg: sg, creds: fakeSecrets{o.ID + "/sendgrid_api_key": "SG.test-key", o.ID + "/email_from": "sales@acme.test"}}
	return e
}

// send runs email.send as the step "notify" of a run of e.org, with
// Temporal's retries (up to attempts) and the given attempt timeout.
func (e *env) send(t *testing.T, url string, args map[string]any, attempts int32, timeout time.Duration) (map[string]any, error) {
	e.runs++
	return e.sendAs(t, fmt.Sprintf("flow:%d", e.runs), url, args, attempts, timeout)
}

func (e *env) sendAs(t *testing.T, run, url string, args map[string]any, attempts int32, timeout time.Duration) (map[string]any, error) {
	var s testsuite.WorkflowTestSuite
	wenv := s.NewTestWorkflowEnvironment()
	wenv.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: e.org + "/" + run})
	fn := email.New(email.Options{Store: e.st, Secrets: e.creds, SendGridURL: url})
	wenv.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: "email.send"})
	wf := func(ctx workflow.Context) (map[string]any, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{ActivityID: "notify", StartToCloseTimeout: timeout,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: attempts}})
		var out map[string]any
		err := workflow.ExecuteActivity(ctx, "email.send", args).Get(ctx, &out)
		return out, err
	}
	wenv.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "run"})
	wenv.ExecuteWorkflow("run")
	require.True(t, wenv.IsWorkflowCompleted())
	var out map[string]any
	if err := wenv.GetWorkflowError(); err != nil {
		return nil, err
	}
	require.NoError(t, wenv.GetWorkflowResult(&out))
	return out, nil
}

func (e *env) messages(t *testing.T) []domain.OutboxMessage {
	ms, err := e.st.ListOutbox(t.Context(), e.org, domain.Page{})
	require.NoError(t, err)
	return ms
}

func appError(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "%v", err)
	return ae
}

func TestSendGrid(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.sg)
	defer srv.Close()

	out, err := e.send(t, srv.URL, map[string]any{"to": "Ada@Example.com", "subject": "Your quote", "text": "Hello", "html": "<p>Hello<script>x</script></p>",
		"customerId": "c1", "campaignId": "k1"}, 3, 10*time.Second)
	require.NoError(t, err)
	ms := e.messages(t)
	require.Len(t, ms, 1)
	m := ms[0]
	require.Equal(t, map[string]any{"messageId": m.ID, "status": "sent", "provider": "sendgrid", "providerId": "sg-msg-1"}, out)
	require.Equal(t, "sent", m.Status)
	require.Equal(t, "sendgrid", m.Provider)
	require.Equal(t, "sg-msg-1", m.ProviderID)

	// what the SDK sent
	reqs := e.sg.sent()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "Bearer SG.test-key", r.Auth)
	require.Equal(t, "sales@acme.test", r.Body.From.Email, "the organisation's default sender")
	require.Equal(t, "Your quote", r.Body.Subject)
	require.Equal(t, "ada@example.com", r.Body.Personalizations[0].To[0].Email)
	require.Equal(t, map[string]string{"sb_message": m.ID, "sb_run": "flow:1", "sb_step": "notify"}, r.Body.Personalizations[0].CustomArgs)
	require.Equal(t, "text/plain", r.Body.Content[0].Type, "text first, as SendGrid requires")
	require.Equal(t, "<p>Hello</p>", r.Body.Content[1].Value, "sanitised")

	evs, err := e.st.ListEvents(t.Context(), e.org, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, "email.sent", evs[0].Type)
	require.NotContains(t, string(evs[0].Data), "Hello", "events name the message, not its body")
}

func TestSendGridRateLimitAndOutage(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.sg)
	defer srv.Close()
	e.sg.replies = []func(http.ResponseWriter){
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		},
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
	}
	out, err := e.send(t, srv.URL, map[string]any{"to": "ada@example.com", "subject": "Hi", "text": "x"}, 5, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "sent", out["status"])
	require.Len(t, e.sg.sent(), 3, "429 and 503 are refusals: safe to send again")
	require.Len(t, e.messages(t), 1, "one message, however many attempts")
}

func TestSendGridRejected(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.sg)
	defer srv.Close()
	for _, c := range []struct {
		status int
		typ    string
	}{{http.StatusBadRequest, activities.ErrProviderRejected}, {http.StatusUnauthorized, activities.ErrProviderAuth}} {
		e.sg.replies = []func(http.ResponseWriter){func(w http.ResponseWriter) {
			w.WriteHeader(c.status)
			_, _ = w.Write([]byte(`{"errors": [{"message": "The from address does not match a verified Sender Identity", "field": "from"}]}`))
		}}
		before := len(e.sg.sent())
		_, err := e.send(t, srv.URL, map[string]any{"to": "ada@example.com", "subject": "Hi", "text": "x"}, 5, 10*time.Second)
		ae := appError(t, err)
		// the activity's failure, as the workflow sees it
		var cause *temporal.ApplicationError
		require.True(t, errors.As(ae, &cause))
		require.Equal(t, c.typ, cause.Type())
		require.Contains(t, err.Error(), "verified Sender Identity")
		require.NotContains(t, err.Error(), "SG.test-key")
		require.Len(t, e.sg.sent(), before+1, "not retried")

		// the step run again (a retried activity of the same run): the
		// recorded failure, not a second request
		_, err = e.sendAs(t, fmt.Sprintf("flow:%d", e.runs), srv.URL, map[string]any{"to": "ada@example.com", "subject": "Hi", "text": "x"}, 5, 10*time.Second)
		require.True(t, errors.As(appError(t, err), &cause))
		require.Equal(t, c.typ, cause.Type())
		require.Len(t, e.sg.sent(), before+1)
	}
	for _, m := range e.messages(t) {
		require.Equal(t, "failed", m.Status)
	}
}

// TestSendGridAnswerLost: SendGrid accepted the email but the attempt died
// before recording it (the answer never came back in time). The retry does
// not send it again: the message is unconfirmed.
func TestSendGridAnswerLost(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.sg)
	defer srv.Close()
	// SendGrid takes the request; the connection drops before the answer
	e.sg.replies = []func(http.ResponseWriter){func(w http.ResponseWriter) {
		conn, _, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		_ = conn.Close()
	}}
	out, err := e.send(t, srv.URL, map[string]any{"to": "ada@example.com", "subject": "Hi", "text": "x"}, 3, time.Second)
	require.NoError(t, err)
	require.Equal(t, "unconfirmed", out["status"])
	require.Len(t, e.sg.sent(), 1, "never sent twice")
	ms := e.messages(t)
	require.Len(t, ms, 1)
	require.Equal(t, "unconfirmed", ms[0].Status)

	// SendGrid's event webhook reports it processed: confirmed
	moved, err := (&crm.Service{Store: e.st}).RecordDelivery(t.Context(), "provider:sendgrid", e.org, ms[0].ID, "sent")
	require.NoError(t, err)
	require.True(t, moved)
	got, err := e.st.GetOutbox(t.Context(), e.org, ms[0].ID)
	require.NoError(t, err)
	require.Equal(t, "sent", got.Status)
}

func TestSendGridUnreachableIsRetried(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.sg)
	url := srv.URL
	srv.Close() // nothing listens: the request never left
	_, err := e.send(t, url, map[string]any{"to": "ada@example.com", "subject": "Hi", "text": "x"}, 2, 5*time.Second)
	var cause *temporal.ApplicationError
	require.True(t, errors.As(appError(t, err), &cause))
	require.Equal(t, activities.ErrProviderUnavailable, cause.Type())
	ms := e.messages(t)
	require.Len(t, ms, 1)
	require.Equal(t, "retrying", ms[0].Status, "safe to send on the next try")
}

func TestWithoutKeyTheOutbox(t *testing.T) {
	e := newEnv(t)
	e.creds = fakeSecrets{}
	out, err := e.send(t, "http://127.0.0.1:1", map[string]any{"to": "ada@example.com", "subject": "Hi", "text": "x"}, 3, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "outbox", out["provider"])
	require.Equal(t, "queued", out["status"])
	ms := e.messages(t)
	require.Len(t, ms, 1)
	require.Equal(t, "outbox", ms[0].Provider)
}

func TestSuppressedIsNeverSent(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.sg)
	defer srv.Close()
	require.NoError(t, e.st.Suppress(t.Context(), e.org, &domain.Suppression{Email: "gone@example.com", Reason: "bounced"}))
	_, err := e.send(t, srv.URL, map[string]any{"to": "gone@example.com", "subject": "Hi", "text": "x"}, 3, 5*time.Second)
	var cause *temporal.ApplicationError
	require.True(t, errors.As(appError(t, err), &cause))
	require.Equal(t, email.ErrSuppressed, cause.Type())
	require.Empty(t, e.sg.sent())
	require.Empty(t, e.messages(t))
}

func TestTemplate(t *testing.T) {
	e := newEnv(t)
	e.creds = fakeSecrets{}
	svc := &crm.Service{Store: e.st}
	_, err := svc.PutMailTemplate(t.Context(), "user:test", &domain.MailTemplate{OrgID: e.org, Name: "welcome",
		Subject: "Welcome, {{ customer.firstName | \"friend\" }}", Text: "Your code is {{ vars.code }}. — {{ seller }}",
		HTML: "<p>Your code is <b>{{ vars.code }}</b></p>"})
	require.NoError(t, err)
	c, err := svc.CreateCustomer(t.Context(), "user:test", &domain.Customer{OrgID: e.org, Name: "Ada Lovelace", Email: "ada@example.com"})
	require.NoError(t, err)
	out, err := e.send(t, "http://127.0.0.1:1", map[string]any{"template": "welcome", "customerId": c.ID, "variables": map[string]any{"code": "<42>"}}, 1, 5*time.Second)
	require.NoError(t, err)
	require.Equal(t, "queued", out["status"])
	ms := e.messages(t)
	require.Len(t, ms, 1)
	require.Equal(t, "ada@example.com", ms[0].To, "the customer's address")
	require.Equal(t, "Welcome, Ada", ms[0].Subject)
	var body map[string]string
	require.NoError(t, json.Unmarshal(ms[0].Body, &body))
	require.Equal(t, "Your code is <42>. — acme", body["text"])
	require.Equal(t, "<p>Your code is <b>&lt;42&gt;</b></p>", body["html"], "variables are escaped in HTML")

	_, err = e.send(t, "http://127.0.0.1:1", map[string]any{"template": "nope", "to": "ada@example.com"}, 1, 5*time.Second)
	var cause *temporal.ApplicationError
	require.True(t, errors.As(appError(t, err), &cause))
	require.Equal(t, email.ErrValidation, cause.Type())
	// a template's variables are checked when it is saved
	_, err = svc.PutMailTemplate(t.Context(), "user:test", &domain.MailTemplate{OrgID: e.org, Name: "bad", Subject: "Hi {{ password }}", Text: "x"})
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "subject", ve.Fields[0].Field)
}

// TestSendGrid500IsNotResent: a 500 may come after SendGrid took the
// email; the retry does not send it again (unconfirmed), unlike a 503.
func TestSendGrid500IsNotResent(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.sg)
	defer srv.Close()
	e.sg.replies = []func(http.ResponseWriter){func(w http.ResponseWriter) { w.WriteHeader(http.StatusInternalServerError) }}
	out, err := e.send(t, srv.URL, map[string]any{"to": "ada@example.com", "subject": "Hi", "text": "x"}, 3, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, "unconfirmed", out["status"])
	require.Len(t, e.sg.sent(), 1)
}
