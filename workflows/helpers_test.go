package workflows_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/activities/catalog"
	"switchboard/dsl"
	"switchboard/workers/local"
	"switchboard/workflows"
)

// compile compiles an inline workflow; src may omit the `switchboard: v1`
// and `name:` header lines.
func compile(t *testing.T, src string) *dsl.Plan {
	t.Helper()
	if !strings.Contains(src, "switchboard:") {
		src = "switchboard: v1\nname: t\n" + src
	}
	p, diags := dsl.Compile("t.yaml", []byte(src), dsl.Options{Registry: catalog.Registry()})
	require.Empty(t, diags, "compile diagnostics")
	require.NotNil(t, p)
	return p
}

// runPlan runs a compiled plan to completion and fails the test on a runner error.
func runPlan(t *testing.T, ctx context.Context, p *dsl.Plan, opts local.Options) *local.Result {
	t.Helper()
	if ctx == nil {
		ctx = context.Background()
	}
	if opts.IdleTimeout == 0 {
		opts.IdleTimeout = time.Minute
	}
	res, err := local.Run(ctx, p, opts)
	require.NoError(t, err)
	require.NotNil(t, res)
	return res
}

// run compiles src and runs it.
func run(t *testing.T, src string, opts local.Options) *local.Result {
	t.Helper()
	return runPlan(t, nil, compile(t, src), opts)
}

// succeed runs src and requires success; it returns the output.
func succeed(t *testing.T, src string, opts local.Options) (any, *local.Result) {
	t.Helper()
	res := run(t, src, opts)
	require.Nil(t, res.Error, "run failed: %+v", res.Error)
	return res.Output, res
}

// failWith runs src and requires failure of type typ.
func failWith(t *testing.T, src string, opts local.Options, typ string) *local.Result {
	t.Helper()
	res := run(t, src, opts)
	require.NotNil(t, res.Error, "run succeeded with %s", js(res.Output))
	require.Equal(t, typ, res.Error.Type, "error: %+v", res.Error)
	return res
}

// js renders a value as JSON, the way the CLI prints outputs.
func js(v any) string {
	b, err := dsl.MarshalJSON(v)
	if err != nil {
		return "<" + err.Error() + ">"
	}
	return string(b)
}

// requireJSON compares a value with expected JSON text, exactly (ints stay ints).
func requireJSON(t *testing.T, want string, got any, msg ...any) {
	t.Helper()
	require.JSONEq(t, want, js(got), msg...)
}

func raw(s string) json.RawMessage { return json.RawMessage(s) }

// mock makes every http.request return v.
func mockHTTP(v string) map[string]json.RawMessage {
	return map[string]json.RawMessage{"http.request": raw(v)}
}

func sig(name, payload string, at time.Duration) local.Signal {
	s := local.Signal{Name: name, At: at}
	if payload != "" {
		s.Payload = raw(payload)
	}
	return s
}

// stepByID returns the last timeline record of the step with that id.
func stepByID(t *testing.T, res *local.Result, id string) *workflows.StepState {
	t.Helper()
	require.NotNil(t, res.State, "no state")
	var found *workflows.StepState
	for _, s := range res.State.Steps {
		if s.ID == id {
			found = s
		}
	}
	require.NotNil(t, found, "no timeline record for step %s", id)
	return found
}

// stepsByID returns every timeline record of the step with that id.
func stepsByID(res *local.Result, id string) []*workflows.StepState {
	var out []*workflows.StepState
	for _, s := range res.State.Steps {
		if s.ID == id {
			out = append(out, s)
		}
	}
	return out
}

// server is an httptest server whose handler sees the request number per path.
type server struct {
	*httptest.Server
	hits    atomic.Int64
	perPath map[string]*atomic.Int64
}

func newServer(t *testing.T, paths []string, h func(w http.ResponseWriter, r *http.Request, n int64)) *server {
	t.Helper()
	s := &server{perPath: map[string]*atomic.Int64{}}
	for _, p := range paths {
		s.perPath[p] = new(atomic.Int64)
	}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.hits.Add(1)
		c, ok := s.perPath[r.URL.Path]
		var n int64
		if ok {
			n = c.Add(1)
		}
		h(w, r, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) count(path string) int64 { return s.perPath[path].Load() }

func writeJSON(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(body))
}

// sub substitutes {{URL}} in src.
func sub(src, url string) string { return strings.ReplaceAll(src, "{{URL}}", url) }

func sprintf(format string, args ...any) string { return fmt.Sprintf(format, args...) }

func fmtInt(i int) string { return fmt.Sprint(i) }
