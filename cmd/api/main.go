// Command switchboard-api is the production API server: it links only the
// Temporal SDK and is configured by the environment (see the README).
//
//	switchboard-api               serve
//	switchboard-api healthcheck   exit 0 when the local /healthz answers 200
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"switchboard/api"
	"switchboard/cmd/internal/envcfg"
	"switchboard/workflows"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard-api:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return envcfg.Healthcheck(envcfg.Listen(":8080"))
	}
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := envcfg.Load(":8080")
	if err != nil {
		return err
	}
	st, keys, tc, err := cfg.Open(ctx, log)
	if err != nil {
		return err
	}
	defer st.Close()
	defer tc.Close()
	// the namespace may still be being created (compose): retry
	if err := envcfg.Retry(ctx, func() error { return workflows.EnsureSearchAttributes(ctx, tc, cfg.Namespace) }); err != nil {
		return err
	}
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	srv := api.New(api.Options{Store: st, Temporal: tc, Namespace: cfg.Namespace, TaskQueue: cfg.TaskQueue,
		Keyring: keys, Logger: log, Metrics: reg, Dev: cfg.Mode == "dev", MaxWebhookBytes: cfg.WebhookMaxBytes})
	log.Info("switchboard-api listening", "addr", cfg.Listen, "temporal", cfg.Temporal, "namespace", cfg.Namespace)
	return envcfg.Serve(ctx, cfg.Listen, srv.Handler(), log)
}
