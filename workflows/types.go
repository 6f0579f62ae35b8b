package workflows

import (
	"bytes"
	"encoding/json"
	"time"

	"switchboard/dsl"
)

// WorkflowName is the Temporal workflow type of the interpreter.
const WorkflowName = "switchboard.run"

// ResolveActivity is the activity that resolves a child workflow's plan by
// name (and optional revision). Hosts register an implementation.
const ResolveActivity = "switchboard.resolveWorkflow"

// Query, update and signal names.
const (
	QueryState = "state"
	// EnqueueSignal carries the input of a run queued behind this one.
	EnqueueSignal = "switchboard.enqueue"
	QueryTasks    = "tasks"
	UpdateDecide  = "decide"
)

// RunInput is the interpreter's input.
type RunInput struct {
	Plan  *dsl.Plan       `json:"plan"`
	Input json.RawMessage `json:"input,omitempty"`
	Meta  RunMeta         `json:"meta"`
	// Resume is set when the run continued as new.
	Resume *Checkpoint `json:"resume,omitempty"`
	// Options tune the interpreter; the zero value is the default.
	Options Options `json:"options,omitempty"`
	// Queue holds the inputs of runs waiting for this one to finish
	// (concurrency `onConflict: queue`); they run next, in order.
	Queue []json.RawMessage `json:"queue,omitempty"`
}

// RunMeta describes the run to expressions (`run.*`) and to the platform.
// Runs started by `switchboard run` leave Org and ID empty.
type RunMeta struct {
	Revision int `json:"revision,omitempty"`
	// Org is the organisation a platform run belongs to. When set, the
	// run indexes its open tasks in the SwitchboardAssignees search
	// attribute and its children carry the organisation's attributes.
	Org string `json:"org,omitempty"`
	// ID is the run's id as the API shows it (`run.id`); empty means the
	// workflow id.
	ID string `json:"id,omitempty"`
}

// Options tune the interpreter. The zero value is the default.
type Options struct {
	// ContinueAsNewAfter is the history length (events) after which a loop
	// continues as new at its next iteration; 0 means 10000.
	ContinueAsNewAfter int `json:"continueAsNewAfter,omitempty"`
	// TimelineLimit bounds the number of step records kept; 0 means 2000.
	TimelineLimit int `json:"timelineLimit,omitempty"`
}

func (o Options) canAfter() int {
	if o.ContinueAsNewAfter > 0 {
		return o.ContinueAsNewAfter
	}
	return 10000
}

func (o Options) timelineLimit() int {
	if o.TimelineLimit > 0 {
		return o.TimelineLimit
	}
	return 2000
}

// ResolveRequest asks the host for a child workflow's plan.
type ResolveRequest struct {
	Org      string `json:"org,omitempty"`
	Name     string `json:"name"`
	Revision int    `json:"revision,omitempty"`
}

// ResolveResult is the resolved plan of a child workflow.
type ResolveResult struct {
	Plan     *dsl.Plan `json:"plan"`
	Revision int       `json:"revision,omitempty"`
}

// Step statuses in the timeline.
const (
	StatusRunning   = "running"
	StatusWaiting   = "waiting"
	StatusSucceeded = "succeeded"
	StatusFailed    = "failed"
	StatusSkipped   = "skipped"
	StatusCancelled = "cancelled"
)

// StepState is one execution of a step in the run's timeline.
type StepState struct {
	// Key identifies this execution: the step path, plus the iteration
	// indices of enclosing loops (`steps[1].foreach.steps[0]#3`).
	Key      string     `json:"key"`
	Path     string     `json:"path"`
	ID       string     `json:"id,omitempty"`
	Name     string     `json:"name,omitempty"`
	Kind     string     `json:"kind"`
	Status   string     `json:"status"`
	Attempts int        `json:"attempts,omitempty"`
	Input    any        `json:"input,omitempty"`
	Output   any        `json:"output,omitempty"`
	Error    *StepError `json:"error,omitempty"`
	// ChildWorkflowID is the workflow id of a `workflow` step's child run.
	ChildWorkflowID string     `json:"childWorkflowId,omitempty"`
	StartedAt       time.Time  `json:"startedAt"`
	EndedAt         *time.Time `json:"endedAt,omitempty"`
}

