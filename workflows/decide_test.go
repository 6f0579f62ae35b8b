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

// The `decide` update's validator rejects decisions for unknown tasks, by
// deciders who are not assignees or lack the role, and with form data that
// does not match the form; the `tasks` query lists the open tasks.
func TestDecideUpdateAndTasksQuery(t *testing.T) {
	t.Parallel()
	plan := compile(t, `
steps:
  - id: review
    approval:
      title: 'Review ${ input.id }'
      assignees: {role: admin}
      form: {type: object, required: [score], properties: {score: {type: integer}}}
      timeout: 1d
  - id: sign
    approval:
      title: Sign
      assignees: {users: [ana@example.com]}
output: '${ {"review": steps.review.output, "sign": steps.sign.output} }'
`)
	var suite testsuite.WorkflowTestSuite
	suite.SetLogger(log.NewStructuredLogger(slog.New(slog.NewTextHandler(io.Discard, nil))))
	env := suite.NewTestWorkflowEnvironment()
	env.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})

	type attempt struct {
		at       time.Duration
		d        workflows.Decision
		rejected string // substring of the rejection, "" when accepted
	}
	attempts := []attempt{
		{time.Minute, workflows.Decision{Task: "nope", By: "x", Roles: []string{"owner"}}, "no open task"},
		{2 * time.Minute, workflows.Decision{Task: "review", By: "op", Roles: []string{"operator"}, Approved: true, Data: json.RawMessage(`{"score": 1}`)}, "role admin"},
		{3 * time.Minute, workflows.Decision{Task: "review", By: "boss", Roles: []string{"admin"}, Approved: true, Data: json.RawMessage(`{"score": "high"}`)}, "form"},
		{4 * time.Minute, workflows.Decision{Task: "review", Roles: []string{"admin"}, Approved: true, Data: json.RawMessage(`{"score": 1}`)}, "by"},
		{5 * time.Minute, workflows.Decision{Task: "review", By: "boss", Roles: []string{"owner"}, Approved: true, Comment: "fine", Data: json.RawMessage(`{"score": 9}`)}, ""},
		// the step has finished: its task is closed
		{6 * time.Minute, workflows.Decision{Task: "review", By: "boss", Roles: []string{"owner"}, Approved: false}, "already closed"},
		{7 * time.Minute, workflows.Decision{Task: "sign", By: "bob@example.com", Roles: []string{"owner"}, Approved: true}, "not an assignee"},
		{8 * time.Minute, workflows.Decision{Task: "sign", By: "ana@example.com", Approved: true}, ""},
	}
	results := make([]string, len(attempts))
	for i, a := range attempts {
		env.RegisterDelayedCallback(func() {
			env.UpdateWorkflow(workflows.UpdateDecide, "", &testsuite.TestUpdateCallback{
				OnAccept:   func() { results[i] = "accepted" },
				OnReject:   func(err error) { results[i] = "rejected: " + err.Error() },
				OnComplete: func(any, error) {},
			}, a.d)
		}, a.at)
	}
	var tasksAt90s, tasksAt7m []*workflows.Task
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryTasks)
		require.NoError(t, err)
		require.NoError(t, v.Get(&tasksAt90s))
	}, 90*time.Second)
	env.RegisterDelayedCallback(func() {
		v, err := env.QueryWorkflow(workflows.QueryTasks)
		require.NoError(t, err)
		require.NoError(t, v.Get(&tasksAt7m))
	}, 7*time.Minute+30*time.Second)

	env.ExecuteWorkflow(workflows.WorkflowName, workflows.RunInput{Plan: plan, Input: json.RawMessage(`{"id": "Q-1"}`)})
	require.True(t, env.IsWorkflowCompleted())
	require.NoError(t, env.GetWorkflowError())
	var out json.RawMessage
	require.NoError(t, env.GetWorkflowResult(&out))
	require.JSONEq(t, `{"review": {"approved": true, "decidedBy": "boss", "comment": "fine", "data": {"score": 9}},
		"sign": {"approved": true, "decidedBy": "ana@example.com", "comment": "", "data": {}}}`, string(out))

	for i, a := range attempts {
		if a.rejected == "" {
			require.Equal(t, "accepted", results[i], "attempt %d", i)
		} else {
			require.Contains(t, results[i], "rejected: ", "attempt %d", i)
			require.Contains(t, results[i], a.rejected, "attempt %d", i)
		}
	}
	require.Len(t, tasksAt90s, 1)
	require.Equal(t, "review", tasksAt90s[0].Step)
	require.Equal(t, "Review Q-1", tasksAt90s[0].Title)
	require.Equal(t, "admin", tasksAt90s[0].Role)
	require.NotNil(t, tasksAt90s[0].Deadline)
	require.JSONEq(t, `{"type": "object", "required": ["score"], "properties": {"score": {"type": "integer"}}}`, string(tasksAt90s[0].Form))
	require.Len(t, tasksAt7m, 1)
	require.Equal(t, "sign", tasksAt7m[0].Step)
	require.Equal(t, []string{"ana@example.com"}, tasksAt7m[0].Users)
}
