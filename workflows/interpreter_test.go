package workflows_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/dsl"
	"switchboard/workers/local"
	"switchboard/workflows"
)

// The output of a block is the output of its last executed step; skipped
// steps do not count. A `steps` group's output is its block's.
func TestBlockOutput(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: g
    steps:
      - id: a
        set: {x: 1}
      - id: b
        set: {y: 2}
      - id: c
        if: ${ false }
        set: {z: 3}
  - id: h
    steps:
      - id: d
        if: vars.x == 0
        set: {z: 4}
output: '${ {"g": steps.g.output, "h": steps.h.output, "cStatus": steps.c.status, "hStatus": steps.h.status} }'
`, local.Options{})
	// g's last executed step is b; h ran no step at all: null
	requireJSON(t, `{"g": {"y": 2}, "h": null, "cStatus": "skipped", "hStatus": "succeeded"}`, out)
	require.Equal(t, workflows.StatusSkipped, stepByID(t, res, "c").Status)
	require.Equal(t, workflows.StatusSkipped, stepByID(t, res, "d").Status)
}

// `if` false skips the step: status skipped, output null, visible to later
// expressions as steps.x.status; true runs it.
func TestIfSkipped(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
input: {type: object, properties: {go: {type: boolean}}}
steps:
  - id: x
    if: input.go
    set: {ran: true}
  - id: y
    if: ${ !input.go }
    set: {other: true}
output: '${ {"x": steps.x.status, "y": steps.y.status, "yOut": steps.y.output, "xOut": steps.x.output} }'
`, local.Options{Input: raw(`{"go": true}`)})
	requireJSON(t, `{"x": "succeeded", "y": "skipped", "yOut": null, "xOut": {"ran": true}}`, out)
	y := stepByID(t, res, "y")
	require.Equal(t, workflows.StatusSkipped, y.Status)
	require.Nil(t, y.Output)
}

// `set` assigns variables; its output is the map assigned. All values of
// one `set` are evaluated before any is assigned (like Step Functions'
// Assign), so they see the variables as they were before the step.
func TestSet(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
vars: {a: 1, b: 10}
steps:
  - id: s1
    set: {a: '${ vars.b + 1 }', b: '${ vars.a + 1 }'}
  - id: s2
    set: {c: '${ vars.a * 100 }', name: "n-${ vars.b }"}
output: '${ {"vars": vars, "s1": steps.s1.output, "s2": steps.s2.output} }'
`, local.Options{})
	requireJSON(t, `{"vars": {"a": 11, "b": 2, "c": 1100, "name": "n-2"},
		"s1": {"a": 11, "b": 2}, "s2": {"c": 1100, "name": "n-2"}}`, out)
}

// The run's output defaults to the final vars.
func TestDefaultOutputIsVars(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
input: {type: object}
vars: {score: '${ input.base }', tag: x}
steps:
  - set: {score: '${ vars.score + 5 }'}
`, local.Options{Input: raw(`{"base": 3}`)})
	requireJSON(t, `{"score": 8, "tag": "x"}`, out)
}

func TestSwitch(t *testing.T) {
	t.Parallel()
	src := `
input: {type: object, properties: {n: {type: integer}}}
steps:
  - id: sw
    switch:
      cases:
        - when: input.n > 10
          steps: [{set: {pick: big}}]
        - when: input.n > 5
          steps: [{set: {pick: medium}}]
        - when: input.n > 1
          steps: [{set: {pick: small}}]
      default:
        - set: {pick: tiny}
  - id: noDefault
    switch:
      cases:
        - when: input.n == 42
          steps: [{set: {magic: true}}]
output: '${ {"sw": steps.sw.output, "nd": steps.noDefault.output, "ndStatus": steps.noDefault.status} }'
`
	for _, tc := range []struct{ n, want string }{
		{"20", `{"pick": "big"}`},   // first true case wins even though later ones are true too
		{"7", `{"pick": "medium"}`}, // second case
		{"3", `{"pick": "small"}`},  // third
		{"0", `{"pick": "tiny"}`},   // default
		{"42", `{"pick": "big"}`},   // noDefault has a true case
	} {
		t.Run(tc.n, func(t *testing.T) {
			t.Parallel()
			out, _ := succeed(t, src, local.Options{Input: raw(`{"n": ` + tc.n + `}`)})
			m := out.(map[string]any)
			requireJSON(t, tc.want, m["sw"])
			require.Equal(t, "succeeded", m["ndStatus"])
			if tc.n == "42" {
				requireJSON(t, `{"magic": true}`, m["nd"])
			} else {
				require.Nil(t, m["nd"], "no case and no default: null")
			}
		})
	}
}

