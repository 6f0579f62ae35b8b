package devserver_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"

	"switchboard/dsl"
	"switchboard/workflows"
)

func concurrencyPlan(t *testing.T, onConflict string) *dsl.Plan {
	p, diags := dsl.Compile("c.yaml", []byte(fmt.Sprintf(`
switchboard: v1
name: enrol
concurrency: {key: '${ input.customer }', onConflict: %s}
steps:
  - waitFor: {signal: release, timeout: 1m}
output: ${ input.n }
`, onConflict)), dsl.Options{})
	require.Empty(t, diags)
	return p
}

// TestConcurrencyKey covers skip, replace and queue on a real server.
func TestConcurrencyKey(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	c := testServer(ctx, t)
	interpreterWorker(t, c, "c", nil)

	start := func(p *dsl.Plan, customer string, n int) *workflows.Started {
		s, err := workflows.Start(ctx, c, p, workflows.StartOptions{TaskQueue: "c",
			Input: json.RawMessage(fmt.Sprintf(`{"customer": %q, "n": %d}`, customer, n))})
		require.NoError(t, err)
		return s
	}
	result := func(id, runID string) (int, error) {
		var out int
		err := c.GetWorkflow(ctx, id, runID).Get(ctx, &out)
		return out, err
	}
	release := func(id string) { require.NoError(t, c.SignalWorkflow(ctx, id, "", "release", nil)) }

	t.Run("skip", func(t *testing.T) {
		p := concurrencyPlan(t, "skip")
		a := start(p, "ada", 1)
		require.Equal(t, "enrol:ada", a.WorkflowID)
		b := start(p, "ada", 2)
		require.True(t, b.Skipped)
		require.Equal(t, a.RunID, b.RunID)
		other := start(p, "bob", 3) // another key runs alongside
		require.False(t, other.Skipped)
		release(a.WorkflowID)
		release(other.WorkflowID)
		n, err := result(a.WorkflowID, a.RunID)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		n, err = result(other.WorkflowID, other.RunID)
		require.NoError(t, err)
		require.Equal(t, 3, n)
	})

	t.Run("replace", func(t *testing.T) {
		p := concurrencyPlan(t, "replace")
		a := start(p, "cy", 1)
		b := start(p, "cy", 2)
		require.NotEqual(t, a.RunID, b.RunID)
		d, err := c.DescribeWorkflowExecution(ctx, a.WorkflowID, a.RunID)
		require.NoError(t, err)
		require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_TERMINATED, d.GetWorkflowExecutionInfo().GetStatus())
		release(b.WorkflowID)
		n, err := result(b.WorkflowID, b.RunID)
		require.NoError(t, err)
		require.Equal(t, 2, n)
	})

	t.Run("queue", func(t *testing.T) {
		p := concurrencyPlan(t, "queue")
		a := start(p, "di", 1)
		b := start(p, "di", 2)
		c3 := start(p, "di", 3)
		require.True(t, b.Queued)
		require.True(t, c3.Queued)
		require.Equal(t, a.RunID, b.RunID)
		// each release finishes the current run, which hands over to the next queued input
		runs := []string{a.RunID}
		for i := range 3 {
			release(a.WorkflowID)
			if i == 2 {
				break
			}
			require.Eventually(t, func() bool {
				d, err := c.DescribeWorkflowExecution(ctx, a.WorkflowID, "")
				if err != nil {
					return false
				}
				id := d.GetWorkflowExecutionInfo().GetExecution().GetRunId()
				if id != runs[len(runs)-1] {
					runs = append(runs, id)
					return true
				}
				return false
			}, 20*time.Second, 50*time.Millisecond)
		}
		n, err := result(a.WorkflowID, "") // follows continue-as-new to the last run
		require.NoError(t, err)
		require.Equal(t, 3, n, "the queued inputs ran in order; the last one's output is 3")
		d, err := c.DescribeWorkflowExecution(ctx, a.WorkflowID, a.RunID)
		require.NoError(t, err)
		require.Equal(t, enums.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW, d.GetWorkflowExecutionInfo().GetStatus())
	})
}
