package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
	_ "time/tzdata" // a fallback tz database, for hosts that have none (business hours need it)

	"go.temporal.io/sdk/workflow"

	"switchboard/dsl"
)

// runner is the interpreter's state for one run (one continue-as-new generation).
type runner struct {
	in      *RunInput
	plan    *dsl.Plan
	opts    Options
	byPath  map[string]*dsl.Step
	input   any
	vars    map[string]any
	steps   map[string]any // root step results: id -> {status, output, error}
	run     map[string]any
	started time.Time

	comps    []compEntry
	signals  map[string][]any // buffered payloads per signal name
	received map[string]int   // signals received per name, all generations
	waited   map[string]bool  // signal names some waitFor uses
	tasks    []*taskState
	// closed remembers the ids and step ids of the last tasks that closed
	// (decided or timed out), so a late decision is told so (not `no such task`).
	closed []string

	timeline []*StepState
	byKey    map[string]*StepState
	position string
	posLabel string // the label (id, else path) of the step at position
	status   string

	concurrent int // > 0 while branches run concurrently: no continue-as-new
	noCAN      int // > 0 in regions that cannot be resumed (finally, timeouts, cleanup)
	resume     []Frame
	generation int
	origin     string
	deadline   *time.Time

	pumps []pump
	// loopIDs lists the step ids of each foreach body ("" = outside any)
	loopIDs    map[string][]string
	cancelMain workflow.CancelFunc
	exited     bool
	timedOut   bool
	output     any
	failure    *StepError
}

// compEntry is a pending compensation: the call step and the scope it ran in.
type compEntry struct {
	Path   string            `json:"path"`
	Iter   string            `json:"iter,omitempty"`
	Locals map[string]any    `json:"locals,omitempty"`
	Kinds  map[string]string `json:"kinds,omitempty"`
	Steps  map[string]any    `json:"steps,omitempty"`
}

// Frame is one level of the resume position carried across continue-as-new.
type Frame struct {
	Kind   string            `json:"kind"` // block, while, foreach, switch, try, steps
	Index  int               `json:"index,omitempty"`
	Iter   int               `json:"iter,omitempty"`
	InBody bool              `json:"inBody,omitempty"`
	Last   any               `json:"last,omitempty"`
	Acc    []any             `json:"acc,omitempty"`
	Items  []any             `json:"items,omitempty"`
	Case   int               `json:"case,omitempty"`
	Phase  string            `json:"phase,omitempty"`
	Err    *StepError        `json:"err,omitempty"`
	Steps  map[string]any    `json:"steps,omitempty"`
	Locals map[string]any    `json:"locals,omitempty"`
	Kinds  map[string]string `json:"kinds,omitempty"`
	Iterk  string            `json:"iterKey,omitempty"`
}

// scope is what a step sees: local variables (loop item, caught error) and
// an optional step-results overlay (a foreach iteration's own steps).
type scope struct {
	parent *scope
	steps  map[string]any
	locals map[string]any
	kinds  map[string]string
	iter   string // suffix making step keys unique per loop iteration
}

func (s *scope) child(iter string, ownSteps bool) *scope {
	c := &scope{parent: s, iter: iter}
	if ownSteps {
		c.steps = map[string]any{}
	}
	return c
}

func (s *scope) set(name, kind string, v any) *scope {
	if s.locals == nil {
		s.locals, s.kinds = map[string]any{}, map[string]string{}
	}
	s.locals[name], s.kinds[name] = v, kind
	return s
}

// setStep records a step result in the nearest scope that owns results.
func (s *scope) setStep(id string, res map[string]any) {
	if id == "" {
		return
	}
	for c := s; c != nil; c = c.parent {
		if c.steps != nil {
			c.steps[id] = res
			return
		}
	}
}

