package devserver_test

import (
	"context"
	"encoding/json"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	"switchboard/dsl"
	"switchboard/workers/devserver"
	"switchboard/workflows"
)

// TestServerRunsAPlanAndSurvivesRestart starts a real Temporal server on a
// SQLite file, runs a plan with a timer and an activity, stops the server
// mid-timer, starts it again on the same file and sees the run complete.
func TestServerRunsAPlanAndSurvivesRestart(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	db := filepath.Join(t.TempDir(), "temporal.db")
	srv, err := devserver.Start(ctx, devserver.Options{DatabaseFile: db})
	require.NoError(t, err)

	reg := &dsl.Registry{}
	reg.MustRegister(dsl.Action{Name: "test.echo", Input: json.RawMessage(`{"type":"object"}`)})
	plan, diags := dsl.Compile("t.yaml", []byte(`
switchboard: v1
name: restart
steps:
  - wait: 3s
  - id: echo
    call: test.echo
    with: {n: '${ input.n * 2 }'}
output: ${ steps.echo.output.n }
`), dsl.Options{Registry: reg})
	require.Empty(t, diags)

	startWorker := func(c client.Client) worker.Worker {
		w := worker.New(c, "q", worker.Options{})
		w.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
		w.RegisterActivityWithOptions(activities.Wrap(reg, "test.echo", func(_ context.Context, args map[string]any) (any, error) {
			return args, nil
		}), activity.RegisterOptions{Name: "test.echo"})
		require.NoError(t, w.Start())
		return w
	}
	c, err := srv.Client(client.Options{})
	require.NoError(t, err)
	w := startWorker(c)
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: "restart-1", TaskQueue: "q"},
		workflows.WorkflowName, workflows.RunInput{Plan: plan, Input: json.RawMessage(`{"n": 21}`)})
	require.NoError(t, err)
	time.Sleep(500 * time.Millisecond) // the run is now waiting on its timer
	w.Stop()
	c.Close()
	require.NoError(t, srv.Stop())

	srv, err = devserver.Start(ctx, devserver.Options{DatabaseFile: db, Port: 0})
	require.NoError(t, err)
	defer srv.Stop()
	c, err = srv.Client(client.Options{})
	require.NoError(t, err)
	defer c.Close()
	w = startWorker(c)
	defer w.Stop()
	var out json.RawMessage
	require.NoError(t, c.GetWorkflow(ctx, "restart-1", run.GetRunID()).Get(ctx, &out))
	require.JSONEq(t, `42`, string(out))
}
