// Package store is Switchboard's persistent state: one implementation of
// domain.Store over database/sql, for Postgres (through pgx) and SQLite
// (through modernc.org/sqlite, no cgo).
//
// Open picks the backend from the URL: postgres://… or postgresql://… for
// Postgres; sqlite:PATH, sqlite::memory: or file:PATH for SQLite. Both run
// the same queries, written with ? placeholders; a small dialect rewrites
// placeholders for Postgres and stores times and JSON the way each database
// round-trips them exactly (UTC, microseconds; JSON byte for byte). Driver
// errors become domain.ErrNotFound, ErrConflict or ErrInvalid at this
// boundary, wrapping the original for its detail.
//
// The schema lives in numbered migrations per dialect (migrations/), which
// Open applies unless told not to, each in its own transaction; on Postgres
// an advisory lock lets several processes start at once.
//
// SQLite runs in WAL mode with a busy timeout and BEGIN IMMEDIATE
// transactions, so concurrent writers queue instead of failing with
// SQLITE_BUSY. An in-memory SQLite database uses a single connection (each
// connection would otherwise see its own empty database).
//
// The store also offers DB() *sql.DB, for tests and maintenance that need
// the database itself.
package store
