package cli_test

// Acceptance tests of `switchboard run`, written against the local runner
// contract of shared/dsl-v1.md as an external suite would: the CLI is
// invoked in-process through cli.Execute with files in a temporary folder,
// and only its exit code, stdout and stderr (and the requests real HTTP
// servers receive) are looked at.

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/cli"
	"switchboard/dsl"
)

// ---------------------------------------------------------------------------
// success

func TestRunSuccessPrintsOutputOnly(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: greet
input:
  type: object
  required: [name]
  properties: {name: {type: string}}
vars: {count: 0}
steps:
  - id: hello
    set:
      message: "Hello, ${ input.name }!"
      count: ${ vars.count + 1 }
output: '${ {"message": vars.message, "count": vars.count, "ok": true, "none": null, "list": [1, 2.5, "x"]} }'
`)
	r := sb(t, "run", p, "--input", `{"name": "Ada"}`)
	requireOutput(t, r, `{"message": "Hello, Ada!", "count": 1, "ok": true, "none": null, "list": [1, 2.5, "x"]}`)
}

func TestRunDefaultOutputIsTheFinalVars(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: defaults
vars: {a: 1}
steps:
  - set: {b: '${ vars.a + 1 }'}
`)
	requireOutput(t, sb(t, "run", p), `{"a": 1, "b": 2}`)
}

func TestRunScalarOutputsKeepTheirType(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ expr, want string }{
		{`${ 3 * 2 }`, "6\n"},
		{`${ 1 + 0.5 }`, "1.5\n"},
		{`${ "text" }`, "\"text\"\n"},
		{`${ null }`, "null\n"},
		{`${ 1 > 2 }`, "false\n"},
	} {
		p := flow(t, `switchboard: v1
name: scalar
steps:
  - set: {a: 1}
output: '`+tc.expr+`'
`)
		r := sb(t, "run", p)
		require.Equal(t, 0, r.code, r.stderr)
		require.Equal(t, tc.want, r.stdout, "output %s", tc.expr)
	}
}

func TestRunJSONFile(t *testing.T) {
	t.Parallel()
	p := writeFile(t, t.TempDir(), "flow.json", `{
  "switchboard": "v1",
  "name": "json-flow",
  "steps": [{"set": {"x": "${ input.n + 1 }"}}],
  "output": "${ vars.x }"
}`)
	requireOutput(t, sb(t, "run", p, "--input", `{"n": 41}`), `42`)
}

// ---------------------------------------------------------------------------
// failure

func TestRunFailurePrintsOneErrorObject(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: failing
steps:
  - set: {score: 3}
  - id: check
    fail:
      type: CreditCheckFailed
      message: "score ${ vars.score } is too low"
      details: '${ {"score": vars.score} }'
`)
	r := sb(t, "run", p)
	e := requireFailure(t, r, "CreditCheckFailed")
	require.Equal(t, "score 3 is too low", e.Message)
	requireStep(t, e, "check")
	require.ElementsMatch(t, []string{"type", "message", "step"}, e.Keys, "without --details: exactly type, message, step")

	r = sb(t, "run", p, "--details")
	e = requireFailure(t, r, "CreditCheckFailed")
	requireStep(t, e, "check")
	require.ElementsMatch(t, []string{"type", "message", "step", "details"}, e.Keys)
	require.Equal(t, map[string]any{"score": float64(3)}, e.Details)
}

func TestRunFailureStepIsThePathWhenTheStepHasNoID(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: nested
steps:
  - set: {a: 1}
  - name: Group
    steps:
      - set: {b: 2}
      - fail: {type: Boom, message: bang}
`)
	e := requireFailure(t, sb(t, "run", p), "Boom")
	requireStep(t, e, "steps[1].steps[1]")
	require.Equal(t, "bang", e.Message)
}

func TestRunExpressionErrorAtRunTime(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: expr-fails
steps:
  - id: pick
    set: {x: '${ input.items[5] }'}
`)
	e := requireFailure(t, sb(t, "run", p, "--input", `{"items": [1]}`), "ExpressionError")
	requireStep(t, e, "pick")
}

func TestRunDetailsIsNullWhenTheFailureHasNone(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: plain-fail
steps:
  - fail: {type: Nope, message: no}
`)
	e := requireFailure(t, sb(t, "run", p, "--details"), "Nope")
	require.Contains(t, e.Keys, "details")
	require.Nil(t, e.Details)
	requireStep(t, e, "steps[0]")
}

// ---------------------------------------------------------------------------
// compile errors and bad flags

