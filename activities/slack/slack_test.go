package slack_test

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
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
	"switchboard/activities/slack"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/store"
)

const token = "xoxb-1-test-token"

type fakeSecrets = activities.MapSecrets

// slackAPI speaks Slack's Web API (chat.postMessage, users.lookupByEmail):
// it records every call and answers with the next scripted reply of the
// method, else as Slack does — invalid_auth for another token,
// channel_not_found for #nowhere, users_not_found for an unknown email.
type slackAPI struct {
	mu      sync.Mutex
	calls   []apiCall
	replies map[string][]func(w http.ResponseWriter)
	users   map[string]map[string]any // by email
}

type apiCall struct {
	Method string // chat.postMessage
	Token  string // the bearer token or the form's token
	Args   url.Values
}

func newSlackAPI() *slackAPI {
	return &slackAPI{replies: map[string][]func(http.ResponseWriter){}, users: map[string]map[string]any{
		"ada@example.com": {"id": "U0ADA", "name": "ada", "real_name": "Ada Lovelace", "tz": "Europe/London",
			"profile": map[string]any{"email": "ada@example.com", "real_name": "Ada Lovelace"}},
	}}
}

func (s *slackAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	method, ok := strings.CutPrefix(r.URL.Path, "/api/")
	if !ok {
		http.NotFound(w, r)
		return
	}
	c := apiCall{Method: method, Args: url.Values{}}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		var body map[string]any
		b, _ := io.ReadAll(r.Body)
		if err := json.Unmarshal(b, &body); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		for k, v := range body {
			if str, ok := v.(string); ok {
				c.Args.Set(k, str)
			} else {
				raw, _ := json.Marshal(v)
				c.Args.Set(k, string(raw))
			}
		}
	} else {
		if err := r.ParseForm(); err != nil {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		c.Args = r.Form
	}
	if bearer, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		c.Token = bearer
	} else {
		c.Token = c.Args.Get("token")
	}
	c.Args.Del("token")

	s.mu.Lock()
	s.calls = append(s.calls, c)
	var reply func(http.ResponseWriter)
	if q := s.replies[method]; len(q) > 0 {
		reply, s.replies[method] = q[0], q[1:]
	}
	user := s.users[c.Args.Get("email")]
	s.mu.Unlock()
	if reply != nil {
		reply(w)
		return
	}
	if c.Token != token {
		answer(w, map[string]any{"ok": false, "error": "invalid_auth"})
		return
	}
	switch method {
	case "chat.postMessage":
		ch := c.Args.Get("channel")
		switch {
		case ch == "#nowhere":
			answer(w, map[string]any{"ok": false, "error": "channel_not_found"})
			return
		case ch == "#ops":
			ch = "C123"
		case strings.HasPrefix(ch, "U"):
			ch = "D" + ch[1:] // the app's direct messages with the person
		}
		answer(w, map[string]any{"ok": true, "channel": ch, "ts": "1700000000.000100",
			"message": map[string]any{"type": "message", "text": c.Args.Get("text"), "ts": "1700000000.000100", "bot_id": "B01"}})
	case "users.lookupByEmail":
		if user == nil {
			answer(w, map[string]any{"ok": false, "error": "users_not_found"})
			return
		}
		answer(w, map[string]any{"ok": true, "user": user})
	default:
		answer(w, map[string]any{"ok": false, "error": "unknown_method"})
	}
}

func answer(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	_ = json.NewEncoder(w).Encode(v)
}

func (s *slackAPI) script(method string, replies ...func(http.ResponseWriter)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.replies[method] = append(s.replies[method], replies...)
}

// posted lists the calls of one method.
func (s *slackAPI) posted(method string) []apiCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []apiCall
	for _, c := range s.calls {
		if c.Method == method {
			out = append(out, c)
		}
	}
	return out
}

func (s *slackAPI) all() []apiCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]apiCall(nil), s.calls...)
}

type env struct {
	st    domain.Store
	org   string
	api   *slackAPI
	url   string // Slack's Web API base
	creds fakeSecrets
	runs  int
}

