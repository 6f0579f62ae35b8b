package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"switchboard/domain"
)

// Bulk loading and query plans, for seeding and benchmarks (`switchboard
// seed`, store/storebench). Not part of domain.Store: nothing in a request
// path uses them.

func asStore(st domain.Store) (*store, error) {
	s, ok := st.(*store)
	if !ok {
		return nil, fmt.Errorf("store: %T is not a store of this package", st)
	}
	return s, nil
}

// LoadCustomers inserts many customers of one organisation at once — COPY on
// PostgreSQL, multi-row INSERTs in transactions of 5,000 on SQLite — with the checks CreateCustomer makes. It emits no events and
// writes no audit rows: it is for seeding, not for business changes.
func LoadCustomers(ctx context.Context, st domain.Store, cs []domain.Customer) error {
	s, err := asStore(st)
	if err != nil {
		return err
	}
	rows := make([][]any, len(cs))
	for i := range cs {
		c := &cs[i]
		if err := checkCustomer(c); err != nil {
			return fmt.Errorf("customer %d: %w", i, err)
		}
		c.ID, c.Version = newID(c.ID), 1
		c.CreatedAt = stamp(c.CreatedAt)
		c.UpdatedAt = c.CreatedAt
		row := append([]any{c.OrgID, c.ID}, customerArgs(c)...)
		rows[i] = append(row, c.Version, s.ts(c.CreatedAt), s.ts(c.UpdatedAt))
	}
	cols := customerInsertCols
	if s.postgres {
		return s.copyRows(ctx, "customers", cols, rows)
	}
	// SQLite takes at most 32,766 parameters a statement: 500 rows of 22
	// columns a statement, 10 statements a transaction
	const perStmt, perTx = 500, 5000
	per := "(" + placeholders(len(cols)) + ")"
	for start := 0; start < len(rows); start += perTx {
		end := min(start+perTx, len(rows))
		err := s.tx(ctx, func(r *repo) error {
			for i := start; i < end; i += perStmt {
				j := min(i+perStmt, end)
				q := `INSERT INTO customers (` + strings.Join(cols, ", ") + `) VALUES ` + strings.TrimSuffix(strings.Repeat(per+", ", j-i), ", ")
				var args []any
				for _, row := range rows[i:j] {
					args = append(args, row...)
				}
				if _, err := r.exec(ctx, q, args...); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return wrap("load customers", err)
		}
	}
	return nil
}

// copyRows COPYs rows into table through the pool's pgx connection.
func (s *store) copyRows(ctx context.Context, table string, cols []string, rows [][]any) error {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		c, ok := dc.(*stdlib.Conn)
		if !ok {
			return errors.New("store: not a pgx connection")
		}
		for i, row := range rows {
			for j, v := range row {
				if str, ok := v.(string); ok && (cols[j] == "address" || cols[j] == "health_risks" || cols[j] == "tags" || cols[j] == "custom") {
					rows[i][j] = []byte(str) // jsonb takes the text as bytes in COPY's binary format
				}
			}
		}
		_, err := c.Conn().CopyFrom(ctx, pgx.Identifier{table}, cols, pgx.CopyFromRows(rows))
		return translate(err)
	})
}

// Analyze refreshes the planner's statistics after a bulk load. On
// PostgreSQL it vacuums too: a COPY leaves the GIN indexes (search,
// trigrams, tags) with long pending lists that every search then reads
// row by row until autovacuum gets to them (measured at 1,000,000
// customers: 21,787 pending entries in customers_search; a prefix search
// took 59 ms in the index before VACUUM, 30 ms after).
func Analyze(ctx context.Context, st domain.Store) error {
	s, err := asStore(st)
	if err != nil {
		return err
	}
	stmt := "ANALYZE"
	if s.postgres {
		stmt = "VACUUM (ANALYZE)"
	}
	_, err = s.db.ExecContext(ctx, stmt)
	return err
}

// ExplainCustomers is the query plan of a customer list query, as the
// database's EXPLAIN (PostgreSQL) or EXPLAIN QUERY PLAN (SQLite) tells it.
// noSeqScan makes PostgreSQL's planner avoid sequential scans (enable_seqscan
// off): on a small table it may rightly prefer one, and the plan then shows
// whether an index path exists at all.
func ExplainCustomers(ctx context.Context, st domain.Store, orgID string, q domain.CustomerQuery, noSeqScan bool) (string, error) {
	s, err := asStore(st)
	if err != nil {
		return "", err
	}
	l, err := s.customerListing(orgID, q)
	if err != nil {
		return "", err
	}
	var plan string
	err = s.tx(ctx, func(r *repo) error {
		if s.postgres && noSeqScan {
			if _, err := r.q.ExecContext(ctx, "SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		plan, err = r.explain(ctx, l.sql, l.args)
		return err
	})
	return plan, err
}

func (r *repo) explain(ctx context.Context, query string, args []any) (string, error) {
	prefix := "EXPLAIN QUERY PLAN "
	if r.postgres {
		prefix = "EXPLAIN "
	}
	rows, err := r.q.QueryContext(ctx, r.rebind(prefix+query), args...)
	if err != nil {
		return "", err
	}
	defer rows.Close()
	cols, _ := rows.Columns()
	var lines []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		if err := rows.Scan(ptrs...); err != nil {
			return "", err
		}
		// Postgres: one text column; SQLite: id, parent, notused, detail
		lines = append(lines, fmt.Sprint(vals[len(vals)-1]))
	}
	return strings.Join(lines, "\n"), rows.Err()
}

// CursorAt is the cursor that starts a customer list after its first
// offset rows (for benchmarks of deep pages: the API only hands out
// cursors page by page).
func CursorAt(ctx context.Context, st domain.Store, orgID string, q domain.CustomerQuery, offset int) (string, error) {
	s, err := asStore(st)
	if err != nil {
		return "", err
	}
	q.After, q.Limit = "", 1
	l, err := s.customerListing(orgID, q)
	if err != nil {
		return "", err
	}
	l.sql = strings.Replace(l.sql, " LIMIT ?", " LIMIT ? OFFSET ?", 1)
	l.args = append(l.args[:len(l.args)-1], 2, offset-1) // the row at offset-1, and whether one follows
	_, next, err := customerPages.run(ctx, &s.repo, l, func(c *domain.Customer) string { return c.ID })
	return next, err
}