// Run is the interpreter workflow (registered as WorkflowName).
func Run(ctx workflow.Context, in RunInput) (any, error) {
	if in.Plan == nil {
		return nil, newErr(ErrInternal, "", "run input has no plan").toRunError()
	}
	r := &runner{
		in: &in, plan: in.Plan, opts: in.Options, byPath: in.Plan.StepByPath(),
		signals: map[string][]any{}, received: map[string]int{}, waited: map[string]bool{}, byKey: map[string]*StepState{},
		status: "running",
	}
	info := workflow.GetInfo(ctx)
	r.started = workflow.Now(ctx)
	r.origin = info.WorkflowExecution.RunID
	if in.Resume != nil {
		cp := in.Resume
		r.vars, r.steps, r.comps, r.resume = cp.Vars, cp.Steps, cp.Comps, cp.Frames
		r.started, r.deadline, r.generation, r.origin = cp.StartedAt, cp.Deadline, cp.Generation, cp.OriginRunID
		//workflowcheck:ignore (copies map entries into a map: order cannot matter)
		for k, v := range cp.Signals {
			r.signals[k] = v
		}
		//workflowcheck:ignore (copies map entries into a map: order cannot matter)
		for k, n := range cp.Received {
			r.received[k] = n
		}
		for _, s := range cp.Timeline {
			r.timeline = append(r.timeline, s)
			r.byKey[s.Key] = s
		}
	}
	if r.vars == nil {
		r.vars = map[string]any{}
	}
	r.loopIDs = idsByLoop(r.plan)
	if r.steps == nil {
		r.steps = notRun(r.loopIDs[""])
	}
	if len(in.Input) > 0 {
		v, err := dsl.DecodeJSON(in.Input)
		if err != nil {
			return nil, newErr(ErrInputInvalid, "", "input is not JSON: %v", err).toRunError()
		}
		r.input = v
	} else {
		r.input = map[string]any{}
	}
	runID := info.WorkflowExecution.ID
	if in.Meta.ID != "" {
		runID = in.Meta.ID
	} else if in.Meta.Org != "" { // a scheduled run: its id is Temporal's
		runID = strings.TrimPrefix(runID, in.Meta.Org+"/")
	}
	r.run = map[string]any{
		"id": runID, "workflow": r.plan.Name,
		"revision": int64(in.Meta.Revision), "startedAt": r.started,
	}
	r.plan.Walk(func(s *dsl.Step) {
		if s.WaitFor != nil {
			r.waited[s.WaitFor.Signal] = true
		}
	})
	if err := r.registerHandlers(ctx); err != nil {
		return nil, newErr(ErrInternal, "", "%v", err).toRunError()
	}
	if in.Resume == nil {
		if err := r.validateInput(); err != nil {
			r.status, r.failure = "failed", err
			return nil, err.toRunError()
		}
		root := &scope{steps: r.steps}
		for _, a := range r.plan.Vars {
			v, err := a.Value.Eval(r.act(ctx, root))
			if err != nil {
				se := toStepError(err, "vars."+a.Name)
				r.status, r.failure = "failed", se
				return nil, se.toRunError()
			}
			r.vars[a.Name] = v
		}
		if r.plan.Timeout > 0 {
			d := r.started.Add(r.plan.Timeout.D())
			r.deadline = &d
		}
	}
	out, err := r.main(ctx)
	out, err = r.handOver(ctx, out, err)
	if err != nil {
		return nil, err
	}
	// the output goes out as JSON written by the DSL's encoder, so a double
	// with no fraction stays a double for the caller (or the parent run)
	b, merr := dsl.MarshalJSON(out)
	if merr != nil {
		return nil, newErr(ErrExpression, "output", "the run's output cannot be written as JSON: %v", merr).toRunError()
	}
	return json.RawMessage(b), nil
}

func (r *runner) validateInput() *StepError {
	if err := r.plan.ValidateInput(r.input); err != nil {
		return &StepError{Type: ErrInputInvalid, Message: "input does not match the workflow's input schema: " + oneLine(err.Error())}
	}
	return nil
}

