package workflows

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	"switchboard/dsl"
)

// Default retry policy of `call` steps (the contract's defaults).
var defaultRetry = dsl.RetryPolicy{MaxAttempts: 5, InitialInterval: dsl.Duration(time.Second), Backoff: 2, MaxInterval: dsl.Duration(time.Minute)}

func retryPolicy(p *dsl.RetryPolicy) *temporal.RetryPolicy {
	rp := defaultRetry
	if p != nil {
		if p.MaxAttempts > 0 {
			rp.MaxAttempts = p.MaxAttempts
		}
		if p.InitialInterval > 0 {
			rp.InitialInterval = p.InitialInterval
		}
		if p.Backoff > 0 {
			rp.Backoff = p.Backoff
		}
		if p.MaxInterval > 0 {
			rp.MaxInterval = p.MaxInterval
		}
		rp.NonRetryable = p.NonRetryable
	}
	if rp.MaxInterval < rp.InitialInterval {
		rp.MaxInterval = rp.InitialInterval
	}
	return &temporal.RetryPolicy{
		MaximumAttempts:        int32(rp.MaxAttempts),
		InitialInterval:        rp.InitialInterval.D(),
		BackoffCoefficient:     rp.Backoff,
		MaximumInterval:        rp.MaxInterval.D(),
		NonRetryableErrorTypes: rp.NonRetryable,
	}
}

// stoppedByDeadline reports whether a call's retries stopped because its
// schedule-to-close deadline (the step's timeout) left no time for the next
// attempt, rather than because the error was final or attempts ran out. A
// server says so in the retry state; the test environment does not, so a
// retryable failure with attempts left counts too.
func stoppedByDeadline(err error, se *StepError, rp *temporal.RetryPolicy) bool {
	var acte *temporal.ActivityError
	if errors.As(err, &acte) && acte.RetryState() == enumspb.RETRY_STATE_TIMEOUT {
		return true
	}
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) || ae.NonRetryable() || slices.Contains(rp.NonRetryableErrorTypes, ae.Type()) {
		return false
	}
	return se.attempts > 0 && (rp.MaximumAttempts == 0 || int32(se.attempts) < rp.MaximumAttempts)
}

func (r *runner) call(ctx workflow.Context, sc *scope, st *dsl.Step, state *StepState) (any, error) {
	var args any = map[string]any{}
	if st.Call.With != nil {
		v, err := st.Call.With.Eval(r.act(ctx, sc))
		if err != nil {
			return nil, err
		}
		args = v
	}
	if _, ok := args.(map[string]any); !ok {
		return nil, newErr(activities.InvalidArguments, st.Label(), "`with` must give a map of arguments, got %s", dsl.Stringify(args))
	}
	state.Input = args
	raw, err := jsonArg(args)
	if err != nil {
		return nil, newErr(activities.InvalidArguments, st.Label(), "%v", err)
	}
	attempt := st.Call.Timeout.D()
	if attempt <= 0 {
		attempt = time.Minute
	}
	ao := workflow.ActivityOptions{StartToCloseTimeout: attempt, RetryPolicy: retryPolicy(st.Retry)}
	if st.Timeout > 0 {
		ao.ScheduleToCloseTimeout = st.Timeout.D()
		if ao.StartToCloseTimeout > ao.ScheduleToCloseTimeout {
			ao.StartToCloseTimeout = ao.ScheduleToCloseTimeout
		}
	}
	actx := workflow.WithActivityOptions(ctx, ao)
	var res activities.Result
	if err := workflow.ExecuteActivity(actx, st.Call.Activity, raw).Get(actx, &res); err != nil {
		se := toStepError(err, st.Label())
		if se.attempts > 0 {
			state.Attempts = se.attempts
		}
		if st.Timeout > 0 && stoppedByDeadline(err, se, ao.RetryPolicy) {
			// the step's time ran out between attempts: like every other
			// step kind, a step that exceeds its timeout fails with Timeout
			return nil, &StepError{Type: ErrTimeout, Step: st.Label(), Details: se.Details, attempts: se.attempts,
				Message: fmt.Sprintf("step `%s` exceeded its timeout of %s (last attempt: %s: %s)", st.Label(), st.Timeout.D(), se.Type, se.Message)}
		}
		return nil, se
	}
	state.Attempts = int(res.Attempt)
	var out any
	if len(res.Output) > 0 {
		out, err = dsl.DecodeJSON(res.Output)
		if err != nil {
			return nil, newErr(activities.ActionError, st.Label(), "action result is not JSON: %v", err)
		}
	}
	if len(st.Call.Compensate) > 0 {
		r.comps = append(r.comps, r.compEntryFor(sc, st, out))
	}
	return out, nil
}