func newEnv(t *testing.T) *env {
	st, err := store.Open(t.Context(), "sqlite::memory:", store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	o := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(t.Context(), o))
	api := newSlackAPI()
	srv := httptest.NewServer(api)
	t.Cleanup(srv.Close)
	return &env{st: st, org: o.ID, api: api, url: srv.URL + "/api/", creds: fakeSecrets{o.ID + "/slack_bot_token": token}}
}

// call runs the action as the step "notify" of a new run of e.org, with
// Temporal's retries (up to attempts) and the given attempt timeout.
func (e *env) call(t *testing.T, action string, args map[string]any, attempts int32, timeout time.Duration) (map[string]any, error) {
	e.runs++
	return e.callAs(t, fmt.Sprintf("flow:%d", e.runs), action, args, attempts, timeout)
}

func (e *env) callAs(t *testing.T, run, action string, args map[string]any, attempts int32, timeout time.Duration) (map[string]any, error) {
	var s testsuite.WorkflowTestSuite
	wenv := s.NewTestWorkflowEnvironment()
	wenv.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: e.org + "/" + run})
	for name, fn := range slack.Implementations(slack.Options{Store: e.st, Secrets: e.creds, APIURL: e.url}) {
		wenv.RegisterActivityWithOptions(fn, activity.RegisterOptions{Name: name})
	}
	wf := func(ctx workflow.Context) (map[string]any, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{ActivityID: "notify", StartToCloseTimeout: timeout,
			RetryPolicy: &temporal.RetryPolicy{InitialInterval: time.Millisecond, MaximumAttempts: attempts}})
		var out map[string]any
		err := workflow.ExecuteActivity(ctx, action, args).Get(ctx, &out)
		return out, err
	}
	wenv.RegisterWorkflowWithOptions(wf, workflow.RegisterOptions{Name: "run"})
	wenv.ExecuteWorkflow("run")
	require.True(t, wenv.IsWorkflowCompleted())
	if err := wenv.GetWorkflowError(); err != nil {
		return nil, err
	}
	var out map[string]any
	require.NoError(t, wenv.GetWorkflowResult(&out))
	return out, nil
}

func (e *env) post(t *testing.T, args map[string]any, attempts int32) (map[string]any, error) {
	return e.call(t, slack.ActionPostMessage, args, attempts, 10*time.Second)
}

func (e *env) messages(t *testing.T) []domain.OutboxMessage {
	ms, err := e.st.ListOutbox(t.Context(), e.org, domain.Page{})
	require.NoError(t, err)
	return ms
}

func (e *env) events(t *testing.T) []domain.Event {
	evs, err := e.st.ListEvents(t.Context(), e.org, domain.Page{})
	require.NoError(t, err)
	return evs
}

// cause is the activity's failure as the workflow sees it.
func cause(t *testing.T, err error) *temporal.ApplicationError {
	t.Helper()
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "%v", err)
	var inner *temporal.ApplicationError
	require.True(t, errors.As(ae, &inner))
	return inner
}

func TestPostToChannel(t *testing.T) {
	e := newEnv(t)
	out, err := e.post(t, map[string]any{"channel": "#ops", "text": "Deal *won* by <@U0ADA> & team", "threadTs": "1699999999.000200"}, 3)
	require.NoError(t, err)
	ms := e.messages(t)
	require.Len(t, ms, 1)
	m := ms[0]
	require.Equal(t, map[string]any{"messageId": m.ID, "status": "sent", "provider": "slack", "channel": "C123", "ts": "1700000000.000100"}, out)
	require.Equal(t, "slack", m.Channel)
	require.Equal(t, "slack", m.Provider)
	require.Equal(t, "sent", m.Status)
	require.Equal(t, "#ops", m.To)
	require.Equal(t, "C123:1700000000.000100", m.ProviderID)
	require.Equal(t, "notify", m.StepID)
	require.JSONEq(t, `{"text": "Deal *won* by <@U0ADA> & team", "threadTs": "1699999999.000200"}`, string(m.Body))

	// what the SDK sent
	calls := e.api.all()
	require.Len(t, calls, 1)
	c := calls[0]
	require.Equal(t, "chat.postMessage", c.Method)
	require.Equal(t, token, c.Token)
	require.Equal(t, "#ops", c.Args.Get("channel"))
	require.Equal(t, "Deal *won* by <@U0ADA> & team", c.Args.Get("text"), "mrkdwn passed as written")
	require.Equal(t, "1699999999.000200", c.Args.Get("thread_ts"))
	require.Empty(t, c.Args.Get("blocks"))

	evs := e.events(t)
	require.Len(t, evs, 1)
	require.Equal(t, "slack.sent", evs[0].Type)
	require.Contains(t, string(evs[0].Data), m.ID)
	require.NotContains(t, string(evs[0].Data), "Deal", "events name the message, not its text")
	require.NotContains(t, string(evs[0].Data), token)
}

