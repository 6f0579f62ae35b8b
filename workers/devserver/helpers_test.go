package devserver_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"switchboard/workers/devserver"
	"switchboard/workflows"
)

// testServer starts an in-memory server for one test and returns a client;
// both are closed when the test ends.
func testServer(ctx context.Context, t *testing.T) client.Client {
	t.Helper()
	srv, err := devserver.Start(ctx, devserver.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = srv.Stop() })
	c, err := srv.Client(client.Options{})
	require.NoError(t, err)
	t.Cleanup(c.Close)
	return c
}

// interpreterWorker starts a worker on queue with the interpreter
// registered; register activities with register before it starts.
func interpreterWorker(t *testing.T, c client.Client, queue string, register func(worker.Worker)) {
	t.Helper()
	w := worker.New(c, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	if register != nil {
		register(w)
	}
	require.NoError(t, w.Start())
	t.Cleanup(w.Stop)
}