// compEntryFor snapshots the scope a compensable call ran in, including its
// own (just-produced) result.
func (r *runner) compEntryFor(sc *scope, st *dsl.Step, out any) compEntry {
	act := r.view(sc)
	steps := mergedSteps(sc)
	if st.ID != "" {
		steps[st.ID] = stepResult(StatusSucceeded, out, nil)
	}
	e := compEntry{Path: st.Path, Iter: sc.iter, Steps: steps}
	//workflowcheck:ignore (copies map entries into a map: order cannot matter)
	for k, kind := range act.Locals {
		if e.Locals == nil {
			e.Locals, e.Kinds = map[string]any{}, map[string]string{}
		}
		e.Locals[k], e.Kinds[k] = act.Values[k], kind
	}
	return e
}

func (r *runner) set(ctx workflow.Context, sc *scope, st *dsl.Step) (any, error) {
	act := r.act(ctx, sc)
	out := make(map[string]any, len(st.Set))
	for _, a := range st.Set {
		v, err := a.Value.Eval(act)
		if err != nil {
			return nil, err
		}
		out[a.Name] = v
	}
	for _, a := range st.Set {
		r.vars[a.Name] = out[a.Name]
	}
	return dsl.Clone(out), nil
}

func (r *runner) switchStep(ctx workflow.Context, sc *scope, st *dsl.Step) (any, error) {
	chosen := -2 // -1 = default
	if f, ok := r.popFrame(); ok {
		chosen = f.Case
	} else {
		act := r.act(ctx, sc)
		for i, c := range st.Switch.Cases {
			ok, err := dsl.EvalBool(c.When, act)
			if err != nil {
				return nil, err
			}
			if ok {
				chosen = i
				break
			}
		}
		if chosen == -2 {
			chosen = -1
		}
	}
	var block []*dsl.Step
	if chosen >= 0 {
		block = st.Switch.Cases[chosen].Steps
	} else {
		block = st.Switch.Default
	}
	if block == nil {
		return nil, nil
	}
	out, err := r.execBlock(ctx, sc, block)
	var u *canUnwind
	if errors.As(err, &u) {
		u.push(Frame{Kind: "switch", Case: chosen})
	}
	return out, err
}

