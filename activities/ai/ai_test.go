package ai

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	tlog "go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	httpact "switchboard/activities/http"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/store"
	"switchboard/store/storetest"
)

const testKey = "sk-test-0123456789abcdefSECRET"

// --- a server speaking OpenAI's chat-completions wire protocol ---------------

// reply is one scripted answer of the fake endpoint.
type reply struct {
	status int
	header map[string]string
	body   string
}

// seen is one request the fake endpoint got.
type seen struct {
	auth string
	body map[string]any
}

// messages are the request's chat messages as (role, content) pairs.
func (s seen) messages() [][2]string {
	var out [][2]string
	for _, m := range s.body["messages"].([]any) {
		mm := m.(map[string]any)
		c, _ := mm["content"].(string)
		out = append(out, [2]string{mm["role"].(string), c})
	}
	return out
}

type fakeAI struct {
	t       *testing.T
	srv     *httptest.Server
	mu      sync.Mutex
	seen    []seen
	replies []reply
}

// newFakeAI starts an endpoint answering replies in order; its base URL
// (what ai_base_url holds) is fake.url().
func newFakeAI(t *testing.T, replies ...reply) *fakeAI {
	t.Helper()
	f := &fakeAI{t: t, replies: replies}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeAI) url() string { return f.srv.URL + "/v1" }

func (f *fakeAI) serve(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/v1/chat/completions" {
		f.t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
		http.NotFound(w, r)
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		f.t.Errorf("Content-Type %q", ct)
	}
	b, err := io.ReadAll(r.Body)
	require.NoError(f.t, err)
	var body map[string]any
	if err := json.Unmarshal(b, &body); err != nil {
		f.t.Errorf("body is not JSON: %v", err)
	}
	f.mu.Lock()
	f.seen = append(f.seen, seen{auth: r.Header.Get("Authorization"), body: body})
	var rep reply
	if len(f.replies) == 0 {
		f.t.Errorf("unexpected request %d", len(f.seen))
		rep = reply{status: 500, body: `{"error": {"message": "no more replies", "type": "server_error"}}`}
	} else {
		rep, f.replies = f.replies[0], f.replies[1:]
	}
	f.mu.Unlock()
	for k, v := range rep.header {
		w.Header().Set(k, v)
	}
	if w.Header().Get("Content-Type") == "" {
		w.Header().Set("Content-Type", "application/json")
	}
	w.WriteHeader(rep.status)
	_, _ = io.WriteString(w, rep.body)
}

func (f *fakeAI) requests() []seen {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]seen(nil), f.seen...)
}

// completion is a chat completion answering content.
func completion(content string, promptTokens, completionTokens int) reply {
	return completionWith(content, "stop", promptTokens, completionTokens)
}

func completionWith(content, finish string, promptTokens, completionTokens int) reply {
	c, _ := json.Marshal(content)
	return reply{status: 200, header: map[string]string{"X-Request-Id": "req_123"}, body: fmt.Sprintf(`{
		"id": "chatcmpl-AbC123", "object": "chat.completion", "created": 1735689600,
		"model": "gpt-4o-mini-2024-07-18", "system_fingerprint": "fp_0aa8d3e20b",
		"choices": [{"index": 0, "message": {"role": "assistant", "content": %s, "refusal": null},
			"logprobs": null, "finish_reason": %q}],
		"usage": {"prompt_tokens": %d, "completion_tokens": %d, "total_tokens": %d,
			"prompt_tokens_details": {"cached_tokens": 0}, "completion_tokens_details": {"reasoning_tokens": 0}}}`,
		c, finish, promptTokens, completionTokens, promptTokens+completionTokens)}
}

// apiError is an OpenAI error response.
func apiError(status int, typ, code, message string, header map[string]string) reply {
	return reply{status: status, header: header, body: fmt.Sprintf(
		`{"error": {"message": %q, "type": %q, "param": null, "code": %q}}`, message, typ, code)}
}

// --- calling the actions -----------------------------------------------------

func registry(t *testing.T) *dsl.Registry {
	t.Helper()
	reg := &dsl.Registry{}
	for _, a := range Actions() {
		require.NoError(t, reg.Register(a))
	}
	return reg
}

// call runs an action as the worker does (activities.Wrap: arguments
// checked, errors typed), outside any platform run, and checks its output
// against the action's output schema.
func call(t *testing.T, o Options, action string, args map[string]any) (map[string]any, error) {
	t.Helper()
	reg := registry(t)
	raw, err := dsl.MarshalJSON(args)
	require.NoError(t, err)
	res, err := activities.Wrap(reg, action, Implementations(o)[action])(t.Context(), raw)
	if err != nil {
		return nil, err
	}
	return output(t, reg, action, res.Output), nil
}

