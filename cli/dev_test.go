package cli_test

// Tests of `switchboard dev`: the README's curl session run against a real
// embedded platform, and durability across a kill -9.

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/cli"
	"switchboard/store/storetest"
)

// TestMain lets the test binary act as the `switchboard` command, so that
// durability tests can run `dev` in a child process and kill it.
func TestMain(m *testing.M) {
	if os.Getenv("SWITCHBOARD_TEST_CHILD") == "1" {
		os.Exit(cli.Execute(context.Background(), os.Args[1:], os.Stdout, os.Stderr))
	}
	os.Exit(m.Run())
}

// startDev runs `switchboard dev` in-process on free ports.
// startDevWith runs RunDev in this process with o (Listener, TemporalPort
// and Ready are set here) and returns once it serves.
func startDevWith(t testing.TB, o cli.DevOptions) (cli.DevInfo, func()) {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan cli.DevInfo, 1)
	done := make(chan error, 1)
	var logs bytes.Buffer
	go func() {
		o.Listener, o.TemporalPort, o.Ready = lis, 0, func(i cli.DevInfo) { ready <- i }
		done <- cli.RunDev(ctx, o, io.Discard, &lockedWriter{w: &logs})
	}()
	select {
	case info := <-ready:
		return info, func() {
			cancel()
			select {
			case err := <-done:
				require.NoError(t, err, "dev shuts down cleanly")
			case <-time.After(60 * time.Second):
				t.Fatal("switchboard dev did not shut down within 60s of its context ending")
			}
		}
	case err := <-done:
		cancel()
		t.Fatalf("switchboard dev stopped before it was ready: %v", err)
	case <-time.After(2 * time.Minute):
		cancel()
		t.Fatal("switchboard dev did not become ready in 2 minutes")
	}
	return cli.DevInfo{}, nil
}

// TestReadmeSession runs the curl session of the README, as written,
// against `switchboard dev`: create a definition from a YAML file, deploy,
// start a run, watch it, signal it, approve its task, see it complete.
func TestReadmeSession(t *testing.T) {
	t.Parallel()
	readmeSession(t, cli.DevOptions{DataDir: t.TempDir()})
}

// TestReadmeSessionOnPostgres runs the same session with the platform store
// and Temporal on PostgreSQL (`switchboard dev --database --temporal-postgres`).
func TestReadmeSessionOnPostgres(t *testing.T) {
	t.Parallel()
	readmeSession(t, cli.DevOptions{DataDir: t.TempDir(),
		DatabaseURL: storetest.PostgresURL(t), TemporalPostgres: storetest.PostgresDatabaseURL(t)})
}

func readmeSession(t *testing.T, o cli.DevOptions) {
	if _, err := exec.LookPath("curl"); err != nil {
		t.Fatal("the README session needs curl (apt-get install -y curl)")
	}
	readme, err := os.ReadFile("../README.md")
	require.NoError(t, err)
	m := regexp.MustCompile("(?s)<!-- readme-session[^>]*-->\\s*```sh\\n(.*?)```\\s*<!-- /readme-session -->").FindSubmatch(readme)
	require.NotNil(t, m, "the README has the session block between <!-- readme-session --> markers")
	script := string(m[1])

	info, stop := startDevWith(t, o)
	defer stop()
	require.NotEmpty(t, info.OwnerKey, "the first start prints an owner key")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "bash", "-euo", "pipefail", "-c", script)
	cmd.Dir = ".." // the session names flows/ relative to the repository root
	cmd.Env = append(os.Environ(), "SWITCHBOARD_URL="+info.API, "SWITCHBOARD_KEY="+info.OwnerKey)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "the README session failed:\n%s", out)
	text := string(out)
	require.Contains(t, text, `"liveRevision":1`, "step 2 deploys revision 1")
	require.Regexp(t, `run: expense-approval:[0-9a-f]{24}\n`, text, "step 3 prints the run id")
	require.Contains(t, text, `"status":"waiting"`, "step 4 shows the receipt step waiting")
	require.Contains(t, text, `"output":{"approved":true,"receipt":{"url":"https://files.example.com/r-1.pdf"}}`, "step 7 prints the output")

	// the same run, read through the API: the decision is recorded in the timeline
	runID := regexp.MustCompile(`run: (\S+)`).FindStringSubmatch(text)[1]
	var run struct {
		Status string `json:"status"`
		Steps  []struct {
			ID     string         `json:"id"`
			Status string         `json:"status"`
			Output map[string]any `json:"output"`
		} `json:"steps"`
	}
	getJSON(t, info, "/v1/runs/"+runID, &run)
	require.Equal(t, "completed", run.Status)
	require.Len(t, run.Steps, 2)
	require.Equal(t, "approve", run.Steps[1].ID)
	require.Equal(t, "owner@localhost", run.Steps[1].Output["decidedBy"])
	require.Equal(t, map[string]any{"costCenter": "R&D"}, run.Steps[1].Output["data"])
}

