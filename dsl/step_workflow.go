package dsl

// workflow: run another workflow as a child.
//
//   - id: contract
//     workflow: quote-to-contract
//     with: {quoteId: '${ steps.quote.output.id }'}
//     wait: true          # default; false starts it and moves on
//     revision: 3         # default: the latest deployed revision
//
// Output: the child's output, or {runId} when `wait: false`. A failed
// child fails this step with the child's error type.
func init() {
	registerStepKind(&stepKind{
		Name:    "workflow",
		Summary: "Run another workflow as a child (the latest deployed revision, or `revision: N`).",
		Output:  "the child's output (`{runId}` when `wait: false`)",
		Keys:    []string{"with", "revision"},
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{
				"workflow": map[string]any{"type": "string", "pattern": workflowName.String()},
				"with":     map[string]any{"description": "The child's input."},
				"wait":     map[string]any{"type": "boolean", "default": true},
				"revision": map[string]any{"type": "integer", "minimum": 1},
			}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("workflow")
			st.Workflow = &ChildStep{Wait: true}
			if v.Kind != StringNode || !workflowName.MatchString(v.Str) {
				c.r.at(v.Pos, "`workflow` names a workflow like `quote-to-contract`, not `%s`", scalarText(v))
			} else {
				st.Workflow.Workflow = v.Str
				if c.opts.Workflows != nil && !c.opts.Workflows(v.Str) {
					c.r.at(v.Pos, "unknown workflow `%s`", v.Str)
				}
			}
			if w := n.Get("with"); w != nil {
				st.Workflow.With = c.value(w, sc)
			}
			if w := n.Get("wait"); w != nil {
				if w.Kind != BoolNode {
					c.r.at(w.Pos, "`wait` is true or false, not %s", w.describe())
				} else {
					st.Workflow.Wait = w.Bool
				}
			}
			if r := n.Get("revision"); r != nil {
				st.Workflow.Revision = c.intNode(r, "revision", 1)
			}
		},
	})
}