func TestPostBlocks(t *testing.T) {
	e := newEnv(t)
	blocks := `[{"type": "header", "text": {"type": "plain_text", "text": "Deal won"}},
		{"type": "section", "block_id": "s1", "text": {"type": "mrkdwn", "text": "*Acme* signed: <https://example.com/q/1|quote>"}},
		{"type": "divider"}]`
	var list []any
	require.NoError(t, json.Unmarshal([]byte(blocks), &list))
	out, err := e.post(t, map[string]any{"channel": "C0SALES", "blocks": list}, 3)
	require.NoError(t, err)
	require.Equal(t, "sent", out["status"])
	require.Equal(t, "C0SALES", out["channel"])

	posts := e.api.posted("chat.postMessage")
	require.Len(t, posts, 1)
	require.JSONEq(t, blocks, posts[0].Args.Get("blocks"), "the blocks as given")
	require.False(t, posts[0].Args.Has("text"), "no text given")
	m := e.messages(t)[0]
	require.JSONEq(t, `{"text": "", "blocks": `+blocks+`}`, string(m.Body))
}

func TestPostToUser(t *testing.T) {
	e := newEnv(t)
	// by email address: looked up, then posted to the person
	out, err := e.post(t, map[string]any{"user": "Ada@Example.com", "text": "Your ticket was escalated"}, 3)
	require.NoError(t, err)
	ms := e.messages(t)
	require.Len(t, ms, 1)
	require.Equal(t, map[string]any{"messageId": ms[0].ID, "status": "sent", "provider": "slack", "channel": "D0ADA", "ts": "1700000000.000100"}, out)
	require.Equal(t, "ada@example.com", ms[0].To)
	calls := e.api.all()
	require.Len(t, calls, 2)
	require.Equal(t, "users.lookupByEmail", calls[0].Method)
	require.Equal(t, token, calls[0].Token)
	require.Equal(t, "ada@example.com", calls[0].Args.Get("email"))
	require.Equal(t, "chat.postMessage", calls[1].Method)
	require.Equal(t, "U0ADA", calls[1].Args.Get("channel"))
	require.Equal(t, "Your ticket was escalated", calls[1].Args.Get("text"))

	// by user id: posted directly
	out, err = e.post(t, map[string]any{"user": "U0BOB", "text": "hi"}, 3)
	require.NoError(t, err)
	require.Equal(t, "D0BOB", out["channel"])
	require.Len(t, e.api.all(), 3)

	// an email no member has: rejected for good, nothing posted
	_, err = e.post(t, map[string]any{"user": "nobody@example.com", "text": "hi"}, 3)
	ae := cause(t, err)
	require.Equal(t, activities.ErrProviderRejected, ae.Type())
	require.True(t, ae.NonRetryable())
	require.Contains(t, err.Error(), "nobody@example.com")
	require.Len(t, e.api.posted("chat.postMessage"), 2)
	require.Len(t, e.api.posted("users.lookupByEmail"), 2, "not retried")
}

