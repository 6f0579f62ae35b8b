package dsl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"sort"
	"strings"
	"unicode/utf8"

	"cel.dev/cel-go/cel"
	celast "cel.dev/cel-go/common/ast"
	"cel.dev/cel-go/common/types"
)

// exprCheck is an expression waiting to be checked once the whole file is
// known (so that steps and variables defined later can be referred to).
type exprCheck struct {
	src  string
	pos  Pos // position of the first character of src
	sc   scope
	want string // "", "bool", "list", "timestamp"
	what string // for messages: "if", "foreach.in"
	// posAt maps a byte offset of src to its position in the file.
	posAt func(off int) Pos
}

// queue registers an expression found at node n, whose source starts at
// byte offset off of the node's string.
func (c *compiler) queue(src string, n *Node, off int, sc scope, want, what string) {
	posAt := c.strPosAt(n, off)
	c.exprs = append(c.exprs, &exprCheck{src: src, pos: posAt(0), sc: sc, want: want, what: what, posAt: posAt})
}

// strPosAt returns a function mapping byte offsets of an expression that
// starts at byte off of string node n to positions in the file.
func (c *compiler) strPosAt(n *Node, off int) func(int) Pos {
	if c.lineStarts == nil {
		c.lineStarts = lineStarts(c.src)
	}
	ps, ok := c.strPos[n]
	if !ok {
		ps = strPositions(c.src, c.lineStarts, n)
		if c.strPos == nil {
			c.strPos = map[*Node][]Pos{}
		}
		c.strPos[n] = ps // a string holding several expressions is decoded once
	}
	if ps != nil {
		return func(o int) Pos { return ps[max(0, min(off+o, len(ps)-1))] }
	}
	// Unknown form: count columns from the node's start on its first line.
	return func(o int) Pos {
		pos := n.Pos
		if n.Quoted {
			pos.Col++
		}
		if end := min(off+o, len(n.Str)); !strings.Contains(n.Str[:end], "\n") {
			pos.Col += utf8.RuneCountInString(n.Str[:end]) + max(0, off+o-len(n.Str))
		}
		return pos
	}
}

// value compiles a value that may hold expressions anywhere inside.
func (c *compiler) value(n *Node, sc scope) *Value {
	switch n.Kind {
	case StringNode:
		parts, whole, err := splitTemplate(n.Str)
		if err != nil {
			hint := ""
			if !n.Quoted && strings.Contains(err.Error(), "no closing") {
				hint = "; YAML reads ` #` as the start of a comment: quote an expression containing `#`"
			}
			c.r.at(n.Pos, "%v%s", err, hint)
			return LiteralValue(n.Str)
		}
		if whole {
			p := parts[len(parts)-1]
			c.queue(p.Expr, n, p.Off, sc, "", "")
			return &Value{Expr: p.Expr}
		}
		hasExpr := false
		for _, p := range parts {
			if p.Expr != "" {
				hasExpr = true
				c.queue(p.Expr, n, p.Off, sc, "", "")
			}
		}
		if !hasExpr {
			return LiteralValue(n.Str)
		}
		return &Value{Tmpl: parts}
	case MapNode:
		m := make(map[string]*Value, len(n.Keys))
		lit := true
		for i, k := range n.Keys {
			if strings.Contains(k.Str, "${") {
				c.r.at(k.Pos, "map keys cannot hold expressions; build the map with an expression instead, e.g. '${ {vars.key: 1} }'")
			}
			v := c.value(n.Vals[i], sc)
			m[k.Str] = v
			lit = lit && v.Lit != nil
		}
		if lit {
			return LiteralValue(n.Value())
		}
		return &Value{Map: m}
	case ListNode:
		l := make([]*Value, len(n.Items))
		lit := true
		for i, it := range n.Items {
			l[i] = c.value(it, sc)
			lit = lit && l[i].Lit != nil
		}
		if lit {
			return LiteralValue(n.Value())
		}
		return &Value{List: l}
	}
	return LiteralValue(n.Value())
}

// cond compiles a condition (CEL with or without ${ }).
func (c *compiler) cond(n *Node, sc scope, what string) string {
	if n.Kind == BoolNode {
		if n.Bool {
			return "true"
		}
		return "false"
	}
	if n.Kind != StringNode {
		c.r.at(n.Pos, "`%s` is a condition (a CEL expression), not %s", what, n.describe())
		return ""
	}
	src, off, err := condSource(n.Str)
	if err != nil {
		c.r.at(n.Pos, "`%s`: %v", what, err)
		return ""
	}
	c.queue(src, n, off, sc, "bool", what)
	return src
}

