package local

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"sort"
	"strings"
	"time"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/converter"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	"switchboard/activities/catalog"
	"switchboard/dsl"
	"switchboard/workflows"
)

// Signal is a signal (or approval decision) delivered at an offset of
// simulated time from the start of the run.
type Signal struct {
	Name    string
	Payload json.RawMessage
	At      time.Duration
}

// Options configure a local run. The zero value runs with the built-in
// registry, real actions (loopback allowed), no mocks and no children.
type Options struct {
	Input    json.RawMessage
	Mocks    map[string]json.RawMessage // action name -> result
	Signals  []Signal
	Children map[string]*dsl.Plan // child workflows by name
	Registry *dsl.Registry
	Catalog  catalog.Options
	// Interpreter options (continue-as-new threshold, ...).
	Interpreter workflows.Options
	// Logger receives the SDK's and the interpreter's logs; nil discards them.
	Logger *slog.Logger
	// IdleTimeout bounds real time spent without progress; 0 means 5 minutes.
	IdleTimeout time.Duration
}

// Result is the outcome of a run.
type Result struct {
	Output any                 `json:"output,omitempty"`
	Error  *Failure            `json:"error,omitempty"`
	State  *workflows.RunState `json:"-"`
	// Generations counts continue-as-new hand-overs.
	Generations int `json:"-"`
	// Elapsed is the simulated time the run took.
	Elapsed time.Duration `json:"-"`
	// Stuck is set when the run can never finish: it waits (for a signal
	// or an approval decision, possibly in a child workflow) with no timer,
	// signal or call left that could end the wait. Error then describes it,
	// with type ErrRunStuck, and Run also returns an error wrapping
	// ErrStuck.
	Stuck bool `json:"-"`
}

// ErrRunStuck is the error type of a run that can never finish.
const ErrRunStuck = "RunStuck"

// ErrStuck is wrapped by the error Run returns (together with its Result)
// for a run that can never finish.
var ErrStuck = errors.New("the run did not complete: it is waiting with nothing left to happen (no timer, signal or call is pending)")

// Failure is a failed run's error.
type Failure struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Step    string `json:"step,omitempty"`
	Details any    `json:"details,omitempty"`
}

// history event estimates used in place of the server's count.
const (
	eventsPerActivity = 6
	eventsPerTimer    = 5
	eventsPerSignal   = 4
)