func TestParallelAll(t *testing.T) {
	t.Parallel()
	// branches finish in reverse order; outputs are in branch order
	out, res := succeed(t, `
steps:
  - id: p
    parallel:
      branches:
        - - wait: 3h
          - id: a
            set: {a: 1}
        - - wait: 2h
          - id: b
            set: {b: 2}
        - - wait: 1h
          - set: {c: 3}
output: ${ steps.p.output }
`, local.Options{})
	requireJSON(t, `[{"a": 1}, {"b": 2}, {"c": 3}]`, out)
	require.Equal(t, "3h0m0s", res.Elapsed.String(), "branches run concurrently")
}

func TestParallelAllFailingBranchFailsStep(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
steps:
  - id: p
    parallel:
      branches:
        - - id: slow
            wait: 1h
          - set: {late: true}
        - - wait: 1m
          - id: boom
            fail: {type: BranchBroke, message: nope}
  - id: after
    set: {after: true}
`, local.Options{}, "BranchBroke")
	require.Equal(t, "boom", res.Error.Step)
	require.Equal(t, "nope", res.Error.Message)
	// the failure cancels the other branch; nothing after p runs
	require.Equal(t, workflows.StatusCancelled, stepByID(t, res, "slow").Status)
	require.Equal(t, workflows.StatusFailed, stepByID(t, res, "p").Status)
	for _, s := range res.State.Steps {
		require.NotEqual(t, "after", s.ID)
	}
	require.Less(t, res.Elapsed.Minutes(), 2.0, "the failure does not wait for the slow branch")
}

func TestParallelAny(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: p
    parallel:
      mode: any
      branches:
        - - id: slow
            wait: 1h
          - id: slowSet
            set: {winner: slow}
        - - id: fast
            wait: 1m
          - set: {winner: fast}
output: '${ {"p": steps.p.output, "vars": vars} }'
`, local.Options{})
	requireJSON(t, `{"p": {"branch": 1, "output": {"winner": "fast"}}, "vars": {"winner": "fast"}}`, out)
	require.Equal(t, workflows.StatusCancelled, stepByID(t, res, "slow").Status, "the loser is cancelled")
	require.Equal(t, workflows.StatusSucceeded, stepByID(t, res, "fast").Status)
	require.Empty(t, stepsByID(res, "slowSet"), "the loser's later steps never start")
	require.Less(t, res.Elapsed.Minutes(), 2.0)
}

