package dsl

// while: repeat a block while a condition holds (checked before each iteration).
//
//   - while:
//     condition: vars.page < 10
//     maxIterations: 100    # default 1000; going over fails with LoopLimitExceeded
//     steps: [...]
//
// Output: the last iteration's output (null if none ran). Body steps write
// the enclosing scope, so after the loop `steps.<id>` is the last iteration's.
// Long loops continue-as-new transparently between iterations.
func init() {
	registerStepKind(&stepKind{
		Name:    "while",
		Summary: "Repeat a block while a condition holds, at most `maxIterations` times.",
		Output:  "the last iteration's output",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"while": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"condition", "steps"},
				"properties": map[string]any{
					"condition":     d.cond("Checked before each iteration."),
					"maxIterations": map[string]any{"type": "integer", "minimum": 1, "default": DefaultMaxIterations},
					"steps":         d.blockRef("Loop body."),
				},
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("while")
			if !c.kindMap(v, "while", []string{"condition", "steps", "maxIterations"}) {
				return
			}
			st.While = &WhileStep{MaxIterations: DefaultMaxIterations}
			if cond := c.required(v, "condition", "while"); cond != nil {
				st.While.Condition = c.cond(cond, sc, "condition")
			}
			if m := v.Get("maxIterations"); m != nil {
				if k := c.intNode(m, "maxIterations", 1); k > 0 {
					st.While.MaxIterations = k
				}
			}
			if b := c.required(v, "steps", "while"); b != nil {
				st.While.Steps = c.block(b, st.Path+".while.steps", sc)
			}
		},
	})
}

// DefaultMaxIterations bounds a while loop without maxIterations.
const DefaultMaxIterations = 1000
