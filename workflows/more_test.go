package workflows_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/dsl"
	"switchboard/workers/local"
	"switchboard/workflows"
)

// An exitWhen signal sent at the start ends the run before its first wait ends.
func TestExitWhenAtStart(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {n: 1}
exitWhen: [{signal: stop}]
steps:
  - wait: 1d
  - set: {n: 2}
`, local.Options{Signals: []local.Signal{sig("stop", "", 0)}})
	requireJSON(t, `{"n": 1}`, out)
	require.Zero(t, res.Elapsed)
}

// exitWhen cancels everything in flight (parallel branches, a concurrent
// foreach); finally blocks still run; no compensation runs and onFailure
// does not either: the run succeeded.
func TestExitWhenCancelsInFlight(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/a", "/undo", "/alert"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 200, `{}`)
	})
	out, res := succeed(t, sub(`
vars: {fin: false, branchFin: false}
exitWhen: [{signal: done}]
steps:
  - id: a
    call: http.request
    with: {url: "{{URL}}/a"}
    compensate:
      - call: http.request
        with: {url: "{{URL}}/undo"}
  - try:
      - parallel:
          branches:
            - - try:
                  - id: b1
                    wait: 1d
                finally:
                  - set: {branchFin: true}
            - - foreach:
                  in: '${ [1, 2, 3] }'
                  concurrency: 3
                  steps:
                    - id: fw
                      waitFor: {signal: never}
    finally:
      - set: {fin: true}
onFailure:
  - call: http.request
    with: {url: "{{URL}}/alert"}
`, srv.URL), local.Options{Signals: []local.Signal{sig("done", `{}`, time.Hour)}})
	requireJSON(t, `{"fin": true, "branchFin": true}`, out, "finally blocks in and around the branches ran")
	require.Equal(t, time.Hour, res.Elapsed)
	require.Equal(t, workflows.StatusCancelled, stepByID(t, res, "b1").Status)
	for _, s := range stepsByID(res, "fw") {
		require.Equal(t, workflows.StatusCancelled, s.Status)
	}
	require.EqualValues(t, 0, srv.count("/undo"))
	require.EqualValues(t, 0, srv.count("/alert"))
}

// A call with a step timeout fails with Timeout once the time is up, even while retrying.
func TestCallStepTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/down"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 503, `{}`)
	})
	res := failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/down"}
    retry: {maxAttempts: 100, initialInterval: 10s, backoff: 1}
    timeout: 35s
`, srv.URL), local.Options{}, workflows.ErrTimeout)
	require.Equal(t, "c", res.Error.Step)
	require.EqualValues(t, 4, srv.count("/down"), "attempts at 0s, 10s, 20s, 30s")
}

// A call whose attempt hangs past the step timeout fails with Timeout.
func TestCallStepTimeoutHanging(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/slow"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
		writeJSON(w, 200, `{}`)
	})
	start := time.Now()
	failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/slow"}
    timeout: 1s
`, srv.URL), local.Options{}, workflows.ErrTimeout)
	require.Less(t, time.Since(start), 4*time.Second)
}

// An expression that fails at run time fails its step with ExpressionError.
func TestExpressionError(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
input: {type: object}
steps:
  - id: s
    set: {x: '${ input.a.b }'}
`, local.Options{Input: raw(`{}`)}, workflows.ErrExpression)
	require.Equal(t, "s", res.Error.Step)
	require.Contains(t, res.Error.Message, "input.a.b")

	// and it can be caught
	out, _ := succeed(t, `
input: {type: object}
steps:
  - try:
      - set: {x: '${ 1 / input.zero }'}
    catch:
      - errors: [ExpressionError]
        steps: [{set: {caught: '${ error.type }'}}]
`, local.Options{Input: raw(`{"zero": 0}`)})
	requireJSON(t, `{"caught": "ExpressionError"}`, out)
}

