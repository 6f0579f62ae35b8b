package store

import (
	"context"
	"encoding/json"
	"time"
)

// namedDocs keeps records an organisation names (calendars, SLA policies):
// one JSON document per (org_id, name) in table, with its update time.
type namedDocs[T any] struct {
	table, what string // "calendars", "calendar"
	// data is the part of a record the document holds; fill sets a record
	// from its row.
	data func(*T) any
	fill func(rec *T, orgID, name string, doc json.RawMessage, updated time.Time) error
}

// put creates or replaces the document of name and returns its update time.
func (d namedDocs[T]) put(ctx context.Context, r *repo, orgID, name string, rec *T) (time.Time, error) {
	at := stamp(time.Time{})
	b, err := json.Marshal(d.data(rec))
	if err != nil {
		return at, err
	}
	_, err = r.exec(ctx, `INSERT INTO `+d.table+` (org_id, name, data, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		orgID, name, string(b), r.ts(at))
	return at, wrap("put "+d.what+" "+name, err)
}

func (d namedDocs[T]) scan(s scanner) (rec T, err error) {
	var org, name string
	var doc json.RawMessage
	var at time.Time
	if err = s.Scan(&org, &name, jsonDest{&doc}, scanTime(&at)); err != nil {
		return rec, err
	}
	return rec, d.fill(&rec, org, name, doc, at)
}

func (d namedDocs[T]) get(ctx context.Context, r *repo, orgID, name string) (*T, error) {
	return get(ctx, r, d.what+" "+name, d.scan, `SELECT org_id, name, data, updated_at FROM `+d.table+` WHERE org_id = ? AND name = ?`, orgID, name)
}

// list lists the organisation's documents by name.
func (d namedDocs[T]) list(ctx context.Context, r *repo, orgID string) ([]T, error) {
	return list(ctx, r, "list "+d.table, d.scan, `SELECT org_id, name, data, updated_at FROM `+d.table+` WHERE org_id = ? ORDER BY name`, orgID)
}

func (d namedDocs[T]) delete(ctx context.Context, r *repo, orgID, name string) error {
	return r.execOne(ctx, "delete "+d.what+" "+name, `DELETE FROM `+d.table+` WHERE org_id = ? AND name = ?`, orgID, name)
}