func output(t *testing.T, reg *dsl.Registry, action string, raw json.RawMessage) map[string]any {
	t.Helper()
	a, ok := reg.Lookup(action)
	require.True(t, ok)
	sch, err := dsl.CompileSchema(a.Output)
	require.NoError(t, err)
	v, err := dsl.DecodeJSON(raw)
	require.NoError(t, err)
	require.NoError(t, dsl.ValidateSchema(sch, v), "output %s", raw)
	return v.(map[string]any)
}

// endpoint is the worker's defaults pointing at f.
func endpoint(f *fakeAI) Options {
	return Options{Defaults: Config{BaseURL: f.url(), APIKey: testKey}}
}

// appError asserts err is an application error of type typ.
func appError(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "not an application error: %v", err)
	require.Equal(t, typ, ae.Type(), "message: %s", ae.Message())
	return ae
}

// --- the actions ---------------------------------------------------------------

func TestActionsRegister(t *testing.T) {
	t.Parallel()
	reg := registry(t)
	require.Equal(t, []string{"ai.classify", "ai.extract", "ai.generate", "ai.score"}, reg.Names())
	for _, a := range reg.Actions() {
		require.Equal(t, 2*time.Minute, a.AttemptTimeout(), a.Name)
		require.Contains(t, a.Errors, ErrNotConfigured, a.Name)
		require.Contains(t, a.Errors, ErrBudgetExceeded, a.Name)
		require.Contains(t, Implementations(Options{}), a.Name)
	}
	require.Error(t, reg.ValidateInput("ai.generate", map[string]any{}))
	require.Error(t, reg.ValidateInput("ai.generate", map[string]any{"prompt": "x", "apiKey": "sk-nope"}), "no unknown arguments")
	require.Error(t, reg.ValidateInput("ai.classify", map[string]any{"text": "x", "labels": []any{"only"}}), "two labels at least")
	require.Error(t, reg.ValidateInput("ai.extract", map[string]any{"text": "x", "schema": "not a map"}))
	require.NoError(t, reg.ValidateInput("ai.score", map[string]any{"text": "x", "criteria": "y", "model": "m"}))
}

func TestGenerate(t *testing.T) {
	t.Parallel()
	f := newFakeAI(t, completion("Hello Ada, thanks for your order.", 21, 9))
	out, err := call(t, endpoint(f), "ai.generate", map[string]any{"prompt": "Greet Ada.", "system": "You are polite."})
	require.NoError(t, err)
	require.Equal(t, map[string]any{
		"text": "Hello Ada, thanks for your order.", "model": "gpt-4o-mini-2024-07-18", "finishReason": "stop",
		"usage": map[string]any{"promptTokens": int64(21), "completionTokens": int64(9), "totalTokens": int64(30)},
	}, out)

	reqs := f.requests()
	require.Len(t, reqs, 1)
	r := reqs[0]
	require.Equal(t, "Bearer "+testKey, r.auth)
	require.Equal(t, DefaultModel, r.body["model"])
	require.Equal(t, float64(DefaultMaxTokens), r.body["max_tokens"], "answers are capped by default")
	require.NotContains(t, r.body, "response_format")
	require.NotContains(t, r.body, "temperature")
	require.Equal(t, [][2]string{{"system", "You are polite."}, {"user", "Greet Ada."}}, r.messages())
}

func TestGenerateOptions(t *testing.T) {
	t.Parallel()
	f := newFakeAI(t, completionWith("Once upon", "length", 5, 3), completion("x", 1, 1))
	o := endpoint(f)
	o.Defaults.Model = "llama3.1"
	out, err := call(t, o, "ai.generate", map[string]any{"prompt": "A story.", "maxTokens": 3, "temperature": 0})
	require.NoError(t, err)
	require.Equal(t, "length", out["finishReason"])
	r := f.requests()[0]
	require.Equal(t, "llama3.1", r.body["model"], "the worker's model")
	require.Equal(t, float64(3), r.body["max_tokens"])
	temp, ok := r.body["temperature"].(float64)
	require.True(t, ok, "a temperature of 0 is sent, not omitted")
	require.Less(t, temp, 1e-6)
	require.Equal(t, [][2]string{{"user", "A story."}}, r.messages())

	// the step's model wins; a reasoning model gets max_completion_tokens
	_, err = call(t, o, "ai.generate", map[string]any{"prompt": "x", "model": "o3-mini"})
	require.NoError(t, err)
	r = f.requests()[1]
	require.Equal(t, "o3-mini", r.body["model"])
	require.NotContains(t, r.body, "max_tokens")
	require.Equal(t, float64(DefaultMaxTokens), r.body["max_completion_tokens"])
}

