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
