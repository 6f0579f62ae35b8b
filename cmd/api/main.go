// Command switchboard-api is the production API server: it links only the
// Temporal SDK and is configured by the environment (see the README).
//
//	switchboard-api               serve
//	switchboard-api healthcheck   exit 0 when the local /healthz answers 200
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"switchboard/api"
	"switchboard/cmd/internal/envcfg"
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
	rt, err := envcfg.Start(ctx, ":8080")
	if err != nil {
		return err
	}
	defer rt.Close()
	srv := api.New(api.Options{Store: rt.Store, Temporal: rt.Temporal, Namespace: rt.Namespace, TaskQueue: rt.TaskQueue,
		Keyring: rt.Keys, Logger: rt.Log, Metrics: rt.Metrics, Dev: rt.Mode == "dev", MaxWebhookBytes: rt.WebhookMaxBytes, PublicURL: rt.Config.PublicURL, SlackURL: rt.Config.SlackURL})
	rt.Log.Info("switchboard-api listening", "addr", rt.Listen, "temporal", rt.Config.Temporal, "namespace", rt.Namespace)
	return envcfg.Serve(ctx, rt.Listen, srv.Handler(), rt.Log)
}