func getJSON(t *testing.T, info cli.DevInfo, path string, into any) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, info.API+path, nil)
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+info.OwnerKey)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	if into != nil && resp.StatusCode == http.StatusOK {
		require.NoError(t, json.Unmarshal(b, into), "%s", b)
	}
	return resp.StatusCode
}

func send(t testing.TB, base, key, method, path, contentType, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, base+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Authorization", "Bearer "+key)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

// devProcess is `switchboard dev` in a child process.
type devProcess struct {
	cmd  *exec.Cmd
	api  string
	key  string
	logs *lockedWriter
}

func startDevProcess(t *testing.T, dir string) *devProcess {
	t.Helper()
	self, err := os.Executable()
	require.NoError(t, err)
	cmd := exec.Command(self, "dev", "--data", dir, "--listen", "127.0.0.1:0", "--temporal-port", "0")
	cmd.Env = append(os.Environ(), "SWITCHBOARD_TEST_CHILD=1")
	stdout, err := cmd.StdoutPipe()
	require.NoError(t, err)
	p := &devProcess{cmd: cmd, logs: &lockedWriter{w: &bytes.Buffer{}}}
	cmd.Stderr = p.logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	found := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			line := sc.Text()
			if m := regexp.MustCompile(`API:\s+(http://\S+)`).FindStringSubmatch(line); m != nil {
				p.api = m[1]
			}
			if m := regexp.MustCompile(`SWITCHBOARD_KEY=(sb_\w+)`).FindStringSubmatch(line); m != nil {
				p.key = m[1]
			}
			if strings.HasPrefix(line, "Ready.") {
				close(found)
			}
		}
	}()
	select {
	case <-found:
	case <-time.After(2 * time.Minute):
		t.Fatalf("switchboard dev (child) did not start; its log:\n%s", p.logs)
	}
	return p
}

// TestDevSurvivesKill9 stops `switchboard dev` with kill -9 while a run
// waits on a one-minute timer, starts it again on the same data folder, and
// sees the run complete.
func TestDevSurvivesKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startDevProcess(t, dir)
	require.NotEmpty(t, p.key, "the first start prints the owner key")
	key := p.key
	src := `switchboard: v1
name: durable
steps:
  - id: before
    set: {n: 1}
  - id: nap
    wait: 1m
  - id: after
    set: {n: 2}
output: '${ {"n": vars.n} }'
`
	code, body := send(t, p.api, key, "POST", "/v1/definitions", "application/yaml", src)
	require.Equal(t, 201, code, "%s", body)
	code, body = send(t, p.api, key, "POST", "/v1/definitions/durable/deployment", "application/json", `{"revision":1}`)
	require.Equal(t, 200, code, "%s", body)
	code, body = send(t, p.api, key, "POST", "/v1/runs", "application/json", `{"definition":"durable"}`)
	require.Equal(t, 201, code, "%s", body)
	var started struct{ ID string }
	require.NoError(t, json.Unmarshal(body, &started))

	info := cli.DevInfo{API: p.api, OwnerKey: key}
	var run struct {
		Status   string `json:"status"`
		Position string `json:"position"`
		Output   any    `json:"output"`
	}
	require.Eventually(t, func() bool {
		return getJSON(t, info, "/v1/runs/"+started.ID, &run) == 200 && run.Position == "steps[1]"
	}, 30*time.Second, 100*time.Millisecond, "the run reaches its timer")

	require.NoError(t, p.cmd.Process.Signal(os.Kill))
	_ = p.cmd.Wait()

	p2 := startDevProcess(t, dir)
	require.Empty(t, p2.key, "a restart prints no new key")
	info.API = p2.api
	require.Eventually(t, func() bool {
		return getJSON(t, info, "/v1/runs/"+started.ID, &run) == 200 && run.Status == "completed"
	}, 3*time.Minute, 250*time.Millisecond, "the run completes after the restart; dev log:\n%s", p2.logs)
	require.Equal(t, map[string]any{"n": float64(2)}, run.Output)

	// Ctrl-C: a graceful stop exits 0
	require.NoError(t, p2.cmd.Process.Signal(os.Interrupt))
	done := make(chan error, 1)
	go func() { done <- p2.cmd.Wait() }()
	select {
	case err := <-done:
		require.NoError(t, err, "dev exits 0 on Ctrl-C; log:\n%s", p2.logs)
	case <-time.After(60 * time.Second):
		t.Fatal("dev did not exit within 60s of Ctrl-C")
	}
}

