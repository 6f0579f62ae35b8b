package envcfg

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"go.temporal.io/sdk/client"
	sdklog "go.temporal.io/sdk/log"

	"switchboard/domain"
	"switchboard/store"
	"switchboard/store/seal"
	"switchboard/workflows"
)

// Config is the environment of a production binary.
type Config struct {
	DatabaseURL string // DATABASE_URL (required)
	Temporal    string // TEMPORAL_ADDRESS, default localhost:7233
	Namespace   string // TEMPORAL_NAMESPACE, default "default"
	TaskQueue   string // SWITCHBOARD_TASK_QUEUE, default "switchboard"
	MasterKey   string // SWITCHBOARD_MASTER_KEY (base64 32-byte keys, comma-separated; first seals)
	Listen      string // SWITCHBOARD_LISTEN
	Mode        string // SWITCHBOARD_MODE: server (default) or dev
	// WebhookMaxBytes is SWITCHBOARD_WEBHOOK_MAX_BYTES: the largest webhook body (default 1 MiB).
	WebhookMaxBytes int64
	// DBMaxConns is SWITCHBOARD_DB_MAX_CONNS: the store's connection pool
	// (default store.DefaultMaxOpenConns, 20).
	DBMaxConns int
	// PublicURL is SWITCHBOARD_PUBLIC_URL: the base of public links
	// (quotes, contracts) the API and the worker hand out.
	PublicURL string
	// Providers are SWITCHBOARD_SENDGRID_URL, SWITCHBOARD_SLACK_URL and
	// SWITCHBOARD_STRIPE_URL: other provider API bases (a regional SendGrid
	// host, a proxy); empty: the providers' own.
	SendGridURL, SlackURL, StripeURL string
	// AI is the worker's AI endpoint for organisations without their own:
	// SWITCHBOARD_AI_BASE_URL, SWITCHBOARD_AI_API_KEY, SWITCHBOARD_AI_MODEL
	// and SWITCHBOARD_AI_TOKEN_BUDGET (tokens per organisation per month).
	AIBaseURL, AIAPIKey, AIModel string
	AITokenBudget                int64
}

// Load reads the environment; listen is the default listen address.
func Load(listen string) (Config, error) {
	c := Config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		Temporal:    env("TEMPORAL_ADDRESS", "localhost:7233"),
		Namespace:   env("TEMPORAL_NAMESPACE", "default"),
		TaskQueue:   env("SWITCHBOARD_TASK_QUEUE", "switchboard"),
		MasterKey:   os.Getenv("SWITCHBOARD_MASTER_KEY"),
		Listen:      env("SWITCHBOARD_LISTEN", listen),
		Mode:        env("SWITCHBOARD_MODE", "server"),
	}
	var errs []error
	if v := os.Getenv("SWITCHBOARD_WEBHOOK_MAX_BYTES"); v != "" {
		n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
		if err != nil || n < 1024 {
			errs = append(errs, fmt.Errorf("SWITCHBOARD_WEBHOOK_MAX_BYTES is %q: want a number of bytes, at least 1024", v))
		}
		c.WebhookMaxBytes = n
	}
	if v := os.Getenv("SWITCHBOARD_DB_MAX_CONNS"); v != "" {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 || n > 1000 {
			errs = append(errs, fmt.Errorf("SWITCHBOARD_DB_MAX_CONNS is %q: want a number of connections from 1 to 1000", v))
		}
		c.DBMaxConns = n
	}
	if v := strings.TrimSpace(os.Getenv("SWITCHBOARD_PUBLIC_URL")); v != "" {
		u, err := url.Parse(v)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" {
			errs = append(errs, fmt.Errorf("SWITCHBOARD_PUBLIC_URL is %q: want the site's base, such as https://sb.example.com", v))
		}
		c.PublicURL = strings.TrimSuffix(v, "/")
	}
	for name, dst := range map[string]*string{"SWITCHBOARD_SENDGRID_URL": &c.SendGridURL, "SWITCHBOARD_SLACK_URL": &c.SlackURL,
		"SWITCHBOARD_STRIPE_URL": &c.StripeURL, "SWITCHBOARD_AI_BASE_URL": &c.AIBaseURL} {
		if v := strings.TrimSpace(os.Getenv(name)); v != "" {
			if u, err := url.Parse(v); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
				errs = append(errs, fmt.Errorf("%s is %q: want an http(s) URL", name, v))
			}
			*dst = v
		}
	}
	c.AIAPIKey, c.AIModel = strings.TrimSpace(os.Getenv("SWITCHBOARD_AI_API_KEY")), strings.TrimSpace(os.Getenv("SWITCHBOARD_AI_MODEL"))
	if v := strings.TrimSpace(os.Getenv("SWITCHBOARD_AI_TOKEN_BUDGET")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			errs = append(errs, fmt.Errorf("SWITCHBOARD_AI_TOKEN_BUDGET is %q: want a number of tokens per month (0: no limit)", v))
		}
		c.AITokenBudget = n
	}
	if c.DatabaseURL == "" {
		errs = append(errs, errors.New("DATABASE_URL is not set (postgres://user:pass@host:5432/db)"))
	}
	if c.MasterKey == "" {
		errs = append(errs, errors.New("SWITCHBOARD_MASTER_KEY is not set (generate one: head -c 32 /dev/urandom | base64)"))
	}
	if c.Mode != "server" && c.Mode != "dev" {
		errs = append(errs, fmt.Errorf("SWITCHBOARD_MODE is %q: want server or dev", c.Mode))
	}
	return c, errors.Join(errs...)
}