func (r *runner) main(rootCtx workflow.Context) (any, error) {
	ctx, cancel := workflow.WithCancel(rootCtx)
	r.cancelMain = cancel
	r.startSignalPumps(rootCtx)
	if r.deadline != nil {
		d := r.deadline.Sub(workflow.Now(ctx))
		timerCtx, stopTimer := workflow.WithCancel(rootCtx)
		defer stopTimer()
		workflow.Go(timerCtx, func(gctx workflow.Context) {
			if d > 0 {
				if err := workflow.NewTimer(gctx, d).Get(gctx, nil); err != nil {
					return
				}
			}
			r.timedOut = true
			cancel()
		})
	}
	root := &scope{steps: r.steps}
	_, err := r.execBlock(ctx, root, r.plan.Steps)

	var ret *returnSignal
	var unwind *canUnwind
	switch {
	case err == nil:
	case errors.As(err, &ret):
		r.status, r.output = "completed", ret.value
		return ret.value, nil
	case errors.As(err, &unwind):
		can := r.continueAsNew(rootCtx, unwind.frames)
		if !r.exited {
			return nil, can
		}
		// an exitWhen signal came in while handing over: the run ends here,
		// and the steps that were unwound count as cancelled
		now := workflow.Now(rootCtx)
		for _, s := range r.timeline {
			if s.Status == StatusRunning || s.Status == StatusWaiting {
				s.Status, s.EndedAt = StatusCancelled, &now
			}
		}
		err = nil
	case r.exited:
		err = nil
	case r.timedOut:
		err = newErr(ErrTimeout, r.posLabel, "the run exceeded its timeout of %s", r.plan.Timeout.D())
	}
	if err == nil {
		out, oerr := r.finalOutput(rootCtx, root)
		if oerr == nil {
			r.status, r.output = "completed", out
			return out, nil
		}
		err = oerr
	}
	se := toStepError(err, "")
	if se.Step == "" && !r.timedOut {
		se.Step = r.posLabel
	}
	r.status, r.failure = "failed", se
	cleanup, done := workflow.NewDisconnectedContext(rootCtx)
	defer done()
	r.noCAN++
	r.compensate(cleanup)
	if len(r.plan.OnFailure) > 0 {
		sc := (&scope{steps: r.steps}).child("~onFailure", false).set("error", "error", se.asMap())
		if _, ferr := r.execBlock(cleanup, sc, r.plan.OnFailure); ferr != nil {
			workflow.GetLogger(rootCtx).Error("onFailure failed", "error", ferr)
		}
	}
	if rootCtx.Err() != nil && se.Type == ErrCancelled {
		return nil, rootCtx.Err()
	}
	return nil, se.toRunError()
}

func (r *runner) finalOutput(ctx workflow.Context, root *scope) (any, error) {
	if r.plan.Output == nil {
		return dsl.Clone(r.vars), nil
	}
	out, err := r.plan.Output.Eval(r.act(ctx, root))
	if err != nil {
		return nil, toStepError(err, "output")
	}
	return out, nil
}

// compensate runs the compensate blocks of succeeded calls, newest first.
// A failing compensation is recorded and the others still run.
func (r *runner) compensate(ctx workflow.Context) {
	for i := len(r.comps) - 1; i >= 0; i-- {
		c := r.comps[i]
		st := r.byPath[c.Path]
		if st == nil || st.Call == nil {
			continue
		}
		sc := &scope{steps: c.Steps, iter: c.Iter + "~compensate"}
		//workflowcheck:ignore (copies map entries into a map: order cannot matter)
		for k, v := range c.Locals {
			sc.set(k, c.Kinds[k], v)
		}
		if _, err := r.execBlock(ctx, sc, st.Call.Compensate); err != nil {
			workflow.GetLogger(ctx).Error("compensation failed", "step", st.Label(), "error", err)
		}
	}
	r.comps = nil
}

// act builds the expression activation for a scope.
func (r *runner) act(ctx workflow.Context, sc *scope) dsl.Activation {
	a := r.view(sc)
	a.Values["now"] = workflow.Now(ctx)
	return a
}