var personSchema = map[string]any{
	"type": "object", "required": []any{"name", "age"}, "additionalProperties": false,
	"properties": map[string]any{"name": map[string]any{"type": "string"}, "age": map[string]any{"type": "integer", "minimum": 0}},
}

func TestExtract(t *testing.T) {
	t.Parallel()
	f := newFakeAI(t, completion("```json\n{\"name\": \"Ada Lovelace\", \"age\": 36}\n```", 80, 12))
	out, err := call(t, endpoint(f), "ai.extract", map[string]any{
		"text": "Ada Lovelace died at 36.", "schema": personSchema, "instructions": "Use full names."})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"name": "Ada Lovelace", "age": int64(36)}, out["data"], "a code fence is tolerated")
	require.Equal(t, false, out["repaired"])
	require.Equal(t, int64(92), out["usage"].(map[string]any)["totalTokens"])

	r := f.requests()[0]
	require.Equal(t, map[string]any{"type": "json_object"}, r.body["response_format"])
	msgs := r.messages()
	require.Len(t, msgs, 2)
	require.Equal(t, "system", msgs[0][0])
	require.Contains(t, msgs[0][1], `"required":["name","age"]`, "the schema is in the system message")
	require.Contains(t, msgs[0][1], "JSON")
	require.Contains(t, msgs[0][1], "Use full names.")
	require.Equal(t, [2]string{"user", "Ada Lovelace died at 36."}, msgs[1])
}

func TestExtractRepaired(t *testing.T) {
	t.Parallel()
	bad := `{"name": "Ada Lovelace", "age": "thirty-six"}`
	f := newFakeAI(t, completion(bad, 80, 12), completion(`{"name": "Ada Lovelace", "age": 36}`, 120, 10))
	out, err := call(t, endpoint(f), "ai.extract", map[string]any{"text": "Ada Lovelace, thirty-six.", "schema": personSchema})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"name": "Ada Lovelace", "age": int64(36)}, out["data"])
	require.Equal(t, true, out["repaired"])
	require.Equal(t, map[string]any{"promptTokens": int64(200), "completionTokens": int64(22), "totalTokens": int64(222)},
		out["usage"], "both requests count")

	reqs := f.requests()
	require.Len(t, reqs, 2)
	msgs := reqs[1].messages()
	require.Len(t, msgs, 4)
	require.Equal(t, [2]string{"assistant", bad}, msgs[2], "the invalid answer goes back")
	require.Equal(t, "user", msgs[3][0])
	require.Contains(t, msgs[3][1], "at /age", "with the validation error")
	require.Contains(t, msgs[3][1], "want integer")
	require.Equal(t, map[string]any{"type": "json_object"}, reqs[1].body["response_format"])
}

func TestExtractInvalidTwice(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("confidential memo text ", 40)
	f := newFakeAI(t,
		completion("Sure! Here is the data you asked for.", 80, 9),
		completion(`{"name": "`+long+`"}`, 120, 200))
	_, err := call(t, endpoint(f), "ai.extract", map[string]any{"text": "x", "schema": personSchema})
	ae := appError(t, err, ErrInvalidOutput)
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "missing property 'age'")
	require.NotContains(t, ae.Message(), long, "the answer is not quoted")
	require.Less(t, len(ae.Message()), 400)
	reqs := f.requests()
	require.Len(t, reqs, 2, "one repair, no more")
	require.Contains(t, reqs[1].messages()[3][1], "not JSON")
}

func TestExtractSchemaChecked(t *testing.T) {
	t.Parallel()
	f := newFakeAI(t)
	// never loaded: a remote reference is a bad argument
	_, err := call(t, endpoint(f), "ai.extract", map[string]any{"text": "x", "schema": map[string]any{
		"type": "object", "properties": map[string]any{"a": map[string]any{"$ref": "https://schemas.example.com/a.json"}}}})
	ae := appError(t, err, activities.InvalidArguments)
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "not allowed")
	// JSON mode answers an object
	_, err = call(t, endpoint(f), "ai.extract", map[string]any{"text": "x", "schema": map[string]any{"type": "array"}})
	appError(t, err, activities.InvalidArguments)
	require.Empty(t, f.requests(), "the model is not called")
}

