package workflows_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/workers/local"
	"switchboard/workflows"
)

// A call failing with 503 twice then 200 succeeds on the third attempt
// (default retry policy), and the timeline records attempts=3.
func TestRetryTransientHTTP(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/flaky"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		if n <= 2 {
			writeJSON(w, 503, `{"error": "busy"}`)
			return
		}
		writeJSON(w, 200, `{"ok": true, "n": 7}`)
	})
	out, res := succeed(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/flaky"}
output: ${ steps.c.output.body }
`, srv.URL), local.Options{})
	requireJSON(t, `{"ok": true, "n": 7}`, out)
	require.EqualValues(t, 3, srv.count("/flaky"))
	c := stepByID(t, res, "c")
	require.Equal(t, 3, c.Attempts)
	require.Equal(t, workflows.StatusSucceeded, c.Status)
	// default policy: 1s then 2s between attempts
	require.GreaterOrEqual(t, res.Elapsed, 3*time.Second)
}

// A 404 is not retried: one request, HTTPError with details.status.
func TestHTTP404NotRetried(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/missing"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 404, `{"error": "no such thing"}`)
	})
	res := failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/missing"}
`, srv.URL), local.Options{}, "HTTPError")
	require.EqualValues(t, 1, srv.count("/missing"))
	require.Equal(t, "c", res.Error.Step)
	d, ok := res.Error.Details.(map[string]any)
	require.True(t, ok, "details: %s", js(res.Error.Details))
	require.Equal(t, "404", js(d["status"]))
	requireJSON(t, `{"error": "no such thing"}`, d["body"])
	c := stepByID(t, res, "c")
	require.Equal(t, workflows.StatusFailed, c.Status)
	require.Equal(t, 1, c.Attempts)
	require.Equal(t, "HTTPError", c.Error.Type)
}

// retry.maxAttempts bounds the attempts: exactly 2 requests, then failure.
func TestRetryMaxAttempts(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/down"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 500, `{}`)
	})
	res := failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/down"}
    retry: {maxAttempts: 2, initialInterval: 10s}
`, srv.URL), local.Options{}, "HTTPError")
	require.EqualValues(t, 2, srv.count("/down"))
	require.Equal(t, 2, stepByID(t, res, "c").Attempts)
	require.Equal(t, "500", js(res.Error.Details.(map[string]any)["status"]))
	require.GreaterOrEqual(t, res.Elapsed, 10*time.Second)
}

// The default policy makes 5 attempts.
func TestRetryDefaultFiveAttempts(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/down"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 503, `{}`)
	})
	res := failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/down"}
`, srv.URL), local.Options{}, "HTTPError")
	require.EqualValues(t, 5, srv.count("/down"))
	require.Equal(t, 5, stepByID(t, res, "c").Attempts)
	// 1s + 2s + 4s + 8s between the attempts
	require.GreaterOrEqual(t, res.Elapsed, 15*time.Second)
}

// nonRetryable types fail at the first attempt.
func TestRetryNonRetryable(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/down"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 503, `{}`)
	})
	res := failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/down"}
    retry: {nonRetryable: [HTTPError]}
`, srv.URL), local.Options{}, "HTTPError")
	require.EqualValues(t, 1, srv.count("/down"))
	require.Equal(t, 1, stepByID(t, res, "c").Attempts)
}

// A per-step timeout on a wait, a waitFor or a group fails the step with Timeout.
func TestStepTimeout(t *testing.T) {
	t.Parallel()
	for name, step := range map[string]string{
		"wait":                     `wait: 2h`,
		"waitFor":                  `waitFor: {signal: never}`,
		"waitForWithLongerTimeout": `waitFor: {signal: never, timeout: 3h}`,
		"steps": `steps:
      - wait: 30m
      - wait: 30m
      - wait: 30m`,
		"approval": `approval: {title: T}`,
	} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			res := failWith(t, `
steps:
  - id: s
    timeout: 1h
    `+step+`
