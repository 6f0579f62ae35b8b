package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" database/sql driver
	"modernc.org/sqlite"               // registers the "sqlite" database/sql driver
	sqlite3 "modernc.org/sqlite/lib"

	"switchboard/domain"
)

// Options tunes Open; the zero value is the default.
type Options struct {
	// SkipMigrations opens the database as it is, without applying pending
	// migrations (run Migrate separately).
	SkipMigrations bool
	// MaxOpenConns caps the connection pool; 0 is DefaultMaxOpenConns, a
	// negative value means no cap. Requests beyond the cap wait for a free
	// connection (bounded by their deadline) instead of exhausting the
	// server's max_connections under a burst. An in-memory SQLite database
	// always has exactly one connection.
	MaxOpenConns int
}

// DefaultMaxOpenConns is the pool size when Options.MaxOpenConns is 0:
// enough for a 2–8 core API or worker, well under PostgreSQL's default
// max_connections (100) for a few replicas.
const DefaultMaxOpenConns = 20

// Open connects to the database at url and, unless opts.SkipMigrations,
// applies pending migrations. url is postgres://… or postgresql://… (any
// pgx connection URL, e.g. with search_path=… to pick a schema), or
// sqlite:PATH, sqlite::memory: or file:PATH (query parameters pass on to
// the SQLite driver).
func Open(ctx context.Context, url string, opts Options) (domain.Store, error) {
	db, d, err := connect(ctx, url, opts)
	if err != nil {
		return nil, err
	}
	if !opts.SkipMigrations {
		if _, err := migrate(ctx, db, d); err != nil {
			db.Close()
			return nil, err
		}
	}
	return &store{repo: repo{dialect: d, q: db, db: db}}, nil
}

// Migrate applies the migrations the database at url lacks and returns
// their names, in order (none when it is up to date).
func Migrate(ctx context.Context, url string) (applied []string, err error) {
	db, d, err := connect(ctx, url, Options{})
	if err != nil {
		return nil, err
	}
	defer db.Close()
	return migrate(ctx, db, d)
}

// connect opens the database at url and checks that it answers.
func connect(ctx context.Context, url string, opts Options) (*sql.DB, dialect, error) {
	var (
		db     *sql.DB
		d      dialect
		err    error
		memory bool
	)
	switch {
	case strings.HasPrefix(url, "postgres://"), strings.HasPrefix(url, "postgresql://"):
		d = postgresDialect
		db, err = sql.Open("pgx", url)
	case strings.HasPrefix(url, "sqlite:"), strings.HasPrefix(url, "file:"):
		var dsn string
		dsn, memory = sqliteDSN(url)
		d = sqliteDialect
		db, err = sql.Open("sqlite", dsn)
	default:
		scheme, _, _ := strings.Cut(url, ":") // not the whole URL: it may hold a password
		return nil, d, fmt.Errorf("store: unsupported database URL scheme %q (want postgres://…, sqlite:PATH or file:PATH)", scheme)
	}
	if err != nil {
		return nil, d, fmt.Errorf("store: open %s: %w", d.name, err)
	}
	switch {
	case memory:
		// Every connection to :memory: is a database of its own: keep one,
		// forever.
		db.SetMaxOpenConns(1)
		db.SetMaxIdleConns(1)
		db.SetConnMaxIdleTime(0)
		db.SetConnMaxLifetime(0)
	case opts.MaxOpenConns >= 0:
		n := opts.MaxOpenConns
		if n == 0 {
			n = DefaultMaxOpenConns
		}
		db.SetMaxOpenConns(n)
		db.SetMaxIdleConns(n)
	}
	err = db.PingContext(ctx)
	if err == nil && !d.postgres && !memory {
		err = useWAL(ctx, db)
	}
	if err != nil {
		db.Close()
		return nil, d, fmt.Errorf("store: connect to %s: %w", d.name, err)
	}
	return db, d, nil
}

// useWAL puts an SQLite database in WAL mode, so readers go on while one
// connection writes. The mode is recorded in the file, so this is done once
// per Open rather than in every connection's pragmas: switching needs the
// database to itself, and SQLite reports SQLITE_BUSY without waiting when
// another connection is using it, as when processes open a new database
// together. So it retries, for as long as busy_timeout would wait.
func useWAL(ctx context.Context, db *sql.DB) error {
	for deadline := time.Now().Add(10 * time.Second); ; {
		_, err := db.ExecContext(ctx, `PRAGMA journal_mode = WAL`)
		var lite *sqlite.Error
		if err == nil || !errors.As(err, &lite) || lite.Code()&0xff != sqlite3.SQLITE_BUSY || time.Now().After(deadline) {
			return err
		}
		select {
		case <-ctx.Done():
			return err
		case <-time.After(10 * time.Millisecond):
		}
	}
}

