package api_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"switchboard/activities/catalog"
	httpact "switchboard/activities/http"
	"switchboard/api"
	"switchboard/domain"
	"switchboard/store"
	"switchboard/store/seal"
	"switchboard/store/storetest"
	"switchboard/workers/devserver"
	"switchboard/workers/platform"
	"switchboard/workflows"
)

// env is the one server stack the test binary shares: an embedded
// Temporal server, the platform worker, an SQLite store and the API.
var env struct {
	url      string // the API
	devURL   string // the same, in dev mode (webhooks may skip verification)
	dispatch *platform.Dispatcher
	deadURL  string // an API whose Temporal is unreachable (and with no keyring)
	deadDev  string // the same in dev mode, with the keyring
	deadWait time.Duration
	store    domain.Store
	db       *sql.DB // the store's database, to look at raw rows (write placeholders with rawSQL)
	postgres bool    // the store is PostgreSQL
	keyring  *seal.Keyring
	temporal client.Client
	// providers is the local stand-in for SendGrid, Stripe and Slack the
	// worker's connectors talk to
	providers *fakeProviders
}

func TestMain(m *testing.M) {
	os.Exit(runMain(m))
}

// rawSQL writes a statement's ? placeholders as the store's database wants them.
func rawSQL(q string) string {
	if !env.postgres {
		return q
	}
	var b strings.Builder
	n := 0
	for _, r := range q {
		if r == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(r)
	}
	return b.String()
}