`, local.Options{}, workflows.ErrTimeout)
			require.Equal(t, "s", res.Error.Step)
			require.Equal(t, time.Hour, res.Elapsed)
			require.Equal(t, workflows.StatusFailed, stepByID(t, res, "s").Status)
		})
	}
}

// A step timeout can be caught like any error, and finishing in time is fine.
func TestStepTimeoutCaught(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: fast
    timeout: 1h
    wait: 10m
  - try:
      - id: slow
        timeout: 1h
        waitFor: {signal: never}
    catch:
      - errors: [Timeout]
        steps:
          - set: {timedOut: '${ error.step }'}
`, local.Options{})
	requireJSON(t, `{"timedOut": "slow"}`, out)
	require.Equal(t, 70*time.Minute, res.Elapsed)
}

// Saga: calls a and b succeed, c fails: the compensate blocks run b then a,
// then onFailure with `error` in scope; the run fails with c's error.
func TestSagaCompensation(t *testing.T) {
	t.Parallel()
	var order []string
	var mu = make(chan struct{}, 1)
	srv := newServer(t, []string{"/a", "/b", "/c", "/undo-a", "/undo-b", "/alert"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		mu <- struct{}{}
		order = append(order, r.URL.Path+"?"+r.URL.RawQuery)
		<-mu
		switch r.URL.Path {
		case "/c":
			writeJSON(w, 402, `{"reason": "declined"}`)
		default:
			writeJSON(w, 200, `{"id": "`+r.URL.Path[1:]+`"}`)
		}
	})
	res := failWith(t, sub(`
steps:
  - id: a
    call: http.request
    with: {url: "{{URL}}/a"}
    compensate:
      - call: http.request
        with: {url: "{{URL}}/undo-a", query: {id: '${ steps.a.output.body.id }'}}
  - id: b
    call: http.request
    with: {url: "{{URL}}/b"}
    compensate:
      - call: http.request
        with: {url: "{{URL}}/undo-b", query: {id: '${ steps.b.output.body.id }'}}
  - id: c
    call: http.request
    with: {url: "{{URL}}/c"}
    compensate:
      - call: http.request
        with: {url: "{{URL}}/undo-c"}
onFailure:
  - call: http.request
    with: {url: "{{URL}}/alert", query: {type: '${ error.type }', step: '${ error.step }', status: '${ string(error.details.status) }'}}
`, srv.URL), local.Options{}, "HTTPError")
	require.Equal(t, "c", res.Error.Step)
	require.Equal(t, []string{"/a?", "/b?", "/c?", "/undo-b?id=b", "/undo-a?id=a", "/alert?status=402&step=c&type=HTTPError"}, order)
}

// Compensation also covers calls inside nested blocks and loops, in reverse
// order of completion, each with the scope it ran in.
func TestSagaCompensationInLoop(t *testing.T) {
	t.Parallel()
	var order []string
	mu := make(chan struct{}, 1)
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request, n int64) {
		mu <- struct{}{}
		order = append(order, r.URL.Path+"?"+r.URL.RawQuery)
		<-mu
		writeJSON(w, 200, `{}`)
	})
	failWith(t, sub(`
steps:
  - foreach:
      in: '${ ["x", "y"] }'
      steps:
        - id: book
          call: http.request
          with: {url: "{{URL}}/book", query: {item: '${ item }'}}
          compensate:
            - call: http.request
              with: {url: "{{URL}}/unbook", query: {item: '${ item }', i: '${ string(index) }'}}
  - fail: {type: Late}
`, srv.URL), local.Options{}, "Late")
	require.Equal(t, []string{"/book?item=x", "/book?item=y", "/unbook?i=1&item=y", "/unbook?i=0&item=x"}, order)
}