// Run executes plan to completion.
func Run(ctx context.Context, plan *dsl.Plan, opts Options) (*Result, error) {
	if opts.Registry == nil {
		opts.Registry = catalog.Registry()
	}
	// a local run reaches what the developer's machine reaches: its own services
	// and private networks (a compose network, a VPN), but still not
	// link-local (cloud metadata) addresses
	opts.Catalog.HTTP.AllowLoopback = true
	opts.Catalog.HTTP.AllowPrivate = true
	in := workflows.RunInput{Plan: plan, Input: opts.Input, Meta: workflows.RunMeta{Revision: 1}, Options: opts.Interpreter}
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, time.UTC)
	if s, ok := ctx.Value(startKey{}).(time.Time); ok {
		start = s
	}
	now := start
	pending := slices.Clone(opts.Signals)
	sort.SliceStable(pending, func(i, j int) bool { return pending[i].At < pending[j].At })
	res := &Result{}
	sent := map[string]int{} // signals handed to the run per name, all generations
	for gen := 0; ; gen++ {
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		env, events := newEnv(opts, now)
		offset := now.Sub(start)
		var posted []int                      // indices into pending, in delivery order
		handled := make([]bool, len(pending)) // decisions the run accepted or rejected
		lastSignal := now                     // when the latest signal was posted
		for i, s := range pending {
			delay := max(s.At-offset, 0)
			env.RegisterDelayedCallback(func() {
				lastSignal = env.Now()
				posted = append(posted, i)
				*events += eventsPerSignal
				env.SetCurrentHistoryLength(*events)
				deliver(env, plan, s, func() { handled[i] = true })
			}, delay)
		}
		var blocked *Failure
		var blockedState *workflows.RunState
		onStuck := func() {
			blockedState = queryState(env, "")
			blocked = stuckFailure(env, blockedState, plan, opts.Children)
		}
		if err := execute(env, in, onStuck); err != nil {
			if errors.Is(err, ErrStuck) && blocked != nil {
				// the clock is at the watchdog by now: the run has been
				// blocked since its last step event or signal
				last := lastSignal
				if blockedState != nil {
					for _, st := range blockedState.Steps {
						last = latest(last, st.StartedAt)
						if st.EndedAt != nil {
							last = latest(last, *st.EndedAt)
						}
					}
				}
				res.State, res.Elapsed = blockedState, last.Sub(start)
				res.Error, res.Stuck = blocked, true
				return res, fmt.Errorf("%w: %s", err, blocked.Message)
			}
			return nil, err
		}
		if st := queryState(env, ""); st != nil {
			res.State = st
		}
		now = env.Now()
		werr := env.GetWorkflowError()
		var can *workflow.ContinueAsNewError
		if errors.As(werr, &can) {
			var next workflows.RunInput
			if err := converter.GetDefaultDataConverter().FromPayloads(can.Input, &next); err != nil {
				return nil, fmt.Errorf("continue-as-new input: %w", err)
			}
			in = next
			res.Generations++
			pending = undelivered(plan, pending, posted, handled, sent, next.Resume)
			continue
		}
		res.Elapsed = now.Sub(start)
		if werr != nil {
			typ, msg, step, details, ok := workflows.RunFailure(werr)
			if !ok {
				typ, msg = "Cancelled", werr.Error()
				var ce *temporal.CanceledError
				if !errors.As(werr, &ce) {
					typ = "InternalError"
				}
			}
			res.Error = &Failure{Type: typ, Message: msg, Step: step, Details: details}
			return res, nil
		}
		var raw json.RawMessage
		// a null output (`output: ${ null }`, a null-valued return) comes
		// back as no payload at all
		if err := env.GetWorkflowResult(&raw); err != nil && !errors.Is(err, temporal.ErrNoData) {
			return nil, fmt.Errorf("reading the run's output: %w", err)
		}
		if len(raw) > 0 {
			v, err := dsl.DecodeJSON(raw)
			if err != nil {
				return nil, err
			}
			res.Output = v
		}
		return res, nil
	}
}

// stuckAfter is how far ahead of the simulated clock the watchdog sits: when
// the run has no timer, signal or activity due before it, nothing can ever
// happen again. It is just under the test environment's own limit of ten
// years per run, which would otherwise end the run with a bare timeout.
const stuckAfter = 9 * 365 * 24 * time.Hour

// stuck is the watchdog's panic value.
type stuck struct{}

// execute runs one generation. The test environment panics when it waits
// for real time without progress (IdleTimeout), and would otherwise wait
// that long for a run blocked forever (a waitFor no signal will ever
// reach): a watchdog timer far in the simulated future fires exactly when
// nothing else is left, and both become an error instead of a crash.
//
// onStuck is called when the watchdog fires, while the blocked run can
// still be queried.
func execute(env *testsuite.TestWorkflowEnvironment, in workflows.RunInput, onStuck func()) (err error) {
	env.RegisterDelayedCallback(func() {
		if !env.IsWorkflowCompleted() {
			onStuck()
			panic(stuck{})
		}
	}, stuckAfter)
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		if _, ok := p.(stuck); ok {
			err = ErrStuck
			return
		}
		if msg, ok := p.(string); ok && strings.HasPrefix(msg, "test timeout") {
			err = errors.New("the run did not complete: no progress within the idle timeout (a call may be hanging)")
			return
		}
		panic(p)
	}()
	env.ExecuteWorkflow(workflows.WorkflowName, in)
	if !env.IsWorkflowCompleted() {
		return errors.New("the run did not complete (it is waiting with nothing left to happen, or ran out of real time)")
	}
	return nil
}

// queryState reads the `state` query of the run (workflowID "") or of one
// of its child workflows; nil when it cannot be read.
func queryState(env *testsuite.TestWorkflowEnvironment, workflowID string) *workflows.RunState {
	var v converter.EncodedValue
	var err error
	if workflowID == "" {
		v, err = env.QueryWorkflow(workflows.QueryState)
	} else {
		v, err = env.QueryWorkflowByID(workflowID, workflows.QueryState)
	}
	if err != nil {
		return nil
	}
	var s workflows.RunState
	if v.Get(&s) != nil {
		return nil
	}
	return &s
}