func runMain(m *testing.M) int {
	fail := func(what string, err error) int {
		fmt.Fprintf(os.Stderr, "api tests: %s: %v\n", what, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	quiet := slog.New(slog.DiscardHandler)

	dir, err := os.MkdirTemp("", "api-test-*")
	if err != nil {
		return fail("temp dir", err)
	}
	defer os.RemoveAll(dir)

	// SWITCHBOARD_API_TEST_STORE=postgres runs the suite on PostgreSQL
	// (make test runs it both ways); the default is SQLite.
	dbURL := "sqlite:" + filepath.Join(dir, "switchboard.db")
	if os.Getenv("SWITCHBOARD_API_TEST_STORE") == "postgres" {
		u, drop, err := storetest.NewPostgresSchema(ctx)
		if err != nil {
			return fail("postgres", err)
		}
		defer func() {
			if err := drop(); err != nil {
				fmt.Fprintln(os.Stderr, err)
			}
		}()
		dbURL, env.postgres = u, true
	}
	st, err := store.Open(ctx, dbURL, store.Options{})
	if err != nil {
		return fail("open store", err)
	}
	defer st.Close()
	env.store = st
	dbs, ok := st.(interface{ DB() *sql.DB })
	if !ok {
		return fail("store", fmt.Errorf("%T has no DB()", st))
	}
	env.db = dbs.DB()

	key := make([]byte, 32)
	_, _ = rand.Read(key)
	if env.keyring, err = seal.ParseKeyring(base64.StdEncoding.EncodeToString(key)); err != nil {
		return fail("keyring", err)
	}

	srv, err := devserver.Start(ctx, devserver.Options{})
	if err != nil {
		return fail("start temporal", err)
	}
	defer func() { _ = srv.Stop() }()
	tc, err := srv.Client(client.Options{})
	if err != nil {
		return fail("temporal client", err)
	}
	defer tc.Close()
	env.temporal = tc
	if err := workflows.EnsureSearchAttributes(ctx, tc, "default"); err != nil {
		return fail("search attributes", err)
	}

	env.providers = newFakeProviders()
	ps := httptest.NewServer(env.providers)
	defer ps.Close()
	env.providers.url = ps.URL
	a := api.New(api.Options{Store: st, Temporal: tc, Keyring: env.keyring, Logger: quiet, SlackURL: ps.URL + "/api/"})
	hs := httptest.NewServer(a.Handler())
	defer hs.Close()
	env.url = hs.URL

	w, err := platform.New(platform.Options{Client: tc, Store: st, Logger: quiet, Keys: env.keyring,
		Catalog: catalog.Options{HTTP: httpact.Options{AllowLoopback: true}, PublicURL: hs.URL, Dev: true,
			Providers: catalog.Providers{SendGrid: ps.URL, Stripe: ps.URL, Slack: ps.URL + "/api/"}}})
	if err != nil {
		return fail("worker", err)
	}
	if err := w.Start(); err != nil {
		return fail("start worker", err)
	}
	defer w.Stop()
	devAPI := api.New(api.Options{Store: st, Temporal: tc, Keyring: env.keyring, Logger: quiet, Dev: true})
	devHS := httptest.NewServer(devAPI.Handler())
	defer devHS.Close()
	env.devURL = devHS.URL

	// the event dispatcher, as the worker runs it
	env.dispatch = platform.NewDispatcher(platform.DispatcherOptions{Client: tc, Store: st, Logger: quiet, Idle: 50 * time.Millisecond})
	dctx, stopDispatch := context.WithCancel(context.Background())
	dispatched := make(chan struct{})
	go func() { defer close(dispatched); _ = env.dispatch.Run(dctx) }()
	defer func() { stopDispatch(); <-dispatched }()

	// The same store, but Temporal at an address nobody listens on.
	dead, err := client.NewLazyClient(client.Options{HostPort: "127.0.0.1:1",
		Logger: sdklog.NewStructuredLogger(quiet)})
	if err != nil {
		return fail("lazy client", err)
	}
	defer dead.Close()
	env.deadWait = 2 * time.Second
	da := api.New(api.Options{Store: st, Temporal: dead, Logger: quiet, Timeout: env.deadWait})
	dhs := httptest.NewServer(da.Handler())
	defer dhs.Close()
	env.deadURL = dhs.URL
	ddhs := httptest.NewServer(api.New(api.Options{Store: st, Temporal: dead, Keyring: env.keyring, Logger: quiet,
		Timeout: env.deadWait, Dev: true}).Handler())
	defer ddhs.Close()
	env.deadDev = ddhs.URL

	return m.Run()
}

// ---- HTTP ----

type req struct {
	method string
	path   string
	key    string // an API key secret; empty sends no Authorization
	auth   string // a raw Authorization header (overrides key)
	// body is sent as is when it is a string or []byte, else as JSON.
	body        any
	contentType string
	headers     map[string]string
	base        string // default env.url
}

type resp struct {
	status int
	header http.Header
	body   []byte
	took   time.Duration
}

var httpClient = &http.Client{Timeout: 60 * time.Second}

func call(r req) (*resp, error) {
	var body io.Reader
	ct := r.contentType
	switch b := r.body.(type) {
	case nil:
	case string:
		body = strings.NewReader(b)
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			return nil, err
		}
		body = bytes.NewReader(j)
		if ct == "" {
			ct = "application/json"
		}
	}
	base := r.base
	if base == "" {
		base = env.url
	}
	hr, err := http.NewRequest(r.method, base+r.path, body)
	if err != nil {
		return nil, err
	}
	if ct != "" {
		hr.Header.Set("Content-Type", ct)
	}
	switch {
	case r.auth != "":
		hr.Header.Set("Authorization", r.auth)
	case r.key != "":
		hr.Header.Set("Authorization", "Bearer "+r.key)
	}
	for k, v := range r.headers {
		hr.Header.Set(k, v)
	}
	start := time.Now()
	res, err := httpClient.Do(hr)
	if err != nil {
		return nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return nil, err
	}
	return &resp{status: res.StatusCode, header: res.Header, body: b, took: time.Since(start)}, nil
}

func do(t *testing.T, r req) *resp {
	t.Helper()
	res, err := call(r)
	require.NoError(t, err, "%s %s", r.method, r.path)
	return res
}

// expect does r and requires the status; it returns the JSON body (nil
// when there is none).
func expect(t *testing.T, r req, status int) map[string]any {
	t.Helper()
	res := do(t, r)
	require.Equal(t, status, res.status, "%s %s: %s", r.method, r.path, res.body)
	return res.obj(t)
}

func (r *resp) obj(t *testing.T) map[string]any {
	t.Helper()
	if len(bytes.TrimSpace(r.body)) == 0 {
		return nil
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.body, &m), "body: %s", r.body)
	return m
}

// requireProblem checks an RFC 9457 answer.
func requireProblem(t *testing.T, r *resp, status int, typ string) map[string]any {
	t.Helper()
	require.Equal(t, status, r.status, "body: %s", r.body)
	require.Equal(t, "application/problem+json", r.header.Get("Content-Type"), "body: %s", r.body)
	p := r.obj(t)
	require.Equal(t, api.ProblemBase+typ, p["type"], "body: %s", r.body)
	require.EqualValues(t, status, p["status"])
	require.NotEmpty(t, p["title"])
	return p
}