func TestRunCompileErrorsGoToStderrWithPositions(t *testing.T) {
	t.Parallel()
	// line numbers matter below
	p := flow(t, `switchboard: v1
name: broken
colour: blue
steps:
  - id: a
    wait: 3dd
  - sleepy: 3d
  - set: {x: '${ steps.nope.output }'}
  - id: a
    call: http.request
    with:
      method: GET
      uri: "http://example.com"
  - waitFor: {signal: s, timeout: 10}
`)
	r := sb(t, "run", p)
	require.Equal(t, 2, r.code, r.stderr)
	require.Empty(t, r.stdout)
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	want := []struct{ pos, msg string }{
		{"3:1", "unknown key `colour`"},
		{"6:11", "bad duration `3dd`"},
		{"7:5", "unknown step kind `sleepy`"},
		{"8:18", "unknown step `nope`"},
		{"9:9", "duplicate step id `a`"},
		{"13:7", "unknown argument `uri`"},
		{"14:35", "duration needs a unit"},
	}
	for _, w := range want {
		found := false
		for _, l := range lines {
			if strings.HasPrefix(l, p+":"+w.pos+": ") && strings.Contains(l, w.msg) {
				found = true
			}
		}
		require.True(t, found, "no diagnostic %s:%s: ...%s... in\n%s", p, w.pos, w.msg, r.stderr)
	}
	for _, l := range lines {
		require.True(t, strings.HasPrefix(l, p+":"), "every stderr line is file:line:col: message, got %q", l)
	}
}

func TestRunYAMLErrorOnUnquotedExpression(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: unquoted
steps:
  - set: {a: ${ 1 + }}
`)
	r := sb(t, "run", p)
	require.Equal(t, 2, r.code)
	require.Empty(t, r.stdout)
	require.True(t, strings.HasPrefix(r.stderr, p+":4:"), r.stderr)
	require.Contains(t, r.stderr, "quoted")
}

func TestRunJSONFileDiagnosticsHavePositions(t *testing.T) {
	t.Parallel()
	p := writeFile(t, t.TempDir(), "flow.json", `{"switchboard": "v1", "name": "j",
 "steps": [{"wait": "3dd"}]}`)
	r := sb(t, "run", p)
	require.Equal(t, 2, r.code)
	require.Empty(t, r.stdout)
	require.True(t, strings.HasPrefix(r.stderr, p+":2:21: bad duration"), r.stderr)
}

func TestRunBadFlags(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: flags
steps:
  - waitFor: {signal: s, timeout: 1h}
`)
	dir := t.TempDir()
	for _, tc := range []struct {
		args []string
		want []string
	}{
		{[]string{"--input", "notjson"}, []string{"--input", "JSON"}},
		{[]string{"--input", "@" + filepath.Join(dir, "missing.json")}, []string{"missing.json"}},
		{[]string{"--mock", "nope"}, []string{"--mock", "ACTION=JSON"}},
		{[]string{"--mock", "NoDots={}"}, []string{"NoDots", "unknown action"}},
		{[]string{"--mock", "http.request=notjson"}, []string{"--mock", "not valid JSON"}},
		{[]string{"--signal", "bad"}, []string{"--signal", "NAME=JSON@DURATION"}},
		{[]string{"--signal", `s={"a":1}@soon`}, []string{"--signal", "soon"}},
		{[]string{"--signal", `s=notjson@1h`}, []string{"--signal", "not valid JSON"}},
		{[]string{"--bogus"}, []string{"bogus"}},
	} {
		r := sb(t, append([]string{"run", p}, tc.args...)...)
		requireUsage(t, r, tc.want...)
	}
	requireUsage(t, sb(t, "run"), "arg")
	requireUsage(t, sb(t, "run", filepath.Join(dir, "nothere.yaml")), "nothere.yaml")
}

// ---------------------------------------------------------------------------
// input

const inputFlow = `switchboard: v1
name: with-input
input:
  type: object
  required: [customerId]
  properties:
    customerId: {type: string}
    tags: {type: array, items: {type: string}}
steps:
  - set: {id: '${ input.customerId }'}
output: '${ {"id": vars.id, "tags": input.?tags.orValue([])} }'
`

func TestRunInputInlineAndFromFile(t *testing.T) {
	t.Parallel()
	p := flow(t, inputFlow)
	requireOutput(t, sb(t, "run", p, "--input", `{"customerId": "c-1", "tags": ["a"]}`), `{"id": "c-1", "tags": ["a"]}`)

	in := writeFile(t, t.TempDir(), "in.json", `{"customerId": "c-2"}`)
	requireOutput(t, sb(t, "run", p, "--input", "@"+in), `{"id": "c-2", "tags": []}`)
}

