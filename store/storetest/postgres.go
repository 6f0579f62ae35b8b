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
	postgresServer(t) // fails t, saying how to start it, when Postgres is down
	u, drop, err := NewPostgresSchema(t.Context())
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Errorf("%v", err)
		}
	})
	return u
}

// NewPostgresSchema creates a schema of its own on the test database and
// returns the URL with it as search_path, and how to drop it: for test
// binaries that set up one store for all their tests (TestMain).
func NewPostgresSchema(ctx context.Context) (string, func() error, error) {
	u, err := url.Parse(TestDatabaseURL)
	if err != nil {
		return "", nil, fmt.Errorf("TEST_DATABASE_URL: %w", err)
	}
	db, err := postgresAdmin()
	if err != nil {
		return "", nil, fmt.Errorf("the Postgres test server is not reachable at %s (start it with pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start): %w", u.Redacted(), err)
	}
	schema := fmt.Sprintf("sb_test_%016x", rand.Uint64())
	if _, err := db.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		return "", nil, err
	}
	drop := func() error {
		if _, err := db.ExecContext(context.Background(), "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			return fmt.Errorf("drop schema %s: %w", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}

// PostgresDatabaseURL returns the URL of a database that does not exist
// yet, on the test server, for code that creates its own databases. When t
// ends, that database and every database whose name starts with its name
// and "_" are dropped.
func PostgresDatabaseURL(t testing.TB) string {
	t.Helper()
	u, db := postgresServer(t)
	name := fmt.Sprintf("sb_test_%016x", rand.Uint64())
	t.Cleanup(func() {
		ctx := context.Background()
		rows, err := db.QueryContext(ctx, "SELECT datname FROM pg_database WHERE datname = $1 OR starts_with(datname, $1 || '_')", name)
		if err != nil {
			t.Errorf("list databases %s*: %v", name, err)
			return
		}
		var names []string
		for rows.Next() {
			var n string
			if rows.Scan(&n) == nil {
				names = append(names, n)
			}
		}
		rows.Close()
		for _, n := range names {
			if _, err := db.ExecContext(ctx, "DROP DATABASE "+n+" WITH (FORCE)"); err != nil {
				t.Errorf("drop database %s: %v", n, err)
			}
		}
	})
	u.Path = "/" + name
	return u.String()
}

// postgresServer is the test server's URL and admin connection; it fails t
// when the server cannot be reached.
func postgresServer(t testing.TB) (*url.URL, *sql.DB) {
	t.Helper()
	u, err := url.Parse(TestDatabaseURL)
	require.NoError(t, err, "TEST_DATABASE_URL")
	db, err := postgresAdmin()
	if err != nil {
		t.Fatalf("Postgres is not reachable at %s: %v\n"+
			"Start the local cluster with\n\tpg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start\n"+
			"or set TEST_DATABASE_URL to a database the tests may create schemas in.", u.Redacted(), err)
	}
	return u, db
}
