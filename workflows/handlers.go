package workflows

import (
	"fmt"
	"slices"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"switchboard/dsl"
)

// taskState is an open approval task and, once decided, its decision.
type taskState struct {
	Task
	decision *Decision
	data     any
}

// registerHandlers installs the queries and the decide update. It runs
// before the first step so that no query or update is ever refused.
func (r *runner) registerHandlers(ctx workflow.Context) error {
	if err := workflow.SetQueryHandler(ctx, QueryState, func() (*RunState, error) { return r.snapshot(), nil }); err != nil {
		return err
	}
	if err := workflow.SetQueryHandler(ctx, QueryTasks, func() ([]*Task, error) { return r.openTasks(), nil }); err != nil {
		return err
	}
	return workflow.SetUpdateHandlerWithOptions(ctx, UpdateDecide,
		func(ctx workflow.Context, d Decision) (map[string]any, error) {
			t, err := r.checkDecision(d)
			if err != nil {
				return nil, err
			}
			return r.applyDecision(t, d), nil
		},
		workflow.UpdateHandlerOptions{Validator: func(ctx workflow.Context, d Decision) error {
			_, err := r.checkDecision(d)
			return err
		}})
}

func (r *runner) snapshot() *RunState {
	return &RunState{
		Workflow: r.plan.Name, Hash: r.plan.Hash, Status: r.status, Position: r.position,
		Steps: r.timeline, Tasks: r.openTasks(), Vars: r.vars, Output: r.output, Error: r.failure,
		ContinuedAsNew: r.generation,
	}
}

func (r *runner) openTasks() []*Task {
	out := []*Task{}
	for _, t := range r.tasks {
		if t.decision == nil {
			task := t.Task
			out = append(out, &task)
		}
	}
	return out
}

// findTask finds an open task by its id, or the oldest open task of a step id.
func (r *runner) findTask(id string) *taskState {
	for _, t := range r.tasks {
		if t.ID == id && t.decision == nil {
			return t
		}
	}
	for _, t := range r.tasks {
		if t.Step == id && t.decision == nil {
			return t
		}
	}
	return nil
}

// checkDecision is the update validator: it rejects decisions for unknown
// or decided tasks, by deciders who are not assignees, and with form data
// that does not match the task's form schema.
func (r *runner) checkDecision(d Decision) (*taskState, error) {
	if d.Task == "" {
		return nil, temporal.NewNonRetryableApplicationError("decision needs `task`", ErrDecisionInvalid, nil)
	}
	t := r.findTask(d.Task)
	if t == nil {
		for _, done := range r.tasks {
			if done.ID == d.Task || done.Step == d.Task {
				return nil, decisionErr(ErrTaskDecided, "task %q is already decided", d.Task)
			}
		}
		if slices.Contains(r.closed, d.Task) {
			return nil, decisionErr(ErrTaskDecided, "task %q is already closed (decided or timed out)", d.Task)
		}
		return nil, decisionErr(ErrTaskNotFound, "no open task %q", d.Task)
	}
	if d.By == "" {
		return nil, temporal.NewNonRetryableApplicationError("decision needs `by` (who decides)", ErrDecisionInvalid, nil)
	}
	if len(t.Users) > 0 && !slices.Contains(t.Users, d.By) {
		return nil, decisionErr(ErrNotAssignee, "%s is not an assignee of task %q", d.By, t.ID)
	}
	if t.Role != "" && !roleAllows(d.Roles, t.Role) {
		return nil, decisionErr(ErrNotAssignee, "deciding task %q needs the role %s or higher", t.ID, t.Role)
	}
	// a rejection needs no form data; data given with one is still checked
	if len(t.Form) > 0 && (d.Approved || len(d.Data) > 0) {
		s, err := dsl.CompileSchema(t.Form)
		if err != nil {
			return nil, fmt.Errorf("task form schema: %w", err)
		}
		var data any = map[string]any{}
		if len(d.Data) > 0 {
			if data, err = dsl.DecodeJSON(d.Data); err != nil {
				return nil, decisionErr(ErrFormInvalid, "form data is not JSON: %v", err)
			}
		}
		if err := dsl.ValidateSchema(s, data); err != nil {
			return nil, decisionErr(ErrFormInvalid, "form data does not match the task's form: %s", oneLine(err.Error()))
		}
	}
	return t, nil
}

