package workflows_test

import (
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/workers/local"
	"switchboard/workflows"
)

const longLoop = `
vars: {i: 0, sum: 0}
steps:
  - id: loop
    while:
      condition: vars.i < %d
      maxIterations: 20000
      steps:
        - id: fetch
          call: http.request
          with: {url: "https://example.com/items/${ vars.i }"}
        - wait: 1m
        - id: bump
          set:
            i: '${ vars.i + 1 }'
            sum: '${ vars.sum + steps.fetch.output.body.n }'
  - id: after
    waitFor: {signal: late, timeout: 1h}
output: '${ {"i": vars.i, "sum": vars.sum, "loop": steps.loop.output, "after": steps.after.output} }'
`

// A long loop continues as new many times; the variables, step results and
// buffered signals are carried across generations.
func TestContinueAsNew(t *testing.T) {
	t.Parallel()
	start := time.Now()
	out, res := succeed(t, sprintf(longLoop, 3000), local.Options{
		Mocks:       mockHTTP(`{"status": 200, "headers": {}, "body": {"n": 2}}`),
		Interpreter: workflows.Options{ContinueAsNewAfter: 500},
		// sent mid-loop (iteration ~1000), consumed after the loop
		Signals: []local.Signal{sig("late", `{"x": 1}`, 1000*time.Minute+30*time.Second)},
	})
	t.Logf("3000 iterations: %d generations, %s simulated, %s wall", res.Generations, res.Elapsed, time.Since(start))
	requireJSON(t, `{"i": 3000, "sum": 6000, "loop": {"i": 3000, "sum": 6000}, "after": {"timedOut": false, "payload": {"x": 1}}}`, out)
	require.Greater(t, res.Generations, 0)
	require.Equal(t, 3000*time.Minute, res.Elapsed, "the signal was buffered: no wait after the loop")
	require.Equal(t, res.Generations, res.State.ContinuedAsNew)
}

// With the default threshold (10000 estimated events) a loop of 10000
// iterations continues as new several times and completes.
func TestContinueAsNewDefault10000(t *testing.T) {
	if testing.Short() {
		t.Skip("long")
	}
	t.Parallel()
	start := time.Now()
	out, res := succeed(t, sprintf(longLoop, 10000), local.Options{
		Mocks:   mockHTTP(`{"status": 200, "headers": {}, "body": {"n": 1}}`),
		Signals: []local.Signal{sig("late", `"ok"`, 5000*time.Minute+1)},
	})
	t.Logf("10000 iterations: %d generations, %s simulated, %s wall", res.Generations, res.Elapsed, time.Since(start))
	requireJSON(t, `{"i": 10000, "sum": 10000, "loop": {"i": 10000, "sum": 10000}, "after": {"timedOut": false, "payload": "ok"}}`, out)
	require.GreaterOrEqual(t, res.Generations, 5)
}

// Integers stay integers across continue-as-new (the checkpoint is JSON):
// `vars.i % 2` has no double overload.
func TestContinueAsNewKeepsIntegers(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {i: 0, evens: 0, items: [10, 20, 30]}
steps:
  - id: loop
    while:
      condition: vars.i < 100
      steps:
        - wait: 1m
        - id: s
          set:
            i: ${ vars.i + 1 }
            evens: '${ vars.i % 2 == 0 ? vars.evens + 1 : vars.evens }'
            pick: '${ vars.items[vars.i % 3] }'
output: '${ {"i": vars.i, "evens": vars.evens, "int": type(vars.i) == int, "pick": vars.pick, "s": steps.s.output.i % 7} }'
`, local.Options{Interpreter: workflows.Options{ContinueAsNewAfter: 100}})
	require.Greater(t, res.Generations, 1)
	require.Equal(t, `{"evens":50,"i":100,"int":true,"pick":10,"s":2}`, js(out))
}

// A foreach with concurrency 1 continues as new between iterations; the
// results gathered so far, the item list and the index are carried.
func TestContinueAsNewForeach(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
input: {type: object}
steps:
  - id: loop
    foreach:
      in: ${ input.items }
      as: it
      steps:
        - wait: 1m
        - set: {r: '${ it * 10 + index }'}
output: ${ steps.loop.output }
`, local.Options{Input: raw(`{"items": [1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20]}`), Interpreter: workflows.Options{ContinueAsNewAfter: 30}})
	require.Greater(t, res.Generations, 2)
	var want []string
	for i := 1; i <= 20; i++ {
		want = append(want, sprintf(`{"r":%d}`, i*10+i-1))
	}
	require.Equal(t, "["+strings.Join(want, ",")+"]", js(out))
}

