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

// Integers stay integers: `input.n * 2` is 6 in the JSON output, not 6.0;
// mixing with a double gives a double.
func TestIntegerSemantics(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
input: {type: object, properties: {n: {type: integer}}}
steps:
  - set:
      doubled: ${ input.n * 2 }
      half: ${ input.n / 2 }
      mixed: ${ input.n + 0.5 }
      big: ${ input.n * 1000000000000 }
output: '${ {"doubled": vars.doubled, "half": vars.half, "mixed": vars.mixed, "big": vars.big, "list": [input.n, 1.5]} }'
`, local.Options{Input: raw(`{"n": 3}`)})
	require.Equal(t, `{"big":3000000000000,"doubled":6,"half":1,"list":[3,1.5],"mixed":3.5}`, js(out))

	// and through a call result, a child's output and a signal payload
	children := map[string]*dsl.Plan{"inc": compile(t, `
switchboard: v1
name: inc
input: {type: object}
steps:
  - set: {n: '${ input.n + 1 }'}
`)}
	out, _ = succeed(t, `
steps:
  - id: c
    call: http.request
    with: {url: "https://example.com"}
  - id: k
    workflow: inc
    with: {n: '${ steps.c.output.body.n * 2 }'}
  - id: s
    waitFor: {signal: num}
output: '${ [steps.c.output.body.n * 2, steps.k.output.n, steps.s.output.payload * 2] }'
`, local.Options{Mocks: mockHTTP(`{"status": 200, "headers": {}, "body": {"n": 3}}`), Children: children,
		Signals: []local.Signal{sig("num", `4`, time.Minute)}})
	require.Equal(t, `[6,7,8]`, js(out))
}

// The `state` query's timeline records each step execution's status,
// attempts, input, output, error and start/end times.
func TestStateTimeline(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/ok", "/bad"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		if r.URL.Path == "/bad" {
			writeJSON(w, 409, `{"conflict": true}`)
			return
		}
		if n == 1 {
			writeJSON(w, 500, `{}`)
			return
		}
		writeJSON(w, 200, `{"v": 1}`)
	})
	res := failWith(t, sub(`
steps:
  - id: first
    name: First call
    call: http.request
    with: {url: "{{URL}}/ok", query: {a: "1"}}
  - id: pause
    wait: 1h
  - id: skipped
    if: ${ false }
    set: {x: 1}
  - id: second
    call: http.request
    with: {url: "{{URL}}/bad"}
`, srv.URL), local.Options{}, "HTTPError")
	st := res.State
	require.Equal(t, "failed", st.Status)
	require.Equal(t, "t", st.Workflow)
	require.NotEmpty(t, st.Hash)
	require.Equal(t, "HTTPError", st.Error.Type)
	require.Equal(t, "second", st.Error.Step)
	require.Len(t, st.Steps, 4)
	t0 := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)

	first := stepByID(t, res, "first")
	require.Equal(t, "steps[0]", first.Key)
	require.Equal(t, "steps[0]", first.Path)
	require.Equal(t, "First call", first.Name)
	require.Equal(t, "call", first.Kind)
	require.Equal(t, workflows.StatusSucceeded, first.Status)
	require.Equal(t, 2, first.Attempts)
	requireJSON(t, `{"url": "`+srv.URL+`/ok", "query": {"a": "1"}}`, first.Input)
	require.Equal(t, "200", js(first.Output.(map[string]any)["status"]))
	requireJSON(t, `{"v": 1}`, first.Output.(map[string]any)["body"])
	require.Nil(t, first.Error)
	require.True(t, first.StartedAt.Equal(t0), "started %s", first.StartedAt)
	require.NotNil(t, first.EndedAt)
	require.True(t, first.EndedAt.Equal(t0.Add(time.Second)), "one retry after 1s: ended %s", first.EndedAt)

	pause := stepByID(t, res, "pause")
	require.Equal(t, workflows.StatusSucceeded, pause.Status)
	require.Equal(t, time.Hour, pause.EndedAt.Sub(pause.StartedAt))
	requireJSON(t, `{"firedAt": "2026-01-05T10:00:01Z"}`, pause.Output)

	skipped := stepByID(t, res, "skipped")
	require.Equal(t, workflows.StatusSkipped, skipped.Status)
	require.NotNil(t, skipped.EndedAt)

	second := stepByID(t, res, "second")
	require.Equal(t, workflows.StatusFailed, second.Status)
	require.Equal(t, 1, second.Attempts)
	require.NotNil(t, second.Error)
	require.Equal(t, "HTTPError", second.Error.Type)
	require.Equal(t, "second", second.Error.Step)
	require.Equal(t, "409", js(second.Error.Details.(map[string]any)["status"]))
	require.Nil(t, second.Output)
	require.NotNil(t, second.EndedAt)
}

// Each loop iteration has its own timeline record, keyed by iteration.
func TestStateTimelineLoops(t *testing.T) {
	t.Parallel()
	_, res := succeed(t, `
steps:
  - id: loop
    foreach:
      in: '${ ["a", "b"] }'
      steps:
        - id: body
          set: {last: '${ item }'}
`, local.Options{})
	recs := stepsByID(res, "body")
	require.Len(t, recs, 2)
	require.Equal(t, "steps[0].foreach.steps[0]#0", recs[0].Key)
	require.Equal(t, "steps[0].foreach.steps[0]#1", recs[1].Key)
	requireJSON(t, `{"last": "b"}`, recs[1].Output)
	require.Equal(t, "completed", res.State.Status)
	requireJSON(t, `{"last": "b"}`, res.State.Output)
}