func TestClassify(t *testing.T) {
	t.Parallel()
	labels := []any{"billing", "bug", "feature request"}
	f := newFakeAI(t,
		completion(`{"label": "sales", "confidence": 0.7}`, 60, 8),
		completion(`{"label": " Billing", "confidence": 1}`, 90, 8))
	out, err := call(t, endpoint(f), "ai.classify", map[string]any{
		"text": "I was charged twice this month.", "labels": labels, "instructions": "Refunds are billing."})
	require.NoError(t, err)
	require.Equal(t, "billing", out["label"], "the label as written in labels")
	require.Equal(t, 1.0, out["confidence"])
	require.Equal(t, "gpt-4o-mini-2024-07-18", out["model"])
	require.Equal(t, int64(166), out["usage"].(map[string]any)["totalTokens"])

	reqs := f.requests()
	require.Len(t, reqs, 2, "an unknown label is repaired")
	sys := reqs[0].messages()[0][1]
	require.Contains(t, sys, `["billing","bug","feature request"]`)
	require.Contains(t, sys, "Refunds are billing.")
	require.Equal(t, map[string]any{"type": "json_object"}, reqs[0].body["response_format"])
	require.Contains(t, reqs[1].messages()[3][1], "at /label")

	// an unknown label twice fails
	f = newFakeAI(t, completion(`{"label": "sales", "confidence": 0.7}`, 60, 8), completion(`{"label": "sales", "confidence": 0.6}`, 60, 8))
	_, err = call(t, endpoint(f), "ai.classify", map[string]any{"text": "x", "labels": labels})
	ae := appError(t, err, ErrInvalidOutput)
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "'billing'")
}

func TestScore(t *testing.T) {
	t.Parallel()
	f := newFakeAI(t,
		completion(`{"score": 140, "reasons": ["Big budget"]}`, 70, 15),
		completion(`{"score": 82.0, "reasons": ["Budget above 50k", "Decision maker on the call"]}`, 100, 20))
	out, err := call(t, endpoint(f), "ai.score", map[string]any{
		"text": "Call notes: CFO joined, budget 80k.", "criteria": "Budget over 50k; a decision maker is involved."})
	require.NoError(t, err)
	require.Equal(t, int64(82), out["score"])
	require.Equal(t, []any{"Budget above 50k", "Decision maker on the call"}, out["reasons"])
	reqs := f.requests()
	require.Len(t, reqs, 2)
	require.Contains(t, reqs[0].messages()[0][1], "Budget over 50k; a decision maker is involved.")
	require.Contains(t, reqs[1].messages()[3][1], "at /score")
}

// --- errors ----------------------------------------------------------------------

func TestProviderErrors(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		name      string
		reply     reply
		typ       string
		retryable bool
		delay     time.Duration
		says      string
	}{
		{"rate limited", apiError(429, "requests", "rate_limit_exceeded", "Rate limit reached for gpt-4o-mini", map[string]string{"Retry-After": "7"}),
			ErrRateLimited, true, 7 * time.Second, "Rate limit reached"},
		{"quota", apiError(429, "insufficient_quota", "insufficient_quota", "You exceeded your current quota", nil),
			ErrRateLimited, false, 0, "insufficient_quota"},
		{"server error", apiError(500, "server_error", "", "The server had an error while processing your request.", nil),
			ErrUnavailable, true, 0, "HTTP 500"},
		{"overloaded", apiError(503, "server_error", "", "overloaded", map[string]string{"Retry-After": "2"}), ErrUnavailable, true, 2 * time.Second, "HTTP 503"},
		{"proxy page", reply{status: 502, header: map[string]string{"Content-Type": "text/html"}, body: "<html><body>Bad gateway</body></html>"},
			ErrUnavailable, true, 0, "HTTP 502): the response is not an OpenAI error"},
		{"bad key", apiError(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+testKey+". You can find your API key at https://platform.openai.com/account/api-keys.", nil),
			ErrAuth, false, 0, "ai_api_key"},
		{"forbidden", apiError(403, "invalid_request_error", "unsupported_country_region_territory", "Country, region, or territory not supported", nil),
			ErrAuth, false, 0, "HTTP 403"},
		{"bad request", apiError(400, "invalid_request_error", "context_length_exceeded", "This model's maximum context length is 128000 tokens.", nil),
			ErrRequestRejected, false, 0, "maximum context length"},
		{"unknown model", apiError(404, "invalid_request_error", "model_not_found", "The model `gpt-9` does not exist or you do not have access to it.", nil),
			ErrRequestRejected, false, 0, "model_not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f := newFakeAI(t, tc.reply)
			_, err := call(t, endpoint(f), "ai.generate", map[string]any{"prompt": "hi"})
			ae := appError(t, err, tc.typ)
			require.Equal(t, !tc.retryable, ae.NonRetryable(), ae.Message())
			require.Equal(t, tc.delay, ae.NextRetryDelay())
			require.Contains(t, ae.Message(), tc.says)
			require.NotContains(t, ae.Error(), testKey)
			require.NotContains(t, ae.Error(), "SECRET")
			require.Len(t, f.requests(), 1)
		})
	}
}

