package dsl

import (
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// head is the start of most test workflows: lines 1-2.
const head = "switchboard: v1\nname: t\n"

// TestDiagnostics checks each kind of problem the compiler reports, with
// exact positions (line and column counted by hand from the sources).
func TestDiagnostics(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown top-level key",
			src: head + `stepz: []
steps:
  - set: {a: 1}
`,
			want: []string{"wf.yaml:3:1: unknown key `stepz` at the top level of a workflow; did you mean `steps`?"},
		},
		{
			name: "unknown step key",
			src: head + `steps:
  - set: {a: 1}
    iff: true
`,
			want: []string{"wf.yaml:5:5: unknown key `iff` in a `set` step; did you mean `if`?"},
		},
		{
			name: "unknown key inside a step kind",
			src: head + `steps:
  - foreach:
      in: ${ [1] }
      step:
        - set: {a: 1}
`,
			want: []string{
				"wf.yaml:5:7: `foreach` needs `steps`",
				"wf.yaml:6:7: unknown key `step` in `foreach`; did you mean `steps`?",
			},
		},
		{
			name: "unknown step kind",
			src: head + `steps:
  - sleepy: 3d
`,
			want: []string{"wf.yaml:4:5: unknown step kind `sleepy`; did you mean `wait`?"},
		},
		{
			name: "unknown step kind from another tool",
			src: head + `steps:
  - id: later
    delay: 3d
`,
			want: []string{"wf.yaml:5:5: unknown step kind `delay`; did you mean `wait`?"},
		},
		{
			name: "step without a kind",
			src: head + `steps:
  - id: x
    name: nothing to do
`,
			want: []string{"wf.yaml:4:5: step has no kind; give it one of `approval`, `call`, `fail`"},
		},
		{
			name: "step with several kinds",
			src: head + `steps:
  - set: {a: 1}
    call: http.request
    with: {url: "https://example.com"}
`,
			want: []string{"wf.yaml:5:5: step has several kinds (`set` and `call`); a step has exactly one"},
		},
		{
			name: "duplicate ids",
			src: head + `steps:
  - id: dup
    set: {a: 1}
  - id: dup
    set: {b: 1}
`,
			want: []string{"wf.yaml:6:9: duplicate step id `dup` (first at line 4)"},
		},
		{
			name: "bad and reserved step ids",
			src: head + `steps:
  - id: 1st
    set: {a: 1}
  - id: vars
    set: {b: 1}
`,
			want: []string{
				"wf.yaml:4:9: bad step id `1st`",
				"wf.yaml:6:9: step id `vars` is a reserved name",
			},
		},
		{
			name: "unknown actions",
			src: head + `steps:
  - call: http.requst
    with: {url: "https://example.com"}
  - call: crm.create
`,
			want: []string{
				"wf.yaml:4:11: unknown action `http.requst`; did you mean `http.request`?",
				"wf.yaml:6:11: unknown action `crm.create`; known actions: `http.request`",
			},
		},
		{
			name: "bad arguments for the action's schema",
			src: head + `steps:
  - call: http.request
    with: {method: GETT, urll: "https://example.com", headers: 5}
  - call: http.request
    with:
      url: 5
      headers: {X-Count: 5, X-Name: ok}
  - call: http.request
`,
			want: []string{
				"wf.yaml:5:12: missing required argument `url` for `http.request`",
				"wf.yaml:5:20: argument `method` of `http.request` must be one of `GET`, `POST`, `PUT`, `PATCH`, `DELETE`, not `GETT`; did you mean `GET`?",
				"wf.yaml:5:26: unknown argument `urll` for `http.request`; did you mean `url`?",
				"wf.yaml:5:64: argument `headers` of `http.request` must be a map, not a number",
				"wf.yaml:8:12: argument `url` of `http.request` must be a string, not a number",
				"wf.yaml:9:26: argument `headers.X-Count` of `http.request` must be a string, not a number",
				"wf.yaml:10:11: missing required argument `url` for `http.request`",
			},
		},
		{
			name: "arguments given by expressions are checked at run time",
			src: head + `steps:
  - call: http.request
    with: {url: '${ "https://" + "example.com" }', method: '${ "GET" }', headers: '${ {"a": "b"} }'}
  - call: http.request
    with: '${ {"url": "https://example.com"} }'
`,
			want: nil,
		},
		{
			name: "unknown signal",
			src: head + `steps:
  - waitFor: {signal: payment.succeeded}
triggers:
  - webhook:
      path: stripe
      verify: {scheme: stripe, secret: stripe-webhook}
      signal: payment.succeded
      target: ${ body.id }
`,
			want: []string{"wf.yaml:9:15: unknown signal `payment.succeded`: no `waitFor` or `exitWhen` in this workflow listens for it; did you mean `payment.succeeded`?"},
		},
		{
			name: "signal listened to by exitWhen is known",
			src: head + `steps:
  - wait: 1d
exitWhen:
  - signal: meeting.booked
triggers:
  - webhook:
      path: cal
      verify: {scheme: token, secret: cal-token}
      signal: meeting.booked
      target: ${ body.runId }
`,
			want: nil,
		},
		{
			name: "CEL syntax error",
			src: head + `steps:
  - set: {a: 1}
    if: '${ vars.a > }'
`,
			want: []string{"wf.yaml:5:22: expression error: Syntax error: mismatched input '<EOF>'"},
		},
		{
			name: "CEL type error",
			src: head + `steps:
  - set: {a: 1}
    if: '${ 1 + "a" }'
`,
			want: []string{"wf.yaml:5:15: expression error: found no matching overload for '_+_' applied to '(int, string)'"},
		},
		{
			name: "condition that is not a boolean",
			src: head + `steps:
  - set: {a: 1}
    if: '${ 5 }'
  - while:
      condition: '"yes"'
      steps:
        - set: {b: 1}
`,
			want: []string{
				"wf.yaml:5:13: `if` must be a boolean condition, but `5` is of type int",
				"wf.yaml:7:19: `condition` must be a boolean condition, but `\"yes\"` is of type string",
			},
		},
		{
			name: "foreach over something that is not a list",
			src: head + `steps:
  - foreach:
      in: ${ 5 }
      steps:
        - set: {a: 1}
`,
			want: []string{"wf.yaml:5:14: `foreach.in` must be a list, but `5` is of type int"},
		},
		{
			name: "unknown step references",
			src: head + `steps:
  - id: fetch
    call: http.request
    with: {url: "https://example.com/${ steps.fecth.output.id }"}
  - set: {a: '${ steps.nope.status }', b: '${ steps["fetch"].output }'}
`,
			want: []string{
				"wf.yaml:6:41: unknown step `fecth` in `steps.fecth`; did you mean `fetch`?",
				"wf.yaml:7:18: unknown step `nope` in `steps.nope`",
			},
		},
		{
			name: "variables that are never set",
			src: head + `vars: {total: 0}
steps:
  - set: {a: '${ vars.totl + 1 }'}
  - set: {b: '${ vars.typo }'}
`,
			want: []string{
				"wf.yaml:5:18: variable `totl` is never set; set it in `vars:` or with a `set` step; did you mean `total`?",
				"wf.yaml:6:18: variable `typo` is never set",
			},
		},
		{
			name: "variables set later in the file are known",
			src: head + `steps:
  - if: ${ vars.later > 1 }
    set: {early: '${ vars.later }'}
  - set: {later: 2}
`,
			want: nil,
		},
		{
			name: "loop variable outside its loop",
			src: head + `steps:
  - foreach:
      in: ${ [1, 2] }
      as: lead
      steps:
        - set: {x: '${ lead + index }'}
  - set: {y: '${ lead }'}
  - set: {z: '${ index }'}
`,
			want: []string{
				"wf.yaml:9:18: unknown variable `lead`: `lead` exists only inside its `foreach`",
				"wf.yaml:10:18: unknown variable `index`: `index` exists only inside a `foreach`",
			},
		},
		{
			name: "error outside catch",
			src: head + `steps:
  - try:
      - call: http.request
        with: {url: "https://example.com"}
    catch:
      - steps:
          - set: {msg: '${ error.message }'}
  - set: {again: '${ error.message }'}
onFailure:
  - set: {failed: '${ error.type }'}
`,
			want: []string{"wf.yaml:10:22: unknown variable `error`: `error` exists only inside a `catch` block"},
		},
		{
			name: "step inside a foreach referred to from outside",
			src: head + `steps:
  - foreach:
      in: ${ [1, 2] }
      steps:
        - id: inner
          set: {x: 1}
        - set: {y: '${ steps.inner.output }'}
  - set: {z: '${ steps.inner.output }'}
`,
			want: []string{"wf.yaml:10:18: step `inner` runs inside a `foreach` and is not visible here"},
		},
		{
			name: "unknown run field and unknown function",
			src: head + `steps:
  - set: {a: '${ run.idd }', b: '${ nosuch(1) }'}
`,
			want: []string{
				"wf.yaml:4:18: unknown field `run.idd`; `run` has `id`, `workflow`, `revision`, `startedAt`; did you mean `id`?",
				"wf.yaml:4:37: unknown function `nosuch`",
			},
		},
		{
			name: "run variables in a trigger",
			src: head + `steps:
  - set: {a: 1}
triggers:
  - event:
      type: ticket.created
      when: ${ vars.a == 1 }
`,
			want: []string{"wf.yaml:8:16: `vars` does not exist in a trigger: the run has not started; use `event`"},
		},
		{
			name: "unreachable steps",
			src: head + `steps:
  - return: 1
  - set: {a: 1}
  - set: {b: 1}
  - try:
      - fail: {type: Boom}
      - set: {c: 1}
    finally:
      - set: {d: 1}
`,
			want: []string{
				"wf.yaml:5:5: unreachable step: the `return` step at line 4 always ends this block",
				"wf.yaml:9:9: unreachable step: the `fail` step at line 8 always ends this block",
			},
		},
		{
			name: "guarded return does not end the block",
			src: head + `steps:
  - if: ${ vars.a == 1 }
    return: 1
  - set: {a: 1}
`,
			want: nil,
		},
		{
			name: "empty top-level block",
			src:  head + "steps: []\n",
			want: []string{"wf.yaml:3:8: empty block: `steps` needs at least one step"},
		},
		{
			name: "empty nested blocks",
			src: head + `steps:
  - switch:
      cases:
        - when: ${ true }
          steps: []
      default: []
  - steps: []
  - parallel:
      branches:
        - []
`,
			want: []string{
				"wf.yaml:7:18: empty block: `steps` needs at least one step",
				"wf.yaml:8:16: empty block: `default` needs at least one step",
				"wf.yaml:9:12: empty block: `steps` needs at least one step",
				"wf.yaml:12:11: empty block: `branches` needs at least one step",
			},
		},
		{
			name: "bad durations",
			src: head + `steps:
  - wait: 3dd
  - wait: 10
  - wait: {for: 0s}
  - wait: '-1s'
    timeout: 2x
timeout: ""
`,
			want: []string{
				"wf.yaml:4:11: bad duration `3dd`; write one like `90s`, `15m`, `2h30m`, `3d`, `1w` or ISO 8601 `P3DT4H`",
				"wf.yaml:5:11: a duration needs a unit: write `10s` for seconds",
				"wf.yaml:6:17: duration `0s` must be at least 1ms",
				"wf.yaml:7:11: bad duration `-1s`",
				"wf.yaml:8:14: bad duration `2x`",
				"wf.yaml:9:10: empty duration",
			},
		},
		{
			name: "YAML syntax error on an unquoted expression",
			src: head + `steps:
  - set: {a: 1}
output: ${ {"total": vars.a} }
`,
			want: []string{"wf.yaml:5:9: YAML syntax error: mapping value is not allowed in this context; an expression containing `: `, `#` or a map literal must be quoted"},
		},
		{
			name: "YAML syntax error without an expression",
			src: head + `steps:
  - set: {a: 1
`,
			want: []string{"wf.yaml:4:10: YAML syntax error: could not find flow mapping end token '}'"},
		},
		{
			name: "unquoted expression cut by a YAML comment",
			src: head + `steps:
  - set:
      a: ${ vars.x # y }
`,
			want: []string{"wf.yaml:5:10: `${` at offset 0 has no closing `}`; YAML reads ` #` as the start of a comment"},
		},
		{
			name: "missing top-level keys",
			src:  "title: nothing\n",
			want: []string{
				"wf.yaml:1:1: missing `switchboard: v1`",
				"wf.yaml:1:1: missing `name`",
				"wf.yaml:1:1: missing `steps`",
			},
		},
		{
			name: "several problems in one file, sorted by position",
			src: `switchboard: v1
name: Bad_Name
vars: {n: '${ input.x + }'}
steps:
  - sleepy: 1
  - set: {a: '${ vars.nope }'}
    retry: {maxAttempts: 0}
  - wait: 3dd
exitWhen:
  - signal: done
    when: ${ signal.ok && vars.zzz }
timeout: 10
`,
			want: []string{
				"wf.yaml:2:7: bad workflow name `Bad_Name`",
				"wf.yaml:3:25: expression error: Syntax error",
				"wf.yaml:5:5: unknown step kind `sleepy`",
				"wf.yaml:6:18: variable `nope` is never set",
				"wf.yaml:7:13: `retry` applies to `call` steps",
				"wf.yaml:7:26: `maxAttempts` must be at least 1",
				"wf.yaml:8:11: bad duration `3dd`",
				"wf.yaml:11:27: variable `zzz` is never set",
				"wf.yaml:12:10: a duration needs a unit",
			},
		},
		{
			name: "trigger and approval checks",
			src: head + `steps:
  - id: ok
    approval: {title: Approve?, assignees: {role: admn}}
triggers:
  - webhook:
      path: a
      verify: {scheme: hmac-sha265, secret: s}
  - schedule: {cron: "0 9 * *"}
`,
			want: []string{
				"wf.yaml:5:51: unknown role `admn`; roles are `owner`, `admin`, `builder`, `operator`, `viewer`; did you mean `admin`?",
				"wf.yaml:9:24: unknown verification scheme `hmac-sha265`",
				"wf.yaml:10:22: bad cron `0 9 * *`: a cron expression has 5 fields",
			},
		},
		{
			name: "event triggers that signal",
			src: head + `steps:
  - waitFor: {signal: quote.decided}
triggers:
  - event: {type: quote.accepted, signal: quote.decided, target: '${ event.data.quote.runId }'}
  - event: {type: quote.rejected, signal: quote.decide, target: '${ event.data.quote.runId }'}
  - event: {type: quote.expired, signal: quote.decided}
  - event: {type: quote.sent, target: x}
  - event: {type: quote.sent, signal: quote.decided, target: '${ body.id }'}
`,
			want: []string{
				"wf.yaml:7:43: unknown signal `quote.decide`: no `waitFor` or `exitWhen` in this workflow listens for it; did you mean `quote.decided`?",
				"wf.yaml:8:42: a signalling event trigger needs `target`: the id of the run to signal",
				"wf.yaml:9:39: `target` is only used with `signal`",
				"wf.yaml:10:66: unknown variable `body`: `body` exists only in webhook triggers; in scope here: `input`, `vars`, `steps`, `run`, `now`, `event`",
			},
		},
		{
			name: "signal-with-start",
			src: head + `steps:
  - waitFor: {signal: go}
triggers:
  - webhook: {path: a, verify: {scheme: none}, start: true}
  - webhook: {path: b, verify: {scheme: none}, signal: go, target: x, start: "yes"}
  - webhook: {path: c, verify: {scheme: none}, signal: go, target: x, input: {a: 1}}
`,
			want: []string{
				"wf.yaml:6:55: `start` is only used with `signal` (signal-with-start)",
				"wf.yaml:7:78: `start` must be true or false, not a string",
				"wf.yaml:8:56: a webhook either starts runs (`input`) or signals one (`signal` + `target`), not both; `start: true` does both",
			},
		},
		{
			name: "schedule intervals",
			src: head + `steps:
  - set: {a: 1}
triggers:
  - schedule: {every: 500ms}
  - schedule: {every: soon}
  - schedule: {every: 10s, cron: "* * * * *"}
  - schedule: {timezone: Europe/Berlin}
  - schedule: {every: 1m, overlap: queue, catchupWindow: 1s}
`,
			want: []string{
				"wf.yaml:6:23: `every` is at least 1s",
				"wf.yaml:7:23: bad `every`: bad duration `soon`",
				"wf.yaml:8:23: a schedule has `cron` or `every`, not both",
				"wf.yaml:9:16: `schedule` needs `cron`",
				"wf.yaml:10:36: unknown overlap policy `queue`",
				"wf.yaml:10:58: `catchupWindow` is at least 10s",
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p, diags := compileSrc(t, "wf.yaml", tc.src)
			requireDiags(t, diags, tc.want)
			if len(tc.want) == 0 {
				require.NotNil(t, p)
			} else {
				require.Nil(t, p, "a file with problems has no plan")
			}
		})
	}
}