// In `any` mode, a failing branch does not fail the step while another can
// still win; when every branch fails the step fails with the first failure.
func TestParallelAnyFailures(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - id: p
    parallel:
      mode: any
      branches:
        - - fail: {type: Early}
        - - wait: 1h
          - set: {ok: true}
output: ${ steps.p.output }
`, local.Options{})
	requireJSON(t, `{"branch": 1, "output": {"ok": true}}`, out)

	res := failWith(t, `
steps:
  - id: p
    parallel:
      mode: any
      branches:
        - - wait: 1m
          - fail: {type: First}
        - - wait: 1h
          - fail: {type: Second}
`, local.Options{}, "First")
	_ = res
}

func TestForeach(t *testing.T) {
	t.Parallel()
	// item i waits (5-i) hours, so with concurrency the completion order is
	// the reverse of the input order; results stay in input order.
	src := `
input: {type: object}
steps:
  - id: loop
    foreach:
      in: ${ input.items }
      concurrency: %d
      steps:
        - wait:
            until: '${ string(run.startedAt + duration(string((5 - index) * 3600) + "s")) }'
        - id: body
          set:
            last: ${ item }
            r: '${ {"item": item, "index": index, "label": item.name + "#" + string(index)} }'
output: ${ steps.loop.output }
`
	want := `[{"r": {"item": {"name": "a"}, "index": 0, "label": "a#0"}, "last": {"name": "a"}},
		{"r": {"item": {"name": "b"}, "index": 1, "label": "b#1"}, "last": {"name": "b"}},
		{"r": {"item": {"name": "c"}, "index": 2, "label": "c#2"}, "last": {"name": "c"}},
		{"r": {"item": {"name": "d"}, "index": 3, "label": "d#3"}, "last": {"name": "d"}},
		{"r": {"item": {"name": "e"}, "index": 4, "label": "e#4"}, "last": {"name": "e"}}]`
	for _, tc := range []struct {
		conc    int
		elapsed string
	}{
		// sequential: each item waits until startedAt+(5-i)h; item 0 waits 5h, the others are then past
		{1, "5h0m0s"},
		{5, "5h0m0s"},
	} {
		t.Run(fmtInt(tc.conc), func(t *testing.T) {
			t.Parallel()
			out, res := succeed(t, sprintf(src, tc.conc), local.Options{Input: raw(`{"items": [{"name":"a"},{"name":"b"},{"name":"c"},{"name":"d"},{"name":"e"}]}`)})
			requireJSON(t, want, out)
			require.Equal(t, tc.elapsed, res.Elapsed.String())
			require.Len(t, stepsByID(res, "body"), 5, "one timeline record per iteration")
		})
	}
}

// With waits of different lengths per item, concurrent iterations finish
// out of order; results are still in input order, and a custom `as` names
// the item variable.
func TestForeachConcurrentOrderAndAs(t *testing.T) {
	t.Parallel()
	for _, conc := range []int{1, 5} {
		t.Run(fmtInt(conc), func(t *testing.T) {
			t.Parallel()
			out, res := succeed(t, sprintf(`
input: {type: object}
steps:
  - id: loop
    foreach:
      in: ${ input.mins }
      as: m
      concurrency: %d
      steps:
        - wait:
            for: 1m
        - id: w
          wait:
            until: '${ string(now + duration(string(m) + "m")) }'
        - set: {done: '${ vars.?done.orValue([]) + [m] }'}
        - set:
            x: '${ m * 10 + index }'
output: '${ {"loop": steps.loop.output, "done": vars.done} }'
`, conc), local.Options{Input: raw(`{"mins": [50, 10, 40, 20, 30]}`)})
			m := out.(map[string]any)
			requireJSON(t, `[{"x": 500}, {"x": 101}, {"x": 402}, {"x": 203}, {"x": 304}]`, m["loop"])
			if conc == 1 {
				requireJSON(t, `[50, 10, 40, 20, 30]`, m["done"])
				require.Equal(t, "2h35m0s", res.Elapsed.String())
			} else {
				requireJSON(t, `[10, 20, 30, 40, 50]`, m["done"], "completion order")
				require.Equal(t, "51m0s", res.Elapsed.String())
			}
		})
	}
}

func TestForeachConcurrencyBound(t *testing.T) {
	t.Parallel()
	// 6 items of 1h each with concurrency 2 take 3h
	_, res := succeed(t, `
steps:
  - id: loop
    foreach:
      in: '${ [1, 2, 3, 4, 5, 6] }'
      concurrency: 2
      steps:
        - wait: 1h
`, local.Options{})
	require.Equal(t, "3h0m0s", res.Elapsed.String())
}

func TestForeachFailure(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
steps:
  - id: loop
    foreach:
      in: '${ [1, 2, 3] }'
      steps:
        - id: chk
          if: item == 2
          fail: {type: BadItem, message: '${ "item " + string(item) }', details: '${ {"item": item} }'}
`, local.Options{}, "BadItem")
	require.Equal(t, "item 2", res.Error.Message)
	require.Equal(t, "chk", res.Error.Step)
	requireJSON(t, `{"item": 2}`, res.Error.Details)
}

func TestWhile(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
vars: {i: 0}
steps:
  - id: loop
    while:
      condition: vars.i < 5
      maxIterations: 5
      steps:
        - id: inc
          set: {i: '${ vars.i + 1 }'}
output: '${ {"i": vars.i, "loop": steps.loop.output, "inc": steps.inc.output} }'
`, local.Options{})
	requireJSON(t, `{"i": 5, "loop": {"i": 5}, "inc": {"i": 5}}`, out)

	// a loop that never runs outputs null
	out, _ = succeed(t, `
vars: {i: 0}
steps:
  - id: loop
    while:
      condition: vars.i > 0
      steps: [{set: {i: 1}}]
output: '${ {"loop": steps.loop.output} }'
`, local.Options{})
	requireJSON(t, `{"loop": null}`, out)
}

func TestWhileLoopLimitExceeded(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
vars: {i: 0}
steps:
  - id: loop
    while:
      condition: vars.i < 10
      maxIterations: 3
      steps:
        - set: {i: '${ vars.i + 1 }'}
output: ${ vars }
`, local.Options{}, workflows.ErrLoopLimit)
	require.Equal(t, "loop", res.Error.Step)
	require.Equal(t, "3", js(res.State.Vars["i"]), "exactly maxIterations iterations ran")
}

