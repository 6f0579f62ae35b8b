package dsl

// steps: a named group of steps.
//
//   - id: enrich
//     name: Enrich the lead
//     steps: [...]
//
// Output: the group's output (its last executed step's).
func init() {
	registerStepKind(&stepKind{
		Name:    "steps",
		Summary: "A named group of steps.",
		Output:  "the group's output",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"steps": d.blockRef("The grouped steps.")}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			st.Group = c.block(n.Get("steps"), st.Path+".steps", sc)
		},
	})
}