// TestParseLimits checks that no input makes the parser hang or blow up.
func TestParseLimits(t *testing.T) {
	t.Parallel()
	deep := []struct {
		name, src string
		want      string
	}{
		// The YAML parser takes quadratic time in flow nesting: 200 KB of
		// `[` took minutes before the depth check.
		{"flow sequences", strings.Repeat("[", 200_000), "x.yaml:1:201: values are nested more than 200 deep"},
		{"balanced flow sequences", strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000), "x.yaml:1:201: values are nested more than 200 deep"},
		{"flow maps", strings.Repeat("{a: ", 100_000), "x.yaml:1:801: values are nested more than 200 deep"},
		{"block sequences on one line", strings.Repeat("- ", 100_000) + "x", "x.yaml:1:401: values are nested more than 200 deep"},
		{"in a workflow", head + "steps:\n  - set:\n      a: " + strings.Repeat("[", 300) + "\n", "x.yaml:5:209: values are nested more than 200 deep"},
	}
	for _, tc := range deep {
		start := time.Now()
		_, diags := compileSrc(t, "x.yaml", tc.src)
		require.Less(t, time.Since(start), 10*time.Second, tc.name)
		require.Len(t, diags, 1, tc.name)
		require.Equal(t, tc.want, diags[0].String(), tc.name)
	}

	// Nesting under the limit, and long one-line JSON, are fine.
	p := mustCompile(t, "x.yaml", head+"steps:\n  - set:\n      a: "+strings.Repeat("[", 150)+strings.Repeat("]", 150)+"\n")
	require.NotNil(t, p)
	var keys []string
	for i := 0; i < 500; i++ {
		keys = append(keys, fmt.Sprintf(`"k%d": [1, {"x": [2]}]`, i))
	}
	mustCompile(t, "x.json", `{"switchboard": "v1", "name": "t", "steps": [{"set": {`+strings.Join(keys, ", ")+`}}]}`)

	// Aliases of aliases: level k stands for 10^k values. Shared nodes are
	// cheap to hold but compiling walks them all, so they count.
	laughs := func(levels int) string {
		var b strings.Builder
		b.WriteString(head + "steps:\n  - set:\n      l0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\n")
		for i := 1; i < levels; i++ {
			fmt.Fprintf(&b, "      l%d: &a%d [%s]\n", i, i, strings.TrimSuffix(strings.Repeat(fmt.Sprintf("*a%d, ", i-1), 10), ", "))
		}
		return b.String()
	}
	p = mustCompile(t, "x.yaml", laughs(4)) // 11110 values
	got, err := p.Steps[0].Set[3].Value.Eval(Activation{})
	require.NoError(t, err)
	require.Len(t, got, 10)
	start := time.Now()
	_, diags := compileSrc(t, "x.yaml", laughs(12))
	require.Less(t, time.Since(start), 10*time.Second)
	require.Len(t, diags, 1)
	require.Equal(t, "x.yaml:10:16: file has more than 200000 values (counting those repeated by YAML aliases); split it into child workflows", diags[0].String())

	// Sizes.
	_, diags = compileSrc(t, "x.yaml", strings.Repeat("#", maxSourceBytes+1))
	requireDiags(t, diags, []string{"x.yaml:1:1: file is 4194305 bytes; the limit is 4194304"})
	_, diags = compileSrc(t, "x.yaml", "# nothing\n")
	requireDiags(t, diags, []string{"x.yaml:1:1: file is empty"})
	_, diags = compileSrc(t, "x.yaml", "a: 1\n---\nb: 2\n")
	require.NotEmpty(t, diags)
	require.Contains(t, diags.Error(), "x.yaml:3:1: file holds 2 YAML documents; one file holds one workflow")
	_, diags = compileSrc(t, "x.yaml", head+"steps:\n  - set:\n      a: '${ "+strings.Repeat("x + ", 5000)+"x }'\n")
	requireDiags(t, diags, []string{"x.yaml:5:14: expression is 20003 bytes; the limit is 16384"})
}