func TestWaitDuration(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: w
    wait: 2h30m
  - id: iso
    wait: P1DT1H
output: '${ {"w": steps.w.output, "iso": steps.iso.output} }'
`, local.Options{})
	requireJSON(t, `{"w": {"firedAt": "2026-01-05T11:30:00Z"}, "iso": {"firedAt": "2026-01-06T12:30:00Z"}}`, out)
	require.Equal(t, 27*time.Hour+30*time.Minute, res.Elapsed)
}

// A 30-day wait is a durable timer: it takes simulated, not real, time.
func TestWait30DaysIsFast(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, res := succeed(t, `
steps:
  - wait: 30d
`, local.Options{})
	wall := time.Since(start)
	require.GreaterOrEqual(t, res.Elapsed, 30*24*time.Hour)
	require.Less(t, wall, 2*time.Second)
}

func TestWaitUntil(t *testing.T) {
	t.Parallel()
	// a past timestamp fires at once
	out, res := succeed(t, `
steps:
  - id: w
    wait: {until: '${ timestamp("2020-01-01T00:00:00Z") }'}
output: ${ steps.w.output }
`, local.Options{})
	requireJSON(t, `{"firedAt": "2026-01-05T09:00:00Z"}`, out)
	require.Zero(t, res.Elapsed)

	// a future one fires then (an RFC 3339 string works too)
	out, res = succeed(t, `
input: {type: object}
steps:
  - id: w
    wait: {until: '${ input.at }'}
output: ${ steps.w.output }
`, local.Options{Input: raw(`{"at": "2026-01-07T10:15:00+01:00"}`)})
	requireJSON(t, `{"firedAt": "2026-01-07T09:15:00Z"}`, out)
	require.Equal(t, 48*time.Hour+15*time.Minute, res.Elapsed)
}

// 4h of business hours (Mon–Fri 09:00–17:00 Berlin) started Friday 16:00
// counts 1h on Friday and 3h on Monday: it fires Monday 12:00 Berlin.
func TestWaitBusinessHours(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	p := compile(t, `
steps:
  - id: w
    wait:
      for: 4h
      businessHours: {timezone: Europe/Berlin, days: [MON, TUE, WED, THU, FRI], hours: "09:00-17:00"}
output: ${ steps.w.output }
`)
	// the second weekend is the switch to summer time (Sunday 2026-03-29)
	for _, friday := range []int{13, 27} {
		start := time.Date(2026, 3, friday, 16, 0, 0, 0, berlin)
		require.Equal(t, time.Friday, start.Weekday())
		res := runPlan(t, local.WithStartTime(context.Background(), start), p, local.Options{})
		require.Nil(t, res.Error)
		fired, err := time.Parse(time.RFC3339Nano, res.Output.(map[string]any)["firedAt"].(string))
		require.NoError(t, err)
		want := time.Date(2026, 3, friday+3, 12, 0, 0, 0, berlin)
		require.True(t, fired.Equal(want), "fired at %s, want %s", fired.In(berlin), want)
		require.Equal(t, want.Sub(start), res.Elapsed)
	}

	// holidays are skipped
	p = compile(t, `
steps:
  - id: w
    wait:
      for: 2h
      businessHours: {timezone: UTC, days: [MON, TUE, WED, THU, FRI], hours: "09:00-17:00", holidays: ["2026-03-16"]}
output: ${ steps.w.output }
`)
	res := runPlan(t, local.WithStartTime(context.Background(), time.Date(2026, 3, 13, 16, 0, 0, 0, time.UTC)), p, local.Options{})
	require.Nil(t, res.Error)
	requireJSON(t, `{"firedAt": "2026-03-17T10:00:00Z"}`, res.Output)

	// the `weekdays` preset is Mon–Fri 09:00–17:00 UTC; a start on Saturday counts from Monday 09:00
	p = compile(t, `
steps:
  - id: w
    wait: {for: 3h, businessHours: weekdays}
output: ${ steps.w.output }
`)
	res = runPlan(t, local.WithStartTime(context.Background(), time.Date(2026, 3, 14, 11, 0, 0, 0, time.UTC)), p, local.Options{})
	require.Nil(t, res.Error)
	requireJSON(t, `{"firedAt": "2026-03-16T12:00:00Z"}`, res.Output)
}

func TestWaitForBufferedBeforeReached(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - wait: 1h
  - id: got
    waitFor: {signal: payment.succeeded}
output: ${ steps.got.output }
`, local.Options{Signals: []local.Signal{sig("payment.succeeded", `{"amount": 5}`, 10*time.Minute)}})
	requireJSON(t, `{"timedOut": false, "payload": {"amount": 5}}`, out)
	require.Equal(t, time.Hour, res.Elapsed, "the buffered signal is taken at once")
}

