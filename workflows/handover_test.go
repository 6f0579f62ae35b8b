package workflows_test

import (
	"encoding/json"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/log"
	"go.temporal.io/sdk/testsuite"
	"go.temporal.io/sdk/workflow"

	"switchboard/workflows"
)

// An exitWhen signal that the run only sees while handing over to a new
// generation (it arrived in the same workflow task as the loop's decision
// to continue as new) ends the run instead of being carried and forgotten.
func TestExitWhenDuringHandover(t *testing.T) {
	t.Parallel()
	plan := compile(t, `
vars: {i: 0}
exitWhen: [{signal: stop}]
steps:
  - id: loop
    while:
      condition: ${ true }
      steps:
        - wait: 1m
        - set: {i: '${ vars.i + 1 }'}
`)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	env.SetCurrentHistoryLength(1_000_000) // continue as new at the first boundary
	env.RegisterDelayedCallback(func() {
		// no workflow task of its own: the run sees it with the timer firing now
		env.SignalWorkflowSkippingWorkflowTask("stop", nil)
	}, time.Minute)
	env.ExecuteWorkflow(workflows.WorkflowName, workflows.RunInput{Plan: plan})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out json.RawMessage
	require.NoError(t, env.GetWorkflowResult(&out))
	require.JSONEq(t, `{"i": 1}`, string(out))
	v, err := env.QueryWorkflow(workflows.QueryState)
	require.NoError(t, err)
	var st workflows.RunState
	require.NoError(t, v.Get(&st))
	require.Equal(t, "completed", st.Status)
	for _, s := range st.Steps {
		require.NotEqual(t, workflows.StatusRunning, s.Status, s.Key)
	}
}
