package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/spf13/cobra"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"switchboard/activities/catalog"
	httpact "switchboard/activities/http"
	"switchboard/api"
	"switchboard/domain"
	"switchboard/store"
	"switchboard/store/seal"
	"switchboard/workers/devserver"
	"switchboard/workers/platform"
	"switchboard/workflows"
)

// DevOptions configure `switchboard dev`. The zero value is the default:
// data in ./.switchboard, API on :8080, Temporal on 127.0.0.1:7233.
type DevOptions struct {
	// DataDir holds all state; default ./.switchboard.
	DataDir string
	// Listen is the API's address; default :8080. Listener, when set, is used instead.
	Listen   string
	Listener net.Listener
	// TemporalIP and TemporalPort are where Temporal's gRPC API listens
	// (for the Temporal CLI and UI); default 127.0.0.1:7233, 0 picks a free port.
	TemporalIP   string
	TemporalPort int
	// DatabaseURL is the platform store; default SQLite in DataDir
	// (sqlite:<data>/switchboard.db). A postgres:// URL keeps records in PostgreSQL.
	DatabaseURL string
	// TemporalPostgres, a postgres:// URL, keeps Temporal's state in
	// PostgreSQL (databases NAME and NAME_visibility, created when missing)
	// instead of SQLite files in DataDir.
	TemporalPostgres string
	// Ready is called once everything serves.
	Ready func(DevInfo)
}

// DevInfo describes a running dev platform.
type DevInfo struct {
	API      string // base URL of the API
	Temporal string // host:port of Temporal's frontend
	OrgID    string
	// OwnerKey is the owner API key, set only on the first start (shown once).
	OwnerKey string
	DataDir  string
}

const devNamespace = "default"