// mergedSteps is the step results a scope sees: its own over its parents'.
func mergedSteps(sc *scope) map[string]any {
	merged := map[string]any{}
	var chain []*scope
	for c := sc; c != nil; c = c.parent {
		chain = append(chain, c)
	}
	for i := len(chain) - 1; i >= 0; i-- {
		//workflowcheck:ignore (copies map entries into a map: order cannot matter)
		for k, v := range chain[i].steps {
			merged[k] = v
		}
	}
	return merged
}

// view is the activation without the clock.
func (r *runner) view(sc *scope) dsl.Activation {
	vals := map[string]any{"input": r.input, "vars": r.vars, "run": r.run}
	var kinds map[string]string
	overlay := false
	for c := sc; c != nil; c = c.parent {
		if c.steps != nil && c.parent != nil {
			overlay = true
		}
		//workflowcheck:ignore (copies map entries into a map: order cannot matter)
		for k, v := range c.locals {
			if kinds == nil {
				kinds = map[string]string{}
			}
			if _, shadowed := kinds[k]; !shadowed {
				kinds[k] = c.kinds[k]
				vals[k] = v
			}
		}
	}
	if !overlay {
		root := sc
		for root.parent != nil {
			root = root.parent
		}
		vals["steps"] = root.steps
	} else {
		// merged only if the expression refers to `steps` (CEL resolves
		// func() values lazily): most expressions in a loop body do not
		vals["steps"] = func() any { return mergedSteps(sc) }
	}
	return dsl.Activation{Values: vals, Locals: kinds}
}

func (r *runner) popFrame() (Frame, bool) {
	if len(r.resume) == 0 {
		return Frame{}, false
	}
	f := r.resume[0]
	r.resume = r.resume[1:]
	return f, true
}

// execBlock runs a list of steps; its output is its last executed step's.
func (r *runner) execBlock(ctx workflow.Context, sc *scope, block []*dsl.Step) (any, error) {
	start := 0
	var last any
	if f, ok := r.popFrame(); ok {
		start, last = f.Index, f.Last
	}
	for i := start; i < len(block); i++ {
		out, ran, err := r.execStep(ctx, sc, block[i])
		if err != nil {
			var u *canUnwind
			if errors.As(err, &u) {
				u.push(Frame{Kind: "block", Index: i, Last: last})
			}
			return nil, err
		}
		if ran {
			last = out
		}
	}
	return last, nil
}

func stepResult(status string, out any, se *StepError) map[string]any {
	var e any
	if se != nil {
		e = se.asMap()
	}
	return map[string]any{"status": status, "output": out, "error": e}
}

// execStep runs one step with its guard, timeout and bookkeeping.
func (r *runner) execStep(ctx workflow.Context, sc *scope, st *dsl.Step) (out any, ran bool, err error) {
	resuming := len(r.resume) > 0
	state := r.begin(ctx, st, sc.iter, resuming)
	if !resuming && st.If != "" {
		ok, err := dsl.EvalBool(st.If, r.act(ctx, sc))
		if err != nil {
			se := toStepError(err, st.Label())
			r.finish(ctx, state, StatusFailed, nil, se)
			sc.setStep(st.ID, stepResult(StatusFailed, nil, se))
			return nil, true, se
		}
		if !ok {
			r.finish(ctx, state, StatusSkipped, nil, nil)
			sc.setStep(st.ID, stepResult(StatusSkipped, nil, nil))
			return nil, false, nil
		}
	}
	stepCtx := ctx
	timedOut := false
	if st.Timeout > 0 && st.Kind != "call" {
		var cancel workflow.CancelFunc
		stepCtx, cancel = workflow.WithCancel(ctx)
		timerCtx, stopTimer := workflow.WithCancel(ctx)
		defer stopTimer()
		workflow.Go(timerCtx, func(gctx workflow.Context) {
			if workflow.NewTimer(gctx, st.Timeout.D()).Get(gctx, nil) == nil {
				timedOut = true
				cancel()
			}
		})
		r.noCAN++
		defer func() { r.noCAN-- }()
	}
	out, err = r.dispatch(stepCtx, sc, st, state)
	if err != nil {
		var ret *returnSignal
		var u *canUnwind
		if errors.As(err, &ret) || errors.As(err, &u) {
			if ret != nil {
				r.finish(ctx, state, StatusSucceeded, ret.value, nil)
			}
			return nil, true, err
		}
		se := toStepError(err, st.Label())
		if timedOut {
			se = newErr(ErrTimeout, st.Label(), "step `%s` exceeded its timeout of %s", st.Label(), st.Timeout.D())
		}
		status := StatusFailed
		if se.Type == ErrCancelled {
			status = StatusCancelled
		}
		r.finish(ctx, state, status, nil, se)
		sc.setStep(st.ID, stepResult(StatusFailed, nil, se))
		return nil, true, se
	}
	r.finish(ctx, state, StatusSucceeded, out, nil)
	sc.setStep(st.ID, stepResult(StatusSucceeded, out, nil))
	return out, true, nil
}