// RunState is the live state returned by the `state` query.
type RunState struct {
	Workflow string `json:"workflow"`
	Hash     string `json:"hash"`
	Status   string `json:"status"` // running, completed, failed
	// Position is the key of the step that most recently started.
	Position string         `json:"position,omitempty"`
	Steps    []*StepState   `json:"steps"`
	Tasks    []*Task        `json:"tasks,omitempty"`
	Vars     map[string]any `json:"vars"`
	Output   any            `json:"output,omitempty"`
	Error    *StepError     `json:"error,omitempty"`
	// ContinuedAsNew counts the continue-as-new generations so far.
	ContinuedAsNew int `json:"continuedAsNew,omitempty"`
}

// Task is an open human task (an approval step waiting for a decision).
type Task struct {
	ID          string          `json:"id"`
	Step        string          `json:"step"`
	Title       string          `json:"title"`
	Description string          `json:"description,omitempty"`
	Role        string          `json:"role,omitempty"`
	Users       []string        `json:"users,omitempty"`
	Form        json.RawMessage `json:"form,omitempty"`
	CreatedAt   time.Time       `json:"createdAt"`
	Deadline    *time.Time      `json:"deadline,omitempty"`
}

// Decision decides a Task through the `decide` update.
type Decision struct {
	// Task is the task id, or an approval step's id (the oldest open task of that step).
	Task     string          `json:"task"`
	Approved bool            `json:"approved"`
	Comment  string          `json:"comment,omitempty"`
	Data     json.RawMessage `json:"data,omitempty"`
	// By is who decides (user name or email); Roles are their roles.
	By    string   `json:"by"`
	Roles []string `json:"roles,omitempty"`
}

// Checkpoint is the interpreter state carried across continue-as-new.
type Checkpoint struct {
	Vars        map[string]any   `json:"vars"`
	Steps       map[string]any   `json:"steps"`
	Comps       []compEntry      `json:"comps,omitempty"`
	Signals     map[string][]any `json:"signals,omitempty"`
	Frames      []Frame          `json:"frames"`
	StartedAt   time.Time        `json:"startedAt"`
	Deadline    *time.Time       `json:"deadline,omitempty"`
	Generation  int              `json:"generation"`
	Timeline    []*StepState     `json:"timeline,omitempty"`
	OriginRunID string           `json:"originRunId"`
	// Received counts the signals received so far per name, over all
	// generations, so that a host can tell which signals a generation saw.
	Received map[string]int `json:"received,omitempty"`
}

// MarshalJSON writes a checkpoint so that doubles stay doubles (`3.0`)
// when UnmarshalJSON reads them back in the next generation.
func (c Checkpoint) MarshalJSON() ([]byte, error) {
	type plain Checkpoint
	p := plain(c)
	keepMap := func(m map[string]any) map[string]any {
		if m == nil {
			return nil
		}
		return dsl.KeepFloats(m).(map[string]any)
	}
	keepList := func(l []any) []any {
		if l == nil {
			return nil
		}
		return dsl.KeepFloats(l).([]any)
	}
	keepErr := func(e *StepError) *StepError {
		if e == nil {
			return nil
		}
		cp := *e
		cp.Details = dsl.KeepFloats(e.Details)
		return &cp
	}
	p.Vars, p.Steps = keepMap(c.Vars), keepMap(c.Steps)
	p.Comps = make([]compEntry, len(c.Comps))
	for i, e := range c.Comps {
		e.Locals, e.Steps = keepMap(e.Locals), keepMap(e.Steps)
		p.Comps[i] = e
	}
	if c.Signals != nil {
		p.Signals = make(map[string][]any, len(c.Signals))
		for k, q := range c.Signals { //workflowcheck:ignore (copies map entries into a map: order cannot matter)
			p.Signals[k] = keepList(q)
		}
	}
	p.Frames = make([]Frame, len(c.Frames))
	for i, f := range c.Frames {
		f.Last = dsl.KeepFloats(f.Last)
		f.Acc, f.Items = keepList(f.Acc), keepList(f.Items)
		f.Steps, f.Locals = keepMap(f.Steps), keepMap(f.Locals)
		f.Err = keepErr(f.Err)
		p.Frames[i] = f
	}
	p.Timeline = make([]*StepState, len(c.Timeline))
	for i, s := range c.Timeline {
		cp := *s
		cp.Input, cp.Output, cp.Error = dsl.KeepFloats(s.Input), dsl.KeepFloats(s.Output), keepErr(s.Error)
		p.Timeline[i] = &cp
	}
	return json.Marshal(p)
}