func TestRateLimitAndOutageAreRetried(t *testing.T) {
	e := newEnv(t)
	e.api.script("chat.postMessage",
		func(w http.ResponseWriter) {
			w.Header().Set("Retry-After", "1")
			w.WriteHeader(http.StatusTooManyRequests)
		},
		func(w http.ResponseWriter) { w.WriteHeader(http.StatusServiceUnavailable) },
	)
	out, err := e.post(t, map[string]any{"channel": "#ops", "text": "x"}, 5)
	require.NoError(t, err)
	require.Equal(t, "sent", out["status"])
	require.Len(t, e.api.posted("chat.postMessage"), 3, "429 and 503 are refusals: safe to post again")
	ms := e.messages(t)
	require.Len(t, ms, 1, "one message, however many attempts")
	require.Equal(t, "sent", ms[0].Status)

	// Slack's Retry-After is the delay before the next attempt
	e.api.script("chat.postMessage", func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "7")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	_, err = e.post(t, map[string]any{"channel": "#ops", "text": "x"}, 1)
	ae := cause(t, err)
	require.Equal(t, activities.ErrRateLimited, ae.Type())
	require.False(t, ae.NonRetryable())
	require.Equal(t, 7*time.Second, ae.NextRetryDelay())
	var statuses []string
	for _, m := range e.messages(t) {
		statuses = append(statuses, m.Status)
	}
	require.ElementsMatch(t, []string{"sent", "retrying"}, statuses, "safe to post on the next attempt")
}

func TestRejected(t *testing.T) {
	for _, c := range []struct {
		name, token, channel string
		reply                func(http.ResponseWriter)
		typ, text            string
	}{
		{name: "invalid_auth", token: "xoxb-9-revoked-secret", channel: "#ops", typ: activities.ErrProviderAuth, text: "invalid_auth"},
		{name: "missing_scope", token: token, channel: "#ops", reply: func(w http.ResponseWriter) {
			answer(w, map[string]any{"ok": false, "error": "missing_scope", "needed": "chat:write", "provided": "users:read"})
		}, typ: activities.ErrProviderAuth, text: "needs the scope chat:write"},
		{name: "channel_not_found", token: token, channel: "#nowhere", typ: activities.ErrProviderRejected, text: "channel_not_found"},
		{name: "not_in_channel", token: token, channel: "#ops", reply: func(w http.ResponseWriter) {
			answer(w, map[string]any{"ok": false, "error": "not_in_channel"})
		}, typ: activities.ErrProviderRejected, text: "not_in_channel"},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newEnv(t)
			e.creds[e.org+"/slack_bot_token"] = c.token
			if c.reply != nil {
				e.api.script("chat.postMessage", c.reply)
			}
			args := map[string]any{"channel": c.channel, "text": "x"}
			_, err := e.post(t, args, 5)
			ae := cause(t, err)
			require.Equal(t, c.typ, ae.Type())
			require.True(t, ae.NonRetryable())
			require.Contains(t, err.Error(), c.text)
			require.NotContains(t, err.Error(), c.token)
			require.Len(t, e.api.posted("chat.postMessage"), 1, "not retried")
			ms := e.messages(t)
			require.Len(t, ms, 1)
			require.Equal(t, "failed", ms[0].Status)
			require.Contains(t, ms[0].Error, c.typ+": ")
			require.NotContains(t, ms[0].Error, c.token)
			require.Equal(t, "slack.failed", e.events(t)[0].Type)

			// the step run again (a retried activity of the same run): the
			// recorded failure, not a second post
			_, err = e.callAs(t, fmt.Sprintf("flow:%d", e.runs), slack.ActionPostMessage, args, 5, 10*time.Second)
			ae = cause(t, err)
			require.Equal(t, c.typ, ae.Type())
			require.Contains(t, err.Error(), c.text)
			require.Len(t, e.api.posted("chat.postMessage"), 1)
			require.Len(t, e.messages(t), 1)
		})
	}
}

// TestAnswerLost: Slack took the post but the connection dropped before
// its answer. The retry does not post it again: the message is
// unconfirmed.
func TestAnswerLost(t *testing.T) {
	e := newEnv(t)
	e.api.script("chat.postMessage", func(w http.ResponseWriter) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err == nil {
			_ = conn.Close()
		}
	})
	out, err := e.call(t, slack.ActionPostMessage, map[string]any{"channel": "#ops", "text": "x"}, 3, time.Second)
	require.NoError(t, err)
	ms := e.messages(t)
	require.Len(t, ms, 1)
	require.Equal(t, map[string]any{"messageId": ms[0].ID, "status": "unconfirmed", "provider": "slack"}, out)
	require.Len(t, e.api.posted("chat.postMessage"), 1, "never posted twice")
	require.Equal(t, "unconfirmed", ms[0].Status)
}