func TestUnreachable(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.NotFoundHandler())
	base := strings.Replace(srv.URL, "http://", "http://proxyuser:hunter2pass@", 1) + "/v1?api-key=querySECRETvalue"
	srv.Close() // nothing listens there any more
	_, err := call(t, Options{Defaults: Config{BaseURL: base, APIKey: testKey}}, "ai.generate", map[string]any{"prompt": "hi"})
	ae := appError(t, err, ErrUnavailable)
	require.False(t, ae.NonRetryable())
	for _, secret := range []string{testKey, "hunter2pass", "proxyuser", "querySECRETvalue"} {
		require.NotContains(t, ae.Error(), secret)
	}
}

func TestNotConfigured(t *testing.T) {
	t.Parallel()
	_, err := call(t, Options{}, "ai.generate", map[string]any{"prompt": "hi"})
	ae := appError(t, err, ErrNotConfigured)
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "set the secret ai_api_key (and ai_base_url for a non-OpenAI endpoint")

	_, err = call(t, Options{Defaults: Config{BaseURL: "localhost:11434"}}, "ai.score", map[string]any{"text": "x", "criteria": "y"})
	ae = appError(t, err, ErrNotConfigured)
	require.Contains(t, ae.Message(), "ai_base_url")
}

func TestLocalEndpointWithoutKey(t *testing.T) {
	t.Parallel()
	f := newFakeAI(t, completion("hi", 1, 1))
	_, err := call(t, Options{Defaults: Config{BaseURL: f.url()}}, "ai.generate", map[string]any{"prompt": "hi"})
	require.NoError(t, err)
	require.Empty(t, f.requests()[0].auth, "no key, no Authorization header (Ollama)")
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)
	h := func(kv ...string) http.Header {
		out := http.Header{}
		for i := 0; i < len(kv); i += 2 {
			out.Set(kv[i], kv[i+1])
		}
		return out
	}
	require.Equal(t, 7*time.Second, retryAfter(h("Retry-After", "7"), now))
	require.Equal(t, 1500*time.Millisecond, retryAfter(h("Retry-After", "1.5"), now))
	require.Equal(t, 20*time.Second, retryAfter(h("Retry-After", now.Add(20*time.Second).Format(http.TimeFormat)), now))
	require.Equal(t, 250*time.Millisecond, retryAfter(h("Retry-After-Ms", "250", "Retry-After", "1"), now))
	require.Equal(t, maxRetryDelay, retryAfter(h("Retry-After", "86400"), now), "capped")
	require.Zero(t, retryAfter(h("Retry-After", "soon"), now))
	require.Zero(t, retryAfter(h("Retry-After", "-3"), now))
	require.Zero(t, retryAfter(h("Retry-After", "NaN"), now))
	require.Zero(t, retryAfter(nil, now))
}

// --- in an organisation's run ---------------------------------------------------

type secretMap = activities.MapSecrets

func sqliteStore(t *testing.T) (domain.Store, string) {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite::memory:", store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	o := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(t.Context(), o))
	return st, o.ID
}

// runIn runs action as step "summarise" of the workflow with id wid
// ("<org>/<run>" for an organisation's run) in Temporal's test environment,
// one attempt.
func runIn(t *testing.T, o Options, wid, action string, args map[string]any) (map[string]any, error) {
	t.Helper()
	out, _, _, err := runAttempts(t, o, wid, action, args, 1)
	return out, err
}

// runAttempts is runIn with a retry policy of attempts attempts (1s
// initial interval, doubling); it also returns the attempt that succeeded
// and how long the run took in the environment's (skipped) time.
func runAttempts(t *testing.T, o Options, wid, action string, args map[string]any, attempts int32) (map[string]any, int32, time.Duration, error) {
	t.Helper()
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(tlog.NewStructuredLogger(slog.New(slog.DiscardHandler)))
	env := suite.NewTestWorkflowEnvironment()
	reg := registry(t)
	env.RegisterActivityWithOptions(activities.Wrap(reg, action, Implementations(o)[action]), activity.RegisterOptions{Name: action})
	env.RegisterWorkflowWithOptions(func(ctx workflow.Context, args json.RawMessage) (*activities.Result, error) {
		ctx = workflow.WithActivityOptions(ctx, workflow.ActivityOptions{ActivityID: "summarise", StartToCloseTimeout: time.Minute,
			RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: attempts, InitialInterval: time.Second}})
		var res activities.Result
		err := workflow.ExecuteActivity(ctx, action, args).Get(ctx, &res)
		return &res, err
	}, workflow.RegisterOptions{Name: "flow"})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: wid})
	raw, err := dsl.MarshalJSON(args)
	require.NoError(t, err)
	start := env.Now()
	env.ExecuteWorkflow("flow", json.RawMessage(raw))
	took := env.Now().Sub(start)
	require.True(t, env.IsWorkflowCompleted())
	if err := env.GetWorkflowError(); err != nil {
		return nil, 0, took, err
	}
	var res activities.Result
	require.NoError(t, env.GetWorkflowResult(&res))
	return output(t, reg, action, res.Output), res.Attempt, took, nil
}