// UnmarshalJSON reads a checkpoint with the DSL's number semantics. The SDK
// decodes workflow input with encoding/json, which would turn every integer
// carried across continue-as-new into a float64 (so `vars.i % 2` or a list
// index would fail in the next generation): numbers are read as json.Number
// and normalised as dsl.DecodeJSON does.
func (c *Checkpoint) UnmarshalJSON(b []byte) error {
	type plain Checkpoint
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var p plain
	if err := d.Decode(&p); err != nil {
		return err
	}
	*c = Checkpoint(p)
	dsl.Normalize(c.Vars)
	dsl.Normalize(c.Steps)
	for _, e := range c.Comps {
		dsl.Normalize(e.Locals)
		dsl.Normalize(e.Steps)
	}
	for _, q := range c.Signals {
		dsl.Normalize(q)
	}
	normErr := func(e *StepError) {
		if e != nil {
			e.Details = dsl.Normalize(e.Details)
		}
	}
	for i := range c.Frames {
		f := &c.Frames[i]
		f.Last = dsl.Normalize(f.Last)
		dsl.Normalize(f.Acc)
		dsl.Normalize(f.Items)
		dsl.Normalize(f.Steps)
		dsl.Normalize(f.Locals)
		normErr(f.Err)
	}
	for _, s := range c.Timeline {
		s.Input, s.Output = dsl.Normalize(s.Input), dsl.Normalize(s.Output)
		normErr(s.Error)
	}
	return nil
}

// UnmarshalJSON reads a run state (the `state` query's answer) with the
// DSL's number semantics: integers stay int64, doubles float64.
func (s *RunState) UnmarshalJSON(b []byte) error {
	type plain RunState
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber()
	var p plain
	if err := d.Decode(&p); err != nil {
		return err
	}
	*s = RunState(p)
	dsl.Normalize(s.Vars)
	s.Output = dsl.Normalize(s.Output)
	if s.Error != nil {
		s.Error.Details = dsl.Normalize(s.Error.Details)
	}
	for _, st := range s.Steps {
		st.Input, st.Output = dsl.Normalize(st.Input), dsl.Normalize(st.Output)
		if st.Error != nil {
			st.Error.Details = dsl.Normalize(st.Error.Details)
		}
	}
	return nil
}

// MarshalJSON writes a run state keeping doubles doubles (`3.0`).
func (s RunState) MarshalJSON() ([]byte, error) {
	type plain RunState
	p := plain(s)
	if s.Vars != nil {
		p.Vars = dsl.KeepFloats(s.Vars).(map[string]any)
	}
	p.Output = dsl.KeepFloats(s.Output)
	p.Steps = make([]*StepState, len(s.Steps))
	for i, st := range s.Steps {
		cp := *st
		cp.Input, cp.Output = dsl.KeepFloats(st.Input), dsl.KeepFloats(st.Output)
		p.Steps[i] = &cp
	}
	return json.Marshal(p)
}