// Error types of rejected decisions (the decide update's validator).
const (
	ErrDecisionInvalid = "DecisionInvalid"
	ErrTaskNotFound    = "TaskNotFound"
	ErrTaskDecided     = "TaskDecided"
	ErrNotAssignee     = "NotAssignee"
	ErrFormInvalid     = "FormInvalid"
)

func decisionErr(typ, format string, args ...any) error {
	return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), typ, nil)
}

func (r *runner) applyDecision(t *taskState, d Decision) map[string]any {
	dc := d
	t.decision = &dc
	t.data = map[string]any{}
	if len(d.Data) > 0 {
		if v, err := dsl.DecodeJSON(d.Data); err == nil {
			t.data = v
		}
	}
	return map[string]any{"task": t.ID, "approved": d.Approved}
}

// roleAllows reports whether any of roles ranks at least as high as need.
func roleAllows(roles []string, need string) bool {
	rank := func(r string) int {
		if i := slices.Index(dsl.Roles, r); i >= 0 {
			return i
		}
		return len(dsl.Roles)
	}
	for _, have := range roles {
		if rank(have) <= rank(need) {
			return true
		}
	}
	return false
}

func (r *runner) approval(ctx workflow.Context, sc *scope, st *dsl.Step, state *StepState) (any, error) {
	a := st.Approval
	act := r.act(ctx, sc)
	title, err := a.Title.Eval(act)
	if err != nil {
		return nil, err
	}
	desc, err := a.Description.Eval(act)
	if err != nil {
		return nil, err
	}
	now := workflow.Now(ctx)
	t := &taskState{Task: Task{ID: state.Key, Step: st.Label(), Title: dsl.Stringify(title), Description: dsl.Stringify(desc),
		Role: a.Role, Users: a.Users, Form: a.Form, CreatedAt: now}}
	if a.Timeout > 0 {
		dl := now.Add(a.Timeout.D())
		t.Deadline = &dl
	}
	r.tasks = append(r.tasks, t)
	if st.ID != "" {
		// decisions that arrived as signals before the task opened
		for len(r.signals[st.ID]) > 0 && t.decision == nil {
			p := r.signals[st.ID][0]
			r.signals[st.ID] = r.signals[st.ID][1:]
			r.decideBySignal(ctx, st.ID, p)
		}
		if len(r.signals[st.ID]) == 0 {
			delete(r.signals, st.ID)
		}
	}
	r.indexTasks(ctx)
	defer func() {
		r.tasks = slices.DeleteFunc(r.tasks, func(x *taskState) bool { return x == t })
		r.closed = append(r.closed, t.ID, t.Step)
		if len(r.closed) > 200 {
			r.closed = r.closed[len(r.closed)-200:]
		}
		r.indexTasks(ctx)
	}()
	state.Status = StatusWaiting
	state.Input = map[string]any{"task": t.ID, "title": t.Title}
	decided := func() bool { return t.decision != nil }
	if a.Timeout > 0 {
		ok, err := workflow.AwaitWithTimeout(ctx, a.Timeout.D(), decided)
		if err != nil {
			return nil, err
		}
		if !ok {
			return map[string]any{"approved": false, "timedOut": true}, nil
		}
	} else if err := workflow.Await(ctx, decided); err != nil {
		return nil, err
	}
	state.Status = StatusRunning
	d := t.decision
	return map[string]any{"approved": d.Approved, "decidedBy": d.By, "comment": d.Comment, "data": t.data}, nil
}

// signal pumps: every signal the plan listens to is read as it arrives and
// buffered (for waitFor) or acted on (exitWhen, approval decisions).

type pump struct {
	name string
	ch   workflow.ReceiveChannel
}

func (r *runner) startSignalPumps(ctx workflow.Context) {
	names := append(append([]string{}, r.plan.Signals...), r.plan.Approvals...)
	if c := r.plan.Concurrency; c != nil && c.OnConflict == "queue" {
		names = append(names, EnqueueSignal)
	}
	for _, name := range names {
		p := pump{name: name, ch: workflow.GetSignalChannel(ctx, name)}
		r.pumps = append(r.pumps, p)
		workflow.Go(ctx, func(gctx workflow.Context) {
			for {
				var payload any
				var raw rawJSON
				if !p.ch.Receive(gctx, &raw) {
					return
				}
				payload = raw.value()
				r.onSignal(gctx, p.name, payload)
			}
		})
	}
}

