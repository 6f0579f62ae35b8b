package dsl

// fail: fail with an error of your own type.
//
//   - fail: {type: CreditCheckFailed, message: "score ${ vars.score } too low", details: ${ vars }}
//
// The error can be caught by `try`/`catch` by its type; unhandled, it
// fails the run (after compensation and onFailure).
func init() {
	registerStepKind(&stepKind{
		Name:    "fail",
		Summary: "Fail with an error of a given type, message and details.",
		Output:  "— (fails)",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"fail": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"type"},
				"properties": map[string]any{
					"type":    map[string]any{"type": "string", "pattern": errorType.String()},
					"message": map[string]any{"type": "string"},
					"details": map[string]any{},
				},
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("fail")
			if !c.kindMap(v, "fail", []string{"type", "message", "details"}) {
				return
			}
			st.Fail = &FailStep{}
			if t := c.required(v, "type", "fail"); t != nil {
				if t.Kind != StringNode || !errorType.MatchString(t.Str) {
					c.r.at(t.Pos, "bad error type `%s`: use a name like `CreditCheckFailed`", scalarText(t))
				} else {
					st.Fail.Type = t.Str
				}
			}
			if m := v.Get("message"); m != nil {
				st.Fail.Message = c.value(m, sc)
			}
			if d := v.Get("details"); d != nil {
				st.Fail.Details = c.value(d, sc)
			}
		},
	})
}