func TestInAnOrganisationsRun(t *testing.T) {
	t.Parallel()
	st, org := sqliteStore(t)
	f := newFakeAI(t, completion("Summary one.", 40, 10), completion("Summary two.", 30, 5))
	secrets := secretMap{org + "/ai_api_key": "sk-org-key", org + "/ai_base_url": f.url(), org + "/ai_model": "gpt-4.1-mini"}
	// the worker's own endpoint is not used: the organisation has its own
	o := Options{Secrets: secrets, Store: st, Defaults: Config{BaseURL: "http://127.0.0.1:1/v1", APIKey: "sk-worker-key", Model: "worker-model"}}
	month := time.Now().UTC().Format("2006-01")
	args := map[string]any{"prompt": "Summarise the call."}

	first, err := runIn(t, o, org+"/flow:1", "ai.generate", args)
	require.NoError(t, err)
	require.Equal(t, "Summary one.", first["text"])
	reqs := f.requests()
	require.Len(t, reqs, 1)
	require.Equal(t, "Bearer sk-org-key", reqs[0].auth)
	require.Equal(t, "gpt-4.1-mini", reqs[0].body["model"], "the organisation's model")
	used, err := st.AIUsage(t.Context(), org, month)
	require.NoError(t, err)
	require.Equal(t, int64(50), used)

	// the same activity again (a retry after the worker lost the
	// completion): the recorded output, no request, nothing counted
	again, err := runIn(t, o, org+"/flow:1", "ai.generate", args)
	require.NoError(t, err)
	require.Equal(t, first, again)
	require.Len(t, f.requests(), 1, "the model is not called again")
	used, err = st.AIUsage(t.Context(), org, month)
	require.NoError(t, err)
	require.Equal(t, int64(50), used)

	// another run: another call, its tokens added
	second, err := runIn(t, o, org+"/flow:2", "ai.generate", args)
	require.NoError(t, err)
	require.Equal(t, "Summary two.", second["text"])
	used, err = st.AIUsage(t.Context(), org, month)
	require.NoError(t, err)
	require.Equal(t, int64(85), used)
}

// Temporal retries a rate-limited call (after the provider's Retry-After);
// the tokens of the call are counted once.
func TestRetriedByTemporal(t *testing.T) {
	t.Parallel()
	st, org := sqliteStore(t)
	f := newFakeAI(t,
		apiError(429, "requests", "rate_limit_exceeded", "Rate limit reached", map[string]string{"Retry-After": "7"}),
		apiError(500, "server_error", "", "The server had an error", nil),
		completion(`{"score": 64, "reasons": ["Some budget"]}`, 50, 10))
	o := Options{Secrets: secretMap{org + "/ai_api_key": testKey, org + "/ai_base_url": f.url()}, Store: st}
	out, attempt, took, err := runAttempts(t, o, org+"/lead:1", "ai.score", map[string]any{"text": "x", "criteria": "y"}, 5)
	require.NoError(t, err)
	require.Equal(t, int32(3), attempt)
	require.GreaterOrEqual(t, took, 8*time.Second, "the 429's Retry-After (7s), then the policy's 1s")
	require.Equal(t, int64(64), out["score"])
	require.Len(t, f.requests(), 3)
	used, err := st.AIUsage(t.Context(), org, time.Now().UTC().Format("2006-01"))
	require.NoError(t, err)
	require.Equal(t, int64(60), used)

	// an error a retry cannot fix is not retried
	f = newFakeAI(t, apiError(401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided: "+testKey, nil))
	o.Secrets = secretMap{org + "/ai_api_key": testKey, org + "/ai_base_url": f.url()}
	_, _, _, err = runAttempts(t, o, org+"/lead:2", "ai.score", map[string]any{"text": "x", "criteria": "y"}, 5)
	appError(t, err, ErrAuth)
	require.NotContains(t, err.Error(), testKey)
	require.Len(t, f.requests(), 1)
}

func TestBudget(t *testing.T) {
	t.Parallel()
	st, org := sqliteStore(t)
	f := newFakeAI(t, completion(`{"label": "bug", "confidence": 0.9}`, 70, 30))
	secrets := secretMap{org + "/ai_api_key": testKey, org + "/ai_base_url": f.url(), org + "/ai_token_budget": "150"}
	o := Options{Secrets: secrets, Store: st}
	month := time.Now().UTC().Format("2006-01")
	_, err := st.AddAIUsage(t.Context(), org, month, 60)
	require.NoError(t, err)
	args := map[string]any{"text": "The app crashes.", "labels": []any{"bug", "billing"}}

	// under the budget: called, counted (and may cross it)
	out, err := runIn(t, o, org+"/triage:1", "ai.classify", args)
	require.NoError(t, err)
	require.Equal(t, "bug", out["label"])
	used, err := st.AIUsage(t.Context(), org, month)
	require.NoError(t, err)
	require.Equal(t, int64(160), used)

	// used up: refused before calling
	_, err = runIn(t, o, org+"/triage:2", "ai.classify", args)
	ae := appError(t, err, ErrBudgetExceeded)
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), fmt.Sprintf("used 160 of its 150 AI tokens for %s", month))
	require.Len(t, f.requests(), 1)
}