func (r *runner) parallel(ctx workflow.Context, sc *scope, st *dsl.Step) (any, error) {
	branches := st.Parallel.Branches
	anyMode := st.Parallel.Mode == "any"
	n := len(branches)
	outs := make([]any, n)
	bctx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	r.concurrent++
	defer func() { r.concurrent-- }()
	done, winner := 0, -1
	var firstErr error
	returned := false
	for i := range branches {
		workflow.Go(bctx, func(gctx workflow.Context) {
			out, err := r.execBlock(gctx, sc, branches[i])
			done++
			var ret *returnSignal
			switch {
			case err != nil && errors.As(err, &ret) && winner < 0 && !returned:
				// a `return` in a branch ends the run now, in either mode
				returned, firstErr = true, err
				cancel()
			case err != nil:
				// all: the first failure fails the step and cancels the others;
				// any: the step fails only when every branch failed (with the first failure).
				if firstErr == nil && (winner < 0 || !anyMode) {
					firstErr = err
				}
				if !anyMode {
					cancel()
				}
			case anyMode && winner < 0:
				winner, outs[i] = i, out
				cancel()
			default:
				outs[i] = out
			}
		})
	}
	// when ctx is cancelled (exitWhen, a timeout) the branches are cancelled
	// with it: wait until they have wound down (recorded their status, run
	// their finally blocks) before the step ends
	wctx, stop := workflow.NewDisconnectedContext(ctx)
	defer stop()
	_ = workflow.Await(wctx, func() bool { return done == n })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if returned {
		return nil, firstErr
	}
	if anyMode {
		if winner >= 0 {
			return map[string]any{"branch": int64(winner), "output": outs[winner]}, nil
		}
		return nil, firstErr
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return outs, nil
}

func (r *runner) foreach(ctx workflow.Context, sc *scope, st *dsl.Step) (any, error) {
	fe := st.Foreach
	var items []any
	start := 0
	var acc []any
	f, resumed := r.popFrame()
	if resumed {
		items, start, acc = f.Items, f.Iter, f.Acc
	} else {
		var v any
		var err error
		if fe.Items != nil {
			v, err = fe.Items.Eval(r.act(ctx, sc))
		} else {
			v, err = dsl.EvalExpr(fe.In, r.act(ctx, sc))
		}
		if err != nil {
			return nil, err
		}
		if v == nil {
			v = []any{}
		}
		l, ok := v.([]any)
		if !ok {
			return nil, newErr(ErrExpression, st.Label(), "`foreach.in` must be a list, got %s", typeOf(v))
		}
		items = l
	}
	results := make([]any, len(items))
	copy(results, acc)
	iterScope := func(i int) *scope {
		isc := sc.child(sc.iter+"#"+strconv.Itoa(i), true).set(fe.As, "dyn", items[i]).set("index", "int", int64(i))
		isc.steps = notRun(r.loopIDs[st.Path])
		return isc
	}
	if fe.Concurrency <= 1 {
		for i := start; i < len(items); i++ {
			isc := iterScope(i)
			if resumed && f.InBody && i == start {
				isc.steps = f.Steps
				if isc.steps == nil {
					isc.steps = map[string]any{}
				}
			} else if i > start {
				// (not at the iteration it resumed at: a generation makes progress)
				if r.shouldContinueAsNew(ctx) {
					return nil, &canUnwind{frames: []Frame{{Kind: "foreach", Iter: i, Acc: results[:i], Items: items}}}
				}
			}
			out, err := r.execBlock(ctx, isc, fe.Steps)
			if err != nil {
				var u *canUnwind
				if errors.As(err, &u) {
					u.push(Frame{Kind: "foreach", Iter: i, InBody: true, Acc: results[:i], Items: items, Steps: isc.steps})
				}
				return nil, err
			}
			results[i] = out
		}
		return results, nil
	}
	// concurrent iterations: bounded, results in input order, first failure cancels the rest
	r.concurrent++
	defer func() { r.concurrent-- }()
	ictx, cancel := workflow.WithCancel(ctx)
	defer cancel()
	running, done, next := 0, 0, 0
	var firstErr error
	for next < len(items) {
		if err := workflow.Await(ctx, func() bool { return running < fe.Concurrency || firstErr != nil }); err != nil {
			break // cancelled: start no more, wait for the running ones below
		}
		if firstErr != nil {
			break
		}
		i := next
		next++
		running++
		workflow.Go(ictx, func(gctx workflow.Context) {
			out, err := r.execBlock(gctx, iterScope(i), fe.Steps)
			running--
			done++
			if err != nil {
				if firstErr == nil {
					firstErr = err
					cancel()
				}
				return
			}
			results[i] = out
		})
	}
	launched := next
	wctx, stop := workflow.NewDisconnectedContext(ctx)
	defer stop()
	_ = workflow.Await(wctx, func() bool { return done == launched })
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if firstErr != nil {
		return nil, firstErr
	}
	return results, nil
}

func (r *runner) while(ctx workflow.Context, sc *scope, st *dsl.Step) (any, error) {
	w := st.While
	start, inBody := 0, false
	var last any
	if f, ok := r.popFrame(); ok {
		start, inBody, last = f.Iter, f.InBody, f.Last
	}
	for i := start; ; i++ {
		if !(inBody && i == start) {
			if i > start { // (not at the iteration it resumed at: a generation makes progress)
				if r.shouldContinueAsNew(ctx) {
					return nil, &canUnwind{frames: []Frame{{Kind: "while", Iter: i, Last: last}}}
				}
			}
			ok, err := dsl.EvalBool(w.Condition, r.act(ctx, sc))
			if err != nil {
				return nil, err
			}
			if !ok {
				return last, nil
			}
			if i >= w.MaxIterations {
				return nil, newErr(ErrLoopLimit, st.Label(), "`while` exceeded maxIterations (%d)", w.MaxIterations)
			}
		}
		isc := sc.child(sc.iter+"#"+strconv.Itoa(i), false)
		out, err := r.execBlock(ctx, isc, w.Steps)
		if err != nil {
			var u *canUnwind
			if errors.As(err, &u) {
				u.push(Frame{Kind: "while", Iter: i, InBody: true, Last: last})
			}
			return nil, err
		}
		last = out
	}
}

func (r *runner) wait(ctx workflow.Context, sc *scope, st *dsl.Step, state *StepState) (any, error) {
	now := workflow.Now(ctx)
	var d time.Duration
	switch {
	case st.Wait.Until != "":
		v, err := dsl.EvalExpr(st.Wait.Until, r.act(ctx, sc))
		if err != nil {
			return nil, err
		}
		s, ok := v.(string)
		if !ok {
			return nil, newErr(ErrExpression, st.Label(), "`wait.until` must be a timestamp, got %s", typeOf(v))
		}
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, newErr(ErrExpression, st.Label(), "`wait.until` is not a timestamp: %q", s)
		}
		d = t.Sub(now)
	case st.Wait.BusinessHours != nil && st.Wait.BusinessHours.Calendar != "":
		deadline, err := r.calendarDeadline(ctx, st, now)
		if err != nil {
			return nil, err
		}
		d = deadline.Sub(workflow.Now(ctx)) // the time the activity took counts

	case st.Wait.BusinessHours != nil:
		d = businessDeadline(now, st.Wait.For.D(), st.Wait.BusinessHours).Sub(now)
	default:
		d = st.Wait.For.D()
	}
	if d > 0 {
		state.Status = StatusWaiting
		if err := workflow.NewTimer(ctx, d).Get(ctx, nil); err != nil {
			return nil, err
		}
		state.Status = StatusRunning
	}
	return map[string]any{"firedAt": workflow.Now(ctx).UTC().Format(time.RFC3339Nano)}, nil
}

