package devserver_test

import (
	"context"
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"

	"switchboard/activities"
	"switchboard/dsl"
	"switchboard/workflows"
)

// TestLongLoopStaysHealthy runs a loop of 10,000 iterations, each with an
// activity and a timer, on a real Temporal server: the run continues as
// new between iterations, so no history comes near Temporal's limits
// (warning at 10,240 events, termination at 51,200), and the state carried
// across generations gives the right result.
func TestLongLoopStaysHealthy(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	c := testServer(ctx, t)

	reg := &dsl.Registry{}
	reg.MustRegister(dsl.Action{Name: "test.add", Input: json.RawMessage(`{"type":"object","required":["a","b"]}`)})
	const iterations = 10000
	plan, diags := dsl.Compile("long.yaml", []byte(strings.ReplaceAll(`
switchboard: v1
name: long-loop
vars: {i: 0, sum: 0}
steps:
  - while:
      condition: vars.i < ITER
      maxIterations: ITER
      steps:
        - id: add
          call: test.add
          with: {a: '${ vars.sum }', b: '${ vars.i }'}
        - wait: 1ms
        - set: {i: '${ vars.i + 1 }', sum: '${ steps.add.output.sum }'}
output: '${ {"i": vars.i, "sum": vars.sum} }'
`, "ITER", strconv.Itoa(iterations))), dsl.Options{Registry: reg})
	require.Empty(t, diags)

	interpreterWorker(t, c, "long", func(w worker.Worker) {
		w.RegisterActivityWithOptions(activities.Wrap(reg, "test.add", func(_ context.Context, a map[string]any) (any, error) {
			return map[string]any{"sum": a["a"].(int64) + a["b"].(int64)}, nil
		}), activity.RegisterOptions{Name: "test.add"})
	})

	started := time.Now()
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "long-loop", TaskQueue: "long"}, workflows.WorkflowName,
		workflows.RunInput{Plan: plan})
	require.NoError(t, err)
	var out map[string]int64
	require.NoError(t, run.Get(ctx, &out)) // follows continue-as-new to the last run
	require.Equal(t, map[string]int64{"i": iterations, "sum": iterations * (iterations - 1) / 2}, out)

	// every generation's history stayed well below Temporal's limits
	generations, longest := 0, 0
	runID := run.GetRunID()
	for runID != "" {
		iter := c.GetWorkflowHistory(ctx, "long-loop", runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
		n, next := 0, ""
		for iter.HasNext() {
			e, err := iter.Next()
			require.NoError(t, err)
			n++
			if a := e.GetWorkflowExecutionStartedEventAttributes(); a != nil {
				next = a.GetContinuedExecutionRunId()
			}
		}
		generations++
		longest = max(longest, n)
		runID = next
	}
	t.Logf("%d iterations: %d generations, longest history %d events, %s", iterations, generations, longest, time.Since(started).Round(time.Millisecond))
	require.Greater(t, generations, 5)
	require.Less(t, longest, 10240, "a generation's history reached Temporal's warning threshold")
}
