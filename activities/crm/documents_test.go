package crm_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
	"switchboard/domain/crm"
)

func TestRenderDocument(t *testing.T) {
	st, org := memStore(t)
	svc := &crm.Service{Store: st}
	_, err := svc.PutContractTemplate(t.Context(), "user:test", &domain.ContractTemplate{OrgID: org, Name: "order",
		Body: `<h1>{{.Title}}</h1><p>For {{.Customer.Name}}</p><ul>{{range .Data.items}}<li>{{.name}}: {{.qty}}</li>{{end}}</ul><p>{{.Data.note}}</p>`})
	require.NoError(t, err)
	cust, err := svc.CreateCustomer(t.Context(), "user:test", &domain.Customer{OrgID: org, Name: "Ada Lovelace"})
	require.NoError(t, err)
	ctx := crm.WithIdempotencyKey(t.Context(), "run:acme/flow:1/r1/3")
	data := map[string]any{"items": []any{map[string]any{"name": "Engine", "qty": 2}}, "note": "<script>alert(1)</script>"}
	d, err := svc.RenderDocument(ctx, "run:flow:1", org, "order", "Order confirmation", cust.ID, data)
	require.NoError(t, err)
	require.Equal(t, `<h1>Order confirmation</h1><p>For Ada Lovelace</p><ul><li>Engine: 2</li></ul><p>&lt;script&gt;alert(1)&lt;/script&gt;</p>`, d.HTML,
		"run data is escaped, never markup")
	require.Equal(t, crm.DocumentHash(d.HTML), d.SHA256)
	again, err := svc.RenderDocument(ctx, "run:flow:1", org, "order", "Order confirmation", cust.ID, data)
	require.NoError(t, err)
	require.Equal(t, d.ID, again.ID, "once per step")
	got, err := st.GetDocument(t.Context(), org, d.ID)
	require.NoError(t, err)
	require.Equal(t, d.HTML, got.HTML)
	require.Equal(t, 1, count(t, st, org, "document.rendered"))

	// too long a list, an unknown template, a template that does not fit the data
	long := make([]any, crm.MaxDocumentList+1)
	_, err = svc.RenderDocument(t.Context(), "run:flow:1", org, "order", "x", "", map[string]any{"items": long})
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "data.items", ve.Fields[0].Field)
	_, err = svc.RenderDocument(t.Context(), "run:flow:1", org, "nope", "x", "", nil)
	require.ErrorAs(t, err, &ve)
	require.Equal(t, "template", ve.Fields[0].Field)
	_, err = svc.RenderDocument(t.Context(), "run:flow:1", org, "default", "x", "", nil)
	require.ErrorAs(t, err, &ve, "the default contract template needs a quote")
}
