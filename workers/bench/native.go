package bench

import (
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
)

// Activity names used by both the DSL and the native workflows.
const (
	NoopActivity = "bench.noop"
	WorkActivity = "bench.work"
)

// the same options the interpreter uses for a call step with defaults
func activityCtx(ctx workflow.Context) workflow.Context {
	return workflow.WithActivityOptions(ctx, workflow.ActivityOptions{
		StartToCloseTimeout: time.Minute,
		RetryPolicy: &temporal.RetryPolicy{MaximumAttempts: 5, InitialInterval: time.Second,
			BackoffCoefficient: 2, MaximumInterval: time.Minute},
	})
}

// NativeSequential calls activity n times in a row, as a Go developer would write it.
func NativeSequential(ctx workflow.Context, activity string, n int) (int, error) {
	ctx = activityCtx(ctx)
	done := 0
	for i := range n {
		args := json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))
		var r activities.Result
		if err := workflow.ExecuteActivity(ctx, activity, args).Get(ctx, &r); err != nil {
			return done, err
		}
		done++
	}
	return done, nil
}

// NativeForeach calls activity n times with at most conc in flight,
// collecting results in input order.
func NativeForeach(ctx workflow.Context, activity string, n, conc int) ([]json.RawMessage, error) {
	ctx = activityCtx(ctx)
	results := make([]json.RawMessage, n)
	sem := workflow.NewSemaphore(ctx, int64(conc))
	var firstErr error
	done := 0
	for i := range n {
		if err := sem.Acquire(ctx, 1); err != nil {
			return nil, err
		}
		workflow.Go(ctx, func(gctx workflow.Context) {
			defer sem.Release(1)
			var r activities.Result
			err := workflow.ExecuteActivity(gctx, activity, json.RawMessage(fmt.Sprintf(`{"i":%d}`, i))).Get(gctx, &r)
			if err != nil && firstErr == nil {
				firstErr = err
			}
			results[i] = r.Output
			done++
		})
	}
	if err := workflow.Await(ctx, func() bool { return done == n }); err != nil {
		return nil, err
	}
	return results, firstErr
}
