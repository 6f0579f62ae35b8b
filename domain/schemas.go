package domain

import (
	"context"
	"encoding/json"
	"time"
)

// RecordSchemaTypes are the records whose custom fields an organisation may
// describe with a JSON Schema.
var RecordSchemaTypes = []string{"customer"}

// RecordSchema is an organisation's JSON Schema (draft 2020-12) for the
// `custom` fields of one record type.
type RecordSchema struct {
	OrgID     string          `json:"-"`
	Record    string          `json:"record"`
	Schema    json.RawMessage `json:"schema"`
	UpdatedAt time.Time       `json:"updatedAt"`
}

// RecordSchemaRepo keeps record schemas (part of Repo).
type RecordSchemaRepo interface {
	PutRecordSchema(ctx context.Context, s *RecordSchema) error
	// GetRecordSchema is ErrNotFound when the organisation set none.
	GetRecordSchema(ctx context.Context, orgID, record string) (*RecordSchema, error)
	DeleteRecordSchema(ctx context.Context, orgID, record string) error
}
