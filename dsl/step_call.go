package dsl

import (
	"encoding/json"
	"fmt"
)

// call: invoke a registered action (an activity).
//
//   - id: fetch
//     call: http.request
//     with: {method: GET, url: "https://api.example.com/leads/${ input.id }"}
//     compensate: [{call: http.request, with: {...}}]
//
// Output: the action's result. `with` is checked against the action's input
// schema at compile time (required, unknown and literal-typed arguments).
// `compensate` runs, in reverse order with the other compensations, when
// the run later fails unhandled (saga).
func init() {
	registerStepKind(&stepKind{
		Name:    "call",
		Summary: "Invoke an action (an activity) with arguments; retried by its retry policy.",
		Output:  "the action's result",
		Keys:    []string{"with", "compensate"},
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{
				"call":       d.actionNames(),
				"with":       map[string]any{"description": "Arguments for the action, checked against its input schema."},
				"compensate": d.blockRef("Steps run to undo this call when the run later fails (saga)."),
			}
		},
		Compile: compileCall,
	})
}

func compileCall(c *compiler, n *Node, st *Step, sc scope) {
	an := n.Get("call")
	if an.Kind != StringNode {
		c.r.at(an.Pos, "`call` names an action such as `http.request`, not %s", an.describe())
		return
	}
	st.Call = &CallStep{Action: an.Str, Activity: an.Str}
	a, ok := c.opts.Registry.Lookup(an.Str)
	if !ok {
		c.r.at(an.Pos, "unknown action `%s`%s", an.Str, suggestAction(an.Str, c.opts.Registry.Names()))
	} else {
		st.Call.Activity = a.ActivityName()
		st.Call.Timeout = Duration(a.AttemptTimeout())
	}
	with := n.Get("with")
	if with != nil {
		if with.Kind != MapNode && !(with.Kind == StringNode && isWholeExpr(with.Str)) {
			c.r.at(with.Pos, "`with` is a map of arguments (or one `${ }` expression giving a map), not %s", with.describe())
		} else {
			st.Call.With = c.value(with, sc)
		}
	}
	if a != nil {
		var schema map[string]any
		if err := json.Unmarshal(a.Input, &schema); err == nil {
			target := with
			if target == nil {
				target = &Node{Kind: MapNode, Pos: an.Pos}
			}
			c.checkArgs(target, schema, a.Name, "")
		}
	}
	if comp := n.Get("compensate"); comp != nil {
		st.Call.Compensate = c.block(comp, st.Path+".compensate", sc)
	}
}

func suggestAction(name string, known []string) string {
	if s := suggest(name, known); s != "" {
		return s
	}
	if len(known) == 0 {
		return "; no actions are registered"
	}
	return "; known actions: " + quoteList(known)
}

func isWholeExpr(s string) bool {
	_, whole, err := splitTemplate(s)
	return err == nil && whole
}

// checkArgs checks an argument node against a JSON Schema as far as it can
// be known at compile time: values that are expressions are checked at run
// time instead.
func (c *compiler) checkArgs(n *Node, schema map[string]any, action, path string) {
	if n.Kind == StringNode && isWholeExpr(n.Str) {
		return
	}
	name := path
	if name == "" {
		name = "the arguments"
	} else {
		name = "argument `" + name + "`"
	}
	if t := schemaTypes(schema); len(t) > 0 && !typeMatches(n, t) {
		c.r.at(n.Pos, "%s of `%s` must be %s, not %s", name, action, joinOr(t), n.describe())
		return
	}
	if enum, ok := schema["enum"].([]any); ok && n.Kind != MapNode && n.Kind != ListNode && !(n.Kind == StringNode && hasExpr(n.Str)) {
		found := false
		var opts []string
		for _, e := range enum {
			opts = append(opts, fmt.Sprint(e))
			if fmt.Sprint(e) == scalarText(n) {
				found = true
			}
		}
		if !found {
			c.r.at(n.Pos, "%s of `%s` must be one of %s, not `%s`%s", name, action, quoteList(opts), scalarText(n), suggest(scalarText(n), opts))
		}
	}
	switch n.Kind {
	case MapNode:
		props, _ := schema["properties"].(map[string]any)
		if req, ok := schema["required"].([]any); ok {
			for _, r := range req {
				if k, ok := r.(string); ok && n.Get(k) == nil {
					c.r.at(n.Pos, "missing required argument `%s` for `%s`", join(path, k), action)
				}
			}
		}
		closed := schema["additionalProperties"] == false
		for i, k := range n.Keys {
			ps, ok := props[k.Str].(map[string]any)
			if !ok {
				if closed {
					c.r.at(k.Pos, "unknown argument `%s` for `%s`%s", join(path, k.Str), action, suggest(k.Str, keys(props)))
				} else if ap, ok := schema["additionalProperties"].(map[string]any); ok {
					c.checkArgs(n.Vals[i], ap, action, join(path, k.Str))
				}
				continue
			}
			c.checkArgs(n.Vals[i], ps, action, join(path, k.Str))
		}
	case ListNode:
		if items, ok := schema["items"].(map[string]any); ok {
			for i, it := range n.Items {
				c.checkArgs(it, items, action, fmt.Sprintf("%s[%d]", path, i))
			}
		}
	}
}

func hasExpr(s string) bool {
	parts, _, err := splitTemplate(s)
	if err != nil {
		return false
	}
	for _, p := range parts {
		if p.Expr != "" {
			return true
		}
	}
	return false
}

func join(path, k string) string {
	if path == "" {
		return k
	}
	return path + "." + k
}

func schemaTypes(s map[string]any) []string {
	switch t := s["type"].(type) {
	case string:
		return []string{t}
	case []any:
		var out []string
		for _, x := range t {
			if xs, ok := x.(string); ok {
				out = append(out, xs)
			}
		}
		return out
	}
	return nil
}

func typeMatches(n *Node, types []string) bool {
	for _, t := range types {
		switch t {
		case "string":
			if n.Kind == StringNode {
				return true
			}
		case "integer":
			if n.Kind == IntNode {
				return true
			}
		case "number":
			if n.Kind == IntNode || n.Kind == FloatNode {
				return true
			}
		case "boolean":
			if n.Kind == BoolNode {
				return true
			}
		case "object":
			if n.Kind == MapNode {
				return true
			}
		case "array":
			if n.Kind == ListNode {
				return true
			}
		case "null":
			if n.Kind == NullNode {
				return true
			}
		}
	}
	// A string with ${ } inside might produce anything only when it is a whole expression (handled by the caller).
	return false
}

func joinOr(ts []string) string {
	if len(ts) == 1 {
		return article(ts[0])
	}
	out := ""
	for i, t := range ts {
		if i > 0 {
			out += " or "
		}
		out += article(t)
	}
	return out
}

func article(t string) string {
	switch t {
	case "object":
		return "a map"
	case "array":
		return "a list"
	case "integer":
		return "an integer"
	case "null":
		return "null"
	}
	return "a " + t
}
