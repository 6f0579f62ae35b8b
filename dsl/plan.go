package dsl

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
)

// Plan is a compiled workflow: immutable once built, serialisable to JSON,
// and identified by Hash (SHA-256 of its canonical JSON without the hash).
// The interpreter in workflows/ executes it; runs carry their plan so a new
// revision never changes a run in flight.
type Plan struct {
	Version     string          `json:"version"`
	Name        string          `json:"name"`
	Title       string          `json:"title,omitempty"`
	Description string          `json:"description,omitempty"`
	Input       json.RawMessage `json:"input,omitempty"`
	Vars        []Assign        `json:"vars,omitempty"`
	Steps       []*Step         `json:"steps"`
	Output      *Value          `json:"output,omitempty"`
	Triggers    []Trigger       `json:"triggers,omitempty"`
	Concurrency *Concurrency    `json:"concurrency,omitempty"`
	ExitWhen    []ExitCond      `json:"exitWhen,omitempty"`
	OnFailure   []*Step         `json:"onFailure,omitempty"`
	Timeout     Duration        `json:"timeout,omitempty"`
	// Signals lists every signal name the run listens to (waitFor, exitWhen).
	Signals []string `json:"signals,omitempty"`
	// Approvals lists the ids of approval steps (decisions may arrive as signals named so).
	Approvals []string `json:"approvals,omitempty"`
	Hash      string   `json:"hash"`
}

// Assign is one variable assignment (vars, set).
type Assign struct {
	Name  string `json:"name"`
	Value *Value `json:"value"`
}

// Step is one compiled step. Exactly one of the kind fields is set.
type Step struct {
	// Path is the step's stable position in the file (`steps[2].try[0]`);
	// the interpreter keys state, timelines and resumption by it.
	Path    string       `json:"path"`
	ID      string       `json:"id,omitempty"`
	Name    string       `json:"name,omitempty"`
	Kind    string       `json:"kind"`
	Pos     Pos          `json:"pos"`
	If      string       `json:"if,omitempty"`
	Retry   *RetryPolicy `json:"retry,omitempty"`
	Timeout Duration     `json:"timeout,omitempty"`

	Call     *CallStep     `json:"call,omitempty"`
	Set      []Assign      `json:"set,omitempty"`
	Switch   *SwitchStep   `json:"switch,omitempty"`
	Parallel *ParallelStep `json:"parallel,omitempty"`
	Foreach  *ForeachStep  `json:"foreach,omitempty"`
	While    *WhileStep    `json:"while,omitempty"`
	Wait     *WaitStep     `json:"wait,omitempty"`
	WaitFor  *WaitForStep  `json:"waitFor,omitempty"`
	Approval *ApprovalStep `json:"approval,omitempty"`
	Workflow *ChildStep    `json:"workflow,omitempty"`
	Try      *TryStep      `json:"try,omitempty"`
	Fail     *FailStep     `json:"fail,omitempty"`
	Return   *Value        `json:"return,omitempty"`
	Group    []*Step       `json:"steps,omitempty"`
}

// Label is how messages name the step: its id, else its path.
func (s *Step) Label() string {
	if s.ID != "" {
		return s.ID
	}
	return s.Path
}

// RetryPolicy of a step (for `call`, applied to the activity).
type RetryPolicy struct {
	MaxAttempts     int      `json:"maxAttempts,omitempty"`
	InitialInterval Duration `json:"initialInterval,omitempty"`
	Backoff         float64  `json:"backoff,omitempty"`
	MaxInterval     Duration `json:"maxInterval,omitempty"`
	NonRetryable    []string `json:"nonRetryable,omitempty"`
}

type CallStep struct {
	Action     string   `json:"action"`
	Activity   string   `json:"activity"`
	With       *Value   `json:"with,omitempty"`
	Compensate []*Step  `json:"compensate,omitempty"`
	Timeout    Duration `json:"attemptTimeout"`
}

type SwitchStep struct {
	Cases   []SwitchCase `json:"cases"`
	Default []*Step      `json:"default,omitempty"`
}

type SwitchCase struct {
	When  string  `json:"when"`
	Steps []*Step `json:"steps"`
}

type ParallelStep struct {
	Branches [][]*Step `json:"branches"`
	Mode     string    `json:"mode"`
}

type ForeachStep struct {
	// In is the CEL source of the list; Items is set instead when the list
	// is written out in the file (its elements may hold expressions).
	In          string  `json:"in,omitempty"`
	Items       *Value  `json:"items,omitempty"`
	As          string  `json:"as"`
	Concurrency int     `json:"concurrency"`
	Steps       []*Step `json:"steps"`
}