func TestRunInputSchemaViolation(t *testing.T) {
	t.Parallel()
	p := flow(t, inputFlow)
	for _, in := range []string{`{"customerId": 5}`, `{}`, `{"customerId": "x", "tags": [1]}`} {
		e := requireFailure(t, sb(t, "run", p, "--input", in), "InputInvalid")
		require.Nil(t, e.Step, "no step ran: step is null")
	}
	// no --input at all is an empty input, which misses customerId
	requireFailure(t, sb(t, "run", p), "InputInvalid")
}

// ---------------------------------------------------------------------------
// mocks

func TestRunMockReplacesEveryCall(t *testing.T) {
	t.Parallel()
	srv := newServer(t, nil)
	p := flow(t, sub(`switchboard: v1
name: mocked
steps:
  - id: one
    call: http.request
    with: {url: "{{URL}}/one"}
  - id: two
    call: http.request
    with: {method: POST, url: "{{URL}}/two", body: {a: 1}}
output: '${ [steps.one.output.body, steps.two.output.body] }'
`, srv))
	mock := `{"status": 200, "headers": {}, "body": {"mocked": true}}`
	requireOutput(t, sb(t, "run", p, "--mock", "http.request="+mock), `[{"mocked": true}, {"mocked": true}]`)

	f := writeFile(t, t.TempDir(), "mock.json", `{"status": 200, "headers": {}, "body": "from file"}`)
	requireOutput(t, sb(t, "run", p, "--mock", "http.request=@"+f), `["from file", "from file"]`)

	require.Empty(t, srv.requests(), "a mocked action never calls out")
}

// ---------------------------------------------------------------------------
// real HTTP

func TestRunHTTPPostArrivesWithBodyAndHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(int, request) (int, string) { return 201, `{"id": "L-1"}` })
	p := flow(t, sub(`switchboard: v1
name: post-lead
steps:
  - id: post
    call: http.request
    with:
      method: POST
      url: "{{URL}}/leads"
      headers: {X-Api-Key: k-123, X-Workflow: '${ run.workflow }'}
      query: {page: 2}
      body: '${ {"email": input.email, "score": 7} }'
output: '${ {"status": steps.post.output.status, "body": steps.post.output.body, "ct": steps.post.output.headers["content-type"]} }'
`, srv))
	r := sb(t, "run", p, "--input", `{"email": "ada@example.com"}`)
	requireOutput(t, r, `{"status": 201, "body": {"id": "L-1"}, "ct": "application/json"}`)
	reqs := srv.requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	require.Equal(t, "POST", got.Method)
	require.Equal(t, "/leads", got.Path)
	require.Equal(t, "page=2", got.Query)
	require.Equal(t, "k-123", got.Header.Get("X-Api-Key"))
	require.Equal(t, "post-lead", got.Header.Get("X-Workflow"))
	require.Contains(t, got.Header.Get("Content-Type"), "application/json")
	require.JSONEq(t, `{"email": "ada@example.com", "score": 7}`, got.Body)
}

func TestRunHTTPRetriesServerErrors(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(n int, _ request) (int, string) {
		if n <= 2 {
			return 503, `{"error": "busy"}`
		}
		return 200, `{"done": true}`
	})
	p := flow(t, sub(`switchboard: v1
name: flaky
steps:
  - id: get
    call: http.request
    with: {url: "{{URL}}/flaky"}
output: ${ steps.get.output.body }
`, srv))
	r := sb(t, "run", p, "--trace")
	requireOutput(t, r, `{"done": true}`)
	require.Len(t, srv.requests(), 3)
	require.Contains(t, r.stderr, "attempts=3", "--trace shows the attempts")
}

func TestRunHTTP404FailsAtOnce(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(int, request) (int, string) { return 404, `{"error": "no such lead"}` })
	p := flow(t, sub(`switchboard: v1
name: not-found
steps:
  - id: lookup
    call: http.request
    with: {url: "{{URL}}/leads/9"}
`, srv))
	e := requireFailure(t, sb(t, "run", p, "--details"), "HTTPError")
	requireStep(t, e, "lookup")
	require.Len(t, srv.requests(), 1, "a 404 is not retried")
	d, ok := e.Details.(map[string]any)
	require.True(t, ok, "details: %v", e.Details)
	require.Equal(t, float64(404), d["status"])
	require.Equal(t, map[string]any{"error": "no such lead"}, d["body"])
}