func TestFailedCallsCountTheirTokens(t *testing.T) {
	t.Parallel()
	st, org := sqliteStore(t)
	f := newFakeAI(t, completion("not json", 50, 5), completion("still not json", 60, 6))
	o := Options{Secrets: secretMap{org + "/ai_base_url": f.url()}, Store: st}
	_, err := runIn(t, o, org+"/flow:1", "ai.score", map[string]any{"text": "x", "criteria": "y"})
	appError(t, err, ErrInvalidOutput)
	used, err := st.AIUsage(t.Context(), org, time.Now().UTC().Format("2006-01"))
	require.NoError(t, err)
	require.Equal(t, int64(121), used, "both answers were paid for")
}

func TestOutsideAnOrganisation(t *testing.T) {
	t.Parallel()
	st, org := sqliteStore(t)
	f := newFakeAI(t, completion("one", 10, 1), completion("two", 10, 1))
	// a run without an organisation (`switchboard run`): the defaults, no
	// secrets read, nothing recorded
	o := Options{Secrets: secretMap{org + "/ai_api_key": "sk-org-key"}, Store: st, Defaults: Config{BaseURL: f.url(), APIKey: testKey}}
	for range 2 {
		_, err := runIn(t, o, "local-run", "ai.generate", map[string]any{"prompt": "hi"})
		require.NoError(t, err)
	}
	reqs := f.requests()
	require.Len(t, reqs, 2, "nothing recorded: each call calls the model")
	require.Equal(t, "Bearer "+testKey, reqs[0].auth)
}