// stuckFailure describes a run that can never finish: what its waiting
// steps wait for, following running child workflows down to the steps
// that wait. Step is the run's own step that waits (for a wait inside a
// child, the `workflow` step). st is the run's state (nil when it could
// not be read).
func stuckFailure(env *testsuite.TestWorkflowEnvironment, st *workflows.RunState, plan *dsl.Plan, children map[string]*dsl.Plan) *Failure {
	const pending = "no timer, signal or call is pending that could end the wait"
	if st == nil {
		return &Failure{Type: ErrRunStuck, Message: "the run is waiting, and " + pending}
	}
	var waits []string
	var visit func(st *workflows.RunState, p *dsl.Plan, wfID, prefix string, depth int) string
	// visit appends what st waits for to waits and returns the label of
	// its first step that waits ("" when none does).
	visit = func(st *workflows.RunState, p *dsl.Plan, wfID, prefix string, depth int) string {
		var byPath map[string]*dsl.Step
		if p != nil {
			byPath = p.StepByPath()
		}
		first := ""
		for _, s := range st.Steps {
			label := s.ID
			if label == "" {
				label = s.Path
			}
			switch {
			case s.Status == workflows.StatusWaiting && s.Kind == "waitFor":
				signal := "?"
				if ds := byPath[s.Path]; ds != nil && ds.WaitFor != nil {
					signal = ds.WaitFor.Signal
				}
				waits = append(waits, fmt.Sprintf("%sstep %s waits for signal %q", prefix, label, signal))
			case s.Status == workflows.StatusWaiting && s.Kind == "approval":
				waits = append(waits, fmt.Sprintf("%sstep %s waits for an approval decision", prefix, label))
			case s.Status == workflows.StatusRunning && s.Kind == "workflow" && depth < 50:
				id := s.ChildWorkflowID
				cst := queryState(env, id)
				if cst == nil {
					continue
				}
				inner := fmt.Sprintf("%schild workflow %q of step %s: ", prefix, cst.Workflow, label)
				if visit(cst, children[cst.Workflow], id, inner, depth+1) == "" {
					continue
				}
			default:
				continue
			}
			if first == "" {
				first = label
			}
		}
		return first
	}
	step := visit(st, plan, runID, "", 0)
	msg := "the run is waiting, and " + pending
	if len(waits) > 0 {
		msg = strings.Join(waits, "; ") + ", and " + pending
	}
	return &Failure{Type: ErrRunStuck, Message: msg, Step: step}
}

func latest(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// undelivered returns the signals the next generation must get: those not
// posted yet, and those posted at the very instant the run continued as new
// but after its last look at its signal channels (the test environment drops
// them with the finished generation, where a server would make the run see
// them). The run's checkpoint counts the signals it received per name; the
// missing ones are the last posted of that name. A decision (an update) that
// was neither accepted nor rejected never reached the run either.
func undelivered(plan *dsl.Plan, pending []Signal, posted []int, handled []bool, sent map[string]int, cp *workflows.Checkpoint) []Signal {
	again := map[int]bool{}
	var received map[string]int
	if cp != nil {
		received = cp.Received
	}
	for _, i := range posted {
		name := pending[i].Name
		switch {
		case slices.Contains(plan.Signals, name) || slices.Contains(plan.Approvals, name):
			sent[name]++
		}
	}
	for name, n := range sent {
		for j := len(posted) - 1; j >= 0 && n > received[name]; j-- {
			if i := posted[j]; pending[i].Name == name && !again[i] {
				again[i] = true
				n--
			}
		}
		sent[name] = n
	}
	done := map[int]bool{}
	for _, i := range posted {
		done[i] = !again[i]
	}
	var rest []Signal
	for i, s := range pending {
		if !done[i] {
			rest = append(rest, s)
		}
	}
	return rest
}

// runID is the workflow id of a local run (its children's ids extend it).
const runID = "local-run"

type startKey struct{}

// WithStartTime sets the simulated start time of runs started with ctx.
func WithStartTime(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, startKey{}, t)
}