// lockedWriter is a log buffer written by one goroutine and read by another.
type lockedWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func (l *lockedWriter) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.String()
}

// TestEventsSurviveKill9 publishes business events, kills `switchboard dev`
// with -9 while its dispatcher is delivering them, starts it again, and
// checks that every event started exactly one run.
func TestEventsSurviveKill9(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	p := startDevProcess(t, dir)
	key := p.key
	src := `switchboard: v1
name: on-event
input: {type: object, required: [n], properties: {n: {type: integer}}}
triggers:
  - event: {type: thing.happened, input: '${ {"n": event.data.n} }'}
steps:
  - wait: 1s
  - set: {n: '${ input.n }'}
output: '${ vars.n }'
`
	code, body := send(t, p.api, key, "POST", "/v1/definitions", "application/yaml", src)
	require.Equal(t, 201, code, "%s", body)
	code, body = send(t, p.api, key, "POST", "/v1/definitions/on-event/deployment", "application/json", `{"revision":1}`)
	require.Equal(t, 200, code, "%s", body)
	const n = 150
	for i := range n {
		code, body = send(t, p.api, key, "POST", "/v1/events", "application/json", fmt.Sprintf(`{"type":"thing.happened","data":{"n":%d}}`, i))
		require.Equal(t, 202, code, "%s", body)
	}
	// kill it while the dispatcher is at work
	info := cli.DevInfo{API: p.api, OwnerKey: key}
	delivered := 0
	require.Eventually(t, func() bool {
		var page struct {
			Items []struct{ DeliveredAt *string }
		}
		getJSON(t, info, "/v1/events?limit=500", &page)
		delivered = 0
		for _, e := range page.Items {
			if e.DeliveredAt != nil {
				delivered++
			}
		}
		return delivered > 0
	}, 30*time.Second, 20*time.Millisecond, "some events delivered")
	require.NoError(t, p.cmd.Process.Signal(os.Kill))
	t.Logf("killed with %d of %d events marked delivered", delivered, n)
	_ = p.cmd.Wait()

	p2 := startDevProcess(t, dir)
	info.API = p2.api
	type event struct {
		DeliveredAt *string  `json:"deliveredAt"`
		Runs        []string `json:"runs"`
	}
	var page struct{ Items []event }
	require.Eventually(t, func() bool {
		page.Items = nil
		getJSON(t, info, "/v1/events?limit=500", &page)
		for _, e := range page.Items {
			if e.DeliveredAt == nil {
				return false
			}
		}
		return len(page.Items) == n
	}, 3*time.Minute, 250*time.Millisecond, "every event delivered after the restart; log:\n%s", p2.logs)
	seen := map[string]bool{}
	for _, e := range page.Items {
		require.Len(t, e.Runs, 1)
		require.False(t, seen[e.Runs[0]], "run %s started by two events", e.Runs[0])
		seen[e.Runs[0]] = true
	}
	// and Temporal has exactly one run per event (visibility settles)
	require.Eventually(t, func() bool {
		var runs struct {
			Items      []struct{ ID string }
			NextCursor string
		}
		total, cursor := 0, ""
		for {
			getJSON(t, info, "/v1/runs?definition=on-event&limit=500&cursor="+cursor, &runs)
			total += len(runs.Items)
			if runs.NextCursor == "" {
				break
			}
			cursor = runs.NextCursor
		}
		return total == n
	}, time.Minute, 500*time.Millisecond, "exactly %d runs of on-event", n)
}
