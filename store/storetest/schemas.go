package storetest

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testRecordSchemas(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	_, err := s.GetRecordSchema(ctx, o.ID, "customer")
	require.ErrorIs(t, err, domain.ErrNotFound)
	rs := &domain.RecordSchema{OrgID: o.ID, Record: "customer", Schema: json.RawMessage(`{"required": ["tier"]}`)}
	require.NoError(t, s.PutRecordSchema(ctx, rs))
	rs.Schema = json.RawMessage(`{"required": ["seats"]}`)
	require.NoError(t, s.PutRecordSchema(ctx, rs), "replaces")
	got, err := s.GetRecordSchema(ctx, o.ID, "customer")
	require.NoError(t, err)
	require.JSONEq(t, `{"required": ["seats"]}`, string(got.Schema))
	_, err = s.GetRecordSchema(ctx, other.ID, "customer")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.DeleteRecordSchema(ctx, other.ID, "customer"), domain.ErrNotFound)
	require.ErrorIs(t, s.PutRecordSchema(ctx, &domain.RecordSchema{OrgID: o.ID, Record: "customer", Schema: json.RawMessage(`{`)}), domain.ErrInvalid)
	require.NoError(t, s.DeleteRecordSchema(ctx, o.ID, "customer"))
	_, err = s.GetRecordSchema(ctx, o.ID, "customer")
	require.ErrorIs(t, err, domain.ErrNotFound)
}
