package platform

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"switchboard/activities/catalog"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/workflows"
)

// DispatcherOptions configure the event dispatcher. Client and Store are
// required; the zero value of the rest is the default.
type DispatcherOptions struct {
	Client client.Client
	Store  domain.Store
	// TaskQueue runs start on; default "switchboard".
	TaskQueue string
	Registry  *dsl.Registry
	Logger    *slog.Logger
	// Batch is how many events one claim takes; default 50.
	Batch int
	// Lease is how long a claimed event is reserved; default 1 minute.
	Lease time.Duration
	// Idle is the pause between claims that found nothing; default 200ms.
	Idle time.Duration
}

// Dispatcher delivers outbox events to the deployed `event` triggers whose
// type and `when` match: at least once, and deduplicated by a workflow id
// derived from the event id (`<definition>:event-<event id>`), so that a
// redelivered event never starts a second run. Several dispatchers may run
// at once: claims are leases.
type Dispatcher struct {
	o     DispatcherOptions
	mu    sync.Mutex
	plans map[string]*dsl.Plan
}

// NewDispatcher builds a dispatcher; Run it.
func NewDispatcher(o DispatcherOptions) *Dispatcher {
	if o.TaskQueue == "" {
		o.TaskQueue = "switchboard"
	}
	if o.Registry == nil {
		o.Registry = catalog.Registry()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.Batch <= 0 {
		o.Batch = 50
	}
	if o.Lease <= 0 {
		o.Lease = time.Minute
	}
	if o.Idle <= 0 {
		o.Idle = 200 * time.Millisecond
	}
	return &Dispatcher{o: o, plans: map[string]*dsl.Plan{}}
}

// Run delivers events until ctx is done.
func (d *Dispatcher) Run(ctx context.Context) error {
	for {
		n, err := d.Once(ctx)
		if err != nil && ctx.Err() == nil {
			d.o.Logger.Warn("events: claim", "error", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(d.o.Idle):
			}
		}
	}
}

// Once claims one batch and delivers it; it returns how many events it
// claimed.
func (d *Dispatcher) Once(ctx context.Context) (int, error) {
	events, err := d.o.Store.ClaimEvents(ctx, d.o.Batch, d.o.Lease)
	if err != nil {
		return 0, err
	}
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for _, e := range events {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			d.deliverOne(ctx, e)
		}()
	}
	wg.Wait()
	return len(events), nil
}

func (d *Dispatcher) deliverOne(ctx context.Context, e domain.Event) {
	runs, err := d.deliver(ctx, e)
	bg := context.WithoutCancel(ctx)
	if err != nil {
		// back off: 1s, 2s, 4s, ... up to 5 minutes
		wait := min(time.Duration(1<<min(e.Attempts, 9))*time.Second, 5*time.Minute)
		d.o.Logger.Warn("events: delivery failed; will retry", "event", e.ID, "type", e.Type, "attempt", e.Attempts, "retryIn", wait, "error", err)
		if merr := d.o.Store.MarkEventFailed(bg, e.OrgID, e.ID, e.Attempts, err.Error(), time.Now().Add(wait)); merr != nil && !errors.Is(merr, domain.ErrConflict) {
			d.o.Logger.Error("events: mark failed", "event", e.ID, "error", merr)
		}
		return
	}
	if err := d.o.Store.MarkEventDelivered(bg, e.OrgID, e.ID, runs); err != nil {
		d.o.Logger.Error("events: mark delivered", "event", e.ID, "error", err)
	}
}

// Deliver starts the runs of one event without marking it delivered (what
// a dispatcher that dies before marking has done); it returns their
// workflow ids. An error means the event should be retried: the runs
// already started are deduplicated by their workflow ids.
func (d *Dispatcher) Deliver(ctx context.Context, e domain.Event) ([]string, error) {
	return d.deliver(ctx, e)
}