type WhileStep struct {
	Condition     string  `json:"condition"`
	Steps         []*Step `json:"steps"`
	MaxIterations int     `json:"maxIterations"`
}

type WaitStep struct {
	For           Duration       `json:"for,omitempty"`
	Until         string         `json:"until,omitempty"`
	BusinessHours *BusinessHours `json:"businessHours,omitempty"`
}

// BusinessHours is a weekly working calendar: waits count only time inside it.
type BusinessHours struct {
	Timezone string   `json:"timezone"`
	Days     []int    `json:"days"`  // time.Weekday values
	Start    int      `json:"start"` // minutes after midnight
	End      int      `json:"end"`
	Holidays []string `json:"holidays,omitempty"` // YYYY-MM-DD
	// Calendar names an organisation's calendar, read when the wait starts
	// by calling Activity (CalendarAction); the fields above are then the
	// fallback for "default" where no records exist (switchboard run).
	Calendar string `json:"calendar,omitempty"`
	Activity string `json:"activity,omitempty"`
}

type WaitForStep struct {
	Signal  string   `json:"signal"`
	Timeout Duration `json:"timeout,omitempty"`
	When    string   `json:"when,omitempty"`
}

type ApprovalStep struct {
	Title       *Value          `json:"title"`
	Description *Value          `json:"description,omitempty"`
	Role        string          `json:"role,omitempty"`
	Users       []string        `json:"users,omitempty"`
	Form        json.RawMessage `json:"form,omitempty"`
	Timeout     Duration        `json:"timeout,omitempty"`
}

type ChildStep struct {
	Workflow string `json:"workflow"`
	With     *Value `json:"with,omitempty"`
	Wait     bool   `json:"wait"`
	Revision int    `json:"revision,omitempty"`
}

type TryStep struct {
	Steps   []*Step      `json:"steps"`
	Catch   []CatchBlock `json:"catch,omitempty"`
	Finally []*Step      `json:"finally,omitempty"`
}

type CatchBlock struct {
	Errors []string `json:"errors,omitempty"`
	As     string   `json:"as"`
	Steps  []*Step  `json:"steps"`
}

type FailStep struct {
	Type    string `json:"type"`
	Message *Value `json:"message,omitempty"`
	Details *Value `json:"details,omitempty"`
}

type Concurrency struct {
	Key        string `json:"key"`
	OnConflict string `json:"onConflict"`
}

type ExitCond struct {
	Signal string `json:"signal"`
	When   string `json:"when,omitempty"`
}

// Trigger is one entry of `triggers:`; exactly one kind is set.
type Trigger struct {
	Webhook  *WebhookTrigger  `json:"webhook,omitempty"`
	Event    *EventTrigger    `json:"event,omitempty"`
	Schedule *ScheduleTrigger `json:"schedule,omitempty"`
}

type WebhookTrigger struct {
	Path   string `json:"path"`
	Scheme string `json:"scheme"`
	Secret string `json:"secret,omitempty"`
	Header string `json:"header,omitempty"`
	Key    *Value `json:"key,omitempty"`
	Input  *Value `json:"input,omitempty"`
	Signal string `json:"signal,omitempty"`
	Target *Value `json:"target,omitempty"`
	// Start: signal-with-start (an extension of DSL v1).
	Start bool `json:"start,omitempty"`
}

type EventTrigger struct {
	Type  string `json:"type"`
	When  string `json:"when,omitempty"`
	Input *Value `json:"input,omitempty"`
	// Signal and Target (an extension of DSL v1): deliver the event as a
	// signal to the run Target names instead of starting one; the payload
	// is Input, or the event's data.
	Signal string `json:"signal,omitempty"`
	Target *Value `json:"target,omitempty"`
}

type ScheduleTrigger struct {
	Cron          string   `json:"cron,omitempty"`
	Every         Duration `json:"every,omitempty"`
	Overlap       string   `json:"overlap,omitempty"`
	CatchupWindow Duration `json:"catchupWindow,omitempty"`
	Timezone      string   `json:"timezone,omitempty"`
	Input         *Value   `json:"input,omitempty"`
}