func TestWaitForDeliveredAfter(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: got
    waitFor: {signal: go}
output: ${ steps.got.output }
`, local.Options{Signals: []local.Signal{sig("go", `"yes"`, 3*time.Hour)}})
	requireJSON(t, `{"timedOut": false, "payload": "yes"}`, out)
	require.Equal(t, 3*time.Hour, res.Elapsed)
}

// Two signals of the same name are both buffered and taken in order.
func TestWaitForQueue(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - wait: 1h
  - id: a
    waitFor: {signal: s}
  - id: b
    waitFor: {signal: s}
output: '${ [steps.a.output.payload, steps.b.output.payload] }'
`, local.Options{Signals: []local.Signal{sig("s", `1`, time.Minute), sig("s", `2`, 2*time.Minute)}})
	requireJSON(t, `[1, 2]`, out)
}

// `when` filters payloads: a non-matching payload stays buffered for a later waitFor.
func TestWaitForWhenFilter(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: big
    waitFor: {signal: order, when: signal.amount > 100}
  - id: any
    waitFor: {signal: order}
output: '${ {"big": steps.big.output, "any": steps.any.output} }'
`, local.Options{Signals: []local.Signal{
		sig("order", `{"amount": 5}`, time.Hour),
		sig("order", `{"amount": 500}`, 2*time.Hour),
	}})
	requireJSON(t, `{"big": {"timedOut": false, "payload": {"amount": 500}}, "any": {"timedOut": false, "payload": {"amount": 5}}}`, out)
	require.Equal(t, 2*time.Hour, res.Elapsed)
}

func TestWaitForTimeout(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: w
    waitFor: {signal: never, timeout: 2d}
output: ${ steps.w.output }
`, local.Options{})
	requireJSON(t, `{"timedOut": true}`, out)
	require.Equal(t, 48*time.Hour, res.Elapsed)
	require.Equal(t, workflows.StatusSucceeded, stepByID(t, res, "w").Status)

	// a signal within the timeout wins
	out, _ = succeed(t, `
steps:
  - id: w
    waitFor: {signal: s, timeout: 2d}
output: ${ steps.w.output }
`, local.Options{Signals: []local.Signal{sig("s", `{"k": 1}`, 47*time.Hour)}})
	requireJSON(t, `{"timedOut": false, "payload": {"k": 1}}`, out)
}

// An exitWhen signal ends the run successfully, cancelling an in-flight
// wait; the output is computed from the vars at that point.
func TestExitWhen(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {stage: 0}
exitWhen:
  - signal: meeting.booked
steps:
  - set: {stage: 1}
  - id: long
    wait: 30d
  - id: never
    set: {stage: 2}
`, local.Options{Signals: []local.Signal{sig("meeting.booked", `{}`, 2*time.Hour)}})
	requireJSON(t, `{"stage": 1}`, out)
	require.Equal(t, 2*time.Hour, res.Elapsed)
	require.Equal(t, workflows.StatusCancelled, stepByID(t, res, "long").Status)
	require.Empty(t, stepsByID(res, "never"))
	require.Equal(t, "completed", res.State.Status)

	// exitWhen with `when`: only a matching payload exits
	out, res = succeed(t, `
vars: {stage: 0}
exitWhen:
  - signal: score
    when: signal.value >= 10
steps:
  - set: {stage: 1}
  - wait: 30d
  - set: {stage: 2}
`, local.Options{Signals: []local.Signal{sig("score", `{"value": 3}`, time.Hour), sig("score", `{"value": 12}`, 5*time.Hour)}})
	requireJSON(t, `{"stage": 1}`, out)
	require.Equal(t, 5*time.Hour, res.Elapsed)
}

func TestApprovalBySignal(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: approveDiscount
    approval:
      title: Approve the discount
      assignees: {role: admin}
      form: {type: object, required: [reason], properties: {reason: {type: string}}}
      timeout: 2d
output: ${ steps.approveDiscount.output }
`, local.Options{Signals: []local.Signal{
		sig("approveDiscount", `{"approved": true, "comment": "ok", "by": "ana@example.com", "data": {"reason": "loyal"}}`, 3*time.Hour),
	}})
	requireJSON(t, `{"approved": true, "decidedBy": "ana@example.com", "comment": "ok", "data": {"reason": "loyal"}}`, out)
	require.Equal(t, 3*time.Hour, res.Elapsed)
	require.Empty(t, res.State.Tasks, "the task is closed")

	// a rejection
	out, _ = succeed(t, `
steps:
  - id: ok
    approval: {title: T}
output: ${ steps.ok.output }
`, local.Options{Signals: []local.Signal{sig("ok", `{"approved": false, "comment": "no"}`, time.Minute)}})
	requireJSON(t, `{"approved": false, "decidedBy": "local", "comment": "no", "data": {}}`, out)
}

