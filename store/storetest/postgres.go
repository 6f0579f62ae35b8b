package storetest

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" database/sql driver
)

// TestDatabaseURL is TEST_DATABASE_URL, or the local server.
var TestDatabaseURL = cmp.Or(os.Getenv("TEST_DATABASE_URL"), "postgres://postgres@127.0.0.1:5432/test?sslmode=disable")

// postgresAdmin is the connection the tests create and drop schemas with.
var postgresAdmin = sync.OnceValues(func() (*sql.DB, error) {
	db, err := sql.Open("pgx", TestDatabaseURL)
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		db.Close()
		return nil, err
	}
	return db, nil
})

// PostgresURL creates a schema of its own for t, dropped when t ends, and
// returns the URL of the test database with that schema as search_path.
// The Postgres tests fail, never skip, when there is no Postgres.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u, err := url.Parse(TestDatabaseURL)
	require.NoError(t, err, "TEST_DATABASE_URL")
	db, err := postgresAdmin()
	if err != nil {
		t.Fatalf("Postgres is not reachable at %s: %v\n"+
			"Start the local cluster with\n\tpg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or set TEST_DATABASE_URL to a database the tests may create schemas in.", u.Redacted(), err)
	}
	schema := fmt.Sprintf("sb_test_%016x", rand.Uint64())
	_, err = db.ExecContext(t.Context(), "CREATE SCHEMA "+schema)
	require.NoError(t, err)
	t.Cleanup(func() {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
