package envcfg_test

import (
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/cmd/internal/envcfg"
)

func TestLoadDefaultsAndRequiredSettings(t *testing.T) {
	for _, k := range []string{"DATABASE_URL", "SWITCHBOARD_MASTER_KEY", "TEMPORAL_ADDRESS", "TEMPORAL_NAMESPACE",
		"SWITCHBOARD_TASK_QUEUE", "SWITCHBOARD_LISTEN", "SWITCHBOARD_MODE", "SWITCHBOARD_WEBHOOK_MAX_BYTES", "SWITCHBOARD_DB_MAX_CONNS", "SWITCHBOARD_PUBLIC_URL",
		"SWITCHBOARD_SENDGRID_URL", "SWITCHBOARD_SLACK_URL", "SWITCHBOARD_STRIPE_URL", "SWITCHBOARD_AI_BASE_URL", "SWITCHBOARD_AI_API_KEY",
		"SWITCHBOARD_AI_MODEL", "SWITCHBOARD_AI_TOKEN_BUDGET"} {
		t.Setenv(k, "")
	}
	_, err := envcfg.Load(":8080")
	require.Error(t, err)
	require.Contains(t, err.Error(), "DATABASE_URL is not set")
	require.Contains(t, err.Error(), "SWITCHBOARD_MASTER_KEY is not set")

	t.Setenv("DATABASE_URL", "postgres://db/x")
	t.Setenv("SWITCHBOARD_MASTER_KEY", "a2V5")
	c, err := envcfg.Load(":8081")
	require.NoError(t, err)
	require.Equal(t, envcfg.Config{DatabaseURL: "postgres://db/x", Temporal: "localhost:7233", Namespace: "default",
		TaskQueue: "switchboard", MasterKey: "a2V5", Listen: ":8081", Mode: "server"}, c)

	t.Setenv("SWITCHBOARD_WEBHOOK_MAX_BYTES", "2097152")
	c, err = envcfg.Load(":8080")
	require.NoError(t, err)
	require.EqualValues(t, 2<<20, c.WebhookMaxBytes)
	t.Setenv("SWITCHBOARD_WEBHOOK_MAX_BYTES", "lots")
	_, err = envcfg.Load(":8080")
	require.ErrorContains(t, err, "SWITCHBOARD_WEBHOOK_MAX_BYTES")
	t.Setenv("SWITCHBOARD_WEBHOOK_MAX_BYTES", "")

	t.Setenv("SWITCHBOARD_DB_MAX_CONNS", "8")
	c, err = envcfg.Load(":8080")
	require.NoError(t, err)
	require.Equal(t, 8, c.DBMaxConns)
	for _, bad := range []string{"0", "-1", "many", "5000"} {
		t.Setenv("SWITCHBOARD_DB_MAX_CONNS", bad)
		_, err = envcfg.Load(":8080")
		require.ErrorContains(t, err, "SWITCHBOARD_DB_MAX_CONNS", bad)
	}
	t.Setenv("SWITCHBOARD_DB_MAX_CONNS", "")

	t.Setenv("SWITCHBOARD_PUBLIC_URL", "https://sb.example.com/")
	c, err = envcfg.Load(":8080")
	require.NoError(t, err)
	require.Equal(t, "https://sb.example.com", c.PublicURL)
	for _, bad := range []string{"sb.example.com", "ftp://x", "https://x/app?y=1", "https://"} {
		t.Setenv("SWITCHBOARD_PUBLIC_URL", bad)
		_, err = envcfg.Load(":8080")
		require.ErrorContains(t, err, "SWITCHBOARD_PUBLIC_URL", bad)
	}
	t.Setenv("SWITCHBOARD_PUBLIC_URL", "")

	// connectors: provider hosts and the worker's AI endpoint
	t.Setenv("SWITCHBOARD_SENDGRID_URL", "https://api.eu.sendgrid.com")
	t.Setenv("SWITCHBOARD_AI_BASE_URL", "http://ollama:11434/v1")
	t.Setenv("SWITCHBOARD_AI_MODEL", "llama3.1")
	t.Setenv("SWITCHBOARD_AI_TOKEN_BUDGET", "1000000")
	c, err = envcfg.Load(":8080")
	require.NoError(t, err)
	require.Equal(t, "https://api.eu.sendgrid.com", c.SendGridURL)
	require.Equal(t, "http://ollama:11434/v1", c.AIBaseURL)
	require.Equal(t, "llama3.1", c.AIModel)
	require.EqualValues(t, 1000000, c.AITokenBudget)
	t.Setenv("SWITCHBOARD_STRIPE_URL", "stripe")
	t.Setenv("SWITCHBOARD_AI_TOKEN_BUDGET", "-5")
	_, err = envcfg.Load(":8080")
	require.ErrorContains(t, err, "SWITCHBOARD_STRIPE_URL")
	require.ErrorContains(t, err, "SWITCHBOARD_AI_TOKEN_BUDGET")
	for _, k := range []string{"SWITCHBOARD_SENDGRID_URL", "SWITCHBOARD_AI_BASE_URL", "SWITCHBOARD_AI_MODEL", "SWITCHBOARD_AI_TOKEN_BUDGET", "SWITCHBOARD_STRIPE_URL"} {
		t.Setenv(k, "")
	}

	t.Setenv("TEMPORAL_ADDRESS", "temporal:7233")
	t.Setenv("SWITCHBOARD_MODE", "prod")
	_, err = envcfg.Load(":8080")
	require.ErrorContains(t, err, `SWITCHBOARD_MODE is "prod"`)
}

func TestOpenRejectsABadMasterKeyWithoutEchoingIt(t *testing.T) {
	c := envcfg.Config{DatabaseURL: "sqlite::memory:", MasterKey: "not-a-key-secret-value"}
	_, _, _, err := c.Open(t.Context(), nil)
	require.ErrorContains(t, err, "SWITCHBOARD_MASTER_KEY")
	require.NotContains(t, err.Error(), "not-a-key-secret-value")
}

func TestHealthcheck(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	var status atomic.Int32
	status.Store(http.StatusOK)
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/healthz" {
			http.NotFound(w, r)
			return
		}
		w.WriteHeader(int(status.Load()))
	})}
	go srv.Serve(lis)
	defer srv.Close()
	port := lis.Addr().String()[strings.LastIndex(lis.Addr().String(), ":"):]
	require.NoError(t, envcfg.Healthcheck(port))
	status.Store(http.StatusServiceUnavailable)
	require.ErrorContains(t, envcfg.Healthcheck(port), "503")
	srv.Close()
	require.Error(t, envcfg.Healthcheck(port), "nothing listens")
}
