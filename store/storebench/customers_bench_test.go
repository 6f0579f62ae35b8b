package storebench

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/api"
	"switchboard/domain"
	"switchboard/store"
	"switchboard/store/storetest"
)

// BenchmarkCustomerQueries loads SWITCHBOARD_BENCH_CUSTOMERS customers
// (default 1,000,000) into one organisation, plus a twentieth of that into
// each of two others, on each backend of SWITCHBOARD_BENCH_BACKENDS
// (default "postgres,sqlite"), then has 50 clients call the API for each
// query (b.N requests in all) and reports p50 and p99 latency and the rate.
//
//	go test ./store/storebench -run '^$' -bench CustomerQueries -benchtime 2000x -timeout 60m
func BenchmarkCustomerQueries(b *testing.B) {
	n, _ := strconv.Atoi(cmp.Or(os.Getenv("SWITCHBOARD_BENCH_CUSTOMERS"), "1000000"))
	for _, backend := range strings.Split(cmp.Or(os.Getenv("SWITCHBOARD_BENCH_BACKENDS"), "postgres,sqlite"), ",") {
		b.Run(backend, func(b *testing.B) {
			env := setup(b, backend, n)
			for _, q := range env.queries {
				b.Run(q.name, func(b *testing.B) { drive(b, env, q) })
			}
		})
	}
}

type query struct {
	name string
	path func(i int) string
}

type benchEnv struct {
	base    string
	key     string
	queries []query
}

var envs sync.Map // backend → *benchEnv: loaded once per process

func setup(b *testing.B, backend string, n int) *benchEnv {
	if e, ok := envs.Load(backend); ok {
		return e.(*benchEnv)
	}
	ctx := context.Background()
	var dsn string
	switch backend {
	case "postgres":
		dsn = freshDatabase(b)
	case "sqlite":
		dir, err := os.MkdirTemp("", "storebench-*")
		require.NoError(b, err)
		dsn = "sqlite:" + filepath.Join(dir, "switchboard.db")
	default:
		b.Fatalf("unknown backend %q", backend)
	}
	st, err := store.Open(ctx, dsn, store.Options{MaxOpenConns: 60})
	require.NoError(b, err)
	org, key, err := api.Bootstrap(ctx, st, "big", "owner@big.example")
	require.NoError(b, err)
	var owners []string
	for i := range 10 {
		u := &domain.User{OrgID: org.ID, Email: fmt.Sprintf("rep%d@big.example", i), Role: domain.RoleOperator}
		require.NoError(b, st.CreateUser(ctx, u))
		owners = append(owners, u.ID)
	}
	start := time.Now()
	const chunk = 100_000
	for i := 0; i < n; i += chunk {
		cs := store.FakeCustomers(org.ID, min(chunk, n-i), uint64(i+1), owners)
		for j := range cs {
			cs[j].Email = strings.Replace(cs[j].Email, "@", fmt.Sprintf(".%d@", i), 1) // unique across chunks
		}
		require.NoError(b, store.LoadCustomers(ctx, st, cs))
	}
	loaded := time.Since(start)
	for k := range 2 {
		other, _, err := api.Bootstrap(ctx, st, fmt.Sprintf("other-%d", k), "owner@other.example")
		require.NoError(b, err)
		require.NoError(b, store.LoadCustomers(ctx, st, store.FakeCustomers(other.ID, n/20, uint64(1000+k), nil)))
	}
	require.NoError(b, store.Analyze(ctx, st))
	b.Logf("%s: loaded %d customers into one organisation in %s (%.0f/s), %d more into two others; %s with ANALYZE",
		backend, n, loaded.Round(time.Millisecond), float64(n)/loaded.Seconds(), 2*(n/20), time.Since(start).Round(time.Millisecond))

	deep, err := store.CursorAt(ctx, st, org.ID, domain.CustomerQuery{}, min(10_000*50, n-100))
	require.NoError(b, err)
	sample, _, err := st.ListCustomers(ctx, org.ID, domain.CustomerQuery{Status: "customer", OwnerID: owners[3], Limit: 500})
	require.NoError(b, err)
	plans := map[string]domain.CustomerQuery{
		"first-page":      {},
		"page-10000-deep": {After: deep},
		"status+owner":    {Status: "customer", OwnerID: owners[0]},
		"email-prefix":    {EmailPrefix: "ada.lovelace.12"},
		"fulltext-name":   {Search: "grace hopper"},
	}
	for name, q := range plans {
		plan, err := store.ExplainCustomers(ctx, st, org.ID, q, false)
		require.NoError(b, err)
		b.Logf("%s plan, %s:\n%s", backend, name, plan)
	}

	srv := httptest.NewServer(api.New(api.Options{Store: st, Logger: slog.New(slog.DiscardHandler)}).Handler())
	e := &benchEnv{base: srv.URL, key: key, queries: []query{
		{"first-page", func(int) string { return "/v1/customers?limit=50" }},
		{"page-10000-deep", func(int) string { return "/v1/customers?limit=50&cursor=" + url.QueryEscape(deep) }},
		{"status+owner", func(i int) string { return "/v1/customers?limit=50&status=customer&owner=" + owners[i%len(owners)] }},
		{"email-prefix", func(i int) string {
			return "/v1/customers?limit=50&email=" + []string{"ada.lovelace.1", "grace.hopper.2", "alan.turing.3", "linus.torvalds.4"}[i%4]
		}},
		{"fulltext-name", func(i int) string {
			return "/v1/customers?limit=50&q=" + url.QueryEscape([]string{"grace hopper", "alan turing", "ada", "knuth"}[i%4])
		}},
		{"customer-360", func(i int) string { return "/v1/customers/" + sample[i%len(sample)].ID + "/360" }},
	}}
	envs.Store(backend, e)
	return e
}

// freshDatabase creates a database on the test server (TEST_DATABASE_URL's)
// for the run; it is left behind for inspection (drop sbbench_* afterwards).
func freshDatabase(b *testing.B) string {
	u, err := url.Parse(storetest.TestDatabaseURL)
	require.NoError(b, err)
	db, err := sql.Open("pgx", u.String())
	require.NoError(b, err)
	defer db.Close()
	name := fmt.Sprintf("sbbench_%d", time.Now().UnixNano())
	_, err = db.Exec("CREATE DATABASE " + name)
	require.NoError(b, err)
	u.Path = "/" + name
	return u.String()
}

// drive makes b.N requests of q from 50 clients and reports latency
// percentiles and the rate.
func drive(b *testing.B, e *benchEnv, q query) {
	const clients = 50
	lat := make([]time.Duration, b.N)
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 60 * time.Second}
	b.ResetTimer()
	begin := time.Now()
	for range clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= b.N {
					return
				}
				req, _ := http.NewRequest(http.MethodGet, e.base+q.path(i), nil)
				req.Header.Set("Authorization", "Bearer "+e.key)
				t0 := time.Now()
				res, err := client.Do(req)
				if err == nil {
					_, _ = io.Copy(io.Discard, res.Body)
					res.Body.Close()
					if res.StatusCode != 200 {
						err = fmt.Errorf("status %d", res.StatusCode)
					}
				}
				lat[i] = time.Since(t0)
				if err != nil {
					failed.Add(1)
				}
			}
		}()
	}
	wg.Wait()
	took := time.Since(begin)
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(p*float64(len(lat))))].Microseconds()) / 1000
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(b.N)/took.Seconds(), "req/s")
	b.ReportMetric(float64(failed.Load()), "errors")
}
