package dsl

import (
	"bytes"
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// NodeKind is the kind of a parsed value.
type NodeKind int

const (
	NullNode NodeKind = iota
	BoolNode
	IntNode
	FloatNode
	StringNode
	MapNode
	ListNode
)

func (k NodeKind) String() string {
	return [...]string{"null", "boolean", "integer", "number", "string", "map", "list"}[k]
}

// Node is a parsed YAML/JSON value with its source position. Map keys keep
// their order and positions.
type Node struct {
	Kind  NodeKind
	Pos   Pos
	Bool  bool
	Int   int64
	Float float64
	Str   string
	// Quoted is true for a quoted string scalar ('...' or "...").
	Quoted bool
	Keys   []*Node // MapNode: key nodes (StringNode), parallel to Vals
	Vals   []*Node
	Items  []*Node // ListNode
}

// Get returns the value of a map key, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != MapNode {
		return nil
	}
	for i, k := range n.Keys {
		if k.Str == key {
			return n.Vals[i]
		}
	}
	return nil
}

// KeyNode returns the key node of a map key, or nil.
func (n *Node) KeyNode(key string) *Node {
	if n == nil || n.Kind != MapNode {
		return nil
	}
	for _, k := range n.Keys {
		if k.Str == key {
			return k
		}
	}
	return nil
}

// Value converts the node to plain Go data: nil, bool, int64, float64,
// string, map[string]any, []any.
func (n *Node) Value() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case BoolNode:
		return n.Bool
	case IntNode:
		return n.Int
	case FloatNode:
		return n.Float
	case StringNode:
		return n.Str
	case MapNode:
		m := make(map[string]any, len(n.Keys))
		for i, k := range n.Keys {
			m[k.Str] = n.Vals[i].Value()
		}
		return m
	case ListNode:
		l := make([]any, len(n.Items))
		for i, it := range n.Items {
			l[i] = it.Value()
		}
		return l
	}
	return nil
}

// describe names a node's kind for messages ("a list", "a string").
func (n *Node) describe() string {
	if n == nil {
		return "nothing"
	}
	switch n.Kind {
	case NullNode:
		return "null"
	case IntNode, FloatNode:
		return "a number"
	case MapNode:
		return "a map"
	case ListNode:
		return "a list"
	case BoolNode:
		return "a boolean"
	}
	return "a string"
}

// Limits on what the parser accepts, so no input can make it hang or blow up.
const (
	maxSourceBytes = 4 << 20
	maxNodes       = 200_000
	maxDepth       = 200
)

// Parse reads one YAML or JSON document into a Node tree. Errors are
// returned as Diagnostics with positions.
func Parse(file string, src []byte) (*Node, Diagnostics) {
	r := &reporter{file: file}
	if len(src) > maxSourceBytes {
		r.at(Pos{1, 1}, "file is %d bytes; the limit is %d", len(src), maxSourceBytes)
		return nil, r.diags
	}
	// editors on Windows may start a UTF-8 file with a byte order mark
	src = bytes.TrimPrefix(normalizeNewlines(src), []byte("\xef\xbb\xbf"))
	f, err := parseYAML(src)
	var deep *tooDeepError
	if errors.As(err, &deep) {
		r.at(Pos{deep.tk.Position.Line, deep.tk.Position.Column}, "%v", err)
		return nil, r.diags
	}
	if err != nil {
		r.diags = append(r.diags, yamlDiagnostic(file, src, err))
		return nil, r.diags
	}
	var docs []ast.Node
	for _, d := range f.Docs {
		if d != nil && d.Body != nil {
			docs = append(docs, d.Body)
		}
	}
	if len(docs) == 0 {
		r.at(Pos{1, 1}, "file is empty; a workflow starts with `switchboard: v1`")
		return nil, r.diags
	}
	if len(docs) > 1 {
		p := posOf(docs[1])
		switch d := docs[1].(type) { // a map's token is its first `:`; point at its first key
		case *ast.MappingValueNode:
			p = posOf(d.Key)
		case *ast.MappingNode:
			if len(d.Values) > 0 {
				p = posOf(d.Values[0].Key)
			}
		}
		r.at(p, "file holds %d YAML documents; one file holds one workflow", len(docs))
	}
	c := &converter{r: r, anchors: map[string]*Node{}}
	root := c.convert(docs[0], 0)
	if len(r.diags) > 0 {
		return root, r.diags
	}
	return root, nil
}

// normalizeNewlines turns CRLF line ends into LF: the YAML library miscounts
// lines after a quoted string that spans CRLF lines.
func normalizeNewlines(src []byte) []byte {
	if !bytes.Contains(src, []byte("\r\n")) {
		return src
	}
	return bytes.ReplaceAll(src, []byte("\r\n"), []byte("\n"))
}

