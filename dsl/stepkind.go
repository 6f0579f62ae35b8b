package dsl

// stepKind describes one step kind: its spec (the keys it takes), its
// compile function (which also does its checks), its documentation and its
// JSON Schema. Each kind lives in its own step_<kind>.go file and registers
// itself here; the compiler, the published JSON Schema and the docs are all
// driven from this table.
type stepKind struct {
	Name    string
	Summary string   // one line, used in hover text and docs
	Output  string   // what the step outputs
	Keys    []string // extra keys allowed beside the kind key and the common keys
	// Schema returns the JSON Schema properties this kind adds to a step
	// (the kind key and its extra keys).
	Schema  func(d *schemaBuilder) map[string]any
	Compile func(c *compiler, n *Node, st *Step, sc scope)
}

var stepKinds = map[string]*stepKind{}

func registerStepKind(k *stepKind) {
	if _, dup := stepKinds[k.Name]; dup {
		panic("step kind registered twice: " + k.Name)
	}
	stepKinds[k.Name] = k
}

// StepKind is the public description of a step kind (for docs and tools).
type StepKind struct {
	Name    string
	Summary string
	Output  string
}

// StepKinds lists the step kinds, sorted by name.
func StepKinds() []StepKind {
	var out []StepKind
	for _, n := range kindNames() {
		k := stepKinds[n]
		out = append(out, StepKind{Name: k.Name, Summary: k.Summary, Output: k.Output})
	}
	return out
}

// kindMap checks that a kind key holds a map and reports its unknown keys.
func (c *compiler) kindMap(n *Node, kind string, allowed []string) bool {
	if n.Kind != MapNode {
		c.r.at(n.Pos, "`%s` takes a map with %s, not %s", kind, quoteList(allowed), n.describe())
		return false
	}
	c.unknownKeys(n, allowed, "in `"+kind+"`")
	return true
}

// required fetches a required key, reporting it when missing.
func (c *compiler) required(n *Node, key, kind string) *Node {
	v := n.Get(key)
	if v == nil {
		c.r.at(n.Pos, "`%s` needs `%s`", kind, key)
	}
	return v
}