// calendarDeadline asks the calendar action when st's working time, counted
// in the organisation's calendar, ends. Where there are no records
// (switchboard run), "default" is the built-in Mon–Fri 09:00–17:00 UTC.
func (r *runner) calendarDeadline(ctx workflow.Context, st *dsl.Step, now time.Time) (time.Time, error) {
	bh := st.Wait.BusinessHours
	args, _ := jsonArg(map[string]any{"duration": st.Wait.For.D().String(), "start": now.UTC().Format(time.RFC3339Nano), "calendar": bh.Calendar})
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{StartToCloseTimeout: time.Minute, RetryPolicy: retryPolicy(nil)})
	var res activities.Result
	if err := workflow.ExecuteActivity(actx, bh.Activity, args).Get(actx, &res); err != nil {
		se := toStepError(err, st.Label())
		if se.Type == "NoRecords" && bh.Calendar == "default" {
			return businessDeadline(now, st.Wait.For.D(), bh), nil
		}
		return time.Time{}, se
	}
	out, err := dsl.DecodeJSON(res.Output)
	m, _ := out.(map[string]any)
	s, _ := m["deadline"].(string)
	deadline, perr := time.Parse(time.RFC3339Nano, s)
	if err != nil || perr != nil {
		return time.Time{}, newErr(activities.ActionError, st.Label(), "%s gave no deadline: %s", dsl.CalendarAction, res.Output)
	}
	return deadline, nil
}