func parseYAML(src []byte) (f *ast.File, err error) {
	defer func() {
		// The YAML library must not take the process down on odd input.
		if p := recover(); p != nil {
			f, err = nil, fmt.Errorf("cannot parse this file as YAML: %v", p)
		}
	}()
	tokens := lexer.Tokenize(string(src))
	// The parser takes quadratic time (and memory) in the nesting depth, so
	// 100 KB of `[` would stall it: refuse deep nesting before parsing.
	if tk := tooDeep(tokens); tk != nil {
		return nil, &tooDeepError{tk: tk}
	}
	return parser.Parse(tokens, 0)
}

type tooDeepError struct{ tk *token.Token }

func (e *tooDeepError) Error() string {
	return fmt.Sprintf("values are nested more than %d deep", maxDepth)
}

// tooDeep returns the first token nested more than maxDepth deep, counting
// flow collections and the block entries that open on one line (`- - - x`);
// block nesting over several lines costs indentation, so the size limit
// bounds it. It returns nil when the nesting is fine.
func tooDeep(tokens token.Tokens) *token.Token {
	flow, line, onLine := 0, -1, 0
	for _, tk := range tokens {
		if tk.Position == nil {
			continue
		}
		if tk.Position.Line != line {
			line, onLine = tk.Position.Line, 0
		}
		switch tk.Type {
		case token.SequenceStartType, token.MappingStartType:
			flow++
		case token.SequenceEndType, token.MappingEndType:
			if flow > 0 {
				flow--
			}
		case token.SequenceEntryType, token.MappingValueType, token.MappingKeyType:
			if flow == 0 {
				onLine++
			}
		}
		if flow+onLine > maxDepth {
			return tk
		}
	}
	return nil
}

// yamlDiagnostic turns a parser error into a positioned diagnostic, with a
// hint when an unquoted expression is the likely cause.
func yamlDiagnostic(file string, src []byte, err error) Diagnostic {
	d := Diagnostic{File: file, Line: 1, Col: 1}
	var tk *token.Token
	var msg string
	var se interface {
		GetToken() *token.Token
		GetMessage() string
	}
	if errors.As(err, &se) {
		tk, msg = se.GetToken(), se.GetMessage()
	} else {
		msg = err.Error()
	}
	if tk != nil && tk.Position != nil {
		d.Line, d.Col = tk.Position.Line, tk.Position.Column
	}
	d.Message = "YAML syntax error: " + strings.TrimSpace(msg)
	// Look for an unquoted ${ on this line or the one before.
	lines := strings.Split(string(src), "\n")
	for l := d.Line; l >= d.Line-1 && l >= 1; l-- {
		if l > len(lines) {
			continue
		}
		text := lines[l-1]
		if i := strings.Index(text, "${"); i >= 0 && !quotedAt(text, i) {
			d.Line, d.Col = l, i+1
			d.Message += "; an expression containing `: `, `#` or a map literal must be quoted, e.g. '${ {\"total\": vars.total} }'"
			break
		}
	}
	return d
}

// quotedAt reports whether position i of a line sits inside quotes.
func quotedAt(line string, i int) bool {
	var q rune
	for _, c := range line[:i] {
		switch {
		case q == 0 && (c == '"' || c == '\''):
			q = c
		case q == c:
			q = 0
		}
	}
	return q != 0
}

type converter struct {
	r       *reporter
	anchors map[string]*Node
	count   int
	// anchorSize is the number of values under each anchor (aliases
	// included): each alias counts them again, so that a few aliases of
	// aliases cannot stand for billions of values (shared nodes are cheap to
	// hold, but compiling walks them all).
	anchorSize map[string]int
	overflow   bool
}

func posOf(n ast.Node) Pos {
	tk := n.GetToken()
	if tk == nil || tk.Position == nil {
		return Pos{1, 1}
	}
	return Pos{tk.Position.Line, tk.Position.Column}
}