func (r *runner) dispatch(ctx workflow.Context, sc *scope, st *dsl.Step, state *StepState) (any, error) {
	switch st.Kind {
	case "call":
		return r.call(ctx, sc, st, state)
	case "set":
		return r.set(ctx, sc, st)
	case "switch":
		return r.switchStep(ctx, sc, st)
	case "parallel":
		return r.parallel(ctx, sc, st)
	case "foreach":
		return r.foreach(ctx, sc, st)
	case "while":
		return r.while(ctx, sc, st)
	case "wait":
		return r.wait(ctx, sc, st, state)
	case "waitFor":
		return r.waitFor(ctx, sc, st, state)
	case "approval":
		return r.approval(ctx, sc, st, state)
	case "workflow":
		return r.child(ctx, sc, st, state)
	case "try":
		return r.try(ctx, sc, st)
	case "fail":
		return nil, r.fail(ctx, sc, st)
	case "return":
		v, err := st.Return.Eval(r.act(ctx, sc))
		if err != nil {
			return nil, err
		}
		return nil, &returnSignal{value: v}
	case "steps":
		return r.execBlock(ctx, sc, st.Group)
	}
	return nil, newErr(ErrInternal, st.Label(), "unknown step kind %q", st.Kind)
}

// begin records the start of a step execution in the timeline.
func (r *runner) begin(ctx workflow.Context, st *dsl.Step, iter string, resuming bool) *StepState {
	key := st.Path + iter
	r.position, r.posLabel = key, st.Label()
	if resuming {
		if s, ok := r.byKey[key]; ok && s.Status == StatusRunning {
			return s
		}
	}
	s := &StepState{Key: key, Path: st.Path, ID: st.ID, Name: st.Name, Kind: st.Kind,
		Status: StatusRunning, StartedAt: workflow.Now(ctx)}
	if old, ok := r.byKey[key]; ok {
		*old = *s // a re-run of the same key (e.g. compensation): keep one record
		return old
	}
	r.byKey[key] = s
	r.timeline = append(r.timeline, s)
	r.trimTimeline()
	return s
}

func (r *runner) finish(ctx workflow.Context, s *StepState, status string, out any, se *StepError) {
	now := workflow.Now(ctx)
	s.Status, s.Output, s.Error, s.EndedAt = status, out, se, &now
	if se != nil && se.attempts > 0 {
		s.Attempts = se.attempts
	}
}

// trimTimeline drops the oldest finished records beyond the limit.
func (r *runner) trimTimeline() {
	limit := r.opts.timelineLimit()
	if len(r.timeline) <= limit+limit/10 {
		return
	}
	drop := len(r.timeline) - limit
	kept := r.timeline[:0]
	for _, s := range r.timeline {
		if drop > 0 && s.Status != StatusRunning && s.Status != StatusWaiting {
			delete(r.byKey, s.Key)
			drop--
			continue
		}
		kept = append(kept, s)
	}
	r.timeline = kept
}

