package cli_test

// The start-throughput benchmark of the runtime issue: runs of a 1-step
// definition started over HTTP on `switchboard dev`, against a baseline
// measured in the same process on the same server: the same starts made
// directly with the Temporal Go client (same workflow ids, search
// attributes and input as the API sends).
//
//	go test ./cli -run '^$' -bench Starts -benchtime 3000x -count 2

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/client"

	"switchboard/activities/catalog"
	"switchboard/cli"
	"switchboard/dsl"
	"switchboard/workflows"
)

const loadFlow = `switchboard: v1
name: one-step
steps:
  - id: only
    set: {done: true}
output: '${ vars.done }'
`

var loadEnv struct {
	once sync.Once
	info cli.DevInfo
	dir  string
	tc   client.Client
	plan *dsl.Plan
	err  error
}

func loadSetup(b *testing.B) {
	loadEnv.once.Do(func() {
		// not b.TempDir: the platform keeps running (and writing) until the
		// process exits, after the benchmark that started it
		dir, err := os.MkdirTemp("", "switchboard-bench-*")
		require.NoError(b, err)
		// SWITCHBOARD_BENCH_POSTGRES=URL-prefix runs the platform store and
		// Temporal on PostgreSQL (fresh databases) instead of SQLite files.
		o := cli.DevOptions{DataDir: dir}
		if pg := os.Getenv("SWITCHBOARD_BENCH_POSTGRES"); pg != "" {
			name := fmt.Sprintf("sbbench_%d", time.Now().UnixNano())
			o.TemporalPostgres = pg + "/" + name + "_temporal?sslmode=disable"
			o.DatabaseURL = benchDatabase(b, pg, name)
		}
		info, _ := startDevWith(b, o) // stopped when the process exits
		loadEnv.info, loadEnv.dir = info, dir
		code, body := send(b, info.API, info.OwnerKey, "POST", "/v1/definitions", "application/yaml", loadFlow)
		require.Equal(b, 201, code, "%s", body)
		code, body = send(b, info.API, info.OwnerKey, "POST", "/v1/definitions/one-step/deployment", "application/json", `{"revision":1}`)
		require.Equal(b, 200, code, "%s", body)
		loadEnv.tc, loadEnv.err = client.Dial(client.Options{HostPort: info.Temporal, Logger: quietLogger{}})
		p, diags := dsl.Compile("one-step.yaml", []byte(loadFlow), dsl.Options{Registry: catalog.Registry()})
		require.Empty(b, diags)
		loadEnv.plan = p
	})
	require.NoError(b, loadEnv.err)
}

// drive makes b.N calls of start from `workers` goroutines and reports
// throughput and latency percentiles.
func drive(b *testing.B, workers int, start func(ctx context.Context) error) {
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	b.ResetTimer()
	begin := time.Now()
	for range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(b.N) {
					return
				}
				t0 := time.Now()
				if err := start(context.Background()); err != nil {
					errs <- err
					return
				}
				lat[i] = time.Since(t0)
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	close(errs)
	for err := range errs {
		b.Fatal(err)
	}
	reportLatency(b, lat, elapsed, "starts/s")
}

// reportLatency reports throughput (as unit) and latency percentiles.
func reportLatency(b *testing.B, lat []time.Duration, elapsed time.Duration, unit string) {
	slices.Sort(lat)
	pct := func(p float64) float64 { return float64(lat[int(p*float64(len(lat)-1))].Microseconds()) / 1000 }
	b.ReportMetric(float64(len(lat))/elapsed.Seconds(), unit)
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
}

// apiStart starts a run of definition through the API.
func apiStart(hc *http.Client, info cli.DevInfo, definition string) func(context.Context) error {
	return func(ctx context.Context) error {
		req, _ := http.NewRequestWithContext(ctx, "POST", info.API+"/v1/runs", strings.NewReader(`{"definition":"`+definition+`"}`))
		req.Header.Set("Authorization", "Bearer "+info.OwnerKey)
		req.Header.Set("Content-Type", "application/json")
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			return fmt.Errorf("start answered %s", resp.Status)
		}
		return nil
	}
}

// BenchmarkStarts alternates rounds of direct and API starts (the
// server's tables grow as runs pile up, so the two are measured side by
// side), at 4 and at 16 concurrent callers.
func BenchmarkStarts(b *testing.B) {
	loadSetup(b)
	info := loadEnv.info
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	var n atomic.Int64
	direct := func(ctx context.Context) error {
		id := fmt.Sprintf("one-step:direct-%d-%d", time.Now().UnixNano(), n.Add(1))
		_, err := workflows.Start(ctx, loadEnv.tc, loadEnv.plan, workflows.StartOptions{TaskQueue: "switchboard",
			Input: []byte(`{}`), ID: id, IDPrefix: info.OrgID + "/",
			Meta:       workflows.RunMeta{Revision: 1, Org: info.OrgID},
			Attributes: workflows.RunAttributes(info.OrgID, "one-step", 1)})
		return err
	}
	viaAPI := apiStart(hc, info, "one-step")
	for round := range 2 {
		for _, c := range []int{4, 16} {
			b.Run(fmt.Sprintf("c%d/r%d/direct", c, round), func(b *testing.B) { drive(b, c, direct) })
			b.Run(fmt.Sprintf("c%d/r%d/api", c, round), func(b *testing.B) { drive(b, c, viaAPI) })
		}
	}
}

type quietLogger struct{}

func (quietLogger) Debug(string, ...any) {}
func (quietLogger) Info(string, ...any)  {}
func (quietLogger) Warn(string, ...any)  {}
func (quietLogger) Error(string, ...any) {}

// benchDatabase creates database name on the PostgreSQL server at base
// (postgres://user@host:port) and returns its URL.
func benchDatabase(b *testing.B, base, name string) string {
	db, err := sql.Open("pgx", base+"/postgres?sslmode=disable")
	require.NoError(b, err)
	defer db.Close()
	_, err = db.Exec("CREATE DATABASE " + name)
	require.NoError(b, err)
	return base + "/" + name + "?sslmode=disable"
}