// TestExpressionPositions checks that problems inside expressions point at
// the right character whatever the YAML scalar style: plain, quoted with
// escapes, folded over lines, and block scalars.
func TestExpressionPositions(t *testing.T) {
	t.Parallel()
	src := head + `vars: {a: 1}
steps:
  - set: {x: 1}
    if: |
      vars.a > 0 &&
        vars.zz
  - set: {y: 1}
    if: >-
      vars.a > 0 && vars.qq
  - set:
      g: |-
        pre ${ vars.a } mid
        ${ vars.ww } end
  - set: {h: "\t${ vars.ee }"}
  - set: {i: 'it''s ${ vars.ff }'}
  - set:
      j: ${vars.gg}
  - set: {k: "${ {'a': '}'}.a + vars.hh }"}
  - set:
      l: "${ 1 +
        vars.ii }"
  - set: {m: "é ${ vars.jj }"}
  - set: {n: "\u00e9\x41 ${ vars.kk }"}
  - set:
      o: ${ vars.a +
        vars.ll }
`
	_, diags := compileSrc(t, "wf.yaml", src)
	requireDiags(t, diags, []string{
		"wf.yaml:8:9: variable `zz` is never set",
		"wf.yaml:11:21: variable `qq` is never set",
		"wf.yaml:15:12: variable `ww` is never set",
		"wf.yaml:16:20: variable `ee` is never set",
		"wf.yaml:17:24: variable `ff` is never set",
		"wf.yaml:19:12: variable `gg` is never set",
		"wf.yaml:20:33: variable `hh` is never set",
		"wf.yaml:23:9: variable `ii` is never set",
		"wf.yaml:24:20: variable `jj` is never set",
		"wf.yaml:25:29: variable `kk` is never set",
		"wf.yaml:28:9: variable `ll` is never set",
	})
	// The same with Windows line ends.
	_, crlf := compileSrc(t, "wf.yaml", strings.ReplaceAll(src, "\n", "\r\n"))
	require.Equal(t, diags, crlf)
}