// jget follows a dotted path (map keys, list indices) through decoded JSON.
func jget(v any, path string) any {
	if path == "" {
		return v
	}
	for _, part := range strings.Split(path, ".") {
		switch x := v.(type) {
		case map[string]any:
			v = x[part]
		case []any:
			i, err := strconv.Atoi(part)
			if err != nil || i < 0 || i >= len(x) {
				return nil
			}
			v = x[i]
		default:
			return nil
		}
	}
	return v
}

// normJSON makes a Go value compare equal to its decoded JSON.
func normJSON(t *testing.T, v any) any {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	var out any
	require.NoError(t, json.Unmarshal(b, &out))
	return out
}

func items(t *testing.T, m map[string]any) []map[string]any {
	t.Helper()
	raw, ok := m["items"].([]any)
	require.True(t, ok, "no items in %v", m)
	out := make([]map[string]any, len(raw))
	for i, x := range raw {
		out[i] = x.(map[string]any)
	}
	return out
}

// scenario is one row of a request table.
type scenario struct {
	name        string
	method      string
	path        string
	key         string
	auth        string
	body        any
	contentType string
	headers     map[string]string
	base        string

	status      int
	problem     string // the problem type (after ProblemBase), when an error is expected
	contains    []string
	notContains []string
	fields      map[string]any // dotted JSON path → expected value
	check       func(t *testing.T, r *resp)
}

func (s scenario) run(t *testing.T) *resp {
	t.Helper()
	r := do(t, req{method: s.method, path: s.path, key: s.key, auth: s.auth, body: s.body,
		contentType: s.contentType, headers: s.headers, base: s.base})
	if s.problem != "" {
		requireProblem(t, r, s.status, s.problem)
	} else {
		require.Equal(t, s.status, r.status, "body: %s", r.body)
	}
	for _, c := range s.contains {
		require.Contains(t, string(r.body), c)
	}
	for _, c := range s.notContains {
		require.NotContains(t, string(r.body), c)
	}
	if len(s.fields) > 0 {
		var v any
		require.NoError(t, json.Unmarshal(r.body, &v), "body: %s", r.body)
		for path, want := range s.fields {
			require.Equal(t, normJSON(t, want), jget(v, path), "field %s of %s", path, r.body)
		}
	}
	if s.check != nil {
		s.check(t, r)
	}
	return r
}

func runScenarios(t *testing.T, cases []scenario) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if c.method == "" {
				c.method = http.MethodGet
			}
			c.run(t)
		})
	}
}

// ---- organisations ----

var orgSeq atomic.Int64

// org is an organisation with a user and an API key for every role, plus
// "someone", a second operator.
type org struct {
	id     string
	name   string
	keys   map[string]string // role or "someone" → API key secret
	users  map[string]string // role or "someone" → user id
	keyIDs map[string]string // role or "someone" → API key id
	emails map[string]string
}

func (o *org) owner() string    { return o.keys["owner"] }
func (o *org) admin() string    { return o.keys["admin"] }
func (o *org) builder() string  { return o.keys["builder"] }
func (o *org) operator() string { return o.keys["operator"] }
func (o *org) viewer() string   { return o.keys["viewer"] }

// actor is how the audit log names the key of who.
func (o *org) actor(who string) string { return "user:" + o.users[who] + " key:" + o.keyIDs[who] }