func (r *runner) waitFor(ctx workflow.Context, sc *scope, st *dsl.Step, state *StepState) (any, error) {
	w := st.WaitFor
	var payload any
	var got bool
	var werr error
	match := func() bool {
		q := r.signals[w.Signal]
		for i, p := range q {
			if w.When != "" {
				ok, err := dsl.EvalBool(w.When, r.act(ctx, sc.child(sc.iter, false).set("signal", "dyn", p)))
				if err != nil {
					werr = err
					return true
				}
				if !ok {
					continue
				}
			}
			payload, got = p, true
			r.signals[w.Signal] = append(append([]any(nil), q[:i]...), q[i+1:]...)
			return true
		}
		return false
	}
	if !match() {
		state.Status = StatusWaiting
		if w.Timeout > 0 {
			ok, err := workflow.AwaitWithTimeout(ctx, w.Timeout.D(), match)
			if err != nil {
				return nil, err
			}
			if !ok {
				return map[string]any{"timedOut": true}, nil
			}
		} else if err := workflow.Await(ctx, match); err != nil {
			return nil, err
		}
		state.Status = StatusRunning
	}
	if werr != nil {
		return nil, werr
	}
	if !got {
		return map[string]any{"timedOut": true}, nil
	}
	return map[string]any{"timedOut": false, "payload": payload}, nil
}

func (r *runner) child(ctx workflow.Context, sc *scope, st *dsl.Step, state *StepState) (any, error) {
	c := st.Workflow
	var input any = map[string]any{}
	if c.With != nil {
		v, err := c.With.Eval(r.act(ctx, sc))
		if err != nil {
			return nil, err
		}
		input = v
	}
	state.Input = input
	actx := workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: 30 * time.Second,
		RetryPolicy:         &temporal.RetryPolicy{MaximumAttempts: 5, NonRetryableErrorTypes: []string{ErrWorkflowNotFound}},
	})
	var res ResolveResult
	if err := workflow.ExecuteActivity(actx, ResolveActivity, ResolveRequest{Org: r.in.Meta.Org, Name: c.Workflow, Revision: c.Revision}).Get(actx, &res); err != nil {
		return nil, toStepError(err, st.Label())
	}
	if res.Plan == nil {
		return nil, newErr(ErrWorkflowNotFound, st.Label(), "workflow %q has no deployed revision", c.Workflow)
	}
	raw, err := jsonArg(input)
	if err != nil {
		return nil, err
	}
	info := workflow.GetInfo(ctx)
	opts := workflow.ChildWorkflowOptions{
		// unique per run even when the parent's workflow id is reused (a
		// concurrency key's next run) while an abandoned child still runs
		WorkflowID: fmt.Sprintf("%s/%s/%s", info.WorkflowExecution.ID, shortID(r.origin), state.Key),
		TaskQueue:  info.TaskQueueName,
	}
	if !c.Wait {
		opts.ParentClosePolicy = enumspb.PARENT_CLOSE_POLICY_ABANDON // the child outlives this run
	}
	meta := RunMeta{Revision: res.Revision}
	if org := r.in.Meta.Org; org != "" {
		meta.Org = org
		meta.ID = strings.TrimPrefix(opts.WorkflowID, org+"/")
		opts.TypedSearchAttributes = RunAttributes(org, c.Workflow, res.Revision)
	}
	state.ChildWorkflowID = opts.WorkflowID
	cctx := workflow.WithChildOptions(ctx, opts)
	fut := workflow.ExecuteChildWorkflow(cctx, WorkflowName, RunInput{Plan: res.Plan, Input: raw, Meta: meta, Options: r.opts})
	var ex workflow.Execution
	if err := fut.GetChildWorkflowExecution().Get(ctx, &ex); err != nil {
		return nil, toStepError(err, st.Label())
	}
	if !c.Wait {
		return map[string]any{"runId": ex.RunID, "workflowId": ex.ID}, nil
	}
	var out json.RawMessage
	if err := fut.Get(ctx, &out); err != nil {
		return nil, toStepError(err, st.Label())
	}
	if len(out) == 0 {
		return nil, nil
	}
	return dsl.DecodeJSON(out)
}