// TestInternalErrorIsNotPostedTwice: Slack's internal_error may have
// posted the message ("some aspect of the operation succeeded"), so the
// retry treats it like a lost answer.
func TestInternalErrorIsNotPostedTwice(t *testing.T) {
	e := newEnv(t)
	e.api.script("chat.postMessage", func(w http.ResponseWriter) { answer(w, map[string]any{"ok": false, "error": "internal_error"}) })
	out, err := e.post(t, map[string]any{"channel": "#ops", "text": "x"}, 3)
	require.NoError(t, err)
	require.Equal(t, "unconfirmed", out["status"])
	require.Len(t, e.api.posted("chat.postMessage"), 1)
}

func TestUnreachableIsRetried(t *testing.T) {
	e := newEnv(t)
	srv := httptest.NewServer(e.api)
	e.url = srv.URL + "/api/"
	srv.Close() // nothing listens: the request never left
	_, err := e.post(t, map[string]any{"channel": "#ops", "text": "x"}, 2)
	ae := cause(t, err)
	require.Equal(t, activities.ErrProviderUnavailable, ae.Type())
	ms := e.messages(t)
	require.Len(t, ms, 1)
	require.Equal(t, "retrying", ms[0].Status, "safe to post on the next try")
}

func TestWithoutTokenTheOutbox(t *testing.T) {
	e := newEnv(t)
	e.creds = fakeSecrets{}
	args := map[string]any{"channel": "#ops", "text": "Deployed", "threadTs": "1699999999.000200"}
	out, err := e.post(t, args, 3)
	require.NoError(t, err)
	ms := e.messages(t)
	require.Len(t, ms, 1)
	m := ms[0]
	require.Equal(t, map[string]any{"messageId": m.ID, "status": "queued", "provider": "outbox"}, out)
	require.Equal(t, "slack", m.Channel)
	require.Equal(t, "outbox", m.Provider)
	require.Equal(t, "queued", m.Status)
	require.Equal(t, "#ops", m.To)
	require.Equal(t, "notify", m.StepID)
	require.JSONEq(t, `{"text": "Deployed", "threadTs": "1699999999.000200"}`, string(m.Body))
	evs := e.events(t)
	require.Len(t, evs, 1)
	require.Equal(t, "slack.queued", evs[0].Type)

	// the same step again: nothing more
	again, err := e.callAs(t, fmt.Sprintf("flow:%d", e.runs), slack.ActionPostMessage, args, 3, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, out, again)
	require.Len(t, e.messages(t), 1)
	require.Len(t, e.events(t), 1)
	require.Empty(t, e.api.all(), "Slack is never called")
}

func TestInvalidArguments(t *testing.T) {
	e := newEnv(t)
	for _, c := range []struct {
		args  map[string]any
		field string
	}{
		{map[string]any{"channel": "#ops", "user": "U0ADA", "text": "x"}, "user"},
		{map[string]any{"text": "x"}, "channel"},
		{map[string]any{"channel": "#ops"}, "text"},
		{map[string]any{"channel": "#ops", "blocks": []any{}}, "text"},
		{map[string]any{"channel": "two words", "text": "x"}, "channel"},
		{map[string]any{"user": "ada", "text": "x"}, "user"},
		{map[string]any{"user": "ada@", "text": "x"}, "user"},
		{map[string]any{"channel": "#ops", "text": "x", "threadTs": "yesterday"}, "threadTs"},
		{map[string]any{"channel": "#ops", "blocks": "not blocks"}, "blocks"},
		{map[string]any{"channel": "#ops", "text": strings.Repeat("x", 40001)}, "text"},
	} {
		_, err := e.post(t, c.args, 3)
		ae := cause(t, err)
		require.Equal(t, slack.ErrValidation, ae.Type(), "%v", c.args)
		require.True(t, ae.NonRetryable())
		require.Contains(t, err.Error(), c.field, "%v", c.args)
	}
	require.Empty(t, e.messages(t))
	require.Empty(t, e.api.all())
}