// How many requests a failing server sees under each retry rule: the
// step's maxAttempts, the default policy (5 attempts, also for 429), and
// nonRetryable types (1 attempt).
func TestRunHTTPRetryCounts(t *testing.T) {
	t.Parallel()
	for name, tc := range map[string]struct {
		status   int
		retry    string
		requests int
	}{
		"maxAttempts 2":            {500, "    retry: {maxAttempts: 2}\n", 2},
		"default policy":           {429, "", 5},
		"nonRetryable [HTTPError]": {503, "    retry: {nonRetryable: [HTTPError]}\n", 1},
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, func(int, request) (int, string) { return tc.status, `{}` })
			p := flow(t, sub(`switchboard: v1
name: retries
steps:
  - id: call
    call: http.request
    with: {url: "{{URL}}/x"}
`+tc.retry, srv))
			e := requireFailure(t, sb(t, "run", p), "HTTPError")
			requireStep(t, e, "call")
			require.Len(t, srv.requests(), tc.requests)
		})
	}
}

// ---------------------------------------------------------------------------
// compensation

const sagaFlow = `switchboard: v1
name: saga
steps:
  - id: a
    call: http.request
    with: {method: POST, url: "{{URL}}/a"}
    compensate:
      - call: http.request
        with: {method: POST, url: "{{URL}}/undo-a", body: '${ {"id": steps.a.output.body.id} }'}
  - id: b
    call: http.request
    with: {method: POST, url: "{{URL}}/b"}
    compensate:
      - call: http.request
        with: {method: POST, url: "{{URL}}/undo-b", body: '${ {"id": steps.b.output.body.id} }'}
  - id: c
    call: http.request
    with: {method: POST, url: "{{URL}}/c"}
    compensate:
      - call: http.request
        with: {method: POST, url: "{{URL}}/undo-c"}
onFailure:
  - call: http.request
    with: {method: POST, url: "{{URL}}/alert", body: '${ {"type": error.type, "step": error.step} }'}
`

func sagaServer(t *testing.T) *server {
	return newServer(t, func(_ int, r request) (int, string) {
		switch r.Path {
		case "/c":
			return 400, `{"error": "bad"}`
		case "/a", "/b":
			return 200, `{"id": "` + strings.TrimPrefix(r.Path, "/") + `-1"}`
		}
		return 200, `{}`
	})
}

func TestRunCompensationRunsInReverseOrderThenOnFailure(t *testing.T) {
	t.Parallel()
	srv := sagaServer(t)
	p := flow(t, sub(sagaFlow, srv))
	e := requireFailure(t, sb(t, "run", p), "HTTPError")
	requireStep(t, e, "c")
	require.Equal(t, []string{"/a", "/b", "/c", "/undo-b", "/undo-a", "/alert"}, srv.paths())
	reqs := srv.requests()
	require.JSONEq(t, `{"id": "b-1"}`, reqs[3].Body)
	require.JSONEq(t, `{"id": "a-1"}`, reqs[4].Body)
	require.JSONEq(t, `{"type": "HTTPError", "step": "c"}`, reqs[5].Body)
}

func TestRunCaughtFailureRunsNoCompensation(t *testing.T) {
	t.Parallel()
	srv := sagaServer(t)
	p := flow(t, sub(`switchboard: v1
name: saga-caught
steps:
  - id: guarded
    try:
      - id: a
        call: http.request
        with: {method: POST, url: "{{URL}}/a"}
        compensate:
          - call: http.request
            with: {method: POST, url: "{{URL}}/undo-a"}
      - id: c
        call: http.request
        with: {method: POST, url: "{{URL}}/c"}
    catch:
      - errors: [HTTPError]
        steps:
          - set: {caught: '${ error.step }'}
onFailure:
  - call: http.request
    with: {method: POST, url: "{{URL}}/alert"}
`, srv))
	requireOutput(t, sb(t, "run", p), `{"caught": "c"}`)
	require.Equal(t, []string{"/a", "/c"}, srv.paths())
}

// ---------------------------------------------------------------------------
// signals at simulated times

const paymentFlow = `switchboard: v1
name: payment
steps:
  - id: paid
    waitFor: {signal: payment.succeeded, timeout: 3h}
  - set: {at: '${ now }'}
output: '${ {"paid": steps.paid.output, "elapsed": string(now - run.startedAt), "at": string(timestamp(vars.at) - run.startedAt)} }'
`

