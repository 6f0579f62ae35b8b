package dsl

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/santhosh-tekuri/jsonschema/v6"
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
		if info := c.ids[st.ID]; info != nil && st.ID != "" {
			info.action = a.Name
		}
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
			before := len(c.r.diags)
			c.checkArgs(target, schema, a.Name, "")
			// Fully literal arguments are also checked by the real validator,
			// so nothing that would fail at run time (patterns, bounds,
			// combinators) passes the compiler.
			if len(c.r.diags) == before && (st.Call.With == nil || st.Call.With.Lit != nil) {
				var args any = map[string]any{}
				if with != nil {
					args = with.Value()
				}
				c.validateLiteralArgs(target, a.Name, args)
			}
		}
	}
	if comp := n.Get("compensate"); comp != nil {
		csc := sc
		csc.cleanup = "compensate"
		st.Call.Compensate = c.block(comp, st.Path+".compensate", csc)
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
	c.checkBounds(n, schema, action, name)
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

// validateLiteralArgs validates literal arguments with the action's input
// schema and reports each failure at the argument it is about.
func (c *compiler) validateLiteralArgs(n *Node, action string, args any) {
	err := c.opts.Registry.ValidateInput(action, args)
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return
	}
	// group messages by argument; a combinator's own "failed" line is
	// dropped when its branches say why
	var order []string
	msgs := map[string][]string{}
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		loc, msg := u.InstanceLocation, u.Error.String()
		if _, ok := msgs[loc]; !ok {
			order = append(order, loc)
		}
		if !contains(msgs[loc], msg) {
			msgs[loc] = append(msgs[loc], msg)
		}
	}
	for _, loc := range order {
		var kept []string
		for _, m := range msgs[loc] {
			if strings.HasSuffix(m, "' failed") && len(msgs[loc]) > 1 {
				continue
			}
			kept = append(kept, m)
		}
		at, path := nodeAt(n, loc)
		what := "the arguments"
		if path != "" {
			what = "argument `" + path + "`"
		}
		c.r.at(at.Pos, "%s of `%s`: %s", what, action, strings.Join(kept, "; or "))
	}
}

// nodeAt follows a JSON pointer from n as far as the tree goes.
func nodeAt(n *Node, pointer string) (*Node, string) {
	path := ""
	if pointer == "" || pointer == "/" {
		return n, path
	}
	for _, tok := range strings.Split(strings.TrimPrefix(pointer, "/"), "/") {
		tok = strings.ReplaceAll(strings.ReplaceAll(tok, "~1", "/"), "~0", "~")
		var next *Node
		switch n.Kind {
		case MapNode:
			next = n.Get(tok)
			path = join(path, tok)
		case ListNode:
			if i, err := strconv.Atoi(tok); err == nil && i >= 0 && i < len(n.Items) {
				next = n.Items[i]
				path = fmt.Sprintf("%s[%d]", path, i)
			}
		}
		if next == nil {
			return n, path
		}
		n = next
	}
	return n, path
}

// checkBounds checks a literal scalar against pattern, length and numeric
// bounds (expressions are left to run time).
func (c *compiler) checkBounds(n *Node, schema map[string]any, action, name string) {
	num := func(k string) (float64, bool) {
		f, ok := schema[k].(float64)
		return f, ok
	}
	switch n.Kind {
	case StringNode:
		if hasExpr(n.Str) {
			return
		}
		if p, ok := schema["pattern"].(string); ok {
			if re, err := regexp.Compile(p); err == nil && !re.MatchString(n.Str) {
				c.r.at(n.Pos, "%s of `%s` does not match the pattern `%s`: `%s`", name, action, p, n.Str)
			}
		}
		if m, ok := num("minLength"); ok && float64(len([]rune(n.Str))) < m {
			c.r.at(n.Pos, "%s of `%s` must be at least %v characters long", name, action, m)
		}
		if m, ok := num("maxLength"); ok && float64(len([]rune(n.Str))) > m {
			c.r.at(n.Pos, "%s of `%s` must be at most %v characters long", name, action, m)
		}
	case IntNode, FloatNode:
		v := n.Float
		if n.Kind == IntNode {
			v = float64(n.Int)
		}
		if m, ok := num("minimum"); ok && v < m {
			c.r.at(n.Pos, "%s of `%s` must be at least %v", name, action, m)
		}
		if m, ok := num("maximum"); ok && v > m {
			c.r.at(n.Pos, "%s of `%s` must be at most %v", name, action, m)
		}
	}
}