// exprOnly compiles a value that must be a single expression (`${ ... }`),
// such as `foreach.in`. Bare CEL is accepted too.
func (c *compiler) exprOnly(n *Node, sc scope, what string) string {
	return c.typedExpr(n, sc, what, "")
}

func (c *compiler) typedExpr(n *Node, sc scope, what, want string) string {
	if n.Kind != StringNode {
		// a literal: turn it into CEL source
		b, err := MarshalJSON(n.Value())
		if err != nil {
			c.r.at(n.Pos, "`%s`: %v", what, err)
			return ""
		}
		src := string(b)
		c.queue(src, &Node{Pos: n.Pos}, 0, sc, want, what)
		return src
	}
	src, off, err := condSource(n.Str)
	if err != nil {
		c.r.at(n.Pos, "`%s`: %v", what, err)
		return ""
	}
	c.queue(src, n, off, sc, want, what)
	return src
}

var celLocPrefix = regexp.MustCompile(`^ERROR: <input>:\d+:\d+: `)

// checkExpr compiles and type-checks one expression and checks its
// references to steps and variables.
func (c *compiler) checkExpr(e *exprCheck) {
	env, key, err := envFor(e.sc.locals)
	if err != nil {
		c.r.at(e.pos, "internal error building the expression environment: %v", err)
		return
	}
	if len(e.src) > maxExprLen {
		c.r.at(e.start(), "expression is %d bytes; the limit is %d", len(e.src), maxExprLen)
		return
	}
	// The same expression in the same scope is compiled once per file.
	ck := string(key) + "\x00" + e.src
	r, ok := c.checked[ck]
	if !ok {
		r.ast, r.iss = compileGuarded(env, e.src)
		if c.checked == nil {
			c.checked = map[string]checkedExpr{}
		}
		c.checked[ck] = r
	}
	a, iss := r.ast, r.iss
	if iss != nil && iss.Err() != nil {
		seen := map[string]bool{}
		for _, ce := range iss.Errors() {
			off := e.offset(ce.Location.Line(), ce.Location.Column())
			msg := c.celMessage(ce.Message, e.sc, e.src[off:])
			if seen[msg] {
				continue
			}
			seen[msg] = true
			// CEL places errors about a call at its `(`: point at the name.
			if strings.HasPrefix(e.src[off:], "(") {
				name := strings.TrimRight(e.src[:off], " \t")
				if i := strings.LastIndexFunc(name, func(r rune) bool { return !isIdentRune(r) }); i+1 < len(name) {
					off = i + 1
				}
			}
			c.r.at(e.posAt(off), "%s", msg)
		}
		// A type error does not hide a bad reference in the same
		// expression: check references on the parsed (untyped) form.
		if parsed, piss := env.Parse(e.src); (piss == nil || piss.Err() == nil) && parsed != nil {
			c.checkRefs(parsed.NativeRep(), e)
		}
		return
	}
	if a == nil {
		c.r.at(e.start(), "expression error: cannot compile `%s`", strings.TrimSpace(e.src))
		return
	}
	out := a.OutputType()
	switch e.want {
	case "bool":
		if !out.IsAssignableType(cel.BoolType) && out != cel.DynType {
			c.r.at(e.start(), "`%s` must be a boolean condition, but `%s` is of type %s", e.what, strings.TrimSpace(e.src), out)
		}
	case "list":
		if out.Kind() != types.ListKind && out != cel.DynType {
			c.r.at(e.start(), "`%s` must be a list, but `%s` is of type %s", e.what, strings.TrimSpace(e.src), out)
		}
	case "timestamp":
		if out != cel.TimestampType && out != cel.StringType && out != cel.DynType {
			c.r.at(e.start(), "`%s` must be a timestamp (or RFC 3339 string), but `%s` is of type %s", e.what, strings.TrimSpace(e.src), out)
		}
	}
	c.checkRefs(a.NativeRep(), e)
}

type checkedExpr struct {
	ast *cel.Ast
	iss *cel.Issues
}

func compileGuarded(env *cel.Env, src string) (a *cel.Ast, iss *cel.Issues) {
	defer func() {
		if p := recover(); p != nil {
			a = nil
			iss = nil
		}
	}()
	return env.Compile(src)
}

// at maps a CEL location (1-based line, 0-based column in code points) to the file.
func (e *exprCheck) at(line, col int) Pos {
	return e.posAt(e.offset(line, col))
}

// offset maps a CEL location to a byte offset of the source.
func (e *exprCheck) offset(line, col int) int {
	off := 0
	for l := 1; l < line; l++ {
		i := strings.IndexByte(e.src[off:], '\n')
		if i < 0 {
			break
		}
		off += i + 1
	}
	for ; col > 0 && off < len(e.src) && e.src[off] != '\n'; col-- {
		_, size := utf8.DecodeRuneInString(e.src[off:])
		off += size
	}
	return off
}