func (c *converter) convert(n ast.Node, depth int) *Node {
	if n == nil {
		return &Node{Kind: NullNode}
	}
	c.count++
	if c.count > maxNodes {
		c.tooMany(posOf(n))
		return &Node{Kind: NullNode, Pos: posOf(n)}
	}
	if depth > maxDepth {
		c.r.at(posOf(n), "values are nested more than %d deep", maxDepth)
		return &Node{Kind: NullNode, Pos: posOf(n)}
	}
	p := posOf(n)
	switch v := n.(type) {
	case *ast.NullNode:
		return &Node{Kind: NullNode, Pos: p}
	case *ast.BoolNode:
		return &Node{Kind: BoolNode, Pos: p, Bool: v.Value}
	case *ast.IntegerNode:
		switch x := v.Value.(type) {
		case int64:
			return &Node{Kind: IntNode, Pos: p, Int: x}
		case uint64:
			if x <= math.MaxInt64 {
				return &Node{Kind: IntNode, Pos: p, Int: int64(x)}
			}
			return &Node{Kind: FloatNode, Pos: p, Float: float64(x)}
		}
		return &Node{Kind: StringNode, Pos: p, Str: v.String()}
	case *ast.FloatNode:
		return &Node{Kind: FloatNode, Pos: p, Float: v.Value}
	case *ast.InfinityNode:
		c.r.at(p, "infinity is not a JSON number")
		return &Node{Kind: NullNode, Pos: p}
	case *ast.NanNode:
		c.r.at(p, "NaN is not a JSON number")
		return &Node{Kind: NullNode, Pos: p}
	case *ast.StringNode:
		q := v.Token != nil && (v.Token.Type == token.SingleQuoteType || v.Token.Type == token.DoubleQuoteType)
		return &Node{Kind: StringNode, Pos: p, Str: v.Value, Quoted: q}
	case *ast.LiteralNode:
		s := ""
		if v.Value != nil {
			s = v.Value.Value
		}
		return &Node{Kind: StringNode, Pos: p, Str: s}
	case *ast.MappingNode:
		m := &Node{Kind: MapNode, Pos: p}
		if len(v.Values) > 0 {
			m.Pos = posOf(v.Values[0].Key)
		}
		for _, mv := range v.Values {
			c.addEntry(m, mv, depth)
		}
		return m
	case *ast.MappingValueNode:
		m := &Node{Kind: MapNode, Pos: posOf(v.Key)}
		c.addEntry(m, v, depth)
		return m
	case *ast.SequenceNode:
		l := &Node{Kind: ListNode, Pos: p}
		for _, it := range v.Values {
			l.Items = append(l.Items, c.convert(it, depth+1))
		}
		return l
	case *ast.AnchorNode:
		before := c.count
		val := c.convert(v.Value, depth+1)
		if v.Name != nil {
			c.anchors[v.Name.GetToken().Value] = val
			if c.anchorSize == nil {
				c.anchorSize = map[string]int{}
			}
			c.anchorSize[v.Name.GetToken().Value] = c.count - before
		}
		return val
	case *ast.AliasNode:
		name := ""
		if v.Value != nil {
			name = v.Value.GetToken().Value
		}
		if a, ok := c.anchors[name]; ok {
			c.count += c.anchorSize[name]
			if c.count > maxNodes {
				c.tooMany(p)
				return &Node{Kind: NullNode, Pos: p}
			}
			return a // shared, not copied
		}
		c.r.at(p, "unknown YAML alias `*%s`", name)
		return &Node{Kind: NullNode, Pos: p}
	case *ast.TagNode:
		return c.convert(v.Value, depth+1)
	case *ast.MergeKeyNode:
		c.r.at(p, "YAML merge keys (`<<`) are not supported; write the keys out")
		return &Node{Kind: NullNode, Pos: p}
	case *ast.CommentGroupNode, *ast.CommentNode:
		return &Node{Kind: NullNode, Pos: p}
	case *ast.DocumentNode:
		return c.convert(v.Body, depth+1)
	}
	c.r.at(p, "unsupported YAML construct %s", n.Type())
	return &Node{Kind: NullNode, Pos: p}
}

func (c *converter) tooMany(p Pos) {
	if !c.overflow {
		c.overflow = true
		c.r.at(p, "file has more than %d values (counting those repeated by YAML aliases); split it into child workflows", maxNodes)
	}
}

func (c *converter) addEntry(m *Node, mv *ast.MappingValueNode, depth int) {
	if c.overflow {
		return // the rest of the file is not read
	}
	if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
		c.r.at(posOf(mv.Key), "YAML merge keys (`<<`) are not supported; write the keys out")
		return
	}
	kn := c.convert(mv.Key, depth+1)
	key := &Node{Kind: StringNode, Pos: kn.Pos}
	switch kn.Kind {
	case StringNode:
		key.Str = kn.Str
	case IntNode:
		key.Str = fmt.Sprint(kn.Int)
	case BoolNode:
		key.Str = fmt.Sprint(kn.Bool)
	case NullNode:
		key.Str = "null"
	default:
		c.r.at(kn.Pos, "map keys must be strings, not %s", kn.describe())
		return
	}
	if prev := m.KeyNode(key.Str); prev != nil {
		c.r.at(key.Pos, "duplicate key `%s` (first at line %d)", key.Str, prev.Pos.Line)
		return
	}
	m.Keys = append(m.Keys, key)
	m.Vals = append(m.Vals, c.convert(mv.Value, depth+1))
}
