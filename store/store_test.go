package store

import (
	"database/sql"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
	"switchboard/store/storetest"
)

func TestSQLite(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) domain.Store { return open(t, sqliteURL(t)) })
}

// TestSQLiteMemory runs the suite on in-memory databases: one connection
// each, which every goroutine (and transaction) shares.
func TestSQLiteMemory(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) domain.Store { return open(t, "sqlite::memory:") })
}

func TestPostgres(t *testing.T) {
	t.Parallel()
	storetest.Run(t, func(t *testing.T) domain.Store { return open(t, postgresURL(t)) })
}

// backends gives each test below a fresh, empty database per call.
var backends = []struct {
	name    string
	dialect dialect
	url     func(t *testing.T) string
}{
	{"sqlite", sqliteDialect, sqliteURL},
	{"postgres", postgresDialect, postgresURL},
}

func TestMigrate(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			ms, err := migrations(b.dialect)
			require.NoError(t, err)
			var all []string
			for _, m := range ms {
				all = append(all, m.name)
			}
			require.Contains(t, all, "0001_init")

			u := b.url(t)
			// Without migrations there are no tables.
			s, err := Open(ctx, u, Options{SkipMigrations: true})
			require.NoError(t, err)
			require.Error(t, s.CreateOrg(ctx, &domain.Org{Name: "early"}))
			require.NoError(t, s.Close())

			applied, err := Migrate(ctx, u)
			require.NoError(t, err)
			require.Equal(t, all, applied)
			applied, err = Migrate(ctx, u)
			require.NoError(t, err)
			require.Empty(t, applied, "a second run applies nothing")

			s, err = Open(ctx, u, Options{SkipMigrations: true, MaxOpenConns: 2})
			require.NoError(t, err)
			defer s.Close()
			require.NoError(t, s.CreateOrg(ctx, &domain.Org{Name: "migrated"}))
			var versions int
			require.NoError(t, s.(interface{ DB() *sql.DB }).DB().QueryRowContext(ctx,
				`SELECT count(*) FROM schema_migrations`).Scan(&versions))
			require.Equal(t, len(all), versions)
			require.Equal(t, 2, s.(interface{ DB() *sql.DB }).DB().Stats().MaxOpenConnections)

			// the zero value caps the pool; a negative one does not
			for opt, want := range map[int]int{0: DefaultMaxOpenConns, -1: 0} {
				s, err := Open(ctx, u, Options{SkipMigrations: true, MaxOpenConns: opt})
				require.NoError(t, err)
				require.Equal(t, want, s.(interface{ DB() *sql.DB }).DB().Stats().MaxOpenConnections, "MaxOpenConns %d", opt)
				require.NoError(t, s.Close())
			}
		})
	}
}

// TestConcurrentOpen starts several stores on one fresh database at once:
// they all migrate it, and each migration is applied once.
func TestConcurrentOpen(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			const n = 4
			u := b.url(t)
			stores, errs := make([]domain.Store, n), make([]error, n)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					<-start
					stores[i], errs[i] = Open(t.Context(), u, Options{})
				})
			}
			close(start)
			wg.Wait()
			for i := range n {
				require.NoError(t, errs[i])
				defer stores[i].Close()
			}
			ms, err := migrations(b.dialect)
			require.NoError(t, err)
			var versions int
			require.NoError(t, stores[0].(interface{ DB() *sql.DB }).DB().QueryRowContext(t.Context(),
				`SELECT count(*) FROM schema_migrations`).Scan(&versions))
			require.Equal(t, len(ms), versions)
			for _, s := range stores {
				require.NoError(t, s.CreateOrg(t.Context(), &domain.Org{Name: "org"}))
			}
		})
	}
}

func TestOpenUnsupported(t *testing.T) {
	t.Parallel()
	_, err := Open(t.Context(), "mysql://root:hunter2@db/switchboard", Options{})
	require.ErrorContains(t, err, `"mysql"`)
	require.NotContains(t, err.Error(), "hunter2", "the error shows no password")
}

func TestSQLiteDSN(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		url, dsn string
		memory   bool
	}{
		{"sqlite:/var/lib/sb.db", "/var/lib/sb.db?" + sqlitePragmas, false},
		{"sqlite:///var/lib/sb.db", "/var/lib/sb.db?" + sqlitePragmas, false},
		{"sqlite:data/sb.db", "data/sb.db?" + sqlitePragmas, false},
		{"sqlite::memory:", ":memory:?" + sqlitePragmas, true},
		{"file:sb.db?mode=rwc", "file:sb.db?mode=rwc&" + sqlitePragmas, false},
		{"file::memory:", "file::memory:?" + sqlitePragmas, true},
		{"file:x?mode=memory&cache=shared", "file:x?mode=memory&cache=shared&" + sqlitePragmas, true},
	} {
		dsn, memory := sqliteDSN(tc.url)
		require.Equal(t, tc.dsn, dsn, tc.url)
		require.Equal(t, tc.memory, memory, tc.url)
	}
}

func TestRebind(t *testing.T) {
	t.Parallel()
	q := `SELECT '?' FROM t WHERE a = ? AND b = 'it''s ?' AND c > ? LIMIT ?`
	require.Equal(t, `SELECT '?' FROM t WHERE a = $1 AND b = 'it''s ?' AND c > $2 LIMIT $3`, postgresDialect.rebind(q))
	require.Equal(t, q, sqliteDialect.rebind(q))
}

// open opens the store at u, closed when t ends.
func open(t *testing.T, u string) domain.Store {
	t.Helper()
	s, err := Open(t.Context(), u, Options{})
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("close store: %v", err)
		}
	})
	return s
}

// sqliteURL is a new database file in t's temporary directory.
func sqliteURL(t *testing.T) string {
	return "sqlite:" + filepath.Join(t.TempDir(), "switchboard.db")
}

// postgresURL is a schema of t's own in the test database (storetest.PostgresURL).
func postgresURL(t *testing.T) string { return storetest.PostgresURL(t) }
