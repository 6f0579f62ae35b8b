package crm

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/santhosh-tekuri/jsonschema/v6"

	"switchboard/domain"
)

// compiled caches compiled record schemas by their text.
var compiled sync.Map

const maxRecordSchema = 64 << 10

// compileRecordSchema compiles an organisation's schema for custom fields.
func compileRecordSchema(doc json.RawMessage) (*jsonschema.Schema, error) {
	if s, ok := compiled.Load(string(doc)); ok {
		return s.(*jsonschema.Schema), nil
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	c.UseLoader(noLoader{}) // a schema cannot make the server fetch anything
	if err := c.AddResource("mem:///custom.json", v); err != nil {
		return nil, err
	}
	s, err := c.Compile("mem:///custom.json")
	if err != nil {
		return nil, err
	}
	compiled.Store(string(doc), s)
	return s, nil
}

type noLoader struct{}

func (noLoader) Load(url string) (any, error) {
	return nil, fmt.Errorf("references to other documents (%s) are not allowed", url)
}

// checkCustom validates a record's custom fields against its
// organisation's schema, if it has one; problems name custom.<path>.
func checkCustom(ctx context.Context, tx domain.Repo, orgID, record string, custom json.RawMessage) error {
	rs, err := tx.GetRecordSchema(ctx, orgID, record)
	if errors.Is(err, domain.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	s, err := compileRecordSchema(rs.Schema)
	if err != nil {
		return fmt.Errorf("the organisation's %s schema does not compile: %w", record, err)
	}
	if len(custom) == 0 {
		custom = json.RawMessage(`{}`)
	}
	v, err := jsonschema.UnmarshalJSON(bytes.NewReader(custom))
	if err != nil {
		return err
	}
	err = s.Validate(v)
	var verr *jsonschema.ValidationError
	if !errors.As(err, &verr) {
		return err
	}
	var fields []domain.FieldError
	for _, u := range verr.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		at := "custom"
		if u.InstanceLocation != "" {
			at += strings.ReplaceAll(u.InstanceLocation, "/", ".")
		}
		fields = append(fields, domain.FieldError{Field: at, Message: u.Error.String()})
	}
	if len(fields) == 0 {
		fields = []domain.FieldError{{Field: "custom", Message: verr.Error()}}
	}
	return &domain.ValidationError{Record: record, Fields: fields}
}

// SetRecordSchema sets the JSON Schema the custom fields of a record type
// must match from now on (records already stored are not re-checked; each
// is checked when its custom fields next change). nil removes it.
func (s *Service) SetRecordSchema(ctx context.Context, actor Actor, orgID, record string, schema json.RawMessage) (*domain.RecordSchema, error) {
	if !slices.Contains(domain.RecordSchemaTypes, record) {
		return nil, &domain.ValidationError{Record: "record schema", Fields: []domain.FieldError{{Field: "record", Message: "is not a record type with custom fields"}}}
	}
	if schema != nil {
		if len(schema) > maxRecordSchema {
			return nil, &domain.ValidationError{Record: "record schema", Fields: []domain.FieldError{{Field: "schema", Message: "is larger than 64 KiB"}}}
		}
		if _, err := compileRecordSchema(schema); err != nil {
			return nil, &domain.ValidationError{Record: "record schema", Fields: []domain.FieldError{{Field: "schema", Message: "is not a JSON Schema: " + err.Error()}}}
		}
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.RecordSchema, []*domain.Event, *domain.AuditEntry, error) {
		if schema == nil {
			if err := tx.DeleteRecordSchema(ctx, orgID, record); err != nil {
				return nil, nil, nil, err
			}
			return &domain.RecordSchema{OrgID: orgID, Record: record}, nil, &domain.AuditEntry{Action: "schema.delete", Target: "schema/" + record}, nil
		}
		rs := &domain.RecordSchema{OrgID: orgID, Record: record, Schema: schema}
		if err := tx.PutRecordSchema(ctx, rs); err != nil {
			return nil, nil, nil, err
		}
		return rs, nil, &domain.AuditEntry{Action: "schema.put", Target: "schema/" + record}, nil
	})
}