func TestConfig(t *testing.T) {
	t.Parallel()
	worker := Config{BaseURL: "https://gateway.internal/v1", APIKey: "sk-worker", Model: "m0", Budget: 1000}
	for _, tc := range []struct {
		name    string
		secrets secretMap
		want    Config
	}{
		{"defaults", secretMap{}, worker},
		{"own key: OpenAI, never the worker's URL", secretMap{"o/ai_api_key": "sk-own"}, Config{APIKey: "sk-own", Model: "m0", Budget: 1000}},
		{"own URL: never the worker's key", secretMap{"o/ai_base_url": "http://ollama:11434/v1"}, Config{BaseURL: "http://ollama:11434/v1", Model: "m0", Budget: 1000}},
		{"own endpoint, own budget", secretMap{"o/ai_api_key": "sk-own", "o/ai_token_budget": "5000"}, Config{APIKey: "sk-own", Model: "m0", Budget: 5000}},
		{"the worker's endpoint: a budget can be lowered", secretMap{"o/ai_token_budget": "10", "o/ai_model": "m1"}, Config{BaseURL: worker.BaseURL, APIKey: "sk-worker", Model: "m1", Budget: 10}},
		{"the worker's endpoint: not raised", secretMap{"o/ai_token_budget": "5000"}, worker},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Options{Secrets: tc.secrets, Defaults: worker}.config(t.Context(), "ai.generate", "o")
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
	_, err := Options{Secrets: secretMap{"o/ai_token_budget": "lots"}}.config(t.Context(), "ai.generate", "o")
	appError(t, err, ErrNotConfigured)
	// without an organisation: the defaults only
	got, err := Options{Secrets: secretMap{"/ai_api_key": "x"}, Defaults: worker}.config(t.Context(), "ai.generate", "")
	require.NoError(t, err)
	require.Equal(t, worker, got)
}

// --- the store's usage counters, on both backends ---------------------------------

func TestAIUsageStore(t *testing.T) {
	t.Parallel()
	for name, url := range map[string]func(t *testing.T) string{
		"sqlite":   func(t *testing.T) string { return "sqlite:" + t.TempDir() + "/sb.db" },
		"postgres": func(t *testing.T) string { return storetest.PostgresURL(t) },
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st, err := store.Open(ctx, url(t), store.Options{})
			require.NoError(t, err)
			t.Cleanup(func() { _ = st.Close() })
			acme, other := &domain.Org{Name: "acme"}, &domain.Org{Name: "other"}
			require.NoError(t, st.CreateOrg(ctx, acme))
			require.NoError(t, st.CreateOrg(ctx, other))

			n, err := st.AIUsage(ctx, acme.ID, "2026-05")
			require.NoError(t, err)
			require.Zero(t, n)
			n, err = st.AddAIUsage(ctx, acme.ID, "2026-05", 120)
			require.NoError(t, err)
			require.Equal(t, int64(120), n)

			var wg sync.WaitGroup
			for range 8 {
				wg.Go(func() {
					_, err := st.AddAIUsage(ctx, acme.ID, "2026-05", 10)
					require.NoError(t, err)
				})
			}
			wg.Wait()
			n, err = st.AIUsage(ctx, acme.ID, "2026-05")
			require.NoError(t, err)
			require.Equal(t, int64(200), n, "concurrent adds all count")

			n, err = st.AddAIUsage(ctx, acme.ID, "2026-06", 0)
			require.NoError(t, err)
			require.Zero(t, n, "months are apart")
			n, err = st.AIUsage(ctx, other.ID, "2026-05")
			require.NoError(t, err)
			require.Zero(t, n, "organisations are apart")

			// in a transaction, with the action's result
			require.NoError(t, st.Tx(ctx, func(tx domain.Repo) error {
				if _, err := tx.AddAIUsage(ctx, other.ID, "2026-05", 7); err != nil {
					return err
				}
				return tx.PutActionResult(ctx, other.ID, "run:k", json.RawMessage(`{}`))
			}))
			require.Error(t, st.Tx(ctx, func(tx domain.Repo) error {
				if _, err := tx.AddAIUsage(ctx, other.ID, "2026-05", 7); err != nil {
					return err
				}
				return tx.PutActionResult(ctx, other.ID, "run:k", json.RawMessage(`{}`)) // ErrConflict: rolls back
			}))
			n, err = st.AIUsage(ctx, other.ID, "2026-05")
			require.NoError(t, err)
			require.Equal(t, int64(7), n)

			_, err = st.AddAIUsage(ctx, acme.ID, "May 2026", 1)
			require.ErrorIs(t, err, domain.ErrInvalid)
			_, err = st.AddAIUsage(ctx, acme.ID, "2026-05", -1)
			require.ErrorIs(t, err, domain.ErrInvalid)
			_, err = st.AddAIUsage(ctx, "no-such-org", "2026-05", 1)
			require.ErrorIs(t, err, domain.ErrNotFound)
		})
	}
}

// TestOrgEndpointUnderNetworkPolicy: an organisation's ai_base_url goes
// through http.request's network policy (no loopback or private addresses
// in server mode); the worker's own endpoint does not.
func TestOrgEndpointUnderNetworkPolicy(t *testing.T) {
	t.Parallel()
	st, org := sqliteStore(t)
	f := newFakeAI(t, completion("from the worker's endpoint", 1, 1))
	guarded := httpact.Client(httpact.Options{})
	o := Options{Store: st, OrgHTTPClient: guarded, Secrets: secretMap{org + "/ai_base_url": f.url()}}
	_, err := runIn(t, o, org+"/flow:1", "ai.generate", map[string]any{"prompt": "hi"})
	require.Error(t, err)
	require.Contains(t, err.Error(), "not allowed")
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae))
	require.True(t, ae.NonRetryable(), "a denied address is not retried: %v", err)
	require.Empty(t, f.requests(), "nothing reached the loopback address")

	o = Options{Store: st, OrgHTTPClient: guarded, Defaults: Config{BaseURL: f.url()}}
	out, err := runIn(t, o, org+"/flow:2", "ai.generate", map[string]any{"prompt": "hi"})
	require.NoError(t, err)
	require.Equal(t, "from the worker's endpoint", out["text"])
}
