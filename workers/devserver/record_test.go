package devserver_test

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/enums/v1"
	historypb "go.temporal.io/api/history/v1"
	"go.temporal.io/api/temporalproto"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	"switchboard/dsl"
	"switchboard/workflows"
)

var record = flag.Bool("record", false, "write the recorded histories to workflows/testdata (make histories)")

const replayDir = "../../workflows/testdata"

// replayCase is one construct run on the real server.
type replayCase struct {
	file   string
	input  string
	opts   workflows.Options
	act    func(ctx context.Context, c client.Client, id string) error
	failed bool
	output string // expected output JSON, when set
}

var replayCases = []replayCase{
	{file: "sequence", input: `{"n": 20}`, output: `{"total": 41, "skipped": "skipped"}`},
	{file: "switch", input: `{"tier": "silver"}`, output: `{"tier": "silver"}`},
	{file: "parallel", output: `{"all": [{"b": 0}, {"b": 2}], "race": 1}`},
	{file: "foreach", output: `{"seq": [{"v": 10}, {"v": 21}, {"v": 32}], "conc": [{"v": 0}, {"v": 1}, {"v": 2}, {"v": 3}, {"v": 4}, {"v": 5}]}`},
	{file: "while", output: `{"i": 3}`},
	{file: "wait", output: `{"done": true}`},
	{file: "waitfor", output: `{"amount": 7, "late": true}`, act: func(ctx context.Context, c client.Client, id string) error {
		if err := c.SignalWorkflow(ctx, id, "", "payment.succeeded", map[string]any{"amount": 3}); err != nil {
			return err
		}
		return c.SignalWorkflow(ctx, id, "", "payment.succeeded", map[string]any{"amount": 7})
	}},
	{file: "approval", input: `{"discount": 15}`, output: `{"approved": true, "reason": "loyal"}`, act: func(ctx context.Context, c client.Client, id string) error {
		// wait for the task to open (the first workflow task may take a while on a busy machine)
		deadline := time.Now().Add(30 * time.Second)
		for {
			v, err := c.QueryWorkflow(ctx, id, "", workflows.QueryTasks)
			var tasks []workflows.Task
			if err == nil && v.Get(&tasks) == nil && len(tasks) > 0 {
				break
			}
			if time.Now().After(deadline) {
				return fmt.Errorf("the approval task never opened (last error: %v)", err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		// a bad decision is rejected by the validator and leaves no trace in history
		bad, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateDecide,
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{workflows.Decision{Task: "approveDiscount", Approved: true, By: "ana", Roles: []string{"admin"}, Data: json.RawMessage(`{}`)}}})
		if err == nil {
			err = bad.Get(ctx, nil)
		}
		if err == nil || !strings.Contains(err.Error(), "reason") {
			return fmt.Errorf("a decision without the required form field was not rejected: %v", err)
		}
		h, err := c.UpdateWorkflow(ctx, client.UpdateWorkflowOptions{WorkflowID: id, UpdateName: workflows.UpdateDecide,
			WaitForStage: client.WorkflowUpdateStageCompleted,
			Args:         []any{workflows.Decision{Task: "approveDiscount", Approved: true, By: "ana", Roles: []string{"admin"}, Data: json.RawMessage(`{"reason":"loyal"}`)}}})
		if err != nil {
			return err
		}
		return h.Get(ctx, nil)
	}},
	{file: "child", output: `{"kid": 3}`},
	{file: "try", output: `{"caught": "CardDeclined"}`},
	{file: "saga", failed: true},
	{file: "exit", output: `{"stage": "started"}`, act: func(ctx context.Context, c client.Client, id string) error {
		return c.SignalWorkflow(ctx, id, "", "meeting.booked", nil)
	}},
	{file: "loop-can", opts: workflows.Options{ContinueAsNewAfter: 40}, output: `{"i": 30}`},
}

// TestRecordHistories runs every construct in workflows/testdata/replay on
// the embedded server, checks each run's outcome, and checks that the
// history replays against the current interpreter. With -record it also
// writes the histories that workflows' replay test guards, and an
// incompatible one that must fail replay.
func TestRecordHistories(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	c := testServer(ctx, t)

	reg := &dsl.Registry{}
	for _, n := range []string{"test.echo", "test.fail", "test.flaky"} {
		reg.MustRegister(dsl.Action{Name: n, Input: json.RawMessage(`{"type":"object"}`)})
	}
	plans := map[string]*dsl.Plan{}
	for _, rc := range replayCases {
		src, err := os.ReadFile(filepath.Join(replayDir, "replay", rc.file+".yaml"))
		require.NoError(t, err)
		p, diags := dsl.Compile(rc.file+".yaml", src, dsl.Options{Registry: reg})
		require.Empty(t, diags, rc.file)
		plans[p.Name] = p
	}

	w := worker.New(c, "replay", worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	w.RegisterActivityWithOptions(activities.Wrap(reg, "test.echo", func(_ context.Context, a map[string]any) (any, error) { return a, nil }),
		activity.RegisterOptions{Name: "test.echo"})
	w.RegisterActivityWithOptions(activities.Wrap(reg, "test.fail", func(_ context.Context, a map[string]any) (any, error) {
		return nil, temporal.NewApplicationError("failed on purpose", fmt.Sprint(a["type"]))
	}), activity.RegisterOptions{Name: "test.fail"})
	var flakyMu sync.Mutex
	flaky := map[string]int{}
	w.RegisterActivityWithOptions(activities.Wrap(reg, "test.flaky", func(_ context.Context, a map[string]any) (any, error) {
		flakyMu.Lock()
		defer flakyMu.Unlock()
		key := fmt.Sprint(a["key"])
		flaky[key]++
		if flaky[key] == 1 {
			return nil, temporal.NewApplicationError("first attempt fails", "Flaky")
		}
		return map[string]any{"attempts": flaky[key]}, nil
	}), activity.RegisterOptions{Name: "test.flaky"})
	w.RegisterActivityWithOptions(func(_ context.Context, req workflows.ResolveRequest) (*workflows.ResolveResult, error) {
		p, ok := plans[req.Name]
		if !ok {
			return nil, temporal.NewNonRetryableApplicationError("unknown workflow", workflows.ErrWorkflowNotFound, nil)
		}
		return &workflows.ResolveResult{Plan: p, Revision: 1}, nil
	}, activity.RegisterOptions{Name: workflows.ResolveActivity})
	require.NoError(t, w.Start())
	defer w.Stop()

	out := t.TempDir()
	if *record {
		out = replayDir
	}
	for _, rc := range replayCases {
		t.Run(rc.file, func(t *testing.T) {
			src, _ := os.ReadFile(filepath.Join(replayDir, "replay", rc.file+".yaml"))
			p, _ := dsl.Compile(rc.file+".yaml", src, dsl.Options{Registry: reg})
			id := "replay-" + rc.file
			in := workflows.RunInput{Plan: p, Options: rc.opts}
			if rc.input != "" {
				in.Input = json.RawMessage(rc.input)
			}
			run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: "replay",
				WorkflowIDConflictPolicy: enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
				WorkflowIDReusePolicy:    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE}, workflows.WorkflowName, in)
			require.NoError(t, err)
			first := run.GetRunID()
			if rc.act != nil {
				time.Sleep(300 * time.Millisecond)
				require.NoError(t, rc.act(ctx, c, id))
			}
			var res json.RawMessage
			err = run.Get(ctx, &res)
			if rc.failed {
				require.Error(t, err)
			} else {
				require.NoError(t, err)
				if rc.output != "" {
					require.JSONEq(t, rc.output, string(res))
				}
			}
			hist := history(ctx, t, c, id, first)
			name := filepath.Join(out, rc.file+".history.json")
			writeHistory(t, name, hist)
			replayer := worker.NewWorkflowReplayer()
			replayer.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
			require.NoError(t, replayer.ReplayWorkflowHistoryWithOptions(nil, hist, worker.ReplayWorkflowHistoryOptions{
				OriginalExecution: workflow.Execution{ID: id, RunID: first}}))
			if rc.file == "sequence" {
				// The incompatible history: the run's recorded plan is swapped for
				// one whose first step is a timer, as if the interpreter had
				// changed what a plan does. Replay must refuse it.
				bad := incompatible(t, hist)
				badName := filepath.Join(out, "incompatible", "sequence-timer-first.history.json")
				require.NoError(t, os.MkdirAll(filepath.Dir(badName), 0o755))
				writeHistory(t, badName, bad)
				require.Error(t, replayer.ReplayWorkflowHistoryWithOptions(nil, bad, worker.ReplayWorkflowHistoryOptions{
					OriginalExecution: workflow.Execution{ID: id, RunID: first}}))
			}
		})
	}
}

