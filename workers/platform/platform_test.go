package platform

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/interceptor"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"
)

// The run counter counts each finished run once, by outcome.
func TestRunCounter(t *testing.T) {
	reg := prometheus.NewRegistry()
	counter := newRunCounter(reg)
	require.Same(t, counter.finished, newRunCounter(reg).finished, "registering twice reuses the collector")
	run := func(fn func(workflow.Context) error) {
		var s testsuite.WorkflowTestSuite
		env := s.NewTestWorkflowEnvironment()
		env.SetWorkerOptions(worker.Options{Interceptors: []interceptor.WorkerInterceptor{counter}})
		env.RegisterWorkflowWithOptions(fn, workflow.RegisterOptions{Name: "w"})
		env.ExecuteWorkflow("w")
	}
	run(func(ctx workflow.Context) error { return workflow.Sleep(ctx, time.Second) })
	run(func(workflow.Context) error { return temporal.NewApplicationError("no", "Nope") })
	run(func(workflow.Context) error { return errors.New("plain") })
	value := func(outcome string) float64 {
		var m dto.Metric
		require.NoError(t, counter.finished.WithLabelValues(outcome).Write(&m))
		return m.GetCounter().GetValue()
	}
	require.Equal(t, 1.0, value("completed"))
	require.Equal(t, 2.0, value("failed"))
	require.Equal(t, 0.0, value("cancelled"))
}