// sqlitePragmas are set on every SQLite connection: busy_timeout makes a
// writer wait for the lock (up to 10s) rather than fail; foreign_keys is off
// unless asked for. _txlock=immediate makes BEGIN take the write lock at
// once: a deferred transaction that reads and then writes cannot wait for
// the lock (SQLite fails it with SQLITE_BUSY at once, lest two such
// transactions wait for each other), an immediate one queues.
const sqlitePragmas = "_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_txlock=immediate"

// sqliteDSN turns sqlite:PATH (or sqlite://PATH) and file:PATH URLs into
// the driver's DSN, and reports whether the database is in memory.
func sqliteDSN(url string) (dsn string, memory bool) {
	dsn = url
	if !strings.HasPrefix(url, "file:") {
		// A plain path (not a file: URI) is taken literally by the driver.
		dsn = strings.TrimPrefix(strings.TrimPrefix(url, "sqlite:"), "//")
	}
	path, _, _ := strings.Cut(dsn, "?")
	memory = path == ":memory:" || path == "file::memory:" || strings.Contains(dsn, "mode=memory")
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	return dsn + sep + sqlitePragmas, memory
}

// store is a repo on the connection pool, which can begin transactions.
type store struct {
	repo
}

// Tx runs fn in a transaction (see domain.Store). fn must make its changes
// through tx: on SQLite the transaction holds the write lock, so a write
// through the store itself would wait for it.
func (s *store) Tx(ctx context.Context, fn func(tx domain.Repo) error) error {
	return s.tx(ctx, func(r *repo) error { return fn(r) })
}

func (s *store) Close() error { return s.db.Close() }

// DB is the database the store works on, for tests and maintenance.
func (s *store) DB() *sql.DB { return s.db }

// querier is what *sql.DB and *sql.Tx have in common.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// repo implements domain.Repo on q: the pool (db set too) or a transaction
// (db nil).
type repo struct {
	dialect
	q  querier
	db *sql.DB
}

// tx runs fn on a repo bound to a new transaction, committing when fn
// returns nil and rolling back when it fails, panics (the panic goes on) or
// exits its goroutine.
func (r *repo) tx(ctx context.Context, fn func(*repo) error) error {
	tx, err := r.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback()
		}
	}()
	if err := fn(&repo{dialect: r.dialect, q: tx}); err != nil {
		return err
	}
	done = true
	return translate(tx.Commit())
}

// atomic runs fn in r's transaction, or in a new one when r has none: for
// the methods that write several rows.
func (r *repo) atomic(ctx context.Context, fn func(*repo) error) error {
	if r.db == nil {
		return fn(r)
	}
	return r.tx(ctx, fn)
}

// exec runs a statement and returns the number of rows it changed.
func (r *repo) exec(ctx context.Context, query string, args ...any) (int64, error) {
	res, err := r.q.ExecContext(ctx, r.rebind(query), args...)
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}

// execOne runs a statement that must change a row: ErrNotFound if none.
// forUpdate is the locking clause of a record read inside a transaction
// (every Get<Record> of the business records): such a read is a change's
// read-modify-write or the check of a record it refers to, so on
// PostgreSQL the row is locked (FOR NO KEY UPDATE: foreign-key checks of
// other rows still pass) and two changes of one record queue instead of
// the second failing its version check. Changes lock in one order —
// quote, deal, customer — so they cannot deadlock. SQLite's write
// transactions are serialised already.
func (r *repo) forUpdate() string {
	if r.postgres && r.db == nil {
		return " FOR NO KEY UPDATE"
	}
	return ""
}

func (r *repo) execOne(ctx context.Context, what string, query string, args ...any) error {
	n, err := r.exec(ctx, query, args...)
	if err == nil && n == 0 {
		err = domain.ErrNotFound
	}
	return wrap(what, err)
}

func (r *repo) queryRow(ctx context.Context, query string, args ...any) *sql.Row {
	return r.q.QueryRowContext(ctx, r.rebind(query), args...)
}

// scanner is a *sql.Row or *sql.Rows.
type scanner interface{ Scan(dest ...any) error }

// get runs a query for one row; ErrNotFound when there is none.
func get[T any](ctx context.Context, r *repo, what string, scan func(scanner) (T, error), query string, args ...any) (*T, error) {
	v, err := scan(r.queryRow(ctx, query, args...))
	if err != nil {
		return nil, wrap(what, translate(err))
	}
	return &v, nil
}

// list runs a query for rows (an empty slice, not nil, when none).
func list[T any](ctx context.Context, r *repo, what string, scan func(scanner) (T, error), query string, args ...any) ([]T, error) {
	rows, err := r.q.QueryContext(ctx, r.rebind(query), args...)
	if err != nil {
		return nil, wrap(what, translate(err))
	}
	defer rows.Close()
	out := []T{}
	for rows.Next() {
		v, err := scan(rows)
		if err != nil {
			return nil, wrap(what, err)
		}
		out = append(out, v)
	}
	return out, wrap(what, translate(rows.Err()))
}

// wrap prefixes err with what the store was doing.
func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("store: %s: %w", what, err)
}
