package dsl

// foreach: run a block for each item of a list.
//
//   - id: notify
//     foreach:
//     in: ${ input.leads }
//     as: lead            # default: item; `index` counts from 0
//     concurrency: 10     # default 1
//     steps: [...]
//
// Output: the list of each iteration's block output, in input order,
// whatever the concurrency. Steps inside the body are local to their
// iteration: outside the loop, refer to the foreach step's output.
func init() {
	registerStepKind(&stepKind{
		Name:    "foreach",
		Summary: "Run a block for each item of a list, with bounded concurrency.",
		Output:  "list of the iterations' outputs, in input order",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"foreach": map[string]any{
				"type": "object", "additionalProperties": false, "required": []string{"in", "steps"},
				"properties": map[string]any{
					"in":          d.expr("The list to iterate over."),
					"as":          map[string]any{"type": "string", "default": "item", "pattern": varName.String()},
					"concurrency": map[string]any{"type": "integer", "minimum": 1, "maximum": MaxConcurrency, "default": 1},
					"steps":       d.blockRef("Steps run for each item."),
				},
			}}
		},
		Compile: func(c *compiler, n *Node, st *Step, sc scope) {
			v := n.Get("foreach")
			if !c.kindMap(v, "foreach", []string{"in", "as", "concurrency", "steps"}) {
				return
			}
			st.Foreach = &ForeachStep{As: "item", Concurrency: 1}
			if in := c.required(v, "in", "foreach"); in != nil {
				switch in.Kind {
				case ListNode:
					st.Foreach.Items = c.value(in, sc)
				case StringNode:
					st.Foreach.In = c.typedExpr(in, sc, "foreach.in", "list")
				default:
					c.r.at(in.Pos, "`foreach.in` is a list, or an expression giving one, not %s", in.describe())
				}
			}
			if as := v.Get("as"); as != nil {
				name := c.str(as, "as")
				switch {
				case name == "":
				case !varName.MatchString(name):
					c.r.at(as.Pos, "bad loop variable name `%s`", name)
				case reservedNames[name] || name == "index":
					c.r.at(as.Pos, "`%s` is a reserved name; pick another loop variable name", name)
				default:
					st.Foreach.As = name
				}
			}
			if cc := v.Get("concurrency"); cc != nil {
				if k := c.intNode(cc, "concurrency", 1); k > MaxConcurrency {
					c.r.at(cc.Pos, "`concurrency` is at most %d", MaxConcurrency)
				} else if k > 0 {
					st.Foreach.Concurrency = k
				}
			}
			if b := c.required(v, "steps", "foreach"); b != nil {
				inner := sc.with(st.Foreach.As, localDyn).with("index", localInt).inLoop(st.Path)
				c.noteLocal(st.Foreach.As, "inside its `foreach`")
				st.Foreach.Steps = c.block(b, st.Path+".foreach.steps", inner)
			}
		},
	})
}

// MaxConcurrency bounds foreach concurrency.
const MaxConcurrency = 1000