func TestRunSignalAtSimulatedOffset(t *testing.T) {
	t.Parallel()
	p := flow(t, paymentFlow)
	r := sb(t, "run", p, "--signal", `payment.succeeded={"amount":5}@2h`)
	requireOutput(t, r, `{"paid": {"timedOut": false, "payload": {"amount": 5}}, "elapsed": "7200s", "at": "7200s"}`)
	require.Less(t, r.took, 5*time.Second)
}

func TestRunSignalNowIsRecordedRightAfterWaitFor(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: payment-now
steps:
  - waitFor: {signal: payment.succeeded, timeout: 3h}
output: ${ string(now - run.startedAt) }
`)
	requireOutput(t, sb(t, "run", p, "--signal", `payment.succeeded={"amount":5}@2h`), `"7200s"`)
	requireOutput(t, sb(t, "run", p, "--signal", `payment.succeeded={"amount":5}@90m`), `"5400s"`)
	requireOutput(t, sb(t, "run", p, "--signal", `payment.succeeded={"amount":5}@PT1H30M`), `"5400s"`)
}

func TestRunSignalAfterTheTimeoutTimesOut(t *testing.T) {
	t.Parallel()
	p := flow(t, paymentFlow)
	r := sb(t, "run", p, "--signal", `payment.succeeded={"amount":5}@4h`)
	requireOutput(t, r, `{"paid": {"timedOut": true}, "elapsed": "10800s", "at": "10800s"}`)
	// and without any signal
	requireOutput(t, sb(t, "run", p), `{"paid": {"timedOut": true}, "elapsed": "10800s", "at": "10800s"}`)
}

func TestRunSignalsDeliveredInOrder(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: two-signals
steps:
  - id: first
    waitFor: {signal: s, timeout: 1d}
  - id: second
    waitFor: {signal: s, timeout: 1d}
output: '${ [steps.first.output.payload.n, steps.second.output.payload.n, string(now - run.startedAt)] }'
`)
	requireOutput(t, sb(t, "run", p, "--signal", `s={"n":1}@1h`, "--signal", `s={"n":2}@2h`), `[1, 2, "7200s"]`)
	// the offsets order them, not the command line
	requireOutput(t, sb(t, "run", p, "--signal", `s={"n":2}@2h`, "--signal", `s={"n":1}@1h`), `[1, 2, "7200s"]`)
	// at the same offset, in command-line order
	requireOutput(t, sb(t, "run", p, "--signal", `s={"n":1}@1h`, "--signal", `s={"n":2}@1h`), `[1, 2, "3600s"]`)
}

func TestRunSignalBeforeWaitForIsBuffered(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: buffered
steps:
  - wait: 2h
  - id: got
    waitFor: {signal: s, timeout: 1h}
output: '${ {"got": steps.got.output, "elapsed": string(now - run.startedAt)} }'
`)
	requireOutput(t, sb(t, "run", p, "--signal", `s={"early":true}@30m`), `{"got": {"timedOut": false, "payload": {"early": true}}, "elapsed": "7200s"}`)
}

func TestRunSignalPayloadWithAt(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: contact
steps:
  - id: c
    waitFor: {signal: contact.updated, timeout: 1d}
output: '${ {"email": steps.c.output.payload.email, "elapsed": string(now - run.startedAt)} }'
`)
	requireOutput(t, sb(t, "run", p, "--signal", `contact.updated={"email":"ada@example.com"}@30m`),
		`{"email": "ada@example.com", "elapsed": "1800s"}`)
	// no offset: at once, even though the JSON contains @
	requireOutput(t, sb(t, "run", p, "--signal", `contact.updated={"email":"ada@example.com"}`),
		`{"email": "ada@example.com", "elapsed": "0s"}`)
	// payload from a file, with and without an offset
	f := writeFile(t, t.TempDir(), "payload.json", `{"email": "bob@example.com"}`)
	requireOutput(t, sb(t, "run", p, "--signal", "contact.updated=@"+f+"@1h"),
		`{"email": "bob@example.com", "elapsed": "3600s"}`)
	requireOutput(t, sb(t, "run", p, "--signal", "contact.updated=@"+f),
		`{"email": "bob@example.com", "elapsed": "0s"}`)
}