// Inside catch, the failed step's result is visible: steps.x.status failed, steps.x.error.
func TestCatchSeesFailedStep(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - try:
      - id: boom
        fail: {type: X, message: m}
    catch:
      - steps:
          - set:
              st: ${ steps.boom.status }
              et: ${ steps.boom.error.type }
              em: ${ steps.boom.error.message }
output: ${ vars }
`, local.Options{})
	requireJSON(t, `{"st": "failed", "et": "X", "em": "m"}`, out)
}

// A failure in finally replaces the try's outcome; nested trys rethrow outward.
func TestNestedTry(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
vars: {log: []}
steps:
  - try:
      - try:
          - fail: {type: Inner}
        catch:
          - errors: [Inner]
            steps:
              - set: {log: '${ vars.log + ["inner:" + error.type] }'}
              - fail: {type: Outer, message: '${ "from " + error.type }'}
        finally:
          - set: {log: '${ vars.log + ["inner-finally"] }'}
    catch:
      - errors: [Outer]
        as: e
        steps:
          - set: {log: '${ vars.log + ["outer:" + e.message] }'}
output: ${ vars.log }
`, local.Options{})
	requireJSON(t, `["inner:Inner", "inner-finally", "outer:from Inner"]`, out)

	res := failWith(t, `
steps:
  - try:
      - set: {ok: true}
    finally:
      - id: f
        fail: {type: FinallyFailed}
`, local.Options{}, "FinallyFailed")
	require.Equal(t, "f", res.Error.Step)
}

// onFailure sees `error` (type, message, step, details); a failing onFailure
// does not change the run's error.
func TestOnFailure(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
vars: {seen: null}
steps:
  - id: boom
    fail: {type: Bad, message: msg, details: '${ {"k": [1]} }'}
onFailure:
  - set: {seen: '${ error }'}
  - fail: {type: AlsoBad}
`, local.Options{}, "Bad")
	require.Equal(t, "boom", res.Error.Step)
	require.Equal(t, `{"details":{"k":[1]},"message":"msg","step":"boom","type":"Bad"}`, js(res.State.Vars["seen"]))
}

// A failing branch of a parallel, with compensable calls in the others:
// compensation runs for the calls that succeeded.
func TestSagaAcrossParallel(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/a", "/b", "/undo-a", "/undo-b"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		writeJSON(w, 200, `{}`)
	})
	failWith(t, sub(`
steps:
  - parallel:
      branches:
        - - call: http.request
            with: {url: "{{URL}}/a"}
            compensate:
              - call: http.request
                with: {url: "{{URL}}/undo-a"}
        - - call: http.request
            with: {url: "{{URL}}/b"}
            compensate:
              - call: http.request
                with: {url: "{{URL}}/undo-b"}
  - fail: {type: Later}
`, srv.URL), local.Options{}, "Later")
	require.EqualValues(t, 1, srv.count("/undo-a"))
	require.EqualValues(t, 1, srv.count("/undo-b"))
}

// A failure in a concurrent foreach cancels the running iterations and starts no new ones.
func TestForeachConcurrentFailureCancels(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
steps:
  - foreach:
      in: '${ [1, 2, 3, 4, 5, 6] }'
      concurrency: 2
      steps:
        - id: w
          wait: '1h'
        - if: item == 1
          fail: {type: One}
        - id: late
          wait: 1h
`, local.Options{}, "One")
	require.Equal(t, time.Hour, res.Elapsed)
	require.Len(t, stepsByID(res, "w"), 2, "no new iteration starts after the failure")
	for _, s := range stepsByID(res, "late") {
		require.Equal(t, workflows.StatusCancelled, s.Status)
	}
}

// Step results inside a foreach body are local to their iteration; outer
// results are visible inside; after the loop, the foreach output is the way out.
func TestForeachStepScope(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - id: before
    set: {base: 100}
  - id: loop
    foreach:
      in: '${ [1, 2] }'
      steps:
        - id: first
          set: {v: '${ steps.before.output.base + item }'}
        - id: second
          switch:
            cases:
              - when: item == 2
                steps:
                  - set: {w: '${ steps.first.output.v * 2 }'}
            default:
              - set: {w: '${ steps.first.output.v }'}
output: ${ steps.loop.output }
`, local.Options{})
	requireJSON(t, `[{"w": 101}, {"w": 204}]`, out)
}

// foreach over an empty list or null outputs an empty list.
func TestForeachEmpty(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
input: {type: object}
steps:
  - id: a
    foreach:
      in: ${ input.none }
      steps: [{set: {x: 1}}]
  - id: b
    foreach:
      in: '${ [] }'
      steps: [{set: {x: 1}}]
output: '${ [steps.a.output, steps.b.output] }'
`, local.Options{Input: raw(`{"none": null}`)})
	requireJSON(t, `[[], []]`, out)
}

