package dsl

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// gen500 generates a 500-step workflow mixing set, call, switch and foreach
// steps (counting the steps nested inside switch cases and loops), with
// expressions everywhere.
func gen500() string {
	var b strings.Builder
	b.WriteString(`switchboard: v1
name: big
input:
  type: object
  properties:
    items: {type: array}
    n: {type: integer}
vars:
  total: 0
  label: "start"
steps:
`)
	steps := 0
	for i := 0; steps < 500; i++ {
		switch i % 4 {
		case 0:
			fmt.Fprintf(&b, `  - id: set%d
    set:
      total: ${ vars.total + input.n * %d }
      label: "step %d of ${ vars.label } at ${ string(now) }"
      v%d: '${ {"i": %d, "items": input.items.map(x, x.size())} }'
`, i, i, i, i, i)
			steps++
		case 1:
			fmt.Fprintf(&b, `  - id: call%d
    if: ${ vars.total > %d && size(input.items) > 0 }
    call: http.request
    with:
      method: POST
      url: "https://api.example.com/items/${ vars.total }/%d"
      headers: {X-Step: "%d", X-Label: '${ vars.label }'}
      body: '${ {"total": vars.total, "prev": steps.set%d.output} }'
    retry: {maxAttempts: 3, initialInterval: 1s}
`, i, i, i, i, i-1)
			steps++
		case 2:
			fmt.Fprintf(&b, `  - id: switch%d
    switch:
      cases:
        - when: ${ steps.call%d.output.status == 200 }
          steps:
            - set: {ok%d: true, total: '${ vars.total + 1 }'}
        - when: vars.total > 100.5
          steps:
            - set: {big%d: '${ vars.total / 2 }'}
      default:
        - set: {none%d: '${ null }'}
`, i, i-1, i, i, i)
			steps += 4
		case 3:
			fmt.Fprintf(&b, `  - id: loop%d
    foreach:
      in: ${ input.items.filter(x, x != "") }
      as: item
      concurrency: 4
      steps:
        - set: {last%d: '${ item + ":" + string(index) }'}
        - call: http.request
          with: {url: "https://api.example.com/${ item }", method: GET}
`, i, i)
			steps += 3
		}
	}
	b.WriteString("output: '${ {\"total\": vars.total, \"label\": vars.label} }'\n")
	return b.String()
}

func TestGen500Compiles(t *testing.T) {
	t.Parallel()
	p := mustCompile(t, "big.yaml", gen500())
	n := 0
	p.Walk(func(*Step) { n++ })
	require.GreaterOrEqual(t, n, 500)
	require.Less(t, n, 510)
}

// BenchmarkCompile500 compiles a 500-step definition. The target is under
// 50 ms per compile.
func BenchmarkCompile500(b *testing.B) {
	src := []byte(gen500())
	reg := testRegistry(b)
	b.SetBytes(int64(len(src)))
	b.ReportAllocs()
	for b.Loop() {
		if _, diags := Compile("big.yaml", src, Options{Registry: reg}); diags != nil {
			b.Fatal(diags)
		}
	}
}
