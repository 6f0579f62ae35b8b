package bench_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/worker"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	"switchboard/dsl"
	"switchboard/workers/bench"
	"switchboard/workers/devserver"
	"switchboard/workflows"
)

var (
	tc  client.Client
	reg = &dsl.Registry{}
)

const queue = "bench"

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	ctx := context.Background()
	srv, err := devserver.Start(ctx, devserver.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "devserver:", err)
		return 1
	}
	defer srv.Stop()
	tc, err = srv.Client(client.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, "client:", err)
		return 1
	}
	defer tc.Close()
	reg.MustRegister(dsl.Action{Name: bench.NoopActivity, Input: json.RawMessage(`{"type":"object"}`)})
	reg.MustRegister(dsl.Action{Name: bench.WorkActivity, Input: json.RawMessage(`{"type":"object"}`)})
	w := worker.New(tc, queue, worker.Options{})
	w.RegisterWorkflowWithOptions(workflows.Run, workflow.RegisterOptions{Name: workflows.WorkflowName})
	w.RegisterWorkflowWithOptions(bench.NativeSequential, workflow.RegisterOptions{Name: "native.sequential"})
	w.RegisterWorkflowWithOptions(bench.NativeForeach, workflow.RegisterOptions{Name: "native.foreach"})
	w.RegisterActivityWithOptions(activities.Wrap(reg, bench.NoopActivity, func(context.Context, map[string]any) (any, error) {
		return nil, nil
	}), activity.RegisterOptions{Name: bench.NoopActivity})
	w.RegisterActivityWithOptions(activities.Wrap(reg, bench.WorkActivity, lightweight), activity.RegisterOptions{Name: bench.WorkActivity})
	if err := w.Start(); err != nil {
		fmt.Fprintln(os.Stderr, "worker:", err)
		return 1
	}
	defer w.Stop()
	return m.Run()
}

// lightweight is a small unit of real work: hash the input a few times.
func lightweight(_ context.Context, args map[string]any) (any, error) {
	sum := sha256.Sum256([]byte(fmt.Sprint(args)))
	for range 50 {
		sum = sha256.Sum256(sum[:])
	}
	return map[string]any{"hash": hex.EncodeToString(sum[:8])}, nil
}

func compile(b testing.TB, src string) *dsl.Plan {
	p, diags := dsl.Compile("bench.yaml", []byte(src), dsl.Options{Registry: reg})
	if len(diags) > 0 {
		b.Fatal(diags)
	}
	return p
}

func sequentialDSL(n int, activity string) string {
	var sb strings.Builder
	sb.WriteString("switchboard: v1\nname: bench-seq\nsteps:\n")
	for i := range n {
		fmt.Fprintf(&sb, "  - call: %s\n    with: {i: %d}\n", activity, i)
	}
	fmt.Fprintf(&sb, "output: %d\n", n)
	return sb.String()
}

func foreachDSL(n, conc int, activity string) string {
	return fmt.Sprintf(`switchboard: v1
name: bench-foreach
steps:
  - id: each
    foreach:
      in: ${ lists.range(%d) }
      concurrency: %d
      steps:
        - call: %s
          with: {i: '${ item }'}
output: ${ size(steps.each.output) }
`, n, conc, activity)
}

// execute runs one workflow to completion and returns its wall time and
// history length.
func execute(b *testing.B, id string, wf any, args ...any) (time.Duration, int) {
	ctx := context.Background()
	start := time.Now()
	run, err := tc.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: queue}, wf, args...)
	if err != nil {
		b.Fatal(err)
	}
	var out json.RawMessage
	if err := run.Get(ctx, &out); err != nil {
		b.Fatal(err)
	}
	took := time.Since(start)
	iter := tc.GetWorkflowHistory(ctx, id, run.GetRunID(), false, enums.HISTORY_EVENT_FILTER_TYPE_ALL_EVENT)
	n := 0
	for iter.HasNext() {
		if _, err := iter.Next(); err != nil {
			b.Fatal(err)
		}
		n++
	}
	return took, n
}

var seq int

func nextID(prefix string) string {
	seq++
	return fmt.Sprintf("%s-%d-%d", prefix, time.Now().UnixNano(), seq)
}

func median(ds []time.Duration) time.Duration {
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[len(s)/2]
}

// benchPair runs the DSL workflow and its native twin alternately (the
// order flips every round so drift hits both alike) and reports the median
// wall time of each, their ratio, and both history lengths. ns/op is the
// time of one DSL+native pair.
func benchPair(b *testing.B, plan *dsl.Plan, native string, nativeArgs ...any) {
	var dslTimes, nativeTimes []time.Duration
	var dslEvents, nativeEvents int
	for i := range b.N {
		runDSL := func() {
			d, n := execute(b, nextID("dsl"), workflows.WorkflowName, workflows.RunInput{Plan: plan})
			dslTimes, dslEvents = append(dslTimes, d), n
		}
		runNative := func() {
			d, n := execute(b, nextID("native"), native, nativeArgs...)
			nativeTimes, nativeEvents = append(nativeTimes, d), n
		}
		if i%2 == 0 {
			runDSL()
			runNative()
		} else {
			runNative()
			runDSL()
		}
	}
	md, mn := median(dslTimes), median(nativeTimes)
	b.ReportMetric(float64(md.Microseconds())/1000, "dsl-ms")
	b.ReportMetric(float64(mn.Microseconds())/1000, "native-ms")
	b.ReportMetric(float64(md)/float64(mn), "dsl/native")
	b.ReportMetric(float64(dslEvents), "dsl-events")
	b.ReportMetric(float64(nativeEvents), "native-events")
}

// (a) 40 sequential no-op activities.
func BenchmarkSequential40Noop(b *testing.B) {
	benchPair(b, compile(b, sequentialDSL(40, bench.NoopActivity)), "native.sequential", bench.NoopActivity, 40)
}

// (b) 400 sequential lightweight activities.
func BenchmarkSequential400Work(b *testing.B) {
	benchPair(b, compile(b, sequentialDSL(400, bench.WorkActivity)), "native.sequential", bench.WorkActivity, 400)
}

// (c) foreach of 200 activities at concurrency 50.
func BenchmarkForeach200Conc50(b *testing.B) {
	benchPair(b, compile(b, foreachDSL(200, 50, bench.WorkActivity)), "native.foreach", bench.WorkActivity, 200, 50)
}
