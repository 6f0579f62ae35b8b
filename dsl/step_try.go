package dsl

import "fmt"

// try: handle failures of a block.
//
//   - try:
//   - call: stripe.charge
//     catch:
//   - errors: [CardDeclined]     # omitted: catches any error
//     as: err                     # default: error ({type, message, step, details})
//     steps: [...]
//     finally:
//   - call: slack.post
//
// Output: the try block's output, or the catch block's. A failure caught
// here runs no compensation. `finally` always runs; its output is ignored.
func init() {
	registerStepKind(&stepKind{
		Name:    "try",
		Summary: "Run a block; on failure run the first matching `catch`; always run `finally`.",
		Output:  "the try block's output, or the catch block's",
		Keys:    []string{"catch", "finally"},
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{
				"try": d.blockRef("Steps whose failures are handled."),
				"catch": map[string]any{"type": "array", "items": map[string]any{
					"type": "object", "additionalProperties": false, "required": []string{"steps"},
					"properties": map[string]any{
						"errors": map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
						"as":     map[string]any{"type": "string", "default": "error"},
						"steps":  d.blockRef("Handler steps."),
					},
				}},
				"finally": d.blockRef("Steps that always run."),
			}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			st.Try = &TryStep{}
			st.Try.Steps = c.block(n.Get("try"), st.Path+".try", sc)
			catch, fin := n.Get("catch"), n.Get("finally")
			if catch == nil && fin == nil {
				c.r.at(n.Pos, "`try` needs a `catch` or a `finally`")
			}
			if catch != nil {
				if catch.Kind != ListNode || len(catch.Items) == 0 {
					c.r.at(catch.Pos, "`catch` is a non-empty list of `{errors, as, steps}`")
				} else {
					catchAll := 0
					for i, cn := range catch.Items {
						if catchAll > 0 {
							c.r.at(cn.Pos, "unreachable catch: the catch at line %d catches every error", catchAll)
							catchAll = -1
						}
						if !c.kindMap(cn, "a catch", []string{"errors", "as", "steps"}) {
							continue
						}
						cb := CatchBlock{As: "error"}
						if e := cn.Get("errors"); e != nil {
							cb.Errors = c.errorTypes(e, "errors")
						} else if catchAll == 0 {
							catchAll = cn.Pos.Line
						}
						if as := cn.Get("as"); as != nil {
							name := c.str(as, "as")
							if name != "" && (!varName.MatchString(name) || (reservedNames[name])) {
								c.r.at(as.Pos, "`%s` cannot be used as the error variable", name)
							} else if name != "" {
								cb.As = name
							}
						}
						if b := c.required(cn, "steps", "a catch"); b != nil {
							if cb.As != "error" {
								c.noteLocal(cb.As, "inside its `catch` block")
							}
							cb.Steps = c.block(b, fmt.Sprintf("%s.catch[%d].steps", st.Path, i), sc.with(cb.As, localError))
						}
						st.Try.Catch = append(st.Try.Catch, cb)
					}
				}
			}
			if fin != nil {
				st.Try.Finally = c.block(fin, st.Path+".finally", sc)
			}
		},
	})
}
