package api

import (
	"context"
	"encoding/json"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

func (s *Server) recordSchemaRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"customers"}
	type recordInput struct {
		Record string `path:"record" enum:"customer"`
	}
	type putSchemaInput struct {
		Record string `path:"record" enum:"customer"`
		Body   struct {
			Schema map[string]any `json:"schema" doc:"A JSON Schema (draft 2020-12) the record's custom fields (an object) must match"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "put-record-schema", Method: http.MethodPut, Path: "/v1/record-schemas/{record}",
		Summary: "Set the JSON Schema of a record type's custom fields", Tags: tags,
		Description: "Creates and changes of the records' custom fields are checked against it from now on " +
			"(422 naming `body.custom.<field>`); records already stored are checked when their custom fields next change."},
		func(ctx context.Context, in *putSchemaInput) (*bodyOut[domain.RecordSchema], error) {
			pr := principal(ctx)
			b, _ := json.Marshal(in.Body.Schema)
			rs, err := svc.SetRecordSchema(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.Record, b)
			if err != nil {
				return nil, storeErr(err, in.Record+" schema")
			}
			return &bodyOut[domain.RecordSchema]{*rs}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-record-schema", Method: http.MethodGet, Path: "/v1/record-schemas/{record}",
		Summary: "Get the JSON Schema of a record type's custom fields", Tags: tags},
		func(ctx context.Context, in *recordInput) (*bodyOut[domain.RecordSchema], error) {
			rs, err := s.store.GetRecordSchema(ctx, principal(ctx).OrgID, in.Record)
			if err != nil {
				return nil, storeErr(err, in.Record+" schema")
			}
			return &bodyOut[domain.RecordSchema]{*rs}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-record-schema", Method: http.MethodDelete, Path: "/v1/record-schemas/{record}",
		DefaultStatus: http.StatusNoContent, Summary: "Remove the JSON Schema of a record type's custom fields", Tags: tags},
		func(ctx context.Context, in *recordInput) (*struct{}, error) {
			pr := principal(ctx)
			_, err := svc.SetRecordSchema(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.Record, nil)
			return nil, storeErr(err, in.Record+" schema")
		})
}