func TestApprovalTimeout(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: ap
    approval: {title: T, timeout: 2d}
output: ${ steps.ap.output }
`, local.Options{})
	requireJSON(t, `{"approved": false, "timedOut": true}`, out)
	require.Equal(t, 48*time.Hour, res.Elapsed)
}

// Form data that does not match the form's schema is rejected: the task
// stays open and then times out.
func TestApprovalFormValidated(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: ap
    approval:
      title: T
      form: {type: object, required: [amount], properties: {amount: {type: integer, maximum: 100}}}
      timeout: 1d
output: ${ steps.ap.output }
`, local.Options{Signals: []local.Signal{
		sig("ap", `{"approved": true, "data": {"amount": 1000}}`, time.Hour),
		sig("ap", `{"approved": true, "data": {"amount": "ten"}}`, 2*time.Hour),
		sig("ap", `{"approved": true}`, 3*time.Hour),
	}})
	requireJSON(t, `{"approved": false, "timedOut": true}`, out)
	require.Equal(t, 24*time.Hour, res.Elapsed)

	// valid data is accepted
	out, _ = succeed(t, `
steps:
  - id: ap
    approval:
      title: T
      form: {type: object, required: [amount], properties: {amount: {type: integer, maximum: 100}}}
      timeout: 1d
output: ${ steps.ap.output }
`, local.Options{Signals: []local.Signal{
		sig("ap", `{"approved": true, "data": {"amount": 1000}}`, time.Hour),
		sig("ap", `{"approved": true, "data": {"amount": 10}}`, 2*time.Hour),
	}})
	requireJSON(t, `{"approved": true, "decidedBy": "local", "comment": "", "data": {"amount": 10}}`, out)
}

// Users-assigned approvals only accept their assignees.
func TestApprovalAssignees(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - id: ap
    approval: {title: T, assignees: {users: [ana@example.com]}, timeout: 1d}
output: ${ steps.ap.output }
`, local.Options{Signals: []local.Signal{
		sig("ap", `{"approved": true, "by": "bob@example.com"}`, time.Hour),
		sig("ap", `{"approved": true, "by": "ana@example.com"}`, 2*time.Hour),
	}})
	requireJSON(t, `{"approved": true, "decidedBy": "ana@example.com", "comment": "", "data": {}}`, out)
}

func childPlans(t *testing.T) map[string]*dsl.Plan {
	return map[string]*dsl.Plan{
		"doubler": compile(t, `
switchboard: v1
name: doubler
input: {type: object, required: [n], properties: {n: {type: integer}}}
steps:
  - wait: 1h
  - set: {n: '${ input.n * 2 }'}
output: '${ {"doubled": vars.n} }'
`),
		"breaker": compile(t, `
switchboard: v1
name: breaker
steps:
  - id: inner
    fail: {type: CardDeclined, message: insufficient funds, details: '${ {"code": 51} }'}
`),
	}
}

func TestChildWorkflowWait(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: c
    workflow: doubler
    with: {n: 21}
output: ${ steps.c.output }
`, local.Options{Children: childPlans(t)})
	requireJSON(t, `{"doubled": 42}`, out)
	require.Equal(t, time.Hour, res.Elapsed)
	requireJSON(t, `{"n": 21}`, stepByID(t, res, "c").Input)
}

