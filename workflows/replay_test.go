package workflows_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"switchboard/workflows"
)

// replay replays one committed history. The recorder ran each case with
// workflow id "replay-<case>"; child workflow ids derive from it, so replay
// uses the same id.
func replay(file string) error {
	r := worker.NewWorkflowReplayer()
	r.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	f, err := os.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	h, err := client.HistoryFromJSON(f, client.HistoryJSONOptions{})
	if err != nil {
		return err
	}
	name := strings.TrimSuffix(filepath.Base(file), ".history.json")
	if filepath.Base(filepath.Dir(file)) == "incompatible" {
		name, _, _ = strings.Cut(name, "-timer-first")
	}
	return r.ReplayWorkflowHistoryWithOptions(nil, h, worker.ReplayWorkflowHistoryOptions{
		OriginalExecution: workflow.Execution{ID: "replay-" + name}})
}

// TestReplayCommittedHistories replays the histories recorded on a real
// Temporal server (make histories) against the current interpreter: a
// change that would break runs in flight fails here.
func TestReplayCommittedHistories(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/*.history.json")
	require.NoError(t, err)
	require.GreaterOrEqual(t, len(files), 13, "the committed histories are missing; run make histories")
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			require.NoError(t, replay(f))
		})
	}
}

// TestReplayRejectsIncompatibleHistory proves the guard works: a history
// whose commands do not match what the interpreter now does must fail.
func TestReplayRejectsIncompatibleHistory(t *testing.T) {
	t.Parallel()
	files, err := filepath.Glob("testdata/incompatible/*.history.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		err := replay(f)
		require.Error(t, err, f)
		require.Contains(t, err.Error(), "TMPRL1100") // the SDK's nondeterminism error code
	}
}