func TestRunSignalWhenFilter(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: filtered
steps:
  - id: paid
    waitFor:
      signal: payment.succeeded
      timeout: 7d
      when: signal.amount >= input.total
output: ${ steps.paid.output }
`)
	requireOutput(t, sb(t, "run", p, "--input", `{"total": 5}`,
		"--signal", `payment.succeeded={"amount": 3}@1h`, "--signal", `payment.succeeded={"amount": 9}@2h`),
		`{"timedOut": false, "payload": {"amount": 9}}`)
}

func TestRunExitWhenSignalEndsTheRunEarly(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: nurture
vars: {touches: 0}
exitWhen:
  - signal: meeting.booked
steps:
  - wait: 3d
  - set: {touches: '${ vars.touches + 1 }'}
  - wait: 3d
  - set: {touches: '${ vars.touches + 1 }'}
output: '${ {"touches": vars.touches, "elapsed": string(now - run.startedAt)} }'
`)
	requireOutput(t, sb(t, "run", p, "--signal", "meeting.booked={}@4d"), `{"touches": 1, "elapsed": "345600s"}`)
	requireOutput(t, sb(t, "run", p), `{"touches": 2, "elapsed": "518400s"}`)
}

// ---------------------------------------------------------------------------
// time

func TestRunLongWaitTakesNoRealTime(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: month
steps:
  - id: w
    wait: 30d
output: '${ {"elapsed": string(now - run.startedAt), "fired": string(timestamp(steps.w.output.firedAt) - run.startedAt)} }'
`)
	r := sb(t, "run", p)
	requireOutput(t, r, `{"elapsed": "2592000s", "fired": "2592000s"}`)
	require.Less(t, r.took, 2*time.Second)
}

// ---------------------------------------------------------------------------
// child workflows

func TestRunChildWorkflowFromSiblingFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parent := writeFile(t, dir, "parent.yaml", `switchboard: v1
name: parent
steps:
  - id: kid
    workflow: child-flow
    with: {n: 20}
output: '${ {"child": steps.kid.output, "elapsed": string(now - run.startedAt)} }'
`)
	writeFile(t, dir, "child.yml", `switchboard: v1
name: child-flow
input:
  type: object
  required: [n]
  properties: {n: {type: integer}}
steps:
  - wait: 1d
  - set: {doubled: '${ input.n * 2 }'}
output: '${ {"doubled": vars.doubled} }'
`)
	writeFile(t, dir, "unrelated.yaml", `switchboard: v1
name: unrelated
steps:
  - fail: {type: X, message: never runs}
`)
	requireOutput(t, sb(t, "run", parent), `{"child": {"doubled": 40}, "elapsed": "86400s"}`)
}

func TestRunChildWorkflowFailurePropagates(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parent := writeFile(t, dir, "parent.yaml", `switchboard: v1
name: parent
steps:
  - id: kid
    workflow: child-flow
`)
	writeFile(t, dir, "child.yaml", `switchboard: v1
name: child-flow
steps:
  - fail: {type: ChildBroke, message: sorry}
`)
	e := requireFailure(t, sb(t, "run", parent), "ChildBroke")
	requireStep(t, e, "kid")
}

func TestRunMissingChildWorkflowIsACompileError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parent := writeFile(t, dir, "parent.yaml", `switchboard: v1
name: parent
steps:
  - id: kid
    workflow: nobody-home
`)
	r := sb(t, "run", parent)
	require.Equal(t, 2, r.code)
	require.Empty(t, r.stdout)
	require.True(t, strings.HasPrefix(r.stderr, parent+":5:15: "), r.stderr)
	require.Contains(t, r.stderr, "nobody-home")
}

func TestRunChildThatDoesNotCompileIsACompileError(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parent := writeFile(t, dir, "parent.yaml", `switchboard: v1
name: parent
steps:
  - workflow: child-flow
`)
	child := writeFile(t, dir, "child.yaml", `switchboard: v1
name: child-flow
steps:
  - wait: 3dd
`)
	r := sb(t, "run", parent)
	require.Equal(t, 2, r.code)
	require.Empty(t, r.stdout)
	require.Contains(t, r.stderr, child+":4:11: bad duration")
}

// ---------------------------------------------------------------------------
// approvals

func TestRunApprovalDecidedBySignal(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: discount
steps:
  - id: approveDiscount
    approval:
      title: "Approve a ${ input.discount }% discount"
      assignees: {role: admin}
      timeout: 2d
  - set: {after: '${ string(now - run.startedAt) }'}
output: '${ {"approved": steps.approveDiscount.output.approved, "comment": steps.approveDiscount.output.comment, "after": vars.after} }'
`)
	r := sb(t, "run", p, "--input", `{"discount": 15}`, "--signal", `approveDiscount={"approved":true,"comment":"ok"}@1h`)
	requireOutput(t, r, `{"approved": true, "comment": "ok", "after": "3600s"}`)

	r = sb(t, "run", p, "--input", `{"discount": 15}`, "--signal", `approveDiscount={"approved":false,"comment":"too much"}@3h`)
	requireOutput(t, r, `{"approved": false, "comment": "too much", "after": "10800s"}`)
}