// drainSignals moves signals still in the channels into the buffers (before
// continue-as-new, so none is lost).
func (r *runner) drainSignals(ctx workflow.Context) {
	for _, p := range r.pumps {
		for {
			var raw rawJSON
			if !p.ch.ReceiveAsync(&raw) {
				break
			}
			r.onSignal(ctx, p.name, raw.value())
		}
	}
}

func (r *runner) onSignal(ctx workflow.Context, name string, payload any) {
	r.received[name]++
	if name == EnqueueSignal {
		if b, err := dsl.MarshalJSON(payload); err == nil {
			r.in.Queue = append(r.in.Queue, b)
		}
		return
	}
	if slices.Contains(r.plan.Approvals, name) && !slices.Contains(r.plan.Signals, name) {
		r.decideBySignal(ctx, name, payload)
		return
	}
	if r.waited[name] {
		r.signals[name] = append(r.signals[name], payload)
	}
	for _, e := range r.plan.ExitWhen {
		if e.Signal != name || r.exited {
			continue
		}
		if e.When != "" {
			sc := (&scope{steps: r.steps}).child("", false).set("signal", "dyn", payload)
			act := r.view(sc)
			if ctx != nil {
				act.Values["now"] = workflow.Now(ctx)
			} else {
				act.Values["now"] = r.started
			}
			ok, err := dsl.EvalBool(e.When, act)
			if err != nil || !ok {
				continue
			}
		}
		r.exited = true
		if r.cancelMain != nil {
			r.cancelMain()
		}
	}
}

// decideBySignal applies a decision sent as a signal named after an approval
// step's id (how `switchboard run --signal` decides). Invalid decisions are
// logged and dropped: use the `decide` update to get the rejection back.
func (r *runner) decideBySignal(ctx workflow.Context, name string, payload any) {
	if r.findTask(name) == nil {
		// like any signal, a decision that arrives before its approval step
		// opens a task is buffered for it, never dropped
		r.signals[name] = append(r.signals[name], payload)
		return
	}
	d := Decision{Task: name, By: "signal", Roles: []string{"owner"}}
	if m, ok := payload.(map[string]any); ok {
		if v, ok := m["approved"].(bool); ok {
			d.Approved = v
		}
		if v, ok := m["comment"].(string); ok {
			d.Comment = v
		}
		if v, ok := m["by"].(string); ok && v != "" {
			d.By = v
		}
		if v, ok := m["data"]; ok {
			d.Data, _ = dsl.MarshalJSON(v)
		}
	} else if b, ok := payload.(bool); ok {
		d.Approved = b
	}
	t, err := r.checkDecision(d)
	if err != nil {
		if ctx != nil {
			workflow.GetLogger(ctx).Warn("approval signal rejected", "task", name, "error", err)
		}
		return
	}
	r.applyDecision(t, d)
}

// rawJSON receives a signal payload of any JSON shape.
type rawJSON []byte

func (j *rawJSON) UnmarshalJSON(b []byte) error {
	*j = append((*j)[:0], b...)
	return nil
}

func (j rawJSON) value() any {
	if len(j) == 0 {
		return nil
	}
	v, err := dsl.DecodeJSON(j)
	if err != nil {
		return nil
	}
	return v
}

// businessDeadline adds d of working time to start under calendar bh.
func businessDeadline(start time.Time, d time.Duration, bh *dsl.BusinessHours) time.Time {
	loc, err := time.LoadLocation(bh.Timezone)
	if err != nil || len(bh.Days) == 0 || bh.End <= bh.Start {
		return start.Add(d)
	}
	t := start.In(loc)
	remaining := d
	for range 3660 {
		y, m, day := t.Date()
		open := slices.Contains(bh.Days, int(t.Weekday())) && !slices.Contains(bh.Holidays, t.Format("2006-01-02"))
		if open {
			ws := time.Date(y, m, day, bh.Start/60, bh.Start%60, 0, 0, loc)
			we := time.Date(y, m, day, bh.End/60, bh.End%60, 0, 0, loc)
			if t.Before(ws) {
				t = ws
			}
			if t.Before(we) {
				avail := we.Sub(t)
				if remaining <= avail {
					return t.Add(remaining)
				}
				remaining -= avail
			}
		}
		t = time.Date(y, m, day+1, 0, 0, 0, 0, loc)
	}
	return start.Add(d)
}
