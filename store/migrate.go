package store

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"strconv"
	"strings"
	"time"
)

// migrationFiles holds migrations/<dialect>/NNNN_name.sql.
//
//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string // file name without .sql, e.g. 0001_init
	sql     string
}

// migrations lists d's migrations in version order.
func migrations(d dialect) ([]migration, error) {
	dir := "migrations/" + d.name
	entries, err := fs.ReadDir(migrationFiles, dir) // sorted by name
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), ".sql")
		num, _, _ := strings.Cut(name, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 || (len(ms) > 0 && v <= ms[len(ms)-1].version) {
			return nil, fmt.Errorf("store: bad migration file name %s/%s (want NNNN_name.sql, numbers increasing)", dir, e.Name())
		}
		b, err := migrationFiles.ReadFile(dir + "/" + e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: name, sql: string(b)})
	}
	return ms, nil
}

// migrate applies the migrations db lacks, each in its own transaction,
// and returns the names of those it applied.
func migrate(ctx context.Context, db *sql.DB, d dialect) (applied []string, err error) {
	ms, err := migrations(d)
	if err != nil {
		return nil, err
	}
	r := &repo{dialect: d, q: db, db: db}
	for _, m := range ms {
		done := false
		err := r.tx(ctx, func(r *repo) error {
			var err error
			done, err = r.applyMigration(ctx, m)
			return err
		})
		if err != nil {
			return applied, fmt.Errorf("store: migration %s: %w", m.name, err)
		}
		if done {
			applied = append(applied, m.name)
		}
	}
	return applied, nil
}

// applyMigration applies m unless it already is, in r's transaction.
func (r *repo) applyMigration(ctx context.Context, m migration) (bool, error) {
	createTable := `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL)`
	if r.postgres {
		// Serialise migrators of this schema until commit: even CREATE
		// TABLE IF NOT EXISTS fails when two transactions race on it.
		// (On SQLite, BEGIN IMMEDIATE already did.)
		if _, err := r.q.ExecContext(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('switchboard.migrate:' || coalesce(current_schema(), ''), 0))`); err != nil {
			return false, err
		}
	} else {
		createTable = `CREATE TABLE IF NOT EXISTS schema_migrations (
			version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL) STRICT`
	}
	if _, err := r.q.ExecContext(ctx, createTable); err != nil {
		return false, err
	}
	var n int
	if err := r.queryRow(ctx, `SELECT count(*) FROM schema_migrations WHERE version = ?`, m.version).Scan(&n); err != nil || n > 0 {
		return false, err
	}
	if _, err := r.q.ExecContext(ctx, m.sql); err != nil {
		return false, err
	}
	_, err := r.exec(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
		m.version, m.name, r.ts(stamp(time.Time{})))
	return err == nil, err
}