func TestRunApprovalTimesOut(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: discount
steps:
  - id: approveDiscount
    approval: {title: Approve, assignees: {role: admin}, timeout: 2d}
output: ${ steps.approveDiscount.output }
`)
	requireOutput(t, sb(t, "run", p), `{"approved": false, "timedOut": true}`)
}

// ---------------------------------------------------------------------------
// runs that can never finish

func TestRunStuckWaitForReportsRunStuck(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: stuck
steps:
  - set: {a: 1}
  - id: forever
    waitFor: {signal: never.comes}
`)
	r := sb(t, "run", p)
	e := requireFailure(t, r, "RunStuck")
	requireStep(t, e, "forever")
	require.Contains(t, e.Message, "never.comes")
	require.Less(t, r.took, 10*time.Second)

	// a signal of another name does not help (and is warned about)
	r = sb(t, "run", p, "--signal", "other={}@1h")
	e = requireFailure(t, r, "RunStuck")
	requireStep(t, e, "forever")
	require.Contains(t, r.stderr, "warning: --signal other")
}

func TestRunStuckStepWithoutIDIsItsPath(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: stuck-path
steps:
  - wait: 1h
  - steps:
      - waitFor: {signal: nope, when: signal.ok}
`)
	e := requireFailure(t, sb(t, "run", p, "--signal", `nope={"ok":false}@2h`), "RunStuck")
	requireStep(t, e, "steps[1].steps[0]")
	require.Contains(t, e.Message, "nope")
}

func TestRunStuckApproval(t *testing.T) {
	t.Parallel()
	p := flow(t, `switchboard: v1
name: stuck-approval
steps:
  - id: sign
    approval: {title: Sign, assignees: {role: admin}}
`)
	e := requireFailure(t, sb(t, "run", p), "RunStuck")
	requireStep(t, e, "sign")
	require.Contains(t, e.Message, "approval")
}

func TestRunStuckInChildWorkflow(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	parent := writeFile(t, dir, "parent.yaml", `switchboard: v1
name: parent
steps:
  - id: kid
    workflow: child-flow
`)
	writeFile(t, dir, "child.yaml", `switchboard: v1
name: child-flow
steps:
  - id: hold
    waitFor: {signal: child.go}
`)
	e := requireFailure(t, sb(t, "run", parent), "RunStuck")
	requireStep(t, e, "kid")
	require.Contains(t, e.Message, "child.go")
	require.Contains(t, e.Message, "child-flow")
}

// ---------------------------------------------------------------------------
// schema

func TestSchemaPrintsTheDSLSchema(t *testing.T) {
	t.Parallel()
	r := sb(t, "schema")
	require.Equal(t, 0, r.code, r.stderr)
	var s map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &s))
	require.Equal(t, dsl.SchemaID, s["$id"])
}

// ---------------------------------------------------------------------------
// helpers

// result is what one `switchboard ...` invocation produced.
type result struct {
	code           int
	stdout, stderr string
	took           time.Duration
}

// sb runs the CLI in-process, as the binary would with these arguments.
func sb(t *testing.T, args ...string) result {
	t.Helper()
	var out, errb bytes.Buffer
	start := time.Now()
	code := cli.Execute(t.Context(), args, &out, &errb)
	return result{code: code, stdout: out.String(), stderr: errb.String(), took: time.Since(start)}
}

// writeFile writes content to dir/name and returns its path.
func writeFile(t *testing.T, dir, name, content string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	require.NoError(t, os.MkdirAll(filepath.Dir(p), 0o755))
	require.NoError(t, os.WriteFile(p, []byte(content), 0o644))
	return p
}

// flow writes a workflow file into a fresh folder and returns its path.
func flow(t *testing.T, src string) string {
	t.Helper()
	return writeFile(t, t.TempDir(), "flow.yaml", src)
}

// requireOutput asserts a successful run: exit 0, and stdout is exactly one
// JSON value (plus a newline) equal to want.
func requireOutput(t *testing.T, r result, want string) {
	t.Helper()
	require.Equal(t, 0, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	requireSingleJSON(t, r.stdout)
	require.JSONEq(t, want, r.stdout)
}

// requireSingleJSON asserts that stdout holds exactly one JSON value and
// nothing else.
func requireSingleJSON(t *testing.T, stdout string) {
	t.Helper()
	require.True(t, strings.HasSuffix(stdout, "\n"), "stdout must end with a newline: %q", stdout)
	dec := json.NewDecoder(strings.NewReader(stdout))
	var v any
	require.NoError(t, dec.Decode(&v), "stdout is not JSON: %q", stdout)
	_, err := dec.Token()
	require.ErrorIs(t, err, io.EOF, "stdout holds more than one JSON value: %q", stdout)
}

// runErr is the failure output's error object.
type runErr struct {
	Type    string
	Message string
	Step    *string
	Details any
	// Keys are the object's keys, to check that nothing else is there.
	Keys []string
}

// requireFailure asserts a failed run: exit 1 and stdout exactly
// {"error": {"type", "message", "step"}} (plus "details" with --details).
func requireFailure(t *testing.T, r result, typ string) runErr {
	t.Helper()
	require.Equal(t, 1, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	requireSingleJSON(t, r.stdout)
	var top map[string]json.RawMessage
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &top))
	require.Len(t, top, 1, "stdout: %s", r.stdout)
	raw, ok := top["error"]
	require.True(t, ok, "stdout: %s", r.stdout)
	var obj map[string]any
	require.NoError(t, json.Unmarshal(raw, &obj))
	var e runErr
	for k := range obj {
		e.Keys = append(e.Keys, k)
	}
	require.Contains(t, obj, "type")
	require.Contains(t, obj, "message")
	require.Contains(t, obj, "step", "step must be present (null when the failure is not a step's)")
	e.Type, _ = obj["type"].(string)
	e.Message, _ = obj["message"].(string)
	if s, ok := obj["step"].(string); ok {
		e.Step = &s
	} else {
		require.Nil(t, obj["step"], "step is a string or null")
	}
	e.Details = obj["details"]
	require.Equal(t, typ, e.Type, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.NotEmpty(t, e.Message)
	return e
}

func requireStep(t *testing.T, e runErr, step string) {
	t.Helper()
	require.NotNil(t, e.Step, "step is null, want %q", step)
	require.Equal(t, step, *e.Step)
}

// requireUsage asserts a refused invocation: exit 2, nothing on stdout, and
// a message on stderr mentioning each of want.
func requireUsage(t *testing.T, r result, want ...string) {
	t.Helper()
	require.Equal(t, 2, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	require.Empty(t, r.stdout)
	for _, w := range want {
		require.Contains(t, r.stderr, w)
	}
}

// request is one request a test server received.
type request struct {
	Method string
	Path   string
	Query  string
	Header http.Header
	Body   string
}

// server is an httptest server that records every request and answers
// with respond(n, request), n counting requests from 1.
type server struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newServer(t *testing.T, respond func(n int, r request) (status int, body string)) *server {
	t.Helper()
	s := &server{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		req := request{Method: r.Method, Path: r.URL.Path, Query: r.URL.RawQuery, Header: r.Header.Clone(), Body: string(b)}
		s.mu.Lock()
		s.reqs = append(s.reqs, req)
		n := len(s.reqs)
		s.mu.Unlock()
		status, body := 200, `{"ok": true}`
		if respond != nil {
			status, body = respond(n, req)
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *server) requests() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.reqs...)
}

func (s *server) paths() []string {
	var out []string
	for _, r := range s.requests() {
		out = append(out, r.Path)
	}
	return out
}

// sub replaces {{URL}} in a workflow source with the server's URL.
func sub(src string, s *server) string { return strings.ReplaceAll(src, "{{URL}}", s.URL) }

// A connector this build does not have can be mocked: --mock declares it
// (untyped) so the workflow compiles and runs; without the mock it is an
// unknown action (exit 2).
func TestRunMockDeclaresUnknownConnector(t *testing.T) {
	t.Parallel()
	f := flow(t, `switchboard: v1
name: crm
steps:
  - id: lead
    call: crm.createLead
    with: {email: a@example.com}
output: ${ steps.lead.output.id }
`)
	r := sb(t, "run", f, "--mock", `crm.createLead={"id": 7}`)
	requireOutput(t, r, `7`)
	require.Contains(t, r.stderr, "crm.createLead")
	r = sb(t, "run", f)
	require.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "unknown action `crm.createLead`")
}
