package dsl

// return: end the run successfully now, with this output.
//
//   - if: input.dryRun
//     return: '${ {"skipped": true} }'
//
// `finally` blocks on the way out still run; compensation does not.
func init() {
	registerStepKind(&stepKind{
		Name:    "return",
		Summary: "End the run successfully now with this output.",
		Output:  "— (the run's output)",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"return": map[string]any{"description": "The run's output (a value or expression)."}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			st.Return = c.value(n.Get("return"), sc)
		},
	})
}
