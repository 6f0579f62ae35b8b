package dsl

// set: assign variables.
//
//   - set: {score: '${ vars.score + 10 }', stage: qualified}
//
// Output: the map that was assigned. Assignments see the values from before
// the step (they are evaluated first, then assigned together).
func init() {
	registerStepKind(&stepKind{
		Name:    "set",
		Summary: "Assign variables (`vars.<name>`); values may be expressions.",
		Output:  "the map that was assigned",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"set": map[string]any{
				"type": "object", "minProperties": 1,
				"propertyNames":        map[string]any{"pattern": varName.String()},
				"description":          "Variables to assign; values may be expressions.",
				"additionalProperties": true,
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("set")
			if v.Kind != MapNode {
				c.r.at(v.Pos, "`set` takes a map of variable names to values, not %s", v.describe())
				return
			}
			if len(v.Keys) == 0 {
				c.r.at(v.Pos, "`set` needs at least one variable")
				return
			}
			for i, k := range v.Keys {
				if !varName.MatchString(k.Str) {
					c.r.at(k.Pos, "bad variable name `%s`: use letters, digits and `_`", k.Str)
					continue
				}
				c.setVar(k.Str, k.Pos)
				st.Set = append(st.Set, Assign{Name: k.Str, Value: c.value(v.Vals[i], sc)})
			}
		},
	})
}