// newOrg bootstraps an organisation (api.Bootstrap) and creates its other
// users and keys through the API.
func newOrg(t *testing.T) *org {
	t.Helper()
	ctx := context.Background()
	name := fmt.Sprintf("acme-%d", orgSeq.Add(1))
	o, secret, err := api.Bootstrap(ctx, env.store, name, "owner@acme.test")
	require.NoError(t, err)
	out := &org{id: o.ID, name: name, keys: map[string]string{"owner": secret}, users: map[string]string{},
		keyIDs: map[string]string{}, emails: map[string]string{"owner": "owner@acme.test"}}
	ks := items(t, expect(t, req{method: "GET", path: "/v1/api-keys", key: secret}, 200))
	require.Len(t, ks, 1)
	out.keyIDs["owner"] = ks[0]["id"].(string)
	out.users["owner"] = ks[0]["userId"].(string)
	for _, who := range []string{"admin", "builder", "operator", "viewer", "someone"} {
		role := who
		if who == "someone" {
			role = "operator"
		}
		email := who + "@acme.test"
		u := expect(t, req{method: "POST", path: "/v1/users", key: secret,
			body: map[string]any{"email": email, "name": who, "role": role}}, 201)
		k := expect(t, req{method: "POST", path: "/v1/api-keys", key: secret,
			body: map[string]any{"user": u["id"], "name": who + " key", "role": role}}, 201)
		require.True(t, strings.HasPrefix(k["secret"].(string), api.KeyPrefix))
		out.keys[who] = k["secret"].(string)
		out.users[who] = u["id"].(string)
		out.keyIDs[who] = k["id"].(string)
		out.emails[who] = email
	}
	return out
}

// define saves src as a new revision (as the builder) and returns the answer.
func (o *org) define(t *testing.T, src string) map[string]any {
	t.Helper()
	return expect(t, req{method: "POST", path: "/v1/definitions", key: o.builder(), body: src,
		contentType: "application/yaml"}, 201)
}

// deploy saves src and deploys that revision; it returns the workflow name.
func (o *org) deploy(t *testing.T, src string) string {
	t.Helper()
	res := o.define(t, src)
	name := jget(res, "definition.name").(string)
	n := jget(res, "revision.number")
	d := expect(t, req{method: "POST", path: "/v1/definitions/" + name + "/deployment", key: o.builder(),
		body: map[string]any{"revision": n}}, 200)
	require.Equal(t, n, d["liveRevision"])
	return name
}

// start starts a run as the operator and returns its id.
func (o *org) start(t *testing.T, name string, input any) string {
	t.Helper()
	res := expect(t, req{method: "POST", path: "/v1/runs", key: o.operator(),
		body: map[string]any{"definition": name, "input": input}}, 201)
	id, _ := res["id"].(string)
	require.True(t, strings.HasPrefix(id, name+":"), "run id %q", id)
	return id
}

// run reads a run as the viewer.
func (o *org) run(t *testing.T, id string) map[string]any {
	t.Helper()
	return expect(t, req{method: "GET", path: "/v1/runs/" + id, key: o.viewer()}, 200)
}

// waitRun polls a run until it has status.
func (o *org) waitRun(t *testing.T, id, status string) map[string]any {
	t.Helper()
	var last map[string]any
	eventually(t, 30*time.Second, func() bool {
		last = o.run(t, id)
		return last["status"] == status
	}, func() string { return fmt.Sprintf("run %s never became %s: %v", id, status, last) })
	return last
}

// waitPosition polls a running run until its timeline has a step of kind
// waiting.
func (o *org) waitStep(t *testing.T, id, kind, status string) map[string]any {
	t.Helper()
	var last map[string]any
	eventually(t, 30*time.Second, func() bool {
		last = o.run(t, id)
		for _, s := range asList(last["steps"]) {
			if s["kind"] == kind && s["status"] == status {
				return true
			}
		}
		return false
	}, func() string { return fmt.Sprintf("run %s has no %s step %s: %v", id, status, kind, last) })
	return last
}

func asList(v any) []map[string]any {
	raw, _ := v.([]any)
	out := make([]map[string]any, 0, len(raw))
	for _, x := range raw {
		if m, ok := x.(map[string]any); ok {
			out = append(out, m)
		}
	}
	return out
}

// eventually polls cond (on the test's goroutine, so it may use require)
// until it holds or the deadline passes.
func eventually(t *testing.T, within time.Duration, cond func() bool, msg func() string) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		if cond() {
			return
		}
		if time.Now().After(deadline) {
			require.FailNow(t, msg())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// audit is the organisation's audit log (as the owner), newest first.
func (o *org) audit(t *testing.T) []map[string]any {
	t.Helper()
	return items(t, expect(t, req{method: "GET", path: "/v1/audit?limit=500", key: o.owner()}, 200))
}

// findAudit returns the audit rows with action and target.
func findAudit(rows []map[string]any, action, target string) []map[string]any {
	var out []map[string]any
	for _, r := range rows {
		if r["action"] == action && (target == "" || r["target"] == target) {
			out = append(out, r)
		}
	}
	return out
}