func isIdentRune(r rune) bool {
	return r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')
}

// start is the position of the expression's first non-blank character.
func (e *exprCheck) start() Pos {
	return e.posAt(len(e.src) - len(strings.TrimLeft(e.src, " \t\r\n")))
}

var undeclared = regexp.MustCompile(`undeclared reference to '([^']+)'`)

// localHomes says where variables that are not global exist, for hints.
var localHomes = map[string]string{
	"item":   "inside a `foreach` (its default `as` name)",
	"index":  "inside a `foreach`",
	"error":  "inside a `catch` block (its default `as` name) and in `onFailure`",
	"signal": "in the `when` of `waitFor` and `exitWhen`",
	"body":   "in webhook triggers",
	"event":  "in event triggers",
}

// celMessage rewrites a CEL error; rest is the source from the error's location on.
func (c *compiler) celMessage(msg string, sc scope, rest string) string {
	msg = celLocPrefix.ReplaceAllString(msg, "")
	if m := undeclared.FindStringSubmatch(msg); m != nil {
		if strings.HasPrefix(strings.TrimSpace(rest), "(") {
			return fmt.Sprintf("unknown function `%s`", m[1])
		}
		inScope := append([]string{}, globalVars...)
		inScope = append(inScope, keys(sc.locals)...)
		home := localHomes[m[1]]
		if h, ok := c.localNames[m[1]]; ok {
			home = h
		}
		if home != "" {
			return fmt.Sprintf("unknown variable `%s`: `%s` exists only %s; in scope here: %s", m[1], m[1], home, quoteList(inScope))
		}
		return fmt.Sprintf("unknown variable `%s`%s; in scope here: %s", m[1], suggest(m[1], inScope), quoteList(inScope))
	}
	msg = strings.ReplaceAll(msg, " (in container '')", "")
	return "expression error: " + msg
}

// checkRefs finds steps.X and vars.X (and steps["X"]) and checks X.
func (c *compiler) checkRefs(a *celast.AST, e *exprCheck) {
	info := a.SourceInfo()
	locOf := func(id int64) Pos {
		l := info.GetStartLocation(id)
		return e.at(l.Line(), l.Column())
	}
	celast.PreOrderVisit(celast.NavigateAST(a), celast.NewExprVisitor(func(x celast.Expr) {
		var root, field string
		var id int64
		switch x.Kind() {
		case celast.SelectKind:
			s := x.AsSelect()
			if s.Operand().Kind() == celast.SelectKind {
				c.checkResultField(s, e, locOf)
				c.checkOutputField(x, e, locOf)
				return
			}
			if s.Operand().Kind() != celast.IdentKind {
				return
			}
			if name := s.Operand().AsIdent(); e.sc.locals[name] == localError {
				if !contains(errorFields, s.FieldName()) {
					c.r.at(locOf(x.ID()), "unknown field `%s.%s`; an error has %s%s", name, s.FieldName(), quoteList(errorFields), suggest(s.FieldName(), errorFields))
				}
				return
			}
			root, field, id = s.Operand().AsIdent(), s.FieldName(), s.Operand().ID()
		case celast.CallKind:
			call := x.AsCall()
			if call.FunctionName() != "_[_]" || len(call.Args()) != 2 {
				return
			}
			if call.Args()[0].Kind() != celast.IdentKind || call.Args()[1].Kind() != celast.LiteralKind {
				return
			}
			s, ok := call.Args()[1].AsLiteral().(types.String)
			if !ok {
				return
			}
			root, field, id = call.Args()[0].AsIdent(), string(s), call.Args()[0].ID()
		case celast.IdentKind:
			name := x.AsIdent()
			if _, local := e.sc.locals[name]; !local && e.sc.trigger && contains(globalVars, name) {
				c.r.at(locOf(x.ID()), "`%s` does not exist in a trigger: the run has not started; use %s", name, quoteList(keys(e.sc.locals)))
			}
			if e.sc.startOnly && name != "input" && contains(globalVars, name) {
				c.r.at(locOf(x.ID()), "`%s` does not exist yet: the key is computed from `input` before the run starts", name)
			}
			return
		default:
			return
		}
		if _, local := e.sc.locals[root]; local {
			return
		}
		if e.sc.trigger {
			return // the identifier itself is reported
		}
		switch root {
		case "steps":
			if e.sc.varsSoFar != nil {
				c.r.at(locOf(id), "no step has run when initial values are computed; set the variable with a `set` step after `%s`", field)
				return
			}
			info, ok := c.ids[field]
			if !ok {
				c.r.at(locOf(id), "unknown step `%s` in `steps.%s`%s", field, field, suggest(field, keys(c.ids)))
				return
			}
			if !isPrefix(info.loops, e.sc.loops) {
				c.r.at(locOf(id), "step `%s` runs inside a `foreach` and is not visible here; use the foreach step's output (a list of its iterations' outputs)", field)
			}
		case "vars":
			if e.sc.varsSoFar != nil && !e.sc.varsSoFar[field] {
				c.r.at(locOf(id), "`vars.%s` is not set yet here: initial values are computed in order, from `input` and the variables above", field)
				return
			}
			if _, ok := c.vars[field]; !ok {
				c.r.at(locOf(id), "variable `%s` is never set; set it in `vars:` or with a `set` step%s", field, suggest(field, keys(c.vars)))
			}
		case "run":
			known := []string{"id", "workflow", "revision", "startedAt"}
			if !contains(known, field) {
				c.r.at(locOf(id), "unknown field `run.%s`; `run` has %s%s", field, quoteList(known), suggest(field, known))
			}
		}
	}))
}