// Listen is SWITCHBOARD_LISTEN, or def.
func Listen(def string) string { return env("SWITCHBOARD_LISTEN", def) }

func env(name, def string) string {
	if v := strings.TrimSpace(os.Getenv(name)); v != "" {
		return v
	}
	return def
}

// Open opens the store (applying migrations), the keyring and the
// Temporal client. Dialing retries for up to a minute, so that a binary
// started with its dependencies (compose) waits for them.
func (c Config) Open(ctx context.Context, log *slog.Logger) (domain.Store, *seal.Keyring, client.Client, error) {
	if log == nil {
		log = slog.Default()
	}
	keys, err := seal.ParseKeyring(c.MasterKey)
	if err != nil {
		return nil, nil, nil, fmt.Errorf("SWITCHBOARD_MASTER_KEY: %w", err)
	}
	var st domain.Store
	if err := Retry(ctx, func() error {
		st, err = store.Open(ctx, c.DatabaseURL, store.Options{MaxOpenConns: c.DBMaxConns})
		return err
	}); err != nil {
		return nil, nil, nil, fmt.Errorf("database: %w", err)
	}
	var tc client.Client
	err = Retry(ctx, func() error {
		tc, err = client.DialContext(ctx, client.Options{HostPort: c.Temporal, Namespace: c.Namespace,
			Logger: sdklog.NewStructuredLogger(log.With("component", "temporal-client"))})
		return err
	})
	if err != nil {
		st.Close()
		return nil, nil, nil, fmt.Errorf("temporal at %s: %w", c.Temporal, err)
	}
	return st, keys, tc, nil
}

// Retry calls fn until it succeeds, for up to a minute.
func Retry(ctx context.Context, fn func() error) error {
	deadline := time.Now().Add(time.Minute)
	for {
		err := fn()
		if err == nil || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return errors.Join(err, ctx.Err())
		case <-time.After(2 * time.Second):
		}
	}
}

// Healthcheck GETs http://127.0.0.1<port>/healthz and reports whether it
// answered 200: the container health check of images without curl.
func Healthcheck(listen string) error {
	_, port, ok := strings.Cut(listen, ":")
	if !ok {
		port = listen
	}
	c := &http.Client{Timeout: 3 * time.Second}
	resp, err := c.Get("http://127.0.0.1:" + port + "/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	return nil
}

// Serve serves h on addr until ctx is done, then shuts down gracefully
// (in-flight requests get up to 10 seconds).
func Serve(ctx context.Context, addr string, h http.Handler, log *slog.Logger) error {
	srv := &http.Server{Addr: addr, Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute}
	errc := make(chan error, 1)
	go func() { errc <- srv.ListenAndServe() }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	log.Info("http: shutting down", "addr", addr)
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

// Runtime is what a production binary runs on: its configuration and the
// dependencies it opened.
type Runtime struct {
	Config
	Log      *slog.Logger
	Store    domain.Store
	Keys     *seal.Keyring
	Temporal client.Client
	// Metrics holds the Go and process collectors; add the binary's own.
	Metrics *prometheus.Registry
}

// Start loads the environment (listen is the default address), opens the
// store, keyring and Temporal client, and registers the platform's search
// attributes (retrying: under compose the namespace may still be in the
// making). Close the Runtime when done.
func Start(ctx context.Context, listen string) (*Runtime, error) {
	log := slog.New(slog.NewJSONHandler(os.Stderr, nil))
	cfg, err := Load(listen)
	if err != nil {
		return nil, err
	}
	st, keys, tc, err := cfg.Open(ctx, log)
	if err != nil {
		return nil, err
	}
	rt := &Runtime{Config: cfg, Log: log, Store: st, Keys: keys, Temporal: tc, Metrics: prometheus.NewRegistry()}
	if err := Retry(ctx, func() error { return workflows.EnsureSearchAttributes(ctx, tc, cfg.Namespace) }); err != nil {
		rt.Close()
		return nil, err
	}
	rt.Metrics.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return rt, nil
}

// Close closes the Temporal client and the store.
func (rt *Runtime) Close() {
	rt.Temporal.Close()
	_ = rt.Store.Close()
}
