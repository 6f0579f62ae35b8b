package crm_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/store"
)

func memStore(t *testing.T) (domain.Store, string) {
	t.Helper()
	st, err := store.Open(t.Context(), "sqlite::memory:", store.Options{})
	require.NoError(t, err)
	t.Cleanup(func() { _ = st.Close() })
	o := &domain.Org{Name: "acme"}
	require.NoError(t, st.CreateOrg(t.Context(), o))
	return st, o.ID
}

func count(t *testing.T, st domain.Store, org, typ string) int {
	t.Helper()
	evs, err := st.ListEvents(t.Context(), org, domain.Page{Limit: 500})
	require.NoError(t, err)
	n := 0
	for _, e := range evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

// TestChangesAreIdempotentByKey is what makes a retried crm.* activity safe:
// the first attempt's change commits with its result under the key; a retry
// gets that result and changes nothing.
func TestChangesAreIdempotentByKey(t *testing.T) {
	st, org := memStore(t)
	svc := &crm.Service{Store: st}
	ctx := crm.WithIdempotencyKey(t.Context(), "run:acme/flow:1/r1/5")

	first, err := svc.CreateCustomer(ctx, "run:flow:1", &domain.Customer{OrgID: org, Name: "Ada", Email: "ada@example.com"})
	require.NoError(t, err)
	again, err := svc.CreateCustomer(ctx, "run:flow:1", &domain.Customer{OrgID: org, Name: "Ada", Email: "ada@example.com"})
	require.NoError(t, err, "a retry is not a conflict")
	require.Equal(t, first.ID, again.ID)
	cs, _, err := st.ListCustomers(t.Context(), org, domain.CustomerQuery{})
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, 1, count(t, st, org, "customer.created"))

	// the same key in another organisation is another key
	other := &domain.Org{Name: "other"}
	require.NoError(t, st.CreateOrg(t.Context(), other))
	theirs, err := svc.CreateCustomer(ctx, "run:flow:1", &domain.Customer{OrgID: other.ID, Name: "Ada"})
	require.NoError(t, err)
	require.NotEqual(t, first.ID, theirs.ID)

	// updates: applied once per key
	up := crm.WithIdempotencyKey(t.Context(), "run:acme/flow:1/r1/6")
	edit := func(c *domain.Customer) error {
		c.LifetimeValue = &domain.Money{Amount: 100 + int64(c.Version), Currency: "USD"}
		return nil
	}
	u1, err := svc.UpdateCustomer(up, "run:flow:1", org, first.ID, 0, edit)
	require.NoError(t, err)
	u2, err := svc.UpdateCustomer(up, "run:flow:1", org, first.ID, 0, edit)
	require.NoError(t, err)
	require.Equal(t, u1, u2)
	got, err := st.GetCustomer(t.Context(), org, first.ID)
	require.NoError(t, err)
	require.Equal(t, 2, got.Version)
	require.Equal(t, int64(101), got.LifetimeValue.Amount)
	require.Equal(t, 1, count(t, st, org, "customer.updated"))

	// a failed attempt records nothing: the retry does the change
	bad := crm.WithIdempotencyKey(t.Context(), "run:acme/flow:1/r1/7")
	_, err = svc.CreateCustomer(bad, "run:flow:1", &domain.Customer{OrgID: org, Name: "Grace", Email: "not-an-email"})
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = svc.CreateCustomer(bad, "run:flow:1", &domain.Customer{OrgID: org, Name: "Grace", Email: "grace@example.com"})
	require.NoError(t, err)
	require.Equal(t, 2, count(t, st, org, "customer.created"))

	// without a key, every call changes
	_, err = svc.CreateCustomer(context.WithoutCancel(t.Context()), "user:u", &domain.Customer{OrgID: org, Name: "Grace", Email: "grace2@example.com"})
	require.NoError(t, err)
	require.Equal(t, 3, count(t, st, org, "customer.created"))
}