// TestDiagnosticsJSON checks positions in a JSON file.
func TestDiagnosticsJSON(t *testing.T) {
	t.Parallel()
	src := `{
  "switchboard": "v1",
  "name": "t",
  "steps": [
    {"set": {"a": "${ vars.nope }"}},
    {"sleepy": "3d"}
  ]
}
`
	_, diags := compileSrc(t, "wf.json", src)
	requireDiags(t, diags, []string{
		"wf.json:5:23: variable `nope` is never set",
		"wf.json:6:6: unknown step kind `sleepy`; did you mean `wait`?",
	})
}

func TestDiagnosticsError(t *testing.T) {
	t.Parallel()
	_, diags := compileSrc(t, "a/wf.yaml", head+"steps:\n  - sleepy: 1\n  - wait: 3dd\n")
	require.Len(t, diags, 2)
	require.Equal(t, "a/wf.yaml:4:5: unknown step kind `sleepy`; did you mean `wait`?\na/wf.yaml:5:11: bad duration `3dd`; write one like `90s`, `15m`, `2h30m`, `3d`, `1w` or ISO 8601 `P3DT4H`", diags.Error())
}

// TestCompileFull compiles a file using every step kind, every common key
// and every top-level key.
func TestCompileFull(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "full.yaml", readTestdata(t, "full.yaml"))

	kinds := map[string]bool{}
	p.Walk(func(s *Step) { kinds[s.Kind] = true })
	for _, k := range StepKinds() {
		require.True(t, kinds[k.Name], "full.yaml has no `%s` step", k.Name)
	}
	require.Equal(t, "lead-nurture", p.Name)
	require.Equal(t, "Lead nurture", p.Title)
	require.NotEmpty(t, p.Input)
	require.Equal(t, []string{"score", "customer", "greeting"}, []string{p.Vars[0].Name, p.Vars[1].Name, p.Vars[2].Name})
	require.NotNil(t, p.Output)
	require.Len(t, p.Triggers, 4)
	require.NotNil(t, p.Triggers[0].Webhook)
	require.Equal(t, "payment.succeeded", p.Triggers[1].Webhook.Signal)
	require.NotNil(t, p.Triggers[2].Event)
	require.Equal(t, "0 9 * * MON-FRI", p.Triggers[3].Schedule.Cron)
	require.Equal(t, "input.customerId", strings.TrimSpace(p.Concurrency.Key))
	require.Equal(t, "queue", p.Concurrency.OnConflict)
	require.Equal(t, []ExitCond{{Signal: "meeting.booked"}, {Signal: "lead.unsubscribed", When: "signal.customerId == input.customerId"}}, p.ExitWhen)
	require.Len(t, p.OnFailure, 1)
	require.Equal(t, 30*24*time.Hour, p.Timeout.D())
	require.Equal(t, []string{"lead.unsubscribed", "meeting.booked", "payment.succeeded"}, p.Signals)
	require.Equal(t, []string{"approveDiscount"}, p.Approvals)

	fetch := p.Steps[0]
	require.Equal(t, "fetch", fetch.ID)
	require.Equal(t, "Fetch the lead", fetch.Name)
	require.Equal(t, &RetryPolicy{MaxAttempts: 3, InitialInterval: Duration(2 * time.Second), Backoff: 2,
		MaxInterval: Duration(time.Minute), NonRetryable: []string{"NotFound"}}, fetch.Retry)
	require.Equal(t, 30*time.Second, fetch.Timeout.D())
	require.Equal(t, "http.request", fetch.Call.Activity)
	require.Len(t, fetch.Call.Compensate, 1)
	require.Equal(t, Pos{Line: 17, Col: 5}, fetch.Pos)
	require.Equal(t, `steps.fetch.status == "succeeded"`, strings.TrimSpace(p.Steps[2].If))
}