// isPrefix reports whether loops a enclose the place with loops b.
func isPrefix(a, b []string) bool {
	if len(a) > len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func kindNames() []string {
	names := make([]string, 0, len(stepKinds))
	for n := range stepKinds {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Fields of a step result (steps.<id>.*) and of an error value.
var (
	resultFields = []string{"output", "status", "error"}
	errorFields  = []string{"type", "message", "step", "details"}
)

// checkResultField checks the field after steps.<id>: output, status or error.
func (c *compiler) checkResultField(s celast.SelectExpr, e *exprCheck, locOf func(int64) Pos) {
	inner := s.Operand().AsSelect()
	if inner.Operand().Kind() != celast.IdentKind || inner.Operand().AsIdent() != "steps" {
		return
	}
	if _, local := e.sc.locals["steps"]; local {
		return
	}
	if _, known := c.ids[inner.FieldName()]; !known {
		return // reported on steps.<id> itself
	}
	if !contains(resultFields, s.FieldName()) {
		c.r.at(locOf(s.Operand().ID()), "unknown field `steps.%s.%s`; a step result has %s%s",
			inner.FieldName(), s.FieldName(), quoteList(resultFields), suggest(s.FieldName(), resultFields))
	}
}

// checkOutputField checks steps.<id>.output.<path> against the output
// schema of the call's action, as far as the schema is closed (an object
// with `additionalProperties: false`).
func (c *compiler) checkOutputField(x celast.Expr, e *exprCheck, locOf func(int64) Pos) {
	// unwind the select chain: fields from the outermost inwards
	var fields []string
	cur := x
	for cur.Kind() == celast.SelectKind {
		fields = append(fields, cur.AsSelect().FieldName())
		cur = cur.AsSelect().Operand()
	}
	if cur.Kind() != celast.IdentKind || cur.AsIdent() != "steps" || len(fields) < 3 {
		return
	}
	if _, local := e.sc.locals["steps"]; local {
		return
	}
	slices.Reverse(fields) // id, "output", f1, f2, ...
	if fields[1] == "error" && len(fields) == 3 && c.ids[fields[0]] != nil && !contains(errorFields, fields[2]) {
		at := locOf(x.ID())
		at.Col++
		c.r.at(at, "unknown field `steps.%s.error.%s`; an error has %s%s", fields[0], fields[2], quoteList(errorFields), suggest(fields[2], errorFields))
		return
	}
	if fields[1] != "output" {
		return
	}
	info := c.ids[fields[0]]
	if info == nil || info.action == "" {
		return
	}
	schema := c.outputSchema(info.action)
	path := fields[2:]
	for i, f := range path {
		props, _ := schema["properties"].(map[string]any)
		if schema["additionalProperties"] != false || props == nil {
			return // open: anything may be there
		}
		next, ok := props[f].(map[string]any)
		if !ok {
			if i == len(path)-1 { // report once, at the select that names it
				at := locOf(x.ID()) // the `.` before the field
				at.Col++
				c.r.at(at, "`%s` output has no field `%s`; it has %s%s", info.action, f, quoteList(keys(props)), suggest(f, keys(props)))
			}
			return
		}
		schema = next
	}
}

// outputSchema returns an action's output schema as a map (cached per file).
func (c *compiler) outputSchema(action string) map[string]any {
	if s, ok := c.outputs[action]; ok {
		return s
	}
	var s map[string]any
	if a, ok := c.opts.Registry.Lookup(action); ok {
		_ = json.Unmarshal(a.Output, &s)
	}
	if c.outputs == nil {
		c.outputs = map[string]map[string]any{}
	}
	c.outputs[action] = s
	return s
}