func (r *runner) try(ctx workflow.Context, sc *scope, st *dsl.Step) (any, error) {
	t := st.Try
	phase, catchIdx := "try", -1
	var caught *StepError
	if f, ok := r.popFrame(); ok {
		phase, catchIdx, caught = f.Phase, f.Case, f.Err
	}
	var out any
	var err error
	if phase == "try" {
		out, err = r.execBlock(ctx, sc, t.Steps)
		var u *canUnwind
		if errors.As(err, &u) {
			u.push(Frame{Kind: "try", Phase: "try"})
			return nil, err
		}
		var ret *returnSignal
		if err != nil && !errors.As(err, &ret) && ctx.Err() == nil {
			se := toStepError(err, st.Label())
			for i, c := range t.Catch {
				if len(c.Errors) == 0 || containsStr(c.Errors, se.Type) {
					phase, catchIdx, caught = "catch", i, se
					break
				}
			}
		}
	}
	if phase == "catch" {
		c := t.Catch[catchIdx]
		csc := sc.child(sc.iter, false).set(c.As, "error", caught.asMap())
		out, err = r.execBlock(ctx, csc, c.Steps)
		var u *canUnwind
		if errors.As(err, &u) {
			u.push(Frame{Kind: "try", Phase: "catch", Case: catchIdx, Err: caught})
			return nil, err
		}
	}
	if len(t.Finally) > 0 {
		fctx := ctx
		if ctx.Err() != nil {
			var done workflow.CancelFunc
			fctx, done = workflow.NewDisconnectedContext(ctx)
			defer done()
		}
		r.noCAN++
		_, ferr := r.execBlock(fctx, sc, t.Finally)
		r.noCAN--
		if ferr != nil {
			return nil, ferr
		}
	}
	return out, err
}

func containsStr(xs []string, x string) bool {
	for _, y := range xs {
		if x == y {
			return true
		}
	}
	return false
}

func (r *runner) fail(ctx workflow.Context, sc *scope, st *dsl.Step) error {
	act := r.act(ctx, sc)
	se := &StepError{Type: st.Fail.Type, Step: st.Label(), Message: st.Fail.Type}
	if st.Fail.Message != nil {
		m, err := st.Fail.Message.Eval(act)
		if err != nil {
			return err
		}
		se.Message = dsl.Stringify(m)
	}
	if st.Fail.Details != nil {
		d, err := st.Fail.Details.Eval(act)
		if err != nil {
			return err
		}
		se.Details = d
	}
	return se
}

func typeOf(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case bool:
		return "a boolean"
	case int64, float64:
		return "a number"
	case string:
		return "a string"
	case []any:
		return "a list"
	case map[string]any:
		return "a map"
	}
	return fmt.Sprintf("%T", v)
}

// shortID is the first 8 characters of a run id (enough to tell runs of
// one workflow id apart).
func shortID(id string) string {
	if len(id) > 8 {
		return id[:8]
	}
	return id
}