func history(ctx context.Context, t *testing.T, c client.Client, id, runID string) *historypb.History {
	iter := c.GetWorkflowHistory(ctx, id, runID, false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	h := &historypb.History{}
	for iter.HasNext() {
		e, err := iter.Next()
		require.NoError(t, err)
		h.Events = append(h.Events, e)
	}
	return h
}

func writeHistory(t *testing.T, name string, h *historypb.History) {
	b, err := temporalproto.CustomJSONMarshalOptions{Indent: "  "}.Marshal(h)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(name, append(b, '\n'), 0o644))
}

// incompatible rewrites the plan in the start event so that its first step
// is a wait instead of a call.
func incompatible(t *testing.T, h *historypb.History) *historypb.History {
	b, err := temporalproto.CustomJSONMarshalOptions{}.Marshal(h)
	require.NoError(t, err)
	cp := &historypb.History{}
	require.NoError(t, temporalproto.CustomJSONUnmarshalOptions{}.Unmarshal(b, cp))
	attrs := cp.Events[0].GetWorkflowExecutionStartedEventAttributes()
	payload := attrs.GetInput().GetPayloads()[0]
	var in map[string]any
	require.NoError(t, json.Unmarshal(payload.GetData(), &in))
	plan := in["plan"].(map[string]any)
	steps := plan["steps"].([]any)
	first := steps[0].(map[string]any)
	delete(first, "call")
	first["kind"] = "wait"
	first["wait"] = map[string]any{"for": "1h0m0s"}
	data, err := json.Marshal(in)
	require.NoError(t, err)
	payload.Data = data
	return cp
}
