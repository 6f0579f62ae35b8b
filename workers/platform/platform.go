package platform

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	"switchboard/activities/catalog"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/store/seal"
	"switchboard/workflows"
)

// Options configure the worker. Client and Store are required; the zero
// value of the rest is the default.
type Options struct {
	Client client.Client
	Store  domain.Store
	// TaskQueue to poll; default "switchboard".
	TaskQueue string
	// Registry declares the actions; default the catalog.
	Registry *dsl.Registry
	// Catalog configures the connectors (the zero value is server mode).
	Catalog catalog.Options
	// Keys open the organisations' secrets (provider keys) for the
	// connectors, unless Catalog.Secrets is set; without either the
	// connectors use their local fallbacks.
	Keys *seal.Keyring
	// Metrics is where run counters are registered; nil skips them.
	Metrics *prometheus.Registry
	// Logger; default slog.Default().
	Logger *slog.Logger
	// Worker tunes the SDK worker.
	Worker worker.Options
}

// New builds the worker; Start or Run it.
func New(o Options) (worker.Worker, error) {
	if o.Client == nil || o.Store == nil {
		return nil, errors.New("platform worker: Client and Store are required")
	}
	if o.TaskQueue == "" {
		o.TaskQueue = "switchboard"
	}
	if o.Registry == nil {
		o.Registry = catalog.Registry()
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	wo := o.Worker
	if o.Metrics != nil {
		wo.Interceptors = append(wo.Interceptors, newRunCounter(o.Metrics))
	}
	wo.DeadlockDetectionTimeout = max(wo.DeadlockDetectionTimeout, 10*time.Second)
	if wo.WorkerStopTimeout == 0 {
		// Stop drains: running activities get this long to finish
		wo.WorkerStopTimeout = 30 * time.Second
	}
	w := worker.New(o.Client, o.TaskQueue, wo)
	w.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	if o.Catalog.Store == nil {
		o.Catalog.Store = o.Store // the crm.* actions act on the platform's records
	}
	if o.Catalog.Secrets == nil && o.Keys != nil {
		o.Catalog.Secrets = activities.StoreSecrets{Store: o.Store, Keys: o.Keys}
	}
	catalog.Register(w, o.Registry, o.Catalog)
	r := &resolver{store: o.Store, reg: o.Registry}
	w.RegisterActivityWithOptions(r.resolve, activity.RegisterOptions{Name: workflows.ResolveActivity})
	return w, nil
}

type resolver struct {
	store domain.Store
	reg   *dsl.Registry
}

// resolve finds a child workflow's plan: the live revision of that name in
// the run's organisation, or the pinned revision.
func (r *resolver) resolve(ctx context.Context, req workflows.ResolveRequest) (*workflows.ResolveResult, error) {
	notFound := func(format string, args ...any) error {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf(format, args...), workflows.ErrWorkflowNotFound, nil)
	}
	if req.Org == "" {
		return nil, notFound("workflow %q: the run belongs to no organisation", req.Name)
	}
	d, err := r.store.GetDefinition(ctx, req.Org, req.Name)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, notFound("no workflow named %q", req.Name)
	} else if err != nil {
		return nil, err
	}
	n := req.Revision
	if n == 0 {
		if n = d.LiveRevision; n == 0 {
			return nil, notFound("workflow %q has no deployed revision", req.Name)
		}
	}
	rev, err := r.store.GetRevision(ctx, req.Org, d.ID, n)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, notFound("workflow %q has no revision %d", req.Name, n)
	} else if err != nil {
		return nil, err
	}
	file := req.Name + ".yaml"
	if rev.Format == "json" {
		file = req.Name + ".json"
	}
	plan, diags := dsl.Compile(file, []byte(rev.Source), dsl.Options{Registry: r.reg})
	if len(diags) > 0 {
		return nil, temporal.NewNonRetryableApplicationError(
			fmt.Sprintf("workflow %q revision %d no longer compiles: %s", req.Name, n, diags[0]), workflows.ErrWorkflowNotFound, nil)
	}
	return &workflows.ResolveResult{Plan: plan, Revision: n}, nil
}

// runCounter counts finished runs (not replays) by outcome.
type runCounter struct {
	interceptor.WorkerInterceptorBase
	finished *prometheus.CounterVec
}

func newRunCounter(reg *prometheus.Registry) *runCounter {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "switchboard_runs_finished_total",
		Help: "Runs (workflow executions) that finished on this worker, by outcome: completed, failed, cancelled, continued.",
	}, []string{"outcome"})
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if !errors.As(err, &are) {
			panic(err)
		}
		c = are.ExistingCollector.(*prometheus.CounterVec)
	}
	return &runCounter{finished: c}
}

func (c *runCounter) InterceptWorkflow(ctx workflow.Context, next interceptor.WorkflowInboundInterceptor) interceptor.WorkflowInboundInterceptor {
	return &runCounterInbound{WorkflowInboundInterceptorBase: interceptor.WorkflowInboundInterceptorBase{Next: next}, c: c}
}

type runCounterInbound struct {
	interceptor.WorkflowInboundInterceptorBase
	c *runCounter
}

func (i *runCounterInbound) ExecuteWorkflow(ctx workflow.Context, in *interceptor.ExecuteWorkflowInput) (any, error) {
	out, err := i.Next.ExecuteWorkflow(ctx, in)
	if workflow.IsReplaying(ctx) {
		return out, err
	}
	outcome := "completed"
	var can *workflow.ContinueAsNewError
	var ce *temporal.CanceledError
	switch {
	case errors.As(err, &can):
		outcome = "continued"
	case errors.As(err, &ce):
		outcome = "cancelled"
	case err != nil:
		outcome = "failed"
	}
	i.c.finished.WithLabelValues(outcome).Inc()
	return out, err
}
