package dsl

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

// Literal arguments get the whole input schema at compile time: patterns,
// bounds and combinators, reported at the argument.
func TestLiteralArgumentsValidatedBySchema(t *testing.T) {
	t.Parallel()
	reg := &Registry{}
	require.NoError(t, reg.Register(Action{Name: "shop.order", Input: json.RawMessage(`{
	  "type": "object", "required": ["sku"], "additionalProperties": false,
	  "properties": {
	    "sku": {"type": "string", "pattern": "^[A-Z]{3}-[0-9]+$"},
	    "qty": {"type": "integer", "minimum": 1, "maximum": 10},
	    "ship": {"anyOf": [{"type": "string"}, {"type": "object", "required": ["to"]}]}
	  }}`)}))
	_, diags := Compile("o.yaml", []byte(`switchboard: v1
name: o
steps:
  - call: shop.order
    with: {sku: abc-1, qty: 11}
  - call: shop.order
    with: {sku: ABC-1, ship: {from: here}}
  - call: shop.order
    with: {sku: '${ input.sku }', qty: 0}
  - call: shop.order
    with: {sku: ABC-2, qty: 3, ship: door}
`), Options{Registry: reg})
	requireDiags(t, diags, []string{
		"o.yaml:5:17: argument `sku` of `shop.order` does not match the pattern",
		"o.yaml:5:29: argument `qty` of `shop.order` must be at most 10",
		"o.yaml:7:31: argument `ship` of `shop.order`: got object, want string; or missing property 'to'",
		"o.yaml:9:40: argument `qty` of `shop.order` must be at least 1",
	})
}

// `return` has no meaning once the run has failed.
func TestReturnNotAllowedInCleanupBlocks(t *testing.T) {
	t.Parallel()
	_, diags := compileSrc(t, "r.yaml", `switchboard: v1
name: r
steps:
  - call: http.request
    with: {url: "http://x"}
    compensate:
      - return: undone
  - fail: {type: Boom}
onFailure:
  - return: recovered
`)
	requireDiags(t, diags, []string{
		"r.yaml:7:9: `return` cannot be used in `compensate`",
		"r.yaml:10:5: `return` cannot be used in `onFailure`",
	})
}

// A UTF-8 byte order mark is not part of the document.
func TestByteOrderMarkIgnored(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "bom.yaml", "\xef\xbb\xbfswitchboard: v1\nname: bom\nsteps:\n  - set: {a: 1}\n")
	require.Equal(t, "bom", p.Name)
}

// Cron fields are checked value by value.
func TestCronRanges(t *testing.T) {
	t.Parallel()
	for expr, want := range map[string]string{
		"0 9 * * MON-FRI":   "",
		"*/15 8-18 * 1,6 *": "",
		"@daily":            "",
		"61 9 * * *":        "61 is out of range 0-59",
		"0 9 * * MON-FRX":   "unknown name `FRX`",
		"0 9 32 * *":        "32 is out of range 1-31",
		"0 18-8 * * *":      "runs backwards",
		"0 9 * * */0":       "bad step",
	} {
		got := checkCron(expr)
		if want == "" {
			require.Empty(t, got, expr)
		} else {
			require.Contains(t, got, want, expr)
		}
	}
}

// Every problem in one pass: a step with a bad kind still claims its id
// (duplicates are found, references to it do not cascade), and a type
// error does not hide a bad reference in the same expression.
func TestOnePassAcrossBadSteps(t *testing.T) {
	t.Parallel()
	_, diags := compileSrc(t, "p.yaml", `switchboard: v1
name: p
steps:
  - id: a
    sleepy: 3d
  - id: a
    set: {x: '${ steps.a.status }'}
  - set: {y: '${ vars.nope + "a" + 1 }'}
`)
	requireDiags(t, diags, []string{
		"p.yaml:5:5: unknown step kind `sleepy`; did you mean `wait`?",
		"p.yaml:6:9: duplicate step id `a`",
		"p.yaml:8:18: variable `nope` is never set",
		"p.yaml:8:34: no matching overload",
	})
}

// Initial values are computed in order from input and earlier variables.
func TestVarsInitialValuesInOrder(t *testing.T) {
	t.Parallel()
	_, diags := compileSrc(t, "v.yaml", `switchboard: v1
name: v
vars:
  a: '${ vars.b + 1 }'
  b: 1
  c: '${ vars.b + input.n }'
  d: '${ steps.s.output }'
steps:
  - id: s
    set: {x: 1}
`)
	requireDiags(t, diags, []string{
		"v.yaml:4:10: `vars.b` is not set yet here",
		"v.yaml:7:10: no step has run when initial values are computed",
	})
}

// References into a call's output are checked against the action's output
// schema where it is closed; open parts (a response body) are not.
func TestTypedOutputReferences(t *testing.T) {
	t.Parallel()
	reg := &Registry{}
	require.NoError(t, reg.Register(Action{Name: "crm.lookup",
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {
		  "lead": {"type": "object", "additionalProperties": false, "properties": {"email": {}, "score": {}}},
		  "raw": {}}}`)}))
	_, diags := Compile("t.yaml", []byte(`switchboard: v1
name: t
steps:
  - id: look
    call: crm.lookup
  - set:
      a: '${ steps.look.output.lead.scor }'
      b: '${ steps.look.output.raw.any.thing }'
      c: '${ steps.look.output.led }'
      d: '${ steps.look.output.lead.email }'
`), Options{Registry: reg})
	requireDiags(t, diags, []string{
		"t.yaml:7:37: `crm.lookup` output has no field `scor`; it has `email`, `score`; did you mean `score`?",
		"t.yaml:9:32: `crm.lookup` output has no field `led`",
	})
}

// Fields after steps.<id>.error are an error's fields.
func TestStepErrorFields(t *testing.T) {
	t.Parallel()
	_, diags := compileSrc(t, "e.yaml", `switchboard: v1
name: e
steps:
  - id: a
    set: {x: 1}
  - set: {z: '${ steps.a.error.typ }', ok: '${ steps.a.error.type }'}
`)
	requireDiags(t, diags, []string{"e.yaml:6:32: unknown field `steps.a.error.typ`; an error has"})
}