func newEnv(opts Options, now time.Time) (*testsuite.TestWorkflowEnvironment, *int) {
	var suite testsuite.WorkflowTestSuite
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	suite.SetLogger(log.NewStructuredLogger(logger))
	env := suite.NewTestWorkflowEnvironment()
	env.SetStartTime(now)
	idle := opts.IdleTimeout
	if idle <= 0 {
		idle = 5 * time.Minute
	}
	env.SetTestTimeout(idle)
	// a `wait: false` child is detached: the run is complete when its own
	// steps are, as on a server (the child is not awaited)
	env.SetDetachedChildWait(false)
	// the SDK's deadlock detector (1s of workflow code without yielding)
	// misfires on a busy machine: a generation's first task decodes its
	// checkpoint, and expressions are cost-limited anyway
	env.SetWorkerOptions(worker.Options{DeadlockDetectionTimeout: 10 * time.Second})
	env.SetStartWorkflowOptions(client.StartWorkflowOptions{ID: runID, TaskQueue: "switchboard"})
	env.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	skip := map[string]bool{}
	for name := range opts.Mocks {
		skip[name] = true
	}
	copts := opts.Catalog
	copts.Skip = skip
	catalog.Register(env, opts.Registry, copts)
	for name, result := range opts.Mocks {
		a, ok := opts.Registry.Lookup(name)
		activityName := name
		if ok {
			activityName = a.ActivityName()
		}
		out := append(json.RawMessage(nil), result...)
		env.RegisterActivityWithOptions(func(ctx context.Context, _ json.RawMessage) (*activities.Result, error) {
			return &activities.Result{Output: out, Attempt: activity.GetInfo(ctx).Attempt}, nil
		}, activity.RegisterOptions{Name: activityName})
	}
	children := opts.Children
	env.RegisterActivityWithOptions(func(_ context.Context, req workflows.ResolveRequest) (*workflows.ResolveResult, error) {
		p, ok := children[req.Name]
		if !ok {
			return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("no workflow named %q next to this file", req.Name), workflows.ErrWorkflowNotFound, nil)
		}
		return &workflows.ResolveResult{Plan: p, Revision: 1}, nil
	}, activity.RegisterOptions{Name: workflows.ResolveActivity})
	events := new(int)
	*events = 3
	env.SetOnActivityCompletedListener(func(*activity.Info, converter.EncodedValue, error) {
		*events += eventsPerActivity
		env.SetCurrentHistoryLength(*events)
	})
	env.SetOnTimerFiredListener(func(string) {
		*events += eventsPerTimer
		env.SetCurrentHistoryLength(*events)
	})
	env.SetCurrentHistoryLength(*events)
	return env, events
}

// deliver sends a signal, or an approval decision when the name is an
// approval step's id.
func deliver(env *testsuite.TestWorkflowEnvironment, plan *dsl.Plan, s Signal, handled func()) {
	var payload any
	if len(s.Payload) > 0 {
		payload = json.RawMessage(s.Payload)
	}
	if slices.Contains(plan.Approvals, s.Name) {
		// a decision: the run validates it and buffers it until the
		// approval step opens its task; decisions made here are by "local"
		var d map[string]any
		var b bool
		switch {
		case len(s.Payload) == 0:
			d = map[string]any{"approved": true}
		case json.Unmarshal(s.Payload, &b) == nil:
			d = map[string]any{"approved": b}
		default:
			_ = json.Unmarshal(s.Payload, &d)
		}
		if d == nil {
			d = map[string]any{}
		}
		if _, ok := d["by"]; !ok {
			// the local runner decides with every right: as the first
			// assignee when the task names users, else as "local"
			d["by"] = "local"
			plan.Walk(func(st *dsl.Step) {
				if st.ID == s.Name && st.Approval != nil && len(st.Approval.Users) > 0 {
					d["by"] = st.Approval.Users[0]
				}
			})
		}
		raw, _ := json.Marshal(d)
		payload = json.RawMessage(raw)
	}
	handled()
	env.SignalWorkflow(s.Name, payload)
}
