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
	"switchboard/store/storetest"
	"switchboard/workers/devserver"
	"switchboard/workflows"
)

// TestServerRunsAPlanAndSurvivesRestart starts a real Temporal server on a
// SQLite file, runs a plan with a timer and an activity, stops the server
// mid-timer, starts it again on the same file and sees the run complete.
func TestServerRunsAPlanAndSurvivesRestart(t *testing.T) {
	surviveRestart(t, devserver.Options{DatabaseFile: filepath.Join(t.TempDir(), "temporal.db")})
}

// TestPostgresPersistence is the same on PostgreSQL: the first start creates
// both databases and Temporal's schema, the second finds them up to date.
func TestPostgresPersistence(t *testing.T) {
	surviveRestart(t, devserver.Options{Postgres: storetest.PostgresDatabaseURL(t)})
}

func TestPostgresBadURL(t *testing.T) {
	for url, want := range map[string]string{
		"mysql://x/y":                               "want a postgres:// URL",
		"postgres://127.0.0.1/Bad-Name":             `database name "Bad-Name"`,
		"postgres://127.0.0.1:1/sb?sslmode=disable": "temporal postgres: creating database sb",
	} {
		_, err := devserver.Start(t.Context(), devserver.Options{Postgres: url})
		require.ErrorContains(t, err, want, url)
	}
	_, err := devserver.Start(t.Context(), devserver.Options{Postgres: "postgres://127.0.0.1/x", DatabaseFile: "x.db"})
	require.ErrorContains(t, err, "not both")
}

func surviveRestart(t *testing.T, opts devserver.Options) {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	srv, err := devserver.Start(ctx, opts)
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

	srv, err = devserver.Start(ctx, opts)
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