// Continue-as-new inside nested constructs (a while in a try in a switch in
// a steps group, with a foreach body) resumes at the right place; the
// finally after the loop still runs once.
func TestContinueAsNewNested(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {i: 0, fin: 0, before: 0, after: 0}
steps:
  - set: {before: '${ vars.before + 1 }'}
  - id: g
    steps:
      - switch:
          cases:
            - when: ${ true }
              steps:
                - try:
                    - foreach:
                        in: '${ [1, 2] }'
                        steps:
                          - while:
                              condition: vars.i < 20 * item
                              steps:
                                - wait: 1m
                                - set: {i: '${ vars.i + 1 }'}
                          - id: inner
                            set: {last: '${ item }'}
                  finally:
                    - set: {fin: '${ vars.fin + 1 }'}
  - set: {after: '${ vars.after + 1 }'}
`, local.Options{Interpreter: workflows.Options{ContinueAsNewAfter: 40}})
	require.Greater(t, res.Generations, 3)
	require.Equal(t, `{"after":1,"before":1,"fin":1,"i":40,"last":2}`, js(out))
	require.Equal(t, 40*time.Minute, res.Elapsed)
}

// Compensations of calls made in earlier generations still run, newest first.
func TestContinueAsNewCompensation(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var undone []string
	srv := newServer(t, nil, func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.URL.Path == "/undo" {
			mu.Lock()
			undone = append(undone, r.URL.Query().Get("i"))
			mu.Unlock()
		}
		writeJSON(w, 200, `{}`)
	})
	res := failWith(t, sub(`
vars: {i: 0}
steps:
  - while:
      condition: vars.i < 6
      steps:
        - id: book
          call: http.request
          with: {url: "{{URL}}/book"}
          compensate:
            - call: http.request
              with: {url: "{{URL}}/undo", query: {i: '${ string(vars.i) + "/" + string(steps.book.output.status) }'}}
        - wait: 1m
        - set: {i: '${ vars.i + 1 }'}
  - fail: {type: Done}
`, srv.URL), local.Options{Interpreter: workflows.Options{ContinueAsNewAfter: 20}}, "Done")
	require.Greater(t, res.Generations, 1)
	// compensations see the variables as they are when they run (6) and the
	// step result of the call they undo
	require.Equal(t, []string{"6/200", "6/200", "6/200", "6/200", "6/200", "6/200"}, undone)
}

// Signals delivered at the very instants the run continues as new are not
// lost, and neither are signals buffered before.
func TestContinueAsNewSignalsAtBoundaries(t *testing.T) {
	t.Parallel()
	var sigs []local.Signal
	for k := 1; k <= 40; k++ {
		sigs = append(sigs, sig("tick", sprintf("%d", k), time.Duration(k)*time.Minute))
	}
	out, res := succeed(t, `
vars: {i: 0, got: []}
steps:
  - while:
      condition: vars.i < 40
      steps:
        - wait: 1m
        - set: {i: '${ vars.i + 1 }'}
  - while:
      condition: size(vars.got) < 40
      steps:
        - id: w
          waitFor: {signal: tick, timeout: 1h}
        - if: steps.w.output.timedOut
          fail: {type: Lost, message: '${ string(size(vars.got)) + " signals received" }'}
        - set: {got: '${ vars.got + [steps.w.output.payload] }'}
output: ${ vars.got }
`, local.Options{Signals: sigs, Interpreter: workflows.Options{ContinueAsNewAfter: 12}})
	require.Greater(t, res.Generations, 5)
	var want []string
	for k := 1; k <= 40; k++ {
		want = append(want, fmtInt(k))
	}
	require.Equal(t, "["+strings.Join(want, ",")+"]", js(out))
}

// An exitWhen signal that arrives in a later generation still ends the run.
func TestContinueAsNewExitWhen(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {i: 0}
exitWhen: [{signal: stop}]
steps:
  - while:
      condition: ${ true }
      maxIterations: 100000
      steps:
        - wait: 1m
        - set: {i: '${ vars.i + 1 }'}
`, local.Options{Signals: []local.Signal{sig("stop", "", 500*time.Minute+30*time.Second)},
		Interpreter: workflows.Options{ContinueAsNewAfter: 100}})
	require.Greater(t, res.Generations, 5)
	require.Equal(t, `{"i":500}`, js(out))
	require.Equal(t, 500*time.Minute+30*time.Second, res.Elapsed)
}