func TestLookupUserByEmail(t *testing.T) {
	e := newEnv(t)
	out, err := e.call(t, slack.ActionLookupUserByEmail, map[string]any{"email": " ADA@example.com"}, 3, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"found": true, "userId": "U0ADA", "name": "ada", "realName": "Ada Lovelace", "timezone": "Europe/London"}, out)
	calls := e.api.all()
	require.Len(t, calls, 1)
	require.Equal(t, "users.lookupByEmail", calls[0].Method)
	require.Equal(t, token, calls[0].Token)
	require.Equal(t, "ada@example.com", calls[0].Args.Get("email"))

	out, err = e.call(t, slack.ActionLookupUserByEmail, map[string]any{"email": "nobody@example.com"}, 3, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, map[string]any{"found": false}, out)

	// read-only: no ledger, no events
	require.Empty(t, e.messages(t))
	require.Empty(t, e.events(t))

	// a rate limit is waited out
	e.api.script("users.lookupByEmail", func(w http.ResponseWriter) {
		w.Header().Set("Retry-After", "0")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	out, err = e.call(t, slack.ActionLookupUserByEmail, map[string]any{"email": "ada@example.com"}, 3, 10*time.Second)
	require.NoError(t, err)
	require.Equal(t, true, out["found"])

	// a revoked token
	e.creds[e.org+"/slack_bot_token"] = "xoxb-9-revoked-secret"
	_, err = e.call(t, slack.ActionLookupUserByEmail, map[string]any{"email": "ada@example.com"}, 3, 10*time.Second)
	ae := cause(t, err)
	require.Equal(t, activities.ErrProviderAuth, ae.Type())
	require.NotContains(t, err.Error(), "xoxb-9-revoked-secret")
}

func TestLookupWithoutToken(t *testing.T) {
	e := newEnv(t)
	e.creds = fakeSecrets{}
	_, err := e.call(t, slack.ActionLookupUserByEmail, map[string]any{"email": "ada@example.com"}, 3, 10*time.Second)
	ae := cause(t, err)
	require.Equal(t, activities.ErrNotConfigured, ae.Type())
	require.True(t, ae.NonRetryable())
	require.Contains(t, err.Error(), "slack_bot_token")
	require.Empty(t, e.api.all())
}

func TestActionsDeclared(t *testing.T) {
	reg := &dsl.Registry{}
	impls := slack.Implementations(slack.Options{})
	for _, a := range slack.Actions() {
		require.NoError(t, reg.Register(a))
		require.Contains(t, impls, a.Name)
		require.NotEmpty(t, a.Errors)
	}
	require.Len(t, impls, 2)
	require.NoError(t, reg.ValidateInput(slack.ActionPostMessage, map[string]any{"channel": "#ops", "text": "x", "threadTs": "1.2",
		"blocks": []any{map[string]any{"type": "divider"}}}))
	require.Error(t, reg.ValidateInput(slack.ActionPostMessage, map[string]any{"channel": "#ops", "text": "x", "token": "y"}), "no unknown arguments")
	require.NoError(t, reg.ValidateInput(slack.ActionLookupUserByEmail, map[string]any{"email": "ada@example.com"}))
	require.Error(t, reg.ValidateInput(slack.ActionLookupUserByEmail, map[string]any{}))

	// without the platform's records (switchboard run): NoRecords
	var s testsuite.WorkflowTestSuite
	aenv := s.NewTestActivityEnvironment()
	aenv.RegisterActivityWithOptions(impls[slack.ActionPostMessage], activity.RegisterOptions{Name: slack.ActionPostMessage})
	_, err := aenv.ExecuteActivity(slack.ActionPostMessage, map[string]any{"channel": "#ops", "text": "x"})
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "%v", err)
	require.Equal(t, activities.NoRecords, ae.Type())
}
