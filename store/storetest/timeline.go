package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testTimeline(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	c := newCustomer(t, s, o.ID, "Ada", "")
	theirs := newCustomer(t, s, other.ID, "Ada", "")
	var ids []string
	for _, kind := range []string{"note", "call", "deal"} {
		e := &domain.TimelineEntry{OrgID: o.ID, CustomerID: c.ID, Kind: kind, Summary: kind + " entry", Actor: "user:u"}
		require.NoError(t, s.AddTimeline(ctx, e))
		ids = append([]string{e.ID}, ids...)
	}
	requirePages(t, ids, func(p domain.Page) ([]domain.TimelineEntry, error) { return s.ListTimeline(ctx, o.ID, c.ID, p) },
		func(e domain.TimelineEntry) string { return e.ID })
	// another organisation's customer cannot be written to or read
	require.ErrorIs(t, s.AddTimeline(ctx, &domain.TimelineEntry{OrgID: o.ID, CustomerID: theirs.ID, Kind: "note", Summary: "x"}), domain.ErrNotFound)
	es, err := s.ListTimeline(ctx, other.ID, c.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, es)
	err = s.AddTimeline(ctx, &domain.TimelineEntry{OrgID: o.ID, CustomerID: c.ID, Kind: "gossip", Summary: ""})
	require.ErrorIs(t, err, domain.ErrInvalid)
	// entries go with the customer
	require.NoError(t, s.DeleteCustomer(ctx, o.ID, c.ID))
	es, err = s.ListTimeline(ctx, o.ID, c.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, es)
}