func (d *Dispatcher) deliver(ctx context.Context, e domain.Event) ([]string, error) {
	routes, err := d.o.Store.EventRoutes(ctx, e.OrgID, e.Type)
	if err != nil {
		return nil, err
	}
	data, err := dsl.DecodeJSON(e.Data)
	if err != nil {
		data = map[string]any{}
	}
	ev := map[string]any{"id": e.ID, "type": e.Type, "data": data, "source": e.Source, "createdAt": e.CreatedAt}
	runs := []string{}
	for _, r := range routes {
		plan, err := d.plan(ctx, r)
		if err != nil {
			return nil, err
		}
		if r.Index >= len(plan.Triggers) || plan.Triggers[r.Index].Event == nil {
			continue
		}
		t := plan.Triggers[r.Index].Event
		act := dsl.Activation{Values: map[string]any{"event": ev, "now": time.Now().UTC()}, Locals: map[string]string{"event": "dyn"}}
		if t.When != "" {
			ok, err := dsl.EvalBool(t.When, act)
			if err != nil {
				d.o.Logger.Warn("events: `when` failed; trigger skipped", "event", e.ID, "definition", r.Definition, "error", err)
				continue
			}
			if !ok {
				continue
			}
		}
		if t.Signal != "" {
			target, err := d.signal(ctx, e, r, t, act, data)
			if err != nil {
				return nil, err
			}
			if target != "" {
				runs = append(runs, target)
			}
			continue
		}
		var input any = data
		if t.Input != nil {
			if input, err = t.Input.Eval(act); err != nil {
				d.o.Logger.Warn("events: `input` failed; trigger skipped", "event", e.ID, "definition", r.Definition, "error", err)
				continue
			}
		}
		raw, err := dsl.MarshalJSON(input)
		if err != nil {
			continue
		}
		v, err := dsl.DecodeJSON(raw)
		if err == nil {
			err = plan.ValidateInput(v)
		}
		if err != nil {
			d.o.Logger.Warn("events: input does not match the workflow's schema; trigger skipped", "event", e.ID, "definition", r.Definition, "error", err)
			continue
		}
		started, err := workflows.Start(ctx, d.o.Client, plan, workflows.StartOptions{TaskQueue: d.o.TaskQueue,
			Input: raw, ID: r.Definition + ":event-" + e.ID, IDPrefix: e.OrgID + "/", Existing: true,
			Meta:       workflows.RunMeta{Revision: r.Revision, Org: e.OrgID},
			Attributes: workflows.RunAttributes(e.OrgID, r.Definition, r.Revision)})
		if err != nil {
			return nil, fmt.Errorf("start %s: %w", r.Definition, err)
		}
		runs = append(runs, started.WorkflowID)
	}
	return runs, nil
}

// signal delivers an event to the run a signalling trigger's target
// names, with its input (default: the event's data) as the payload. It
// returns the run's workflow id, or "" when the target is empty or names no
// running run (nothing to deliver to: logged, not retried). Delivery is at
// least once: a dispatcher that dies between the signal and marking the
// event signals again.
func (d *Dispatcher) signal(ctx context.Context, e domain.Event, r domain.TriggerRoute, t *dsl.EventTrigger, act dsl.Activation, data any) (string, error) {
	tv, err := t.Target.Eval(act)
	target := ""
	if err == nil {
		target = dsl.Stringify(tv)
	}
	if err != nil || target == "" || tv == nil {
		d.o.Logger.Warn("events: `target` gave no run; signal skipped", "event", e.ID, "definition", r.Definition, "error", err)
		return "", nil
	}
	var payload any = data
	if t.Input != nil {
		if payload, err = t.Input.Eval(act); err != nil {
			d.o.Logger.Warn("events: `input` failed; signal skipped", "event", e.ID, "definition", r.Definition, "error", err)
			return "", nil
		}
	}
	raw, err := dsl.MarshalJSON(payload)
	if err != nil {
		return "", nil
	}
	wid := e.OrgID + "/" + target
	if err := d.o.Client.SignalWorkflow(ctx, wid, "", t.Signal, json.RawMessage(raw)); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			d.o.Logger.Info("events: no running run to signal", "event", e.ID, "run", target, "signal", t.Signal)
			return "", nil
		}
		return "", fmt.Errorf("signal %s: %w", target, err)
	}
	return wid, nil
}

// plan is the compiled plan of a route's revision (cached: revisions are
// immutable).
func (d *Dispatcher) plan(ctx context.Context, r domain.TriggerRoute) (*dsl.Plan, error) {
	key := fmt.Sprintf("%s/%s@%d", r.OrgID, r.DefinitionID, r.Revision)
	d.mu.Lock()
	p := d.plans[key]
	d.mu.Unlock()
	if p != nil {
		return p, nil
	}
	rev, err := d.o.Store.GetRevision(ctx, r.OrgID, r.DefinitionID, r.Revision)
	if err != nil {
		return nil, err
	}
	p, diags := dsl.Compile(r.Definition+".yaml", []byte(rev.Source), dsl.Options{Registry: d.o.Registry})
	if len(diags) > 0 {
		return nil, fmt.Errorf("%s revision %d no longer compiles: %s", r.Definition, r.Revision, diags[0])
	}
	d.mu.Lock()
	if len(d.plans) > 1000 {
		d.plans = map[string]*dsl.Plan{}
	}
	d.plans[key] = p
	d.mu.Unlock()
	return p, nil
}