// shouldContinueAsNew reports whether a loop at an iteration boundary should
// hand over to a new run (history is long and nothing runs concurrently).
func (r *runner) shouldContinueAsNew(ctx workflow.Context) bool {
	if r.concurrent > 0 || r.noCAN > 0 {
		return false
	}
	info := workflow.GetInfo(ctx)
	return info.GetCurrentHistoryLength() >= r.opts.canAfter() || info.GetContinueAsNewSuggested()
}

func (r *runner) continueAsNew(ctx workflow.Context, frames []Frame) error {
	r.drainSignals(ctx)
	_ = workflow.Await(ctx, func() bool { return workflow.AllHandlersFinished(ctx) })
	r.drainSignals(ctx)
	// keep the running records and the most recent finished ones
	const carry = 200
	var tl []*StepState
	finished := 0
	for i := len(r.timeline) - 1; i >= 0; i-- {
		s := r.timeline[i]
		if s.Status == StatusRunning || s.Status == StatusWaiting || finished < carry {
			tl = append([]*StepState{s}, tl...)
			if s.Status != StatusRunning && s.Status != StatusWaiting {
				finished++
			}
		}
	}
	cp := &Checkpoint{
		Vars: r.vars, Steps: r.steps, Comps: r.comps, Signals: r.signals, Frames: frames,
		StartedAt: r.started, Deadline: r.deadline, Generation: r.generation + 1,
		Timeline: tl, OriginRunID: r.origin, Received: r.received,
	}
	next := *r.in
	next.Resume = cp
	return workflow.NewContinueAsNewError(ctx, WorkflowName, next)
}

func oneLine(s string) string {
	out := make([]rune, 0, len(s))
	space := false
	for _, c := range s {
		if c == '\n' || c == '\t' || c == ' ' {
			if !space {
				out = append(out, ' ')
			}
			space = true
			continue
		}
		space = false
		out = append(out, c)
	}
	return string(out)
}

// jsonArg wraps plain data so the SDK sends it as JSON text.
func jsonArg(v any) (json.RawMessage, error) {
	b, err := dsl.MarshalJSON(v)
	if err != nil {
		return nil, fmt.Errorf("value cannot be sent as JSON: %w", err)
	}
	return b, nil
}

// handOver starts the next queued run (concurrency `queue`) by continuing
// as new with its input once this run has finished, whatever its outcome;
// this run's output or failure stays in its own history.
func (r *runner) handOver(ctx workflow.Context, out any, err error) (any, error) {
	var can *workflow.ContinueAsNewError
	if errors.As(err, &can) {
		return out, err
	}
	r.drainSignals(ctx)
	if len(r.in.Queue) == 0 {
		return out, err
	}
	if err != nil {
		workflow.GetLogger(ctx).Warn("run failed; starting the next queued run", "error", err)
	}
	next := RunInput{Plan: r.plan, Input: r.in.Queue[0], Queue: r.in.Queue[1:], Meta: r.in.Meta, Options: r.opts}
	return nil, workflow.NewContinueAsNewError(ctx, WorkflowName, next)
}

// notRun gives every id the result of a step that has not run (yet):
// status skipped, no output. Expressions can refer to any step they can
// see (an exitWhen output, a polling loop's condition) without failing.
func notRun(ids []string) map[string]any {
	m := make(map[string]any, len(ids))
	for _, id := range ids {
		m[id] = stepResult(StatusSkipped, nil, nil)
	}
	return m
}

// idsByLoop maps each foreach step's path to the ids in its body (not in
// nested foreach bodies), and "" to the ids outside any foreach.
func idsByLoop(p *dsl.Plan) map[string][]string {
	out := map[string][]string{}
	var walk func(block []*dsl.Step, loop string)
	walk = func(block []*dsl.Step, loop string) {
		for _, s := range block {
			if s.ID != "" {
				out[loop] = append(out[loop], s.ID)
			}
			inner := loop
			if s.Foreach != nil {
				inner = s.Path
			}
			for _, b := range s.Blocks() {
				walk(b, inner)
			}
		}
	}
	walk(p.Steps, "")
	walk(p.OnFailure, "")
	return out
}