// TestPaths checks the documented step paths.
func TestPaths(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "wf.yaml", head+`steps:
  - set: {a: 1}
  - foreach:
      in: ${ [1] }
      steps:
        - set: {b: 1}
        - try:
            - set: {c: 1}
          catch:
            - steps:
                - set: {d: 1}
          finally:
            - set: {e: 1}
  - switch:
      cases:
        - when: vars.a == 1
          steps:
            - set: {f: 1}
      default:
        - set: {g: 1}
  - parallel:
      branches:
        - - set: {h: 1}
        - - set: {i: 1}
  - while:
      condition: vars.a < 3
      steps:
        - set: {a: '${ vars.a + 1 }'}
  - call: http.request
    with: {url: "https://example.com"}
    compensate:
      - set: {j: 1}
  - steps:
      - set: {k: 1}
onFailure:
  - set: {l: 1}
`)
	var paths []string
	p.Walk(func(s *Step) { paths = append(paths, s.Path) })
	require.Equal(t, []string{
		"steps[0]",
		"steps[1]",
		"steps[1].foreach.steps[0]",
		"steps[1].foreach.steps[1]",
		"steps[1].foreach.steps[1].try[0]",
		"steps[1].foreach.steps[1].catch[0].steps[0]",
		"steps[1].foreach.steps[1].finally[0]",
		"steps[2]",
		"steps[2].switch.cases[0].steps[0]",
		"steps[2].switch.default[0]",
		"steps[3]",
		"steps[3].parallel.branches[0][0]",
		"steps[3].parallel.branches[1][0]",
		"steps[4]",
		"steps[4].while.steps[0]",
		"steps[5]",
		"steps[5].compensate[0]",
		"steps[6]",
		"steps[6].steps[0]",
		"onFailure[0]",
	}, paths)
	require.Len(t, p.StepByPath(), len(paths))
}