// A failure caught by try runs no compensation.
func TestCaughtFailureNoCompensation(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/a", "/undo-a", "/c"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.URL.Path == "/c" {
			writeJSON(w, 400, `{}`)
			return
		}
		writeJSON(w, 200, `{}`)
	})
	out, _ := succeed(t, sub(`
steps:
  - id: a
    call: http.request
    with: {url: "{{URL}}/a"}
    compensate:
      - call: http.request
        with: {url: "{{URL}}/undo-a"}
  - try:
      - call: http.request
        with: {url: "{{URL}}/c"}
    catch:
      - errors: [HTTPError]
        steps:
          - set: {handled: true}
`, srv.URL), local.Options{})
	requireJSON(t, `{"handled": true}`, out)
	require.EqualValues(t, 1, srv.count("/a"))
	require.EqualValues(t, 1, srv.count("/c"))
	require.EqualValues(t, 0, srv.count("/undo-a"))
}

// The run-level timeout fails the run with Timeout.
func TestRunTimeout(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
timeout: 2h
vars: {fin: false}
steps:
  - wait: 1h
  - id: long
    wait: 3h
  - set: {after: true}
onFailure:
  - set: {fin: '${ error.type }'}
`, local.Options{}, workflows.ErrTimeout)
	require.Equal(t, 2*time.Hour, res.Elapsed)
	require.Equal(t, "long", res.Error.Step, "the step in flight, by its id (not a timeline key)")
	require.Equal(t, workflows.StatusCancelled, stepByID(t, res, "long").Status)
	require.Nil(t, res.State.Vars["after"])
	require.Equal(t, "Timeout", res.State.Vars["fin"], "onFailure runs after a run timeout")
}

// Input that does not match the input schema fails at start with InputInvalid and no step.
func TestInputInvalid(t *testing.T) {
	t.Parallel()
	src := `
input:
  type: object
  required: [customerId]
  properties: {customerId: {type: string}}
steps:
  - id: s
    set: {id: '${ input.customerId }'}
`
	res := failWith(t, src, local.Options{Input: raw(`{"customerId": 42}`)}, workflows.ErrInputInvalid)
	require.Empty(t, res.Error.Step)
	require.Empty(t, stepsByID(res, "s"))
	res = failWith(t, src, local.Options{}, workflows.ErrInputInvalid)
	require.Empty(t, res.Error.Step)
	out, _ := succeed(t, src, local.Options{Input: raw(`{"customerId": "c1"}`)})
	requireJSON(t, `{"id": "c1"}`, out)
}

// In a loop, the run timeout names the step in flight by its id, without the iteration.
func TestRunTimeoutInLoop(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
timeout: 2h
steps:
  - foreach:
      in: '${ [1, 2, 3] }'
      steps:
        - id: long
          wait: 1h30m
`, local.Options{}, workflows.ErrTimeout)
	require.Equal(t, "long", res.Error.Step)
	require.Equal(t, 2*time.Hour, res.Elapsed)
}

// The retry policy's intervals: initialInterval, backoff, capped by maxInterval.
func TestRetryIntervals(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/down"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 503, `{}`)
	})
	res := failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/down"}
    retry: {maxAttempts: 4, initialInterval: 10s, backoff: 3, maxInterval: 20s}
`, srv.URL), local.Options{}, "HTTPError")
	require.EqualValues(t, 4, srv.count("/down"))
	// 10s, then 30s capped to 20s, then 20s
	require.GreaterOrEqual(t, res.Elapsed, 50*time.Second)
	require.Less(t, res.Elapsed, 55*time.Second)
}

// A failing compensation does not stop the others, and the run keeps its original error.
func TestSagaCompensationFailureContinues(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/a", "/b", "/undo-a", "/undo-b"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.URL.Path == "/undo-b" {
			writeJSON(w, 400, `{}`)
			return
		}
		writeJSON(w, 200, `{}`)
	})
	res := failWith(t, sub(`
steps:
  - call: http.request
    with: {url: "{{URL}}/a"}
    compensate:
      - call: http.request
        with: {url: "{{URL}}/undo-a"}
  - call: http.request
    with: {url: "{{URL}}/b"}
    compensate:
      - call: http.request
        with: {url: "{{URL}}/undo-b"}
  - id: f
    fail: {type: Original}
`, srv.URL), local.Options{}, "Original")
	require.Equal(t, "f", res.Error.Step)
	require.EqualValues(t, 1, srv.count("/undo-b"))
	require.EqualValues(t, 1, srv.count("/undo-a"))
}
