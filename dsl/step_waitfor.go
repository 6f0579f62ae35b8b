package dsl

// waitFor: wait for a named signal sent to this run.
//
//   - id: paid
//     waitFor: {signal: payment.succeeded, timeout: 7d, when: signal.amount >= input.total}
//
// Output: {timedOut: false, payload: ...} or {timedOut: true}. Signals that
// arrive before the step is reached are buffered, never dropped; `when`
// (with the payload as `signal`) picks the first matching one, leaving the
// others buffered for later steps.
func init() {
	registerStepKind(&stepKind{
		Name:    "waitFor",
		Summary: "Wait for a named signal to this run, optionally filtered, with a timeout.",
		Output:  "`{timedOut: false, payload}` or `{timedOut: true}`",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"waitFor": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"signal"},
				"properties": map[string]any{
					"signal":  map[string]any{"type": "string", "pattern": signalName.String()},
					"timeout": d.duration(),
					"when":    d.cond("Filter on the payload, available as `signal`."),
				},
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("waitFor")
			if v.Kind == StringNode {
				v = &Node{Kind: MapNode, Pos: v.Pos, Keys: []*Node{{Kind: StringNode, Str: "signal", Pos: v.Pos}}, Vals: []*Node{v}}
			}
			if !c.kindMap(v, "waitFor", []string{"signal", "timeout", "when"}) {
				return
			}
			st.WaitFor = &WaitForStep{}
			if s := c.required(v, "signal", "waitFor"); s != nil {
				st.WaitFor.Signal = c.signalName(s)
				if _, seen := c.signals[st.WaitFor.Signal]; !seen && st.WaitFor.Signal != "" {
					c.signals[st.WaitFor.Signal] = s.Pos
				}
			}
			if t := v.Get("timeout"); t != nil {
				st.WaitFor.Timeout = c.duration(t)
			}
			if w := v.Get("when"); w != nil {
				st.WaitFor.When = c.cond(w, sc.with("signal", localDyn), "when")
			}
		},
	})
}
