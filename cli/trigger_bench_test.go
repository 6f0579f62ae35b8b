package cli_test

// Trigger benchmarks of issue 4 on `switchboard dev`:
//
//	go test ./cli -run '^$' -bench 'Webhooks|Outbox' -benchtime 2000x
//
// Webhooks: signed webhook deliveries that start runs, against plain API
// starts measured in the same process, closed-loop (16 callers) and
// open-loop at fixed rates (120/s, and n8n's published 220/s). Outbox: events published in the
// store's outbox until each has started its run; checks none is lost or
// duplicated.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/api/workflowservice/v1"

	"switchboard/domain"
	"switchboard/store"
	"switchboard/workflows"
)

const hookFlow = `switchboard: v1
name: hooked
triggers:
  - webhook:
      path: bench
      verify: {scheme: hmac-sha256, secret: bench-hook}
      key: ${ body.id }
      input: '${ {"id": body.id} }'
  - event:
      type: bench.happened
      input: '${ {"id": event.data.id} }'
steps:
  - id: only
    set: {id: '${ input.id }'}
output: '${ vars.id }'
`

var hookSecret = []byte("bench-secret-value")

var hookOnce sync.Once

func hookSetup(b *testing.B) {
	loadSetup(b)
	hookOnce.Do(func() {
		info := loadEnv.info
		code, body := send(b, info.API, info.OwnerKey, "PUT", "/v1/secrets/bench-hook", "application/json", `{"value":"`+string(hookSecret)+`"}`)
		require.Equal(b, 204, code, "%s", body)
		code, body = send(b, info.API, info.OwnerKey, "POST", "/v1/definitions", "application/yaml", hookFlow)
		require.Equal(b, 201, code, "%s", body)
		code, body = send(b, info.API, info.OwnerKey, "POST", "/v1/definitions/hooked/deployment", "application/json", `{"revision":1}`)
		require.Equal(b, 200, code, "%s", body)
	})
}

var hookSeq atomic.Int64

func webhookCall(hc *http.Client, base, org string) func(context.Context) error {
	return func(ctx context.Context) error {
		body := fmt.Sprintf(`{"id":"e-%d-%d"}`, time.Now().UnixNano(), hookSeq.Add(1))
		m := hmac.New(sha256.New, hookSecret)
		m.Write([]byte(body))
		req, _ := http.NewRequestWithContext(ctx, "POST", base+"/hooks/"+org+"/bench", strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-Signature", hex.EncodeToString(m.Sum(nil)))
		resp, err := hc.Do(req)
		if err != nil {
			return err
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusAccepted {
			return fmt.Errorf("webhook answered %s", resp.Status)
		}
		return nil
	}
}

// paced issues b.N calls at rate per second (open loop) and reports the
// achieved rate, latency percentiles and errors.
func paced(b *testing.B, rate float64, call func(context.Context) error) {
	lat := make([]time.Duration, b.N)
	var errs atomic.Int64
	var wg sync.WaitGroup
	interval := time.Duration(float64(time.Second) / rate)
	b.ResetTimer()
	begin := time.Now()
	for i := range b.N {
		if d := time.Until(begin.Add(time.Duration(i) * interval)); d > 0 {
			time.Sleep(d)
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			t0 := time.Now()
			if err := call(context.Background()); err != nil {
				errs.Add(1)
			}
			lat[i] = time.Since(t0)
		}()
	}
	wg.Wait()
	elapsed := time.Since(begin)
	b.StopTimer()
	reportLatency(b, lat, elapsed, "req/s")
	b.ReportMetric(float64(errs.Load()), "errors")
}

func BenchmarkWebhooks(b *testing.B) {
	hookSetup(b)
	info := loadEnv.info
	hc := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 256}}
	hook := webhookCall(hc, info.API, info.OrgID)
	start := apiStart(hc, info, "hooked")
	for round := range 2 {
		b.Run(fmt.Sprintf("c16/r%d/api-start", round), func(b *testing.B) { drive(b, 16, start) })
		b.Run(fmt.Sprintf("c16/r%d/webhook", round), func(b *testing.B) { drive(b, 16, hook) })
		for _, rate := range []float64{120, 220} {
			b.Run(fmt.Sprintf("rate%.0f/r%d/api-start", rate, round), func(b *testing.B) { paced(b, rate, start) })
			b.Run(fmt.Sprintf("rate%.0f/r%d/webhook", rate, round), func(b *testing.B) { paced(b, rate, hook) })
		}
	}
}

// BenchmarkOutbox publishes b.N events into the outbox at once and waits
// until every one has been delivered, then checks that each started
// exactly one run.
func BenchmarkOutbox(b *testing.B) {
	hookSetup(b)
	info := loadEnv.info
	st, err := store.Open(context.Background(), "sqlite:"+loadEnv.dir+"/switchboard.db", store.Options{SkipMigrations: true})
	require.NoError(b, err)
	defer st.Close()
	run := fmt.Sprintf("%d", time.Now().UnixNano())
	countRuns := func() int64 {
		resp, err := loadEnv.tc.CountWorkflow(context.Background(), &workflowservice.CountWorkflowExecutionsRequest{
			Namespace: "default",
			Query: fmt.Sprintf("%s = '%s' AND %s = 'hooked' AND WorkflowId STARTS_WITH '%s/hooked:event-'",
				workflows.AttrOrg.GetName(), info.OrgID, workflows.AttrDefinition.GetName(), info.OrgID)})
		require.NoError(b, err)
		return resp.GetCount()
	}
	before := countRuns()
	b.ResetTimer()
	begin := time.Now()
	ids := make([]string, b.N)
	for i := 0; i < b.N; i += 500 {
		require.NoError(b, st.Tx(context.Background(), func(tx domain.Repo) error {
			for j := i; j < min(i+500, b.N); j++ {
				e := &domain.Event{OrgID: info.OrgID, Type: "bench.happened", Data: json.RawMessage(fmt.Sprintf(`{"id":"%s-%d"}`, run, j))}
				if err := tx.PublishEvent(context.Background(), e); err != nil {
					return err
				}
				ids[j] = e.ID
			}
			return nil
		}))
	}
	published := time.Since(begin)
	var delivered int
	for {
		delivered = 0
		for _, id := range ids {
			e, err := st.GetEvent(context.Background(), info.OrgID, id)
			require.NoError(b, err)
			if e.DeliveredAt != nil {
				require.Len(b, e.Runs, 1, "event %s started one run", id)
				delivered++
			}
		}
		if delivered == b.N || time.Since(begin) > 30*time.Minute {
			break
		}
		time.Sleep(time.Second)
	}
	elapsed := time.Since(begin)
	b.StopTimer()
	require.Equal(b, b.N, delivered, "every event delivered")
	// the runs the events started, by Temporal's count (visibility is
	// eventually consistent: wait for it to settle)
	var count int64
	deadline := time.Now().Add(2 * time.Minute)
	for {
		count = countRuns() - before
		if count >= int64(b.N) || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	require.Equal(b, int64(b.N), count, "one run per event: none lost, none duplicated")
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "events/s")
	b.ReportMetric(published.Seconds(), "publish-s")
	b.ReportMetric(elapsed.Seconds(), "total-s")
	b.ReportMetric(float64(count), "runs")
}