// TestHash checks that the plan hash identifies what a workflow does.
func TestHash(t *testing.T) {
	t.Parallel()
	yamlSrc := readTestdata(t, "full.yaml")
	a := mustCompile(t, "full.yaml", yamlSrc)
	b := mustCompile(t, "full.yaml", yamlSrc)
	require.Regexp(t, `^sha256:[0-9a-f]{64}$`, a.Hash)
	require.Equal(t, a.Hash, b.Hash, "the hash is stable across compilations")

	j := mustCompile(t, "full.json", readTestdata(t, "full.json"))
	require.Equal(t, a.Hash, j.Hash, "the same workflow written as JSON has the same hash")

	// Reformatting (and moving steps down a line) does not change it.
	moved := mustCompile(t, "full.yaml", "# a comment\n"+yamlSrc)
	require.Equal(t, a.Hash, moved.Hash)

	// A change to a step does.
	changed := mustCompile(t, "full.yaml", strings.Replace(yamlSrc, "score: ${ vars.score + 10 }", "score: ${ vars.score + 11 }", 1))
	require.NotEqual(t, a.Hash, changed.Hash)
	changed = mustCompile(t, "full.yaml", strings.Replace(yamlSrc, "wait: 90s", "wait: 91s", 1))
	require.NotEqual(t, a.Hash, changed.Hash)

	// The hash is of the plan's JSON without the hash.
	var round Plan
	bs, err := json.Marshal(a)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(bs, &round))
	require.Equal(t, a.Hash, round.Hash)
	round.computeHash()
	require.Equal(t, a.Hash, round.Hash, "a plan read back from JSON hashes the same")
}

func act(values map[string]any) Activation {
	return Activation{Values: values}
}

// TestEvalNumbers checks CEL number semantics: integers stay integers, and
// ints and doubles mix as users expect.
func TestEvalNumbers(t *testing.T) {
	t.Parallel()
	a := act(map[string]any{
		"input": map[string]any{"n": int64(3), "f": 1.5},
		"vars":  map[string]any{"i": int64(4), "d": 0.25},
	})
	cases := []struct {
		src  string
		want any
	}{
		{"input.n * 2", int64(6)},
		{"1 + 0.5", 1.5},
		{"0.5 + 1", 1.5},
		{"3 - 0.5", 2.5},
		{"0.5 - 3", -2.5},
		{"2 * 1.5", 3.0},
		{"1.5 * 2", 3.0},
		{"3 / 2.0", 1.5},
		{"3.0 / 2", 1.5},
		{"7 / 2", int64(3)},
		{"vars.i + 1", int64(5)},
		{"vars.i + 0.5", 4.5},
		{"vars.d + vars.i", 4.25},
		{"input.f * input.n", 4.5},
		{"input.n / 2", int64(1)},
		{"input.n % 2", int64(1)},
		{"'a' + 'b'", "ab"},
		{"[1] + [2]", []any{int64(1), int64(2)}},
		{"1 < 1.5", true},
		{"2.5 > 2", true},
		{"input.n < input.f", false},
		{"input.n >= 3.0", true},
		{"input.n == 3.0", true},
		{"vars.d != 1", true},
		{"math.greatest(1, 2.5)", 2.5},
	}
	for _, tc := range cases {
		got, err := EvalExpr(tc.src, a)
		require.NoError(t, err, tc.src)
		require.Equal(t, tc.want, got, tc.src)
	}
	ok, err := EvalBool("vars.i > 3.5", a)
	require.NoError(t, err)
	require.True(t, ok)

	_, err = EvalExpr("1 / 0", a)
	require.ErrorContains(t, err, "division by zero")
	_, err = EvalExpr("1.0 / 0", a)
	require.ErrorContains(t, err, "not a JSON number")
	_, err = EvalBool("input.n", a)
	require.ErrorContains(t, err, "condition must be a boolean, got int")
}

// TestEvalCostLimit checks that a runaway expression fails instead of hanging.
func TestEvalCostLimit(t *testing.T) {
	t.Parallel()
	list := "[" + strings.TrimSuffix(strings.Repeat("1,", 20), ",") + "]"
	src := "x"
	for _, v := range []string{"a", "b", "c", "d", "e", "x"} {
		src = fmt.Sprintf("%s.map(%s, %s)", list, v, src)
	}
	// 20^6 = 64 million iterations: far over the limit.
	start := time.Now()
	_, err := EvalExpr(src, Activation{})
	require.Error(t, err)
	require.ErrorContains(t, err, "cost limit exceeded")
	require.Less(t, time.Since(start), 5*time.Second)

	_, err = EvalExpr("lists.range(1000).map(x, lists.range(1000).map(y, x * y))", Activation{})
	require.ErrorContains(t, err, "cost limit exceeded")

	// Under the limit, the same shape works.
	got, err := EvalExpr("[1, 2, 3].map(x, [1, 2, 3].map(y, x * y))", Activation{})
	require.NoError(t, err)
	require.Equal(t, []any{[]any{int64(1), int64(2), int64(3)}, []any{int64(2), int64(4), int64(6)}, []any{int64(3), int64(6), int64(9)}}, got)
}

// TestEvalMapOrder checks that iterating over maps is in sorted key order,
// every time: workflow replay relies on it.
func TestEvalMapOrder(t *testing.T) {
	t.Parallel()
	data := map[string]any{}
	for _, k := range []string{"k", "c", "x", "a", "m", "b", "z", "e", "q", "d"} {
		data[k] = int64(len(k))
	}
	sorted := []any{"a", "b", "c", "d", "e", "k", "m", "q", "x", "z"}
	a := act(map[string]any{"input": map[string]any{"m": data}})
	for _, src := range []string{
		"input.m.map(k, k)",
		"input.m.filter(k, true)",
		`{"k": 1, "c": 1, "x": 1, "a": 1, "m": 1, "b": 1, "z": 1, "e": 1, "q": 1, "d": 1}.map(k, k)`,
		"input.m.transformMap(k, v, v + 1).map(k, k)",
		`[{"k": 1, "c": 1, "x": 1, "a": 1, "m": 1, "b": 1, "z": 1, "e": 1, "q": 1, "d": 1}][0].map(k, k)`,
	} {
		for i := 0; i < 30; i++ {
			got, err := EvalExpr(src, a)
			require.NoError(t, err, src)
			require.Equal(t, sorted, got, src)
		}
	}
	got, err := EvalExpr(`{2: "b", 1: "a", 3: "c"}.map(k, k)`, Activation{})
	require.NoError(t, err)
	require.Equal(t, []any{int64(1), int64(2), int64(3)}, got)

	// Maps built by expressions still behave as maps.
	for src, want := range map[string]any{
		`{"a": 1, "b": 2} == {"b": 2, "a": 1}`:                  true,
		`{"a": 1}.a`:                                            int64(1),
		`"b" in {"a": 1, "b": 2}`:                               true,
		`size({"a": 1, "b": 2})`:                                int64(2),
		`input.m.transformMap(k, v, v * 2) == input.m`:          false,
		`{"a": 1, "b": 2}.exists(k, k == "b")`:                  true,
		`input.m.transformMap(k, v, v)["k"]`:                    int64(1),
		`[{"a": 1}, {"b": 2}].map(m, m.map(k, k))`:              []any{[]any{"a"}, []any{"b"}},
		`{"a": {"y": 1, "x": 2}}.a.map(k, k)`:                   []any{"x", "y"},
		`has({"a": 1}.a)`:                                       true,
		`{"z": 1, "y": {"b": 1, "a": 2}}`:                       map[string]any{"z": int64(1), "y": map[string]any{"b": int64(1), "a": int64(2)}},
		`input.m.transformMap(k, v, v).size() == size(input.m)`: true,
	} {
		got, err := EvalExpr(src, a)
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}
}

