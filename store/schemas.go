package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"switchboard/domain"
)

// Record schemas (domain.RecordSchemaRepo).

// PutRecordSchema creates or replaces an organisation's schema of a record type.
func (r *repo) PutRecordSchema(ctx context.Context, s *domain.RecordSchema) error {
	if err := need("record schema", "orgId", s.OrgID, "record", s.Record); err != nil {
		return err
	}
	if !json.Valid(s.Schema) {
		return fmt.Errorf("%w: record schema: not JSON", domain.ErrInvalid)
	}
	s.UpdatedAt = stamp(time.Time{})
	_, err := r.exec(ctx, `INSERT INTO record_schemas (org_id, record, schema, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, record) DO UPDATE SET schema = excluded.schema, updated_at = excluded.updated_at`,
		s.OrgID, s.Record, string(s.Schema), r.ts(s.UpdatedAt))
	return wrap("put record schema "+s.Record, err)
}

func (r *repo) GetRecordSchema(ctx context.Context, orgID, record string) (*domain.RecordSchema, error) {
	return get(ctx, r, "record schema "+record, func(sc scanner) (s domain.RecordSchema, err error) {
		return s, sc.Scan(&s.OrgID, &s.Record, jsonDest{&s.Schema}, scanTime(&s.UpdatedAt))
	}, `SELECT org_id, record, schema, updated_at FROM record_schemas WHERE org_id = ? AND record = ?`, orgID, record)
}

func (r *repo) DeleteRecordSchema(ctx context.Context, orgID, record string) error {
	return r.execOne(ctx, "delete record schema "+record, `DELETE FROM record_schemas WHERE org_id = ? AND record = ?`, orgID, record)
}