// computeHash sets p.Hash to the SHA-256 of the plan's JSON without the hash.
func (p *Plan) computeHash() {
	p.Hash = ""
	// Positions say where a step is written, not what it does: the same
	// workflow written as YAML or as JSON, or reformatted, has the same hash.
	var saved []Pos
	p.Walk(func(s *Step) { saved = append(saved, s.Pos); s.Pos = Pos{} })
	b, err := json.Marshal(p)
	i := 0
	p.Walk(func(s *Step) { s.Pos = saved[i]; i++ })
	if err != nil {
		panic(fmt.Sprintf("plan is not serialisable: %v", err))
	}
	sum := sha256.Sum256(b)
	p.Hash = "sha256:" + hex.EncodeToString(sum[:])
}

// Walk visits every step of the plan depth-first (including compensate and
// onFailure blocks).
func (p *Plan) Walk(fn func(*Step)) {
	walkBlock(p.Steps, fn)
	walkBlock(p.OnFailure, fn)
}

func walkBlock(b []*Step, fn func(*Step)) {
	for _, s := range b {
		fn(s)
		for _, inner := range s.Blocks() {
			walkBlock(inner, fn)
		}
	}
}

// Blocks returns the step's nested blocks.
func (s *Step) Blocks() [][]*Step {
	var out [][]*Step
	switch {
	case s.Call != nil && len(s.Call.Compensate) > 0:
		out = append(out, s.Call.Compensate)
	case s.Switch != nil:
		for _, c := range s.Switch.Cases {
			out = append(out, c.Steps)
		}
		if s.Switch.Default != nil {
			out = append(out, s.Switch.Default)
		}
	case s.Parallel != nil:
		out = append(out, s.Parallel.Branches...)
	case s.Foreach != nil:
		out = append(out, s.Foreach.Steps)
	case s.While != nil:
		out = append(out, s.While.Steps)
	case s.Try != nil:
		out = append(out, s.Try.Steps)
		for _, c := range s.Try.Catch {
			out = append(out, c.Steps)
		}
		if s.Try.Finally != nil {
			out = append(out, s.Try.Finally)
		}
	case s.Group != nil:
		out = append(out, s.Group)
	}
	return out
}

// StepByPath indexes the plan's steps by path.
func (p *Plan) StepByPath() map[string]*Step {
	m := map[string]*Step{}
	p.Walk(func(s *Step) { m[s.Path] = s })
	return m
}

// Value is a compiled value: a literal, a whole expression, an interpolated
// string, or a map/list containing any of these. Exactly one field is set.
type Value struct {
	Lit  json.RawMessage   `json:"lit,omitempty"`
	Expr string            `json:"expr,omitempty"`
	Tmpl []tmplPart        `json:"tmpl,omitempty"`
	Map  map[string]*Value `json:"map,omitempty"`
	List []*Value          `json:"list,omitempty"`
}

// LiteralValue builds a literal Value from plain data.
func LiteralValue(v any) *Value {
	b, err := MarshalJSON(v)
	if err != nil {
		b = []byte("null")
	}
	return &Value{Lit: b}
}

// Eval computes the value in an activation.
func (v *Value) Eval(act Activation) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch {
	case v.Lit != nil:
		return DecodeJSON(v.Lit)
	case v.Expr != "":
		return EvalExpr(v.Expr, act)
	case v.Tmpl != nil:
		var sb strings.Builder
		for _, p := range v.Tmpl {
			if p.Expr == "" {
				sb.WriteString(p.Text)
				continue
			}
			x, err := EvalExpr(p.Expr, act)
			if err != nil {
				return nil, err
			}
			sb.WriteString(Stringify(x))
		}
		return sb.String(), nil
	case v.Map != nil:
		m := make(map[string]any, len(v.Map))
		for k, e := range v.Map {
			x, err := e.Eval(act)
			if err != nil {
				return nil, err
			}
			m[k] = x
		}
		return m, nil
	case v.List != nil:
		l := make([]any, len(v.List))
		for i, e := range v.List {
			x, err := e.Eval(act)
			if err != nil {
				return nil, err
			}
			l[i] = x
		}
		return l, nil
	}
	return nil, nil
}

// Stringify renders a value inside an interpolated string: strings as is,
// null as empty, everything else as JSON.
func Stringify(v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		// as people write numbers in text: 2, 2.5 (not 2.0)
		b, _ := json.Marshal(x)
		return string(b)
	}
	b, _ := MarshalJSON(v)
	return string(b)
}

// ValidateInput checks a run's input (plain data, as DecodeJSON returns)
// against the plan's input schema; a plan without one takes any input.
func (p *Plan) ValidateInput(v any) error {
	if len(p.Input) == 0 {
		return nil
	}
	s, err := CompileSchema(p.Input)
	if err != nil {
		return fmt.Errorf("the input schema: %w", err)
	}
	return ValidateSchema(s, v)
}
