package store

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"switchboard/domain"
)

// Keyset pages over record lists: a page ends with a cursor holding the
// last row's sort value and id, and the next page starts strictly after
// them, so deep pages cost what the first does and rows inserted or
// deleted before the cursor neither repeat nor skip rows. Each sort has an
// index (org_id, column, id); id breaks ties so the order is total.

// Kinds of sort values.
const (
	sortText = iota
	sortInt
	sortTime
)

// sortKey is one sort order: its column ("" sorts by id alone), the kind
// of its values, and the sort value of a row (a string, int64 or time.Time).
type sortKey[T any] struct {
	col   string
	kind  int
	value func(*T) any
}

// keyset lists records of one kind.
type keyset[T any] struct {
	record string // in errors: "customer query"
	sorts  map[string]sortKey[T]
	order  []string // the sort names, for errors
	from   string   // SELECT <cols> FROM <table>
	scan   func(scanner) (T, error)
}

type cursor struct {
	Sort string          `json:"s"`
	Desc bool            `json:"d,omitempty"`
	Key  json.RawMessage `json:"k,omitempty"`
	ID   string          `json:"i"`
}

func (k *keyset[T]) invalid(field, msg string) error {
	return &domain.ValidationError{Record: k.record, Fields: []domain.FieldError{{Field: field, Message: msg}}}
}

// listing is a built page query.
type listing struct {
	sql   string
	args  []any
	size  int
	sort  string
	desc  bool
	order string // the ORDER BY expression
}

// build makes the page query with the conditions where (args): rows after
// the cursor in the sort order, at most limit + 1 (to know whether a next
// page exists).
func (k *keyset[T]) build(r *repo, where []string, args []any, sort string, desc bool, after string, limit int) (*listing, error) {
	sk, ok := k.sorts[sort]
	if !ok {
		return nil, k.invalid("sort", fmt.Sprintf("is %q; want one of %s", sort, strings.Join(k.order, ", ")))
	}
	op, dir := ">", " ASC"
	if desc {
		op, dir = "<", " DESC"
	}
	if after != "" {
		var c cursor
		b, err := base64.RawURLEncoding.DecodeString(after)
		if err == nil {
			err = json.Unmarshal(b, &c)
		}
		if err != nil || c.Sort != sort || c.Desc != desc || c.ID == "" {
			return nil, k.invalid("cursor", "is not a cursor of this sort order (start again from the first page)")
		}
		if sk.col == "" {
			where, args = append(where, "id "+op+" ?"), append(args, c.ID)
		} else {
			key, err := r.cursorValue(sk.kind, c.Key)
			if err != nil {
				return nil, k.invalid("cursor", "is damaged (start again from the first page)")
			}
			where, args = append(where, "("+sk.col+", id) "+op+" (?, ?)"), append(args, key, c.ID)
		}
	}
	order := "id" + dir
	if sk.col != "" {
		order = sk.col + dir + ", id" + dir
	}
	size := domain.Page{Limit: limit}.Size()
	q := k.from + ` WHERE ` + strings.Join(where, " AND ") + ` ORDER BY ` + order + ` LIMIT ?`
	return &listing{sql: q, args: append(args, size+1), size: size, sort: sort, desc: desc, order: order}, nil
}

// run runs a built query and returns its page and the next page's cursor.
func (k *keyset[T]) run(ctx context.Context, r *repo, l *listing, id func(*T) string) ([]T, string, error) {
	out, err := list(ctx, r, "list "+strings.TrimSuffix(k.record, " query")+"s", k.scan, l.sql, l.args...)
	if err != nil || len(out) <= l.size {
		return out, "", err
	}
	out = out[:l.size]
	last := &out[l.size-1]
	c := cursor{Sort: l.sort, Desc: l.desc, ID: id(last)}
	if sk := k.sorts[l.sort]; sk.col != "" {
		c.Key, _ = json.Marshal(sk.value(last))
	}
	b, _ := json.Marshal(c)
	return out, base64.RawURLEncoding.EncodeToString(b), nil
}

// page builds and runs a page query.
func (k *keyset[T]) page(ctx context.Context, r *repo, where []string, args []any, sort string, desc bool, after string, limit int, id func(*T) string) ([]T, string, error) {
	l, err := k.build(r, where, args, sort, desc, after, limit)
	if err != nil {
		return nil, "", err
	}
	return k.run(ctx, r, l, id)
}

// cursorValue decodes a cursor's sort value into the query argument of
// its column.
func (r *repo) cursorValue(kind int, raw json.RawMessage) (any, error) {
	switch kind {
	case sortInt:
		var n int64
		return n, json.Unmarshal(raw, &n)
	case sortTime:
		var t time.Time
		err := json.Unmarshal(raw, &t)
		return r.ts(t), err
	}
	var s string
	return s, json.Unmarshal(raw, &s)
}