func newDevCmd() *cobra.Command {
	var o DevOptions
	cmd := &cobra.Command{
		Use:   "dev",
		Short: "Start the embedded platform: Temporal server, worker and API in one process",
		Long: `Start the embedded platform in one process: a real Temporal server (SQLite in the data
folder), the worker, and the API (default :8080). Temporal's gRPC API listens on 127.0.0.1:7233,
so the Temporal CLI and UI can attach. The first start creates an organisation, prints its owner
API key once, and generates the master key that seals secrets (<data>/master.key, unless
SWITCHBOARD_MASTER_KEY is set). Stop it with Ctrl-C; runs in flight continue after a restart.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			return RunDev(ctx, o, cmd.OutOrStdout(), cmd.ErrOrStderr())
		},
	}
	cmd.Flags().StringVar(&o.DataDir, "data", envOr("SWITCHBOARD_DATA", ".switchboard"), "data folder (env SWITCHBOARD_DATA)")
	cmd.Flags().StringVar(&o.Listen, "listen", envOr("SWITCHBOARD_LISTEN", ":8080"), "API address (env SWITCHBOARD_LISTEN)")
	cmd.Flags().StringVar(&o.TemporalIP, "temporal-ip", "127.0.0.1", "address Temporal's gRPC API binds")
	cmd.Flags().IntVar(&o.TemporalPort, "temporal-port", 7233, "port of Temporal's gRPC API (0: any free port)")
	cmd.Flags().StringVar(&o.DatabaseURL, "database", "", "platform store URL, postgres:// or sqlite:PATH (default SQLite in the data folder)")
	cmd.Flags().StringVar(&o.TemporalPostgres, "temporal-postgres", os.Getenv("SWITCHBOARD_TEMPORAL_POSTGRES"), "keep Temporal's state in PostgreSQL at this postgres:// URL (env SWITCHBOARD_TEMPORAL_POSTGRES; default SQLite in the data folder)")
	return cmd
}

func envOr(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return def
}

// RunDev runs the embedded platform until ctx is done, then shuts down:
// the API stops taking requests, the worker drains, Temporal stops.
func RunDev(ctx context.Context, o DevOptions, stdout, stderr io.Writer) (err error) {
	if o.DataDir == "" {
		o.DataDir = ".switchboard"
	}
	if o.Listen == "" {
		o.Listen = ":8080"
	}
	if o.TemporalIP == "" {
		o.TemporalIP = "127.0.0.1"
	}
	log := slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	if err := os.MkdirAll(o.DataDir, 0o700); err != nil {
		return err
	}
	keys, err := devKeyring(o.DataDir)
	if err != nil {
		return err
	}
	if o.DatabaseURL == "" {
		o.DatabaseURL = "sqlite:" + filepath.Join(o.DataDir, "switchboard.db")
	}
	st, err := store.Open(ctx, o.DatabaseURL, store.Options{})
	if err != nil {
		return err
	}
	defer st.Close()
	orgID, ownerKey, err := devOrg(ctx, st, o.DataDir)
	if err != nil {
		return err
	}
	lis := o.Listener
	if lis == nil {
		if lis, err = net.Listen("tcp", o.Listen); err != nil {
			return fmt.Errorf("the API cannot listen on %s: %w (use --listen)", o.Listen, err)
		}
	}
	defer lis.Close()

	tOpts := devserver.Options{IP: o.TemporalIP, Port: o.TemporalPort, Postgres: o.TemporalPostgres, Namespaces: []string{devNamespace}}
	if o.TemporalPostgres == "" {
		tOpts.DatabaseFile = filepath.Join(o.DataDir, "temporal.db")
	}
	srv, err := devserver.Start(ctx, tOpts)
	if err != nil {
		return err
	}
	defer func() {
		if serr := srv.Stop(); serr != nil {
			log.Warn("temporal: stop", "error", serr)
		}
	}()
	tc, err := srv.Client(client.Options{Namespace: devNamespace,
		Logger: sdklog.NewStructuredLogger(slog.New(slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))})
	if err != nil {
		return err
	}
	defer tc.Close()
	if err := workflows.EnsureSearchAttributes(ctx, tc, devNamespace); err != nil {
		return err
	}

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	apiURL := "http://" + hostPort(lis.Addr())
	w, err := platform.New(platform.Options{Client: tc, Store: st, Metrics: reg, Logger: log, Keys: keys,
		Catalog: catalog.Options{HTTP: httpact.Options{AllowLoopback: true, AllowPrivate: true}, PublicURL: apiURL, Dev: true}})
	if err != nil {
		return err
	}
	if err := w.Start(); err != nil {
		return err
	}
	defer w.Stop() // drains: waits for running activities
	dctx, stopDispatch := context.WithCancel(ctx)
	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		_ = platform.NewDispatcher(platform.DispatcherOptions{Client: tc, Store: st, Logger: log}).Run(dctx)
	}()
	defer func() { stopDispatch(); <-dispatched }()

	a := api.New(api.Options{Store: st, Temporal: tc, Namespace: devNamespace, Keyring: keys, Logger: log, Metrics: reg, Dev: true, PublicURL: apiURL})
	hs := &http.Server{Handler: a.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(lis) }()

	info := DevInfo{API: apiURL, Temporal: srv.Address, OrgID: orgID, OwnerKey: ownerKey, DataDir: o.DataDir}
	printBanner(stdout, info)
	if o.Ready != nil {
		o.Ready(info)
	}
	select {
	case err = <-errc:
		return fmt.Errorf("api: %w", err)
	case <-ctx.Done():
	}
	log.Info("switchboard dev: shutting down")
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err := hs.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Warn("api: shutdown", "error", err)
	}
	return nil
}

func hostPort(a net.Addr) string {
	host, port, _ := net.SplitHostPort(a.String())
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

func printBanner(w io.Writer, in DevInfo) {
	fmt.Fprintf(w, "Switchboard dev is running.\n  API:      %s  (OpenAPI: %s/openapi.json)\n  Temporal: %s  (namespace %s)\n  Data:     %s\n",
		in.API, in.API, in.Temporal, devNamespace, in.DataDir)
	if in.OwnerKey != "" {
		fmt.Fprintf(w, "\nFirst start: created an organisation and its owner API key. It is shown ONCE; keep it:\n\n  export SWITCHBOARD_KEY=%s\n", in.OwnerKey)
	}
	fmt.Fprintln(w, "\nReady. Ctrl-C stops (runs in flight carry on at the next start).")
}

// devKeyring is SWITCHBOARD_MASTER_KEY, else <data>/master.key (created
// on the first start).
func devKeyring(dir string) (*seal.Keyring, error) {
	if v := os.Getenv("SWITCHBOARD_MASTER_KEY"); v != "" {
		k, err := seal.ParseKeyring(v)
		if err != nil {
			return nil, fmt.Errorf("SWITCHBOARD_MASTER_KEY: %w", err)
		}
		return k, nil
	}
	k, _, err := seal.LoadOrCreateKeyFile(filepath.Join(dir, "master.key"))
	return k, err
}

// devOrg is the organisation of the data folder, created (with an owner
// key, returned once) on the first start.
func devOrg(ctx context.Context, st domain.Store, dir string) (orgID, ownerKey string, err error) {
	path := filepath.Join(dir, "org.json")
	var rec struct {
		OrgID string `json:"orgId"`
	}
	if b, err := os.ReadFile(path); err == nil {
		if err := json.Unmarshal(b, &rec); err != nil || rec.OrgID == "" {
			return "", "", fmt.Errorf("%s is damaged: %v", path, err)
		}
		if _, err := st.GetOrg(ctx, rec.OrgID); err != nil {
			return "", "", fmt.Errorf("%s names organisation %s, which the store does not have: %w", path, rec.OrgID, err)
		}
		return rec.OrgID, "", nil
	} else if !errors.Is(err, os.ErrNotExist) {
		return "", "", err
	}
	org, key, err := api.Bootstrap(ctx, st, "default", "owner@localhost")
	if err != nil {
		return "", "", err
	}
	b, _ := json.Marshal(map[string]string{"orgId": org.ID})
	if err := os.WriteFile(path, b, 0o600); err != nil {
		return "", "", err
	}
	return org.ID, key, nil
}
