package dsl

import "fmt"

// parallel: run branches at the same time.
//
//   - parallel:
//     mode: all          # or any: the first branch to finish wins, the others are cancelled
//     branches:
//   - [ {call: crm.update, with: {...}} ]
//   - [ {call: slack.post, with: {...}} ]
//
// Output: `all` → list of branch outputs in branch order; `any` →
// `{branch: i, output: ...}` of the first branch to finish (i from 0).
// A failing branch fails the step and cancels the others.
func init() {
	registerStepKind(&stepKind{
		Name:    "parallel",
		Summary: "Run branches concurrently; `mode: all` waits for every branch, `any` for the first.",
		Output:  "`all`: list of branch outputs in branch order; `any`: `{branch, output}` of the winner",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"parallel": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"branches"},
				"properties": map[string]any{
					"branches": map[string]any{"type": "array", "minItems": 1, "items": d.blockRef("One branch.")},
					"mode":     map[string]any{"enum": []string{"all", "any"}, "default": "all"},
				},
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("parallel")
			if !c.kindMap(v, "parallel", []string{"branches", "mode"}) {
				return
			}
			st.Parallel = &ParallelStep{Mode: "all"}
			if m := v.Get("mode"); m != nil {
				s := c.str(m, "mode")
				if s != "all" && s != "any" {
					c.r.at(m.Pos, "`mode` is `all` or `any`, not `%s`", scalarText(m))
				} else {
					st.Parallel.Mode = s
				}
			}
			b := c.required(v, "branches", "parallel")
			if b == nil {
				return
			}
			if b.Kind != ListNode || len(b.Items) == 0 {
				c.r.at(b.Pos, "`branches` is a non-empty list of step lists")
				return
			}
			for i, br := range b.Items {
				st.Parallel.Branches = append(st.Parallel.Branches, c.block(br, fmt.Sprintf("%s.parallel.branches[%d]", st.Path, i), sc))
			}
		},
	})
}