// TestEvalTimeAndConversions checks `now`, timestamps and how CEL values
// become plain Go data.
func TestEvalTimeAndConversions(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	a := act(map[string]any{"now": now, "input": map[string]any{"at": "2026-03-05T00:00:00Z"}})
	cases := []struct {
		src  string
		want any
	}{
		{"now", "2026-03-04T05:06:07Z"},
		{`now + duration("1h30m")`, "2026-03-04T06:36:07Z"},
		{"now.getFullYear()", int64(2026)},
		{"now.getDayOfWeek()", int64(3)},
		{`timestamp(input.at) > now`, true},
		{`timestamp(input.at) - now`, "18h53m53s"},
		{`timestamp("2026-01-01T10:00:00.5+02:00")`, "2026-01-01T08:00:00.5Z"},
		{`duration("90s")`, "1m30s"},
		{`b"abc"`, "YWJj"},
		{`optional.none()`, nil},
		{`optional.of(5)`, int64(5)},
		{`{"a": optional.none()}`, map[string]any{"a": nil}},
		{`null`, nil},
		{`1u`, int64(1)},
		{`18446744073709551615u`, float64(18446744073709551615)},
		{`int`, "int"},
		{`{1: "a", true: "b"}`, map[string]any{"1": "a", "true": "b"}},
		{`[1, "a", 2.5, true, null]`, []any{int64(1), "a", 2.5, true, nil}},
	}
	for _, tc := range cases {
		got, err := EvalExpr(tc.src, a)
		require.NoError(t, err, tc.src)
		require.Equal(t, tc.want, got, tc.src)
	}
	_, err := EvalExpr(`{2.5: 1}`, a)
	require.ErrorContains(t, err, "cannot be stored as JSON")
	_, err = EvalExpr(`input.nope`, a)
	require.ErrorContains(t, err, "no such key")
	var ee *ExprError
	require.ErrorAs(t, err, &ee)
	require.Equal(t, "input.nope", ee.Src)
}

func TestEvalLocals(t *testing.T) {
	t.Parallel()
	got, err := EvalExpr("item.name + string(index)", Activation{
		Values: map[string]any{"item": map[string]any{"name": "n"}, "index": int64(2)},
		Locals: map[string]string{"item": localDyn, "index": localInt},
	})
	require.NoError(t, err)
	require.Equal(t, "n2", got)
	got, err = EvalExpr(`err.type == "Boom"`, Activation{
		Values: map[string]any{"err": map[string]any{"type": "Boom"}},
		Locals: map[string]string{"err": localError},
	})
	require.NoError(t, err)
	require.Equal(t, true, got)
	_, err = EvalExpr("item", Activation{})
	require.ErrorContains(t, err, "undeclared reference to 'item'")
}