// `when` may use the run's variables and input as well as the signal.
func TestWaitForWhenUsesVars(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
input: {type: object}
vars: {want: 2}
steps:
  - id: w
    waitFor: {signal: s, when: 'signal.id == vars.want && signal.org == input.org'}
output: ${ steps.w.output.payload }
`, local.Options{Input: raw(`{"org": "o"}`), Signals: []local.Signal{
		sig("s", `{"id": 2, "org": "x"}`, time.Minute),
		sig("s", `{"id": 1, "org": "o"}`, 2*time.Minute),
		sig("s", `{"id": 2, "org": "o"}`, 3*time.Minute),
	}})
	requireJSON(t, `{"id": 2, "org": "o"}`, out)
}

// A child workflow that is not available fails with WorkflowNotFound.
func TestChildWorkflowNotFound(t *testing.T) {
	t.Parallel()
	failWith(t, `
steps:
  - id: c
    workflow: nowhere
`, local.Options{Children: map[string]*dsl.Plan{}}, workflows.ErrWorkflowNotFound)
}

// A child's `return` is its output; a child's input is validated against its schema.
func TestChildWorkflowReturnAndInput(t *testing.T) {
	t.Parallel()
	children := map[string]*dsl.Plan{"early": compile(t, `
switchboard: v1
name: early
input: {type: object, required: [n], properties: {n: {type: integer}}}
steps:
  - return: '${ {"got": input.n} }'
`)}
	out, _ := succeed(t, `
steps:
  - id: c
    workflow: early
    with: {n: 5}
output: ${ steps.c.output }
`, local.Options{Children: children})
	requireJSON(t, `{"got": 5}`, out)
	res := failWith(t, `
steps:
  - id: c
    workflow: early
    with: {n: "five"}
`, local.Options{Children: children}, workflows.ErrInputInvalid)
	require.Equal(t, "c", res.Error.Step)
}

// 5xx, 408 and 429 are retried; other 4xx are not.
func TestHTTPStatusRetryability(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		status   int
		requests int64
	}{
		{500, 3}, {502, 3}, {503, 3}, {408, 3}, {429, 3},
		{400, 1}, {401, 1}, {403, 1}, {404, 1}, {409, 1}, {422, 1},
	} {
		t.Run(fmtInt(tc.status), func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, []string{"/x"}, func(w http.ResponseWriter, r *http.Request, n int64) {
				writeJSON(w, tc.status, `{"n": `+fmtInt(int(n))+`}`)
			})
			res := failWith(t, sub(`
steps:
  - id: c
    call: http.request
    with: {url: "{{URL}}/x"}
    retry: {maxAttempts: 3}
`, srv.URL), local.Options{}, "HTTPError")
			require.Equal(t, tc.requests, srv.count("/x"))
			d := res.Error.Details.(map[string]any)
			require.Equal(t, fmtInt(tc.status), js(d["status"]))
			requireJSON(t, `{"n": `+fmtInt(int(tc.requests))+`}`, d["body"], "details carry the last response")
		})
	}
}

// Connector validation errors (bad arguments found at run time) are not retried.
func TestInvalidArgumentsNotRetried(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
input: {type: object}
steps:
  - id: c
    call: http.request
    with: {url: '${ input.url }'}
`, local.Options{Input: raw(`{"url": "ftp://example.com/x"}`)}, "InvalidArguments")
	require.Equal(t, "c", res.Error.Step)
	require.Equal(t, 1, stepByID(t, res, "c").Attempts)
	require.Zero(t, res.Elapsed)
}

// `run` and `now` are in scope; `now` is the workflow's simulated time.
func TestRunAndNow(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - wait: 90m
  - set:
      at: ${ now }
      later: ${ now > run.startedAt + duration("1h") }
output: '${ {"id": run.id, "workflow": run.workflow, "revision": run.revision, "startedAt": run.startedAt, "at": vars.at, "later": vars.later} }'
`, local.Options{})
	requireJSON(t, `{"id": "local-run", "workflow": "t", "revision": 1, "startedAt": "2026-01-05T09:00:00Z",
		"at": "2026-01-05T10:30:00Z", "later": true}`, out)
}

// A step timeout on a child workflow step cancels the child and fails with Timeout.
func TestChildWorkflowStepTimeout(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
steps:
  - id: c
    timeout: 30m
    workflow: doubler
    with: {n: 1}
`, local.Options{Children: childPlans(t)}, workflows.ErrTimeout)
	require.Equal(t, "c", res.Error.Step)
	require.Equal(t, 30*time.Minute, res.Elapsed)
}
