// Command switchboard-worker is the production worker: it runs the
// interpreter workflow and the connector activities. It links only the
// Temporal SDK and is configured by the environment (see the README).
//
//	switchboard-worker               work (health and metrics on SWITCHBOARD_LISTEN, default :8081)
//	switchboard-worker healthcheck   exit 0 when the local /healthz answers 200
package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	aiact "switchboard/activities/ai"
	"switchboard/activities/catalog"
	httpact "switchboard/activities/http"
	"switchboard/cmd/internal/envcfg"
	"switchboard/workers/platform"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "switchboard-worker:", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "healthcheck" {
		return envcfg.Healthcheck(envcfg.Listen(":8081"))
	}
	rt, err := envcfg.Start(ctx, ":8081")
	if err != nil {
		return err
	}
	defer rt.Close()
	cfg, tc, st, reg, log := rt.Config, rt.Temporal, rt.Store, rt.Metrics, rt.Log
	copts := catalog.Options{PublicURL: cfg.PublicURL,
		Providers: catalog.Providers{SendGrid: cfg.SendGridURL, Slack: cfg.SlackURL, Stripe: cfg.StripeURL},
		AI:        aiact.Config{BaseURL: cfg.AIBaseURL, APIKey: cfg.AIAPIKey, Model: cfg.AIModel, Budget: cfg.AITokenBudget}}
	if cfg.Mode == "dev" {
		copts.HTTP, copts.Dev = httpact.Options{AllowLoopback: true, AllowPrivate: true}, true
	}
	w, err := platform.New(platform.Options{Client: tc, Store: st, TaskQueue: cfg.TaskQueue, Catalog: copts, Keys: rt.Keys, Metrics: reg, Logger: log})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop() // drains: waits for running activities
	// the event outbox: several workers may dispatch at once (claims are leases)
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		_ = platform.NewDispatcher(platform.DispatcherOptions{Client: tc, Store: st, TaskQueue: cfg.TaskQueue, Logger: log}).Run(ctx)
	}()
	defer func() { <-dispatched }() // before the store closes
	mux := http.NewServeMux()
	mux.HandleFunc("GET /healthz", func(rw http.ResponseWriter, _ *http.Request) { _, _ = rw.Write([]byte(`{"status":"ok"}`)) })
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	log.Info("switchboard-worker polling", "taskQueue", cfg.TaskQueue, "temporal", cfg.Temporal, "health", cfg.Listen)
	if err := envcfg.Serve(ctx, cfg.Listen, mux, log); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
