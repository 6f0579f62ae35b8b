package dsl

import "fmt"

// switch: run the first case whose `when` is true, else `default`.
//
//   - switch:
//     cases:
//   - when: input.score > 80
//     steps: [...]
//     default: [...]
//
// Output: the chosen block's output, or null when none ran.
func init() {
	registerStepKind(&stepKind{
		Name:    "switch",
		Summary: "Run the first case whose `when` holds, else `default`.",
		Output:  "the chosen block's output (null if none ran)",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"switch": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"cases"},
				"properties": map[string]any{
					"cases": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{
						"type": "object", "additionalProperties": false, "required": []string{"when", "steps"},
						"properties": map[string]any{
							"when":  d.cond("Condition for this case."),
							"steps": d.blockRef("Steps of this case."),
						},
					}},
					"default": d.blockRef("Steps run when no case matches."),
				},
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("switch")
			if !c.kindMap(v, "switch", []string{"cases", "default"}) {
				return
			}
			st.Switch = &SwitchStep{}
			cases := c.required(v, "cases", "switch")
			if cases != nil {
				if cases.Kind != ListNode || len(cases.Items) == 0 {
					c.r.at(cases.Pos, "`cases` is a non-empty list of `{when, steps}`")
				} else {
					always := -1
					for i, cn := range cases.Items {
						if always >= 0 {
							c.r.at(cn.Pos, "unreachable case: the case at line %d always matches", always)
							always = -2
						}
						if !c.kindMap(cn, "a switch case", []string{"when", "steps"}) {
							continue
						}
						sc2 := SwitchCase{}
						if w := c.required(cn, "when", "a switch case"); w != nil {
							sc2.When = c.cond(w, sc, "when")
							if sc2.When == "true" && always == -1 {
								always = w.Pos.Line
							}
						}
						if b := c.required(cn, "steps", "a switch case"); b != nil {
							sc2.Steps = c.block(b, fmt.Sprintf("%s.switch.cases[%d].steps", st.Path, i), sc)
						}
						st.Switch.Cases = append(st.Switch.Cases, sc2)
					}
				}
			}
			if d := v.Get("default"); d != nil {
				st.Switch.Default = c.block(d, st.Path+".switch.default", sc)
			}
		},
	})
}
