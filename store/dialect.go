package store

import (
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"switchboard/domain"
)

// dialect is what differs between the backends at run time; the SQL is
// otherwise the same (both speak RETURNING and ON CONFLICT … DO UPDATE).
type dialect struct {
	name     string // "postgres" or "sqlite": also the migrations directory
	postgres bool
}

var (
	postgresDialect = dialect{name: "postgres", postgres: true}
	sqliteDialect   = dialect{name: "sqlite"}
)

// rebind rewrites the ? placeholders queries are written with into
// Postgres's $1, $2, … (outside string literals).
func (d dialect) rebind(q string) string {
	if !d.postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	n, quoted := 0, false
	for i := 0; i < len(q); i++ {
		switch c := q[i]; {
		case c == '\'':
			quoted = !quoted
		case c == '?' && !quoted:
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// sqliteTime is how SQLite stores times: fixed width, so text order is time
// order, and microseconds, as Postgres keeps.
const sqliteTime = "2006-01-02T15:04:05.000000Z"

// stamp returns t as the store keeps it: UTC, truncated to microseconds; the
// current time when t is zero.
func stamp(t time.Time) time.Time {
	if t.IsZero() {
		t = time.Now()
	}
	return t.UTC().Truncate(time.Microsecond)
}

// stampp is stamp for an optional time (nil stays nil); it does not change
// the time t points to.
func stampp(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	s := stamp(*t)
	return &s
}

// ts is the query argument for a time column.
func (d dialect) ts(t time.Time) any {
	if d.postgres {
		return t
	}
	return t.UTC().Format(sqliteTime)
}

// tsp is ts for a nullable time column.
func (d dialect) tsp(t *time.Time) any {
	if t == nil {
		return nil
	}
	return d.ts(*t)
}

// timeDest scans a time column of either backend (time.Time from pgx, text
// from SQLite) into a UTC time; nullable times go into a **time.Time.
type timeDest struct {
	t  *time.Time
	nt **time.Time
}

func scanTime(t *time.Time) timeDest      { return timeDest{t: t} }
func scanNullTime(t **time.Time) timeDest { return timeDest{nt: t} }

func (d timeDest) Scan(src any) error {
	var t time.Time
	switch v := src.(type) {
	case nil:
		if d.nt == nil {
			return errors.New("store: NULL in a NOT NULL time column")
		}
		*d.nt = nil
		return nil
	case time.Time:
		t = v
	case string, []byte:
		var err error
		if t, err = time.Parse(time.RFC3339Nano, asString(v)); err != nil {
			return fmt.Errorf("store: bad time %q: %w", v, err)
		}
	default:
		return fmt.Errorf("store: cannot scan %T into a time", src)
	}
	t = t.UTC()
	if d.nt != nil {
		*d.nt = &t
	} else {
		*d.t = t
	}
	return nil
}

func asString(v any) string {
	if b, ok := v.([]byte); ok {
		return string(b)
	}
	return v.(string)
}

// jsonArg is the query argument for a JSON column: NULL when empty, else
// the text (a string, so neither driver takes it for a blob).
func jsonArg(j json.RawMessage) any {
	if len(j) == 0 {
		return nil
	}
	return string(j)
}

// jsonDest scans a JSON column into a RawMessage (nil for NULL).
type jsonDest struct{ j *json.RawMessage }

func (d jsonDest) Scan(src any) error {
	switch v := src.(type) {
	case nil:
		*d.j = nil
	case string, []byte:
		*d.j = json.RawMessage(asString(v))
	default:
		return fmt.Errorf("store: cannot scan %T into JSON", src)
	}
	return nil
}

// translate maps a driver error to the domain's errors, wrapping the
// original for its detail; other errors pass through unchanged.
func translate(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, sql.ErrNoRows) {
		return domain.ErrNotFound
	}
	var kind error
	var pg *pgconn.PgError
	var lite *sqlite.Error
	switch {
	case errors.As(err, &pg):
		switch pg.Code {
		case "23505", // unique_violation
			"40001", "40P01": // serialization_failure, deadlock_detected: changed underneath
			kind = domain.ErrConflict
		case "23503": // foreign_key_violation: the org, user or definition referred to
			kind = domain.ErrNotFound
		case "23502", "23514", "22P02", "22021": // not null, check, bad text representation, bad encoding
			kind = domain.ErrInvalid
		}
	case errors.As(err, &lite):
		switch lite.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			kind = domain.ErrConflict
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			kind = domain.ErrNotFound
		case sqlite3.SQLITE_CONSTRAINT_NOTNULL, sqlite3.SQLITE_CONSTRAINT_CHECK, sqlite3.SQLITE_CONSTRAINT_DATATYPE:
			kind = domain.ErrInvalid
		}
	}
	if kind == nil {
		return err
	}
	return fmt.Errorf("%w: %w", kind, err)
}

// isForeignKey reports whether err is a foreign-key violation (a delete of
// a row others refer to, or an insert referring to a missing one).
func isForeignKey(err error) bool {
	var pg *pgconn.PgError
	var lite *sqlite.Error
	switch {
	case errors.As(err, &pg):
		return pg.Code == "23503"
	case errors.As(err, &lite):
		return lite.Code() == sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY
	}
	return false
}

// newID returns id, or a new UUIDv7 (time ordered, so lists ordered by id
// are in creation order) when id is empty.
func newID(id string) string {
	if id != "" {
		return id
	}
	return uuid.Must(uuid.NewV7()).String()
}

// need returns ErrInvalid naming the first empty field of what; fields are
// name, value pairs.
func need(what string, fields ...string) error {
	for i := 0; i+1 < len(fields); i += 2 {
		if fields[i+1] == "" {
			return fmt.Errorf("%w: %s: %s is required", domain.ErrInvalid, what, fields[i])
		}
	}
	return nil
}
