package dsl

import (
	"fmt"
	"maps"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Options configure Compile. The zero value compiles with an empty action
// registry and no child-workflow checks.
type Options struct {
	// Registry declares the actions `call` steps may use.
	Registry *Registry
	// Workflows, when set, reports whether a child workflow name exists;
	// unknown names become diagnostics.
	Workflows func(name string) bool
}

var (
	workflowName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)
	stepID       = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_]*$`)
	varName      = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
	signalName   = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.:-]{0,127}$`)
	errorType    = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.]*$`)
)

// reserved names that cannot be used for loop or catch variables.
var reservedNames = map[string]bool{"input": true, "vars": true, "steps": true, "run": true, "now": true,
	"signal": true, "true": true, "false": true, "null": true, "in": true, "as": true}

// commonKeys may appear on every step.
var commonKeys = []string{"id", "name", "if", "retry", "timeout"}

// topKeys are the keys of a workflow file.
var topKeys = []string{"switchboard", "name", "title", "description", "input", "vars", "steps", "output",
	"triggers", "concurrency", "exitWhen", "onFailure", "timeout", "ui"}

// Compile parses and compiles one workflow file. It returns the plan, or
// every problem found as Diagnostics.
func Compile(file string, src []byte, opts Options) (*Plan, Diagnostics) {
	root, diags := Parse(file, src)
	if root == nil {
		return nil, diags
	}
	c := newCompiler(file, opts)
	c.src = normalizeNewlines(src)
	c.r.diags = append(c.r.diags, diags...)
	p := c.workflow(root)
	c.finish()
	if len(c.r.diags) > 0 {
		return nil, c.r.diags.sorted()
	}
	p.computeHash()
	return p, nil
}

type idInfo struct {
	pos    Pos
	loops  []string // paths of enclosing foreach steps
	kind   string
	action string // for call steps: the action, whose output schema types steps.<id>.output
}

type compiler struct {
	r     *reporter
	opts  Options
	ids   map[string]*idInfo
	vars  map[string]Pos // variable name -> first place it is set
	exprs []*exprCheck
	// signals used by waitFor and exitWhen, with a position each.
	signals   map[string]Pos
	approvals map[string]Pos
	plan      *Plan
	// outputs caches action output schemas (typed steps.<id>.output refs)
	outputs map[string]map[string]any
	// triggerPos remembers where each webhook trigger is, for late checks.
	triggerPos map[*WebhookTrigger]Pos
	// eventSignalPos is the same for signalling event triggers.
	eventSignalPos map[*EventTrigger]Pos
	// src is the source, to map expression offsets to positions, and
	// lineStarts indexes its lines (computed when first needed).
	src        []byte
	lineStarts []int
	strPos     map[*Node][]Pos        // strPositions of string nodes, by node
	checked    map[string]checkedExpr // compiled expressions, by environment and source
	// localNames says where the loop and catch variables declared in the
	// file exist, for hints when they are used elsewhere.
	localNames map[string]string
}

func newCompiler(file string, opts Options) *compiler {
	return &compiler{
		r:         &reporter{file: file},
		opts:      opts,
		ids:       map[string]*idInfo{},
		vars:      map[string]Pos{},
		signals:   map[string]Pos{},
		approvals: map[string]Pos{},
	}
}

// scope is what is visible at a point of the file.
type scope struct {
	locals map[string]string // local variable -> kind
	loops  []string          // enclosing foreach paths
	// trigger is set for trigger expressions, which run before a run exists.
	trigger bool
	// cleanup names the block when compiling onFailure or compensate, where
	// the run's outcome is already decided.
	cleanup string
	// startOnly is set for expressions computed before a run starts from
	// its input alone (the concurrency key).
	startOnly bool
	// varsSoFar, when set, is the variables defined above an initial
	// value in `vars:` (the only ones it can use).
	varsSoFar map[string]bool
}

func (s scope) with(name, kind string) scope {
	l := make(map[string]string, len(s.locals)+1)
	for k, v := range s.locals {
		l[k] = v
	}
	l[name] = kind
	s.locals = l
	return s
}

func (s scope) inLoop(path string) scope {
	s.loops = append(append([]string(nil), s.loops...), path)
	return s
}

func (c *compiler) workflow(root *Node) *Plan {
	p := &Plan{Version: "v1"}
	c.plan = p
	if root.Kind != MapNode {
		c.r.at(root.Pos, "a workflow file is a map starting with `switchboard: v1`, not %s", root.describe())
		return p
	}
	c.unknownKeys(root, topKeys, "at the top level of a workflow")
	if v := root.Get("switchboard"); v == nil {
		c.r.at(root.Pos, "missing `switchboard: v1` (the DSL version)")
	} else if v.Kind != StringNode || v.Str != "v1" {
		c.r.at(v.Pos, "unsupported DSL version `%s`; this compiler reads `switchboard: v1`", scalarText(v))
	}
	if v := root.Get("name"); v == nil {
		c.r.at(root.Pos, "missing `name`; give the workflow a name like `lead-nurture`")
	} else if v.Kind != StringNode || !workflowName.MatchString(v.Str) {
		c.r.at(v.Pos, "bad workflow name `%s`: use lower-case letters, digits and dashes, starting with a letter (at most 63)", scalarText(v))
	} else {
		p.Name = v.Str
	}
	p.Title = c.str(root.Get("title"), "title")
	p.Description = c.str(root.Get("description"), "description")
	if v := root.Get("input"); v != nil {
		p.Input = c.schemaDoc(v, "input schema")
	}
	sc := scope{}
	if v := root.Get("vars"); v != nil {
		if v.Kind != MapNode {
			c.r.at(v.Pos, "`vars` is a map of variable names to initial values, not %s", v.describe())
		} else {
			defined := map[string]bool{}
			for i, k := range v.Keys {
				if !varName.MatchString(k.Str) {
					c.r.at(k.Pos, "bad variable name `%s`: use letters, digits and `_`", k.Str)
					continue
				}
				c.setVar(k.Str, k.Pos)
				// initial values see the input and the variables above them
				vsc := sc
				vsc.varsSoFar = maps.Clone(defined)
				p.Vars = append(p.Vars, Assign{Name: k.Str, Value: c.value(v.Vals[i], vsc)})
				defined[k.Str] = true
			}
		}
	}
	if v := root.Get("steps"); v == nil {
		c.r.at(root.Pos, "missing `steps`; a workflow needs at least one step")
	} else {
		p.Steps = c.block(v, "steps", sc)
	}
	if v := root.Get("output"); v != nil {
		p.Output = c.value(v, sc)
	}
	if v := root.Get("concurrency"); v != nil {
		p.Concurrency = c.concurrency(v, sc)
	}
	if v := root.Get("exitWhen"); v != nil {
		p.ExitWhen = c.exitWhen(v, sc)
	}
	if v := root.Get("onFailure"); v != nil {
		fsc := sc.with("error", localError)
		fsc.cleanup = "onFailure"
		p.OnFailure = c.block(v, "onFailure", fsc)
	}
	if v := root.Get("timeout"); v != nil {
		p.Timeout = c.duration(v)
	}
	if v := root.Get("triggers"); v != nil {
		p.Triggers = c.triggers(v)
	}
	if v := root.Get("ui"); v != nil && v.Kind != MapNode {
		c.r.at(v.Pos, "`ui` holds the builder's layout as a map, not %s", v.describe())
	}
	return p
}

// finish runs the checks that need the whole file: expressions and signals.
func (c *compiler) finish() {
	for _, e := range c.exprs {
		c.checkExpr(e)
	}
	for name := range c.signals {
		c.plan.Signals = append(c.plan.Signals, name)
	}
	sort.Strings(c.plan.Signals)
	for name, pos := range c.approvals {
		if _, clash := c.signals[name]; clash {
			c.r.at(pos, "approval id `%s` is also a signal name; decisions may arrive as a signal of the approval's id, so pick another id", name)
		}
		c.plan.Approvals = append(c.plan.Approvals, name)
	}
	sort.Strings(c.plan.Approvals)
	unknown := func(name string, pos Pos) {
		if _, ok := c.signals[name]; !ok {
			c.r.at(pos, "unknown signal `%s`: no `waitFor` or `exitWhen` in this workflow listens for it%s", name, suggest(name, keys(c.signals)))
		}
	}
	for _, t := range c.plan.Triggers {
		if t.Webhook != nil && t.Webhook.Signal != "" {
			unknown(t.Webhook.Signal, c.triggerPos[t.Webhook])
		}
		if t.Event != nil && t.Event.Signal != "" {
			unknown(t.Event.Signal, c.eventSignalPos[t.Event])
		}
	}
}

func keys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

func scalarText(n *Node) string {
	if n == nil {
		return ""
	}
	switch n.Kind {
	case StringNode:
		return n.Str
	case IntNode:
		return fmt.Sprint(n.Int)
	case FloatNode:
		return fmt.Sprint(n.Float)
	case BoolNode:
		return fmt.Sprint(n.Bool)
	case NullNode:
		return "null"
	}
	return n.describe()
}

// unknownKeys reports keys of a map that are not in allowed.
func (c *compiler) unknownKeys(n *Node, allowed []string, where string) {
	for _, k := range n.Keys {
		if !contains(allowed, k.Str) {
			c.r.at(k.Pos, "unknown key `%s` %s%s", k.Str, where, suggest(k.Str, allowed))
		}
	}
}

func contains(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func (c *compiler) str(n *Node, what string) string {
	if n == nil {
		return ""
	}
	if n.Kind != StringNode {
		c.r.at(n.Pos, "`%s` must be a string, not %s", what, n.describe())
		return ""
	}
	return n.Str
}

func (c *compiler) boolean(n *Node, what string) bool {
	if n.Kind != BoolNode {
		c.r.at(n.Pos, "`%s` must be true or false, not %s", what, n.describe())
		return false
	}
	return n.Bool
}

func (c *compiler) mapNode(n *Node, what string) bool {
	if n.Kind != MapNode {
		c.r.at(n.Pos, "%s must be a map, not %s", what, n.describe())
		return false
	}
	return true
}

func (c *compiler) intNode(n *Node, what string, min int) int {
	if n == nil {
		return 0
	}
	if n.Kind != IntNode {
		c.r.at(n.Pos, "`%s` must be an integer, not %s", what, n.describe())
		return 0
	}
	if n.Int < int64(min) || n.Int > 1_000_000_000 {
		c.r.at(n.Pos, "`%s` must be at least %d (and at most 1000000000), not %d", what, min, n.Int)
		return 0
	}
	return int(n.Int)
}

func (c *compiler) duration(n *Node) Duration {
	if n.Kind == IntNode || n.Kind == FloatNode {
		c.r.at(n.Pos, "a duration needs a unit: write `%ss` for seconds", scalarText(n))
		return 0
	}
	if n.Kind != StringNode {
		c.r.at(n.Pos, "a duration is a string like `15m` or `P3D`, not %s", n.describe())
		return 0
	}
	d, err := ParseDuration(n.Str)
	if err != nil {
		c.r.at(n.Pos, "%v", err)
		return 0
	}
	return Duration(d)
}

// noteLocal records where a loop or catch variable exists, for hints.
func (c *compiler) noteLocal(name, where string) {
	if c.localNames == nil {
		c.localNames = map[string]string{}
	}
	if _, ok := c.localNames[name]; !ok {
		c.localNames[name] = where
	}
}

func (c *compiler) setVar(name string, pos Pos) {
	if _, ok := c.vars[name]; !ok {
		c.vars[name] = pos
	}
}

// schemaDoc checks that a node is a JSON Schema and returns it as JSON.
func (c *compiler) schemaDoc(n *Node, what string) []byte {
	if n.Kind != MapNode && n.Kind != BoolNode {
		c.r.at(n.Pos, "the %s must be a JSON Schema (a map), not %s", what, n.describe())
		return nil
	}
	b, err := MarshalJSON(n.Value())
	if err != nil {
		c.r.at(n.Pos, "the %s cannot be written as JSON: %v", what, err)
		return nil
	}
	if _, err := CompileSchema(b); err != nil {
		c.r.at(n.Pos, "the %s is not a valid JSON Schema: %s", what, oneLine(err.Error()))
		return nil
	}
	return b
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", "; ")
	return strings.Join(strings.Fields(s), " ")
}

// block compiles a list of steps.
func (c *compiler) block(n *Node, path string, sc scope) []*Step {
	if n.Kind != ListNode {
		c.r.at(n.Pos, "`%s` must be a list of steps, not %s", lastSegment(path), n.describe())
		return nil
	}
	if len(n.Items) == 0 {
		c.r.at(n.Pos, "empty block: `%s` needs at least one step", lastSegment(path))
		return nil
	}
	out := make([]*Step, 0, len(n.Items))
	var ender *Step
	for i, item := range n.Items {
		if ender != nil {
			c.r.at(item.Pos, "unreachable step: the `%s` step at line %d always ends this block", ender.Kind, ender.Pos.Line)
			ender = nil // report once per block
		}
		st := c.step(item, fmt.Sprintf("%s[%d]", path, i), sc)
		if st == nil {
			continue
		}
		if (st.Kind == "fail" || st.Kind == "return") && st.If == "" {
			ender = st
		}
		out = append(out, st)
	}
	return out
}

func lastSegment(path string) string {
	path = strings.TrimRight(path, "]0123456789[")
	if i := strings.LastIndexAny(path, ".]"); i >= 0 {
		return path[i+1:]
	}
	return path
}

// step compiles one step map.
func (c *compiler) step(n *Node, path string, sc scope) *Step {
	if n.Kind != MapNode {
		c.r.at(n.Pos, "a step is a map with one kind key such as `call:` or `set:`, not %s", n.describe())
		return nil
	}
	var kinds []*Node
	hasWorkflow := n.Get("workflow") != nil
	for _, k := range n.Keys {
		if _, ok := stepKinds[k.Str]; ok {
			if k.Str == "wait" && hasWorkflow {
				continue // `wait:` is an option of the workflow step
			}
			kinds = append(kinds, k)
		}
	}
	if len(kinds) == 0 {
		for _, k := range n.Keys {
			if !contains(commonKeys, k.Str) && !isOptionKey(k.Str) {
				c.r.at(k.Pos, "unknown step kind `%s`%s", k.Str, suggestKind(k.Str))
				c.stepID(n, sc, "") // still claims its id: no cascade of errors, duplicates found
				return nil
			}
		}
		c.r.at(n.Pos, "step has no kind; give it one of %s", quoteList(kindNames()))
		c.stepID(n, sc, "")
		return nil
	}
	if len(kinds) > 1 {
		c.r.at(kinds[1].Pos, "step has several kinds (`%s` and `%s`); a step has exactly one", kinds[0].Str, kinds[1].Str)
		c.stepID(n, sc, "")
		return nil
	}
	kind := stepKinds[kinds[0].Str]
	st := &Step{Path: path, Kind: kind.Name, Pos: n.Pos}
	allowed := append(append([]string{kind.Name}, commonKeys...), kind.Keys...)
	if kind.Name == "workflow" {
		allowed = append(allowed, "wait")
	}
	c.unknownKeys(n, allowed, fmt.Sprintf("in a `%s` step", kind.Name))
	st.ID = c.stepID(n, sc, kind.Name)
	st.Name = c.str(n.Get("name"), "name")
	if v := n.Get("if"); v != nil {
		st.If = c.cond(v, sc, "if")
	}
	if v := n.Get("retry"); v != nil {
		st.Retry = c.retry(v)
		if kind.Name != "call" {
			c.r.at(v.Pos, "`retry` applies to `call` steps; a `%s` step is not retried", kind.Name)
		}
	}
	if v := n.Get("timeout"); v != nil {
		st.Timeout = c.duration(v)
	}
	if kind.Name == "return" && sc.cleanup != "" {
		c.r.at(n.Pos, "`return` cannot be used in `%s`: the run's outcome is already decided there", sc.cleanup)
	}
	kind.Compile(c, n, st, sc)
	return st
}

// stepID checks and registers a step's `id`, returning it ("" if none or bad).
func (c *compiler) stepID(n *Node, sc scope, kind string) string {
	v := n.Get("id")
	if v == nil {
		return ""
	}
	switch prev, dup := c.ids[v.Str]; {
	case v.Kind != StringNode || !stepID.MatchString(v.Str):
		c.r.at(v.Pos, "bad step id `%s`: start with a letter, then letters, digits or `_`", scalarText(v))
	case dup:
		c.r.at(v.Pos, "duplicate step id `%s` (first at line %d)", v.Str, prev.pos.Line)
	case reservedNames[v.Str]:
		c.r.at(v.Pos, "step id `%s` is a reserved name", v.Str)
	default:
		c.ids[v.Str] = &idInfo{pos: v.Pos, loops: sc.loops, kind: kind}
		return v.Str
	}
	return ""
}

func isOptionKey(k string) bool {
	for _, kind := range stepKinds {
		if contains(kind.Keys, k) {
			return true
		}
	}
	return false
}

// kindSynonyms maps words people reach for (from other workflow tools) to
// our step kinds, for "did you mean" hints.
var kindSynonyms = map[string]string{
	"sleep": "wait", "delay": "wait", "pause": "wait", "timer": "wait",
	"if": "switch", "case": "switch", "choice": "switch", "branch": "switch", "when": "switch",
	"loop": "foreach", "for": "foreach", "each": "foreach", "map": "foreach", "forEach": "foreach",
	"do": "while", "repeat": "while", "until": "while",
	"signal": "waitFor", "await": "waitFor", "receive": "waitFor", "listen": "waitFor",
	"approve": "approval", "human": "approval", "task": "approval", "review": "approval",
	"throw": "fail", "raise": "fail", "error": "fail", "abort": "fail",
	"assign": "set", "let": "set", "var": "set", "variables": "set",
	"invoke": "call", "action": "call", "run": "call", "activity": "call", "http": "call", "uses": "call",
	"subworkflow": "workflow", "child": "workflow", "flow": "workflow",
	"group": "steps", "sequence": "steps", "block": "steps",
	"fork": "parallel", "concurrent": "parallel", "all": "parallel",
	"catch": "try", "finally": "try", "attempt": "try",
	"end": "return", "exit": "return", "output": "return", "result": "return",
}

func suggestKind(word string) string {
	if s := suggest(word, kindNames()); s != "" {
		return s
	}
	lw := strings.ToLower(word)
	best := ""
	for syn, kind := range kindSynonyms {
		ls := strings.ToLower(syn)
		if lw == ls || (len(ls) >= 4 && strings.HasPrefix(lw, ls)) || (len(ls) >= 5 && editDistance(lw, ls) <= 1) {
			if best == "" || kind < best {
				best = kind
			}
		}
	}
	if best != "" {
		return fmt.Sprintf("; did you mean `%s`?", best)
	}
	return "; step kinds are " + quoteList(kindNames())
}

func (c *compiler) retry(n *Node) *RetryPolicy {
	if !c.mapNode(n, "`retry`") {
		return nil
	}
	c.unknownKeys(n, []string{"maxAttempts", "initialInterval", "backoff", "maxInterval", "nonRetryable"}, "in `retry`")
	rp := &RetryPolicy{}
	rp.MaxAttempts = c.intNode(n.Get("maxAttempts"), "maxAttempts", 1)
	if v := n.Get("initialInterval"); v != nil {
		rp.InitialInterval = c.duration(v)
	}
	if v := n.Get("maxInterval"); v != nil {
		rp.MaxInterval = c.duration(v)
	}
	if v := n.Get("backoff"); v != nil {
		switch v.Kind {
		case IntNode:
			rp.Backoff = float64(v.Int)
		case FloatNode:
			rp.Backoff = v.Float
		default:
			c.r.at(v.Pos, "`backoff` is a number (the multiplier, e.g. 2), not %s", v.describe())
		}
		if (v.Kind == IntNode || v.Kind == FloatNode) && (rp.Backoff < 1 || rp.Backoff > 100) {
			c.r.at(v.Pos, "`backoff` must be between 1 and 100")
		}
	}
	if rp.InitialInterval > 0 && rp.MaxInterval > 0 && rp.MaxInterval < rp.InitialInterval {
		c.r.at(n.Get("maxInterval").Pos, "`maxInterval` is shorter than `initialInterval`")
	}
	if v := n.Get("nonRetryable"); v != nil {
		rp.NonRetryable = c.errorTypes(v, "nonRetryable")
	}
	return rp
}

func (c *compiler) errorTypes(n *Node, what string) []string {
	if n.Kind != ListNode {
		c.r.at(n.Pos, "`%s` is a list of error types, not %s", what, n.describe())
		return nil
	}
	var out []string
	for _, it := range n.Items {
		if it.Kind != StringNode || !errorType.MatchString(it.Str) {
			c.r.at(it.Pos, "bad error type `%s`: use a name like `HTTPError`", scalarText(it))
			continue
		}
		out = append(out, it.Str)
	}
	return out
}

func (c *compiler) signalName(n *Node) string {
	if n == nil {
		return ""
	}
	if n.Kind != StringNode || !signalName.MatchString(n.Str) {
		c.r.at(n.Pos, "bad signal name `%s`: start with a letter, then letters, digits, `.`, `_`, `:` or `-`", scalarText(n))
		return ""
	}
	return n.Str
}

func (c *compiler) concurrency(n *Node, sc scope) *Concurrency {
	if !c.mapNode(n, "`concurrency`") {
		return nil
	}
	c.unknownKeys(n, []string{"key", "onConflict"}, "in `concurrency`")
	cc := &Concurrency{OnConflict: "skip"}
	if v := n.Get("key"); v == nil {
		c.r.at(n.Pos, "`concurrency` needs a `key` expression, e.g. `${ input.customerId }`")
	} else {
		ksc := scope{locals: map[string]string{}, startOnly: true}
		if v.Kind == StringNode && hasExpr(v.Str) && !isWholeExpr(v.Str) {
			// an interpolated key ("org-${ input.org }-${ input.id }") becomes
			// one CEL concatenation
			parts, _, _ := splitTemplate(v.Str)
			var terms []string
			for _, p := range parts {
				if p.Expr == "" {
					terms = append(terms, strconv.Quote(p.Text))
					continue
				}
				c.queue(p.Expr, v, p.Off, ksc, "", "key")
				terms = append(terms, "string("+p.Expr+")")
			}
			cc.Key = strings.Join(terms, " + ")
		} else {
			cc.Key = c.exprOnly(v, ksc, "key")
		}
	}
	if v := n.Get("onConflict"); v != nil {
		s := c.str(v, "onConflict")
		if s != "" && !contains([]string{"skip", "replace", "queue"}, s) {
			c.r.at(v.Pos, "`onConflict` is one of `skip`, `replace`, `queue`, not `%s`%s", s, suggest(s, []string{"skip", "replace", "queue"}))
		} else if s != "" {
			cc.OnConflict = s
		}
	}
	return cc
}

func (c *compiler) exitWhen(n *Node, sc scope) []ExitCond {
	if n.Kind != ListNode {
		c.r.at(n.Pos, "`exitWhen` is a list of goals like `- signal: meeting.booked`, not %s", n.describe())
		return nil
	}
	var out []ExitCond
	for _, it := range n.Items {
		if !c.mapNode(it, "an `exitWhen` entry") {
			continue
		}
		c.unknownKeys(it, []string{"signal", "when"}, "in an `exitWhen` entry")
		e := ExitCond{}
		if v := it.Get("signal"); v == nil {
			c.r.at(it.Pos, "an `exitWhen` entry needs `signal: NAME`")
			continue
		} else if e.Signal = c.signalName(v); e.Signal != "" {
			if _, seen := c.signals[e.Signal]; !seen {
				c.signals[e.Signal] = v.Pos
			}
		}
		if v := it.Get("when"); v != nil {
			e.When = c.cond(v, sc.with("signal", localDyn), "when")
		}
		out = append(out, e)
	}
	return out
}