// Approvals inside a loop that continues as new are decided in any generation.
func TestContinueAsNewApprovals(t *testing.T) {
	t.Parallel()
	var sigs []local.Signal
	for k := 0; k < 10; k++ {
		sigs = append(sigs, sig("ok", sprintf(`{"approved": %v, "comment": "c%d"}`, k%2 == 0, k), time.Duration(k)*time.Hour+30*time.Minute))
	}
	out, res := succeed(t, `
vars: {i: 0, yes: 0}
steps:
  - while:
      condition: vars.i < 10
      steps:
        - id: ok
          approval: {title: 'Round ${ vars.i }', timeout: 1h}
        - wait: 30m
        - set:
            i: '${ vars.i + 1 }'
            yes: '${ steps.ok.output.approved ? vars.yes + 1 : vars.yes }'
            last: ${ steps.ok.output.comment }
`, local.Options{Signals: sigs, Interpreter: workflows.Options{ContinueAsNewAfter: 15}})
	require.Greater(t, res.Generations, 1)
	require.Equal(t, `{"i":10,"last":"c9","yes":5}`, js(out))
}

// Continue-as-new inside a try block and inside its catch block: the error
// caught in one generation is still bound in the next, and steps results
// from earlier generations stay visible.
func TestContinueAsNewTryCatch(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {i: 0, j: 0}
steps:
  - id: first
    set: {tag: start}
  - id: t
    try:
      - while:
          condition: vars.i < 30
          steps:
            - wait: 1m
            - set: {i: '${ vars.i + 1 }'}
      - id: boom
        fail: {type: Boom, message: '${ "after " + string(vars.i) }', details: '${ {"i": vars.i} }'}
    catch:
      - as: e
        steps:
          - while:
              condition: vars.j < 30
              steps:
                - wait: 1m
                - set: {j: '${ vars.j + 1 }'}
          - set:
              caught: '${ e.type + ":" + e.message + ":" + string(e.details.i) + ":" + e.step }'
              first: ${ steps.first.output.tag }
              boomStatus: ${ steps.boom.status }
output: '${ {"t": steps.t.output, "i": vars.i, "j": vars.j} }'
`, local.Options{Interpreter: workflows.Options{ContinueAsNewAfter: 40}})
	require.Greater(t, res.Generations, 4)
	require.Equal(t, `{"i":30,"j":30,"t":{"boomStatus":"failed","caught":"Boom:after 30:30:boom","first":"start"}}`, js(out))
}

// The timeline of a run that continued as new keeps the recent records and
// the `state` query reports the generation count.
func TestContinueAsNewTimeline(t *testing.T) {
	t.Parallel()
	_, res := succeed(t, `
vars: {i: 0}
steps:
  - id: loop
    while:
      condition: vars.i < 300
      steps:
        - id: w
          wait: 1m
        - set: {i: '${ vars.i + 1 }'}
  - id: end
    set: {done: true}
`, local.Options{Interpreter: workflows.Options{ContinueAsNewAfter: 100}})
	require.Greater(t, res.Generations, 10)
	require.Equal(t, res.Generations, res.State.ContinuedAsNew)
	loop := stepByID(t, res, "loop")
	require.Equal(t, workflows.StatusSucceeded, loop.Status, "the loop's record was carried from the first generation")
	require.True(t, loop.StartedAt.Equal(time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)))
	require.Equal(t, 300*time.Minute, loop.EndedAt.Sub(loop.StartedAt))
	ws := stepsByID(res, "w")
	require.NotEmpty(t, ws)
	require.Equal(t, "steps[0].while.steps[0]#299", ws[len(ws)-1].Key)
	require.Equal(t, workflows.StatusSucceeded, stepByID(t, res, "end").Status)
}

// An exitWhen signal delivered at the very instant the run continues as new ends the run.
func TestContinueAsNewExitWhenAtBoundary(t *testing.T) {
	t.Parallel()
	for _, k := range []int{1, 2, 3, 7, 10} {
		t.Run(fmtInt(k), func(t *testing.T) {
			t.Parallel()
			out, res := succeed(t, `
vars: {i: 0}
exitWhen: [{signal: stop}]
steps:
  - while:
      condition: ${ true }
      maxIterations: 1000
      steps:
        - wait: 1m
        - set: {i: '${ vars.i + 1 }'}
`, local.Options{Signals: []local.Signal{sig("stop", "", time.Duration(k)*time.Minute)},
				Interpreter: workflows.Options{ContinueAsNewAfter: 5}})
			require.Equal(t, time.Duration(k)*time.Minute, res.Elapsed)
			i := out.(map[string]any)["i"]
			require.Contains(t, []string{fmtInt(k - 1), fmtInt(k)}, js(i))
		})
	}
}