func TestChildWorkflowNoWait(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
steps:
  - id: c
    workflow: doubler
    with: {n: 1}
    wait: false
  - id: after
    set: {at: '${ now }'}
output: ${ steps.c.output }
`, local.Options{Children: childPlans(t)})
	m, ok := out.(map[string]any)
	require.True(t, ok, "output %s", js(out))
	require.NotEmpty(t, m["runId"])
	require.Equal(t, "2026-01-05T09:00:00Z", res.State.Vars["at"], "the parent does not wait for the child")
}

// A child's failure fails the step with the child's error type.
func TestChildWorkflowFailure(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
steps:
  - id: c
    workflow: breaker
`, local.Options{Children: childPlans(t)}, "CardDeclined")
	require.Equal(t, "c", res.Error.Step)
	require.Equal(t, "insufficient funds", res.Error.Message)
	requireJSON(t, `{"code": 51}`, res.Error.Details)

	// and can be caught by that type
	out, _ := succeed(t, `
steps:
  - try:
      - id: c
        workflow: breaker
    catch:
      - errors: [CardDeclined]
        steps:
          - set: {caught: '${ error.type + "/" + error.step + "/" + string(error.details.code) }'}
`, local.Options{Children: childPlans(t)})
	requireJSON(t, `{"caught": "CardDeclined/c/51"}`, out)
}

func TestTryCatchFinally(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {log: []}
steps:
  - id: t1
    try:
      - set: {log: '${ vars.log + ["try"] }'}
      - id: boom
        if: ${ true }
        fail: {type: Oops, message: it broke, details: '${ {"n": 1} }'}
      - set: {log: '${ vars.log + ["unreachable"] }'}
    catch:
      - errors: [Other]
        steps:
          - set: {log: '${ vars.log + ["other"] }'}
      - errors: [Oops, Third]
        as: e
        steps:
          - id: handler
            set:
              log: '${ vars.log + ["caught"] }'
              err: '${ {"type": e.type, "message": e.message, "step": e.step, "details": e.details} }'
      - steps:
          - set: {log: '${ vars.log + ["catchall"] }'}
    finally:
      - set: {log: '${ vars.log + ["finally"] }'}
output: '${ {"log": vars.log, "err": vars.err, "t1": steps.t1.output, "t1Status": steps.t1.status} }'
`, local.Options{})
	requireJSON(t, `{"log": ["try", "caught", "finally"], "err": {"type": "Oops", "message": "it broke", "step": "boom", "details": {"n": 1}},
		"t1": {"log": ["try", "caught"], "err": {"type": "Oops", "message": "it broke", "step": "boom", "details": {"n": 1}}},
		"t1Status": "succeeded"}`, out)
	require.Equal(t, workflows.StatusFailed, stepByID(t, res, "boom").Status)
}

func TestTryCatchAll(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - id: t1
    try:
      - wait: 1m
      - fail: {type: Whatever}
    catch:
      - steps:
          - set: {caught: '${ error.type }', msg: '${ error.message }'}
output: ${ steps.t1.output }
`, local.Options{})
	requireJSON(t, `{"caught": "Whatever", "msg": "Whatever"}`, out)

	// without a failure the output is the try block's; the catch does not run
	out, _ = succeed(t, `
steps:
  - id: t1
    try:
      - set: {fine: true}
    catch:
      - steps:
          - set: {caught: true}
output: '${ {"t1": steps.t1.output, "vars": vars} }'
`, local.Options{})
	requireJSON(t, `{"t1": {"fine": true}, "vars": {"fine": true}}`, out)
}

// An error no catch matches passes through with its type; finally still runs.
func TestTryUncaughtPassesThrough(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
vars: {fin: false}
steps:
  - try:
      - id: boom
        fail: {type: Mine, message: m, details: '${ [1, 2] }'}
    catch:
      - errors: [NotMine]
        steps: [{set: {caught: true}}]
    finally:
      - id: fin
        set: {fin: true}
`, local.Options{}, "Mine")
	require.Equal(t, "boom", res.Error.Step)
	require.Equal(t, "m", res.Error.Message)
	requireJSON(t, `[1, 2]`, res.Error.Details)
	require.Equal(t, workflows.StatusSucceeded, stepByID(t, res, "fin").Status)
	require.Equal(t, true, res.State.Vars["fin"])
	require.Nil(t, res.State.Vars["caught"])
}

// A failure inside a catch block fails the try step with that new error; finally still runs.
func TestFailureInCatch(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
vars: {fin: false}
steps:
  - try:
      - fail: {type: First}
    catch:
      - steps:
          - id: rethrow
            fail: {type: Second, message: '${ "after " + error.type }'}
    finally:
      - set: {fin: true}
`, local.Options{}, "Second")
	require.Equal(t, "after First", res.Error.Message)
	require.Equal(t, "rethrow", res.Error.Step)
	require.Equal(t, true, res.State.Vars["fin"])
}

