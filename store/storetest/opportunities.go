package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testOpportunities(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	c := newCustomer(t, s, o.ID, "Ada", "ada@example.com")
	theirs := newCustomer(t, s, other.ID, "Ada", "ada@example.com")

	op := &domain.Opportunity{OrgID: o.ID, CustomerID: c.ID, Name: " Engines ", Amount: domain.Money{Currency: "gbp"},
		Probability: 10, ExpectedClose: "2026-12-31", LineItems: []domain.LineItem{
			{Product: "Difference engine", Quantity: 2, UnitPrice: 150000, DiscountBps: 1000, TaxRateBps: 2000}}}
	require.NoError(t, s.CreateOpportunity(ctx, op))
	require.Equal(t, "Engines", op.Name)
	require.Equal(t, "lead", op.Stage)
	require.Equal(t, domain.Money{Amount: 324000, Currency: "GBP"}, op.Amount, "the amount is the line items' total")
	got, err := s.GetOpportunity(ctx, o.ID, op.ID)
	require.NoError(t, err)
	require.Equal(t, op, got)

	// the customer must be the organisation's own
	require.ErrorIs(t, s.CreateOpportunity(ctx, &domain.Opportunity{OrgID: o.ID, CustomerID: theirs.ID, Name: "x", Amount: domain.Money{Currency: "EUR"}}), domain.ErrNotFound)
	require.ErrorIs(t, s.CreateOpportunity(ctx, &domain.Opportunity{OrgID: o.ID, CustomerID: "nobody", Name: "x", Amount: domain.Money{Currency: "EUR"}}), domain.ErrNotFound)
	err = s.CreateOpportunity(ctx, &domain.Opportunity{OrgID: o.ID, CustomerID: c.ID, Name: "x", Stage: "won", Probability: 120,
		ExpectedClose: "2026-02-30", LineItems: []domain.LineItem{{Quantity: 0}}})
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	var fields []string
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	require.ElementsMatch(t, []string{"stage", "amount.currency", "probability", "expectedClose", "lineItems[0].product", "lineItems[0].quantity"}, fields)

	got.Stage, got.Probability = "proposal", 50
	require.NoError(t, s.UpdateOpportunity(ctx, got))
	require.Equal(t, 2, got.Version)
	stale := *got
	stale.Version = 1
	require.ErrorIs(t, s.UpdateOpportunity(ctx, &stale), domain.ErrConflict)

	// a customer with deals cannot be deleted: nothing is lost by accident
	require.ErrorIs(t, s.DeleteCustomer(ctx, o.ID, c.ID), domain.ErrConflict)
	_, err = s.GetCustomer(ctx, o.ID, c.ID)
	require.NoError(t, err)

	// lists
	small := &domain.Opportunity{OrgID: o.ID, CustomerID: c.ID, Name: "Small", Amount: domain.Money{Amount: 500, Currency: "GBP"}, Stage: "closed_won", ExpectedClose: "2026-06-01"}
	require.NoError(t, s.CreateOpportunity(ctx, small))
	c2 := newCustomer(t, s, o.ID, "Grace", "grace@example.com")
	big := &domain.Opportunity{OrgID: o.ID, CustomerID: c2.ID, Name: "Big", Amount: domain.Money{Amount: 9_000_000, Currency: "USD"}, Stage: "proposal"}
	require.NoError(t, s.CreateOpportunity(ctx, big))
	require.NoError(t, s.CreateOpportunity(t.Context(), &domain.Opportunity{OrgID: other.ID, CustomerID: theirs.ID, Name: "Theirs", Amount: domain.Money{Currency: "EUR"}}))
	names := func(q domain.OpportunityQuery) []string {
		t.Helper()
		ops, _, err := s.ListOpportunities(ctx, o.ID, q)
		require.NoError(t, err)
		return keys(ops, func(o domain.Opportunity) string { return o.Name })
	}
	require.Equal(t, []string{"Engines", "Small", "Big"}, names(domain.OpportunityQuery{}))
	require.Equal(t, []string{"Engines", "Small"}, names(domain.OpportunityQuery{CustomerID: c.ID}))
	require.Equal(t, []string{"Engines", "Big"}, names(domain.OpportunityQuery{Stage: "proposal"}))
	require.Equal(t, []string{"Engines", "Big"}, names(domain.OpportunityQuery{Open: true}))
	require.Equal(t, []string{"Big", "Engines", "Small"}, names(domain.OpportunityQuery{Sort: "amount", Desc: true}))
	require.Equal(t, []string{"Big", "Small", "Engines"}, names(domain.OpportunityQuery{Sort: "expectedClose"}), "'' first")
	var walked []string
	q := domain.OpportunityQuery{Sort: "amount", Limit: 1}
	for range 5 {
		ops, next, err := s.ListOpportunities(ctx, o.ID, q)
		require.NoError(t, err)
		walked = append(walked, keys(ops, func(o domain.Opportunity) string { return o.Name })...)
		if next == "" {
			break
		}
		q.After = next
	}
	require.Equal(t, []string{"Small", "Engines", "Big"}, walked)

	// isolation
	_, err = s.GetOpportunity(ctx, other.ID, op.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.DeleteOpportunity(ctx, other.ID, op.ID), domain.ErrNotFound)
	moved := *got
	moved.OrgID = other.ID
	require.ErrorIs(t, s.UpdateOpportunity(ctx, &moved), domain.ErrNotFound)

	require.NoError(t, s.DeleteOpportunity(ctx, o.ID, op.ID))
	require.NoError(t, s.DeleteOpportunity(ctx, o.ID, small.ID))
	require.NoError(t, s.DeleteCustomer(ctx, o.ID, c.ID), "no deals left")
}
