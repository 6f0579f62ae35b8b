package dsl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"sync"
	"time"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// Action declares something a `call` step can invoke: its name, its input
// and output JSON Schemas, and the name of the activity that implements it.
// Connectors register their actions into a Registry; the same Registry drives
// the compiler's argument checks, the published JSON Schema and the docs.
type Action struct {
	Name        string          // e.g. "http.request"
	Title       string          // short description, shown in docs and editor hover
	Description string          // longer text (Markdown)
	Input       json.RawMessage // JSON Schema (draft 2020-12) of `with:`
	Output      json.RawMessage // JSON Schema of the result
	// Impl is the Temporal activity type that implements the action; empty means Name.
	Impl string
	// Timeout is the per-attempt limit when the step sets none; zero means one minute.
	Timeout time.Duration
	// Errors lists the error types the action can fail with (for docs and `nonRetryable` hints).
	Errors []string
}

// ActivityName is the activity type that implements the action.
func (a *Action) ActivityName() string {
	if a.Impl != "" {
		return a.Impl
	}
	return a.Name
}

// AttemptTimeout is the per-attempt start-to-close limit.
func (a *Action) AttemptTimeout() time.Duration {
	if a.Timeout > 0 {
		return a.Timeout
	}
	return time.Minute
}

var actionName = regexp.MustCompile(`^[a-z][a-z0-9]*(\.[a-z][A-Za-z0-9]*)+$`)

// Registry maps action names to their declarations. The zero value is empty
// and ready to use; it is safe for concurrent use.
type Registry struct {
	mu      sync.RWMutex
	actions map[string]*Action
	schemas map[string]*jsonschema.Schema // compiled input schemas
}

// Register adds an action. Its name must be dotted (`connector.action`) and
// its schemas must compile.
func (r *Registry) Register(a Action) error {
	if !actionName.MatchString(a.Name) {
		return fmt.Errorf("action name %q must look like `connector.action`", a.Name)
	}
	if len(a.Input) == 0 {
		a.Input = json.RawMessage(`{"type":"object"}`)
	}
	if len(a.Output) == 0 {
		a.Output = json.RawMessage(`{}`)
	}
	in, err := compileSchema("action:"+a.Name+":input", a.Input)
	if err != nil {
		return fmt.Errorf("action %s: input schema: %w", a.Name, err)
	}
	if _, err := compileSchema("action:"+a.Name+":output", a.Output); err != nil {
		return fmt.Errorf("action %s: output schema: %w", a.Name, err)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.actions == nil {
		r.actions = map[string]*Action{}
		r.schemas = map[string]*jsonschema.Schema{}
	}
	if _, dup := r.actions[a.Name]; dup {
		return fmt.Errorf("action %s registered twice", a.Name)
	}
	cp := a
	r.actions[a.Name] = &cp
	r.schemas[a.Name] = in
	return nil
}

// MustRegister is Register that panics, for package-level registration.
func (r *Registry) MustRegister(a Action) {
	if err := r.Register(a); err != nil {
		panic(err)
	}
}

// Lookup returns the action of that name.
func (r *Registry) Lookup(name string) (*Action, bool) {
	if r == nil {
		return nil, false
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	a, ok := r.actions[name]
	return a, ok
}

// Names lists registered action names, sorted.
func (r *Registry) Names() []string {
	if r == nil {
		return nil
	}
	r.mu.RLock()
	defer r.mu.RUnlock()
	names := make([]string, 0, len(r.actions))
	for n := range r.actions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Actions lists registered actions sorted by name.
func (r *Registry) Actions() []*Action {
	var out []*Action
	for _, n := range r.Names() {
		a, _ := r.Lookup(n)
		out = append(out, a)
	}
	return out
}

// ValidateInput checks a run-time argument value against the action's input
// schema. It returns nil when the action is unknown to the registry.
func (r *Registry) ValidateInput(name string, v any) error {
	r.mu.RLock()
	s := r.schemas[name]
	r.mu.RUnlock()
	if s == nil {
		return nil
	}
	return ValidateSchema(s, v)
}

// compileSchema compiles a JSON Schema document (draft 2020-12 by default).
func compileSchema(url string, doc json.RawMessage) (*jsonschema.Schema, error) {
	v, err := jsonschema.UnmarshalJSON(bytesReader(doc))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.AssertFormat()
	// Never load remote references: only the document itself.
	c.UseLoader(noLoader{})
	if err := c.AddResource(url, v); err != nil {
		return nil, err
	}
	return c.Compile(url)
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("schema references to other documents (%s) are not allowed", url)
}

// schemaCache holds compiled schemas by their source text.
var schemaCache boundedCache

// CompileSchema compiles (and caches) a JSON Schema given as JSON text.
func CompileSchema(doc json.RawMessage) (*jsonschema.Schema, error) {
	key := string(doc)
	if s, ok := schemaCache.Load(key); ok {
		return s.(*jsonschema.Schema), nil
	}
	s, err := compileSchema("mem:///schema.json", doc)
	if err != nil {
		return nil, err
	}
	schemaCache.Store(key, s)
	return s, nil
}

// ValidateSchema validates plain Go data (as DecodeJSON returns) against a schema.
func ValidateSchema(s *jsonschema.Schema, v any) error {
	return s.Validate(toSchemaValue(v))
}

// toSchemaValue converts int64 values to json.Number-compatible values the
// validator accepts.
func toSchemaValue(v any) any {
	switch x := v.(type) {
	case int64:
		return json.Number(fmt.Sprint(x))
	case int:
		return json.Number(fmt.Sprint(x))
	case float64:
		return x
	case map[string]any:
		m := make(map[string]any, len(x))
		for k, e := range x {
			m[k] = toSchemaValue(e)
		}
		return m
	case []any:
		l := make([]any, len(x))
		for i, e := range x {
			l[i] = toSchemaValue(e)
		}
		return l
	}
	return v
}