func TestFailWithDetails(t *testing.T) {
	t.Parallel()
	res := failWith(t, `
input: {type: object}
steps:
  - id: f
    fail:
      type: QuoteRejected
      message: 'quote ${ input.id } rejected'
      details: '${ {"id": input.id, "n": 3} }'
`, local.Options{Input: raw(`{"id": "q1"}`)}, "QuoteRejected")
	require.Equal(t, "quote q1 rejected", res.Error.Message)
	require.Equal(t, "f", res.Error.Step)
	requireJSON(t, `{"id": "q1", "n": 3}`, res.Error.Details)
	require.Equal(t, "failed", res.State.Status)
}

// `return` ends the run successfully with its output; enclosing finally blocks still run.
func TestReturn(t *testing.T) {
	t.Parallel()
	out, res := succeed(t, `
vars: {fin: 0}
steps:
  - set: {a: 1}
  - try:
      - foreach:
          in: '${ [1, 2, 3] }'
          steps:
            - if: item == 2
              return: '${ {"early": item, "a": vars.a} }'
            - set: {seen: '${ item }'}
    finally:
      - id: fin
        set: {fin: 1}
  - id: never
    set: {never: true}
output: ${ "unused" }
`, local.Options{})
	requireJSON(t, `{"early": 2, "a": 1}`, out)
	require.Equal(t, workflows.StatusSucceeded, stepByID(t, res, "fin").Status)
	require.Equal(t, "1", js(res.State.Vars["fin"]))
	require.Equal(t, "1", js(res.State.Vars["seen"]))
	require.Empty(t, stepsByID(res, "never"))
	require.Equal(t, "completed", res.State.Status)
}

// A `return` inside a parallel branch ends the run too.
func TestReturnInParallel(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
steps:
  - parallel:
      branches:
        - - wait: 1d
          - set: {late: true}
        - - wait: 1m
          - return: done
  - set: {after: true}
`, local.Options{})
	requireJSON(t, `"done"`, out)

	// in `any` mode too: the return ends the run, it does not wait for a winner
	out, res := succeed(t, `
steps:
  - parallel:
      mode: any
      branches:
        - - wait: 1m
          - return: early
        - - id: slow
            wait: 1h
          - set: {late: true}
  - set: {after: true}
`, local.Options{})
	requireJSON(t, `"early"`, out)
	require.Equal(t, time.Minute, res.Elapsed)
	require.Equal(t, workflows.StatusCancelled, stepByID(t, res, "slow").Status)

	// and from a concurrent foreach
	out, res = succeed(t, `
steps:
  - foreach:
      in: '${ [60, 1, 30] }'
      concurrency: 3
      steps:
        - wait: {until: '${ now + duration(string(item) + "m") }'}
        - if: item == 30
          return: '${ item }'
  - set: {after: true}
`, local.Options{})
	requireJSON(t, `30`, out)
	require.Equal(t, 30*time.Minute, res.Elapsed)
}

// An abandoned child that waits forever does not keep the local run from completing.
func TestChildWorkflowNoWaitNeverEnds(t *testing.T) {
	t.Parallel()
	children := map[string]*dsl.Plan{"forever": compile(t, `
switchboard: v1
name: forever
steps:
  - waitFor: {signal: never}
`)}
	out, _ := succeed(t, `
steps:
  - id: c
    workflow: forever
    wait: false
output: '${ has(steps.c.output.runId) }'
`, local.Options{Children: children, IdleTimeout: 10 * time.Second})
	require.Equal(t, true, out)
}

// A run blocked forever (a waitFor no signal reaches) is reported by the
// local runner as an error at once, not after the idle timeout.
func TestLocalRunnerStuckRun(t *testing.T) {
	t.Parallel()
	p := compile(t, `
steps:
  - waitFor: {signal: never}
`)
	start := time.Now()
	_, err := local.Run(context.Background(), p, local.Options{IdleTimeout: 20 * time.Second})
	require.Error(t, err)
	require.Contains(t, err.Error(), "did not complete")
	require.Less(t, time.Since(start), 5*time.Second)
}

// A bare boolean decides too (`--signal ap=true@1h`).
func TestApprovalBareBoolean(t *testing.T) {
	t.Parallel()
	for _, v := range []string{"true", "false"} {
		out, _ := succeed(t, `
steps:
  - id: ap
    approval: {title: T, timeout: 1d}
output: ${ steps.ap.output.approved }
`, local.Options{Signals: []local.Signal{sig("ap", v, time.Hour)}})
		requireJSON(t, v, out)
	}
}