func TestParseDuration(t *testing.T) {
	t.Parallel()
	day := 24 * time.Hour
	good := map[string]time.Duration{
		"90s":      90 * time.Second,
		"15m":      15 * time.Minute,
		"2h30m":    2*time.Hour + 30*time.Minute,
		"3d":       3 * day,
		"1w":       7 * day,
		"500ms":    500 * time.Millisecond,
		"1.5h":     90 * time.Minute,
		"1d12h":    36 * time.Hour,
		" 2m ":     2 * time.Minute,
		"P3DT4H":   3*day + 4*time.Hour,
		"PT15M":    15 * time.Minute,
		"P1W":      7 * day,
		"PT0.5S":   500 * time.Millisecond,
		"P1Y":      365 * day,
		"P1M":      30 * day,
		"P1DT1M1S": day + time.Minute + time.Second,
		"1ms":      time.Millisecond,
	}
	for in, want := range good {
		got, err := ParseDuration(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	bad := map[string]string{
		"0s":     "must be at least 1ms",
		"":       "empty duration",
		"  ":     "empty duration",
		"3dd":    "bad duration `3dd`",
		"-1s":    "bad duration `-1s`",
		"10":     "bad duration `10`",
		"1x":     "bad duration",
		"P":      "bad duration",
		"PT":     "bad duration",
		"P3DT":   "bad duration",
		"P1H":    "bad duration",
		"3 d":    "bad duration",
		"0.1ms":  "must be at least 1ms",
		"101y":   "bad duration",
		"5300w":  "longer than 100 years",
		"P200Y":  "longer than 100 years",
		"1h-30m": "bad duration",
	}
	for in, want := range bad {
		_, err := ParseDuration(in)
		require.Error(t, err, in)
		require.ErrorContains(t, err, want, in)
	}

	// Durations round-trip through JSON as Go duration strings.
	d := Duration(2*time.Hour + 30*time.Minute)
	b, err := json.Marshal(d)
	require.NoError(t, err)
	require.Equal(t, `"2h30m0s"`, string(b))
	var back Duration
	require.NoError(t, json.Unmarshal(b, &back))
	require.Equal(t, d, back)
	require.Error(t, json.Unmarshal([]byte(`"3dd"`), &back))
}

func TestSplitTemplate(t *testing.T) {
	t.Parallel()
	cases := []struct {
		in    string
		parts []tmplPart
		whole bool
	}{
		{"plain text", []tmplPart{{Text: "plain text"}}, false},
		{"${ x }", []tmplPart{{Expr: " x ", Off: 2}}, true},
		{"  ${ x }  ", []tmplPart{{Expr: " x ", Off: 4}}, true},
		{"\n${ x }\n", []tmplPart{{Expr: " x ", Off: 3}}, true},
		{"a ${ x } b", []tmplPart{{Text: "a "}, {Expr: " x ", Off: 4}, {Text: " b"}}, false},
		{"${x}${y}", []tmplPart{{Expr: "x", Off: 2}, {Expr: "y", Off: 6}}, false},
		{`${ {"a": "}"} }`, []tmplPart{{Expr: ` {"a": "}"} `, Off: 2}}, true},
		{`${ {'a': '}'}.a }`, []tmplPart{{Expr: ` {'a': '}'}.a `, Off: 2}}, true},
		{`${ "\"}" + x }!`, []tmplPart{{Expr: ` "\"}" + x `, Off: 2}, {Text: "!"}}, false},
		{`${ '''}''' }`, []tmplPart{{Expr: ` '''}''' `, Off: 2}}, true},
		{`${ [1, {"b": [2]}][1].b }`, []tmplPart{{Expr: ` [1, {"b": [2]}][1].b `, Off: 2}}, true},
		{`${ m({"x": 1}) } and ${ y }`, []tmplPart{{Expr: ` m({"x": 1}) `, Off: 2}, {Text: " and "}, {Expr: " y ", Off: 23}}, false},
		{"$ {x} $x {y}", []tmplPart{{Text: "$ {x} $x {y}"}}, false},
		{"", nil, false},
	}
	for _, tc := range cases {
		parts, whole, err := splitTemplate(tc.in)
		require.NoError(t, err, tc.in)
		require.Equal(t, tc.parts, parts, tc.in)
		require.Equal(t, tc.whole, whole, tc.in)
		for _, p := range parts {
			if p.Expr != "" {
				require.Equal(t, p.Expr, tc.in[p.Off:p.Off+len(p.Expr)], "offset of %q in %q", p.Expr, tc.in)
			}
		}
	}
	for in, want := range map[string]string{
		"${ x":          "has no closing `}`",
		"a ${ {x: 1 }":  "has no closing `}`",
		`${ "}`:         "has no closing `}`",
		"${}":           "empty expression",
		"x ${   } y":    "empty expression",
		"${ ok } ${ no": "`${` at offset 8 has no closing `}`",
	} {
		_, _, err := splitTemplate(in)
		require.ErrorContains(t, err, want, in)
	}
}

// TestInterpolation checks how values render inside strings.
func TestInterpolation(t *testing.T) {
	t.Parallel()
	a := act(map[string]any{"vars": map[string]any{
		"n": int64(3), "f": 2.5, "s": "str", "b": true, "nil": nil,
		"m": map[string]any{"b": int64(1), "a": "x<&>"}, "l": []any{int64(1), "two"},
	}})
	cases := map[string]any{
		"n=${ vars.n }":              "n=3",
		"f=${ vars.f }":              "f=2.5",
		"whole=${ 2.0 }":             "whole=2",
		"s=${ vars.s }":              "s=str",
		"b=${ vars.b }":              "b=true",
		"null=[${ vars.nil }]":       "null=[]",
		"m=${ vars.m }":              `m={"a":"x<&>","b":1}`,
		"l=${ vars.l }":              `l=[1,"two"]`,
		"${ vars.n }${ vars.s }":     "3str",
		"${ vars.n }":                int64(3), // a whole expression keeps its type
		"${ vars.m }":                map[string]any{"b": int64(1), "a": "x<&>"},
		" ${ vars.nil } ":            nil,
		"sum=${ vars.n + vars.f }":   "sum=5.5",
		"no expression here":         "no expression here",
		`q=${ "}" + vars.s }`:        "q=}str",
		`nested=${ {"k": vars.n} }!`: `nested={"k":3}!`,
	}
	for src, want := range cases {
		p := mustCompile(t, "wf.yaml", head+"vars: {n: 0, f: 0, s: '', b: false, nil: null, m: {}, l: []}\nsteps:\n  - set:\n      out: "+yamlQuote(src)+"\n")
		v := p.Steps[0].Set[0].Value
		got, err := v.Eval(a)
		require.NoError(t, err, src)
		require.Equal(t, want, got, src)
	}
	require.Equal(t, "", Stringify(nil))
	require.Equal(t, "x", Stringify("x"))
	require.Equal(t, "1.5", Stringify(1.5))
	require.Equal(t, `{"a":[1,null]}`, Stringify(map[string]any{"a": []any{int64(1), nil}}))
}

func yamlQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

// TestValues checks how compiled values hold literals and expressions.
func TestValues(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "wf.yaml", head+`vars: {n: 2}
steps:
  - set:
      lit: {a: [1, "x", true, null, 1.5]}
      mixed: {a: '${ vars.n * 2 }', b: [1, '${ vars.n }'], c: "n is ${ vars.n }"}
`)
	lit, mixed := p.Steps[0].Set[0].Value, p.Steps[0].Set[1].Value
	require.JSONEq(t, `{"a":[1,"x",true,null,1.5]}`, string(lit.Lit))
	require.Nil(t, mixed.Lit)
	got, err := mixed.Eval(act(map[string]any{"vars": map[string]any{"n": int64(2)}}))
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": int64(4), "b": []any{int64(1), int64(2)}, "c": "n is 2"}, got)
	got, err = lit.Eval(Activation{})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"a": []any{int64(1), "x", true, nil, 1.5}}, got)
}
