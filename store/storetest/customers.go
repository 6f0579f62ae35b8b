package storetest

import (
	"encoding/json"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func newCustomer(t *testing.T, s domain.Repo, orgID, name, email string) *domain.Customer {
	t.Helper()
	c := &domain.Customer{OrgID: orgID, Name: name, Email: email}
	require.NoError(t, s.CreateCustomer(t.Context(), c))
	return c
}

func testCustomers(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	c := &domain.Customer{OrgID: o.ID, Name: "  Ada Lovelace ", Email: "Ada@Example.COM", Phone: "+44 20 7946 0000",
		Company: "Analytical Engines", Title: "Founder", Status: "prospect", Type: "business",
		Address:       &domain.Address{Line1: "12 St James's Sq", City: "London", Country: "gb"},
		LifetimeValue: &domain.Money{Amount: 9_007_199_254_740_993, Currency: "gbp"}, // > 2^53: no float on the way
		Source:        "webinar", Health: &domain.Health{Score: 72, RiskFactors: []string{"no login in 30 days"}},
		Tags: []string{"vip", "beta", "vip"}, Custom: json.RawMessage(`{"tier": "gold", "seats": 12}`)}
	require.NoError(t, s.CreateCustomer(ctx, c))
	require.NotEmpty(t, c.ID)
	require.Equal(t, 1, c.Version)
	requireStamped(t, c.CreatedAt)
	require.Equal(t, "Ada Lovelace", c.Name, "trimmed")
	require.Equal(t, "ada@example.com", c.Email, "emails are kept lower-case")
	require.Equal(t, []string{"beta", "vip"}, c.Tags, "sorted, no duplicates")

	got, err := s.GetCustomer(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.JSONEq(t, string(c.Custom), string(got.Custom))
	got.Custom = c.Custom
	require.Equal(t, c, got)
	byEmail, err := s.CustomerByEmail(ctx, o.ID, " ADA@example.com")
	require.NoError(t, err)
	require.Equal(t, c.ID, byEmail.ID)

	// email unique per organisation, whatever the case
	err = s.CreateCustomer(ctx, &domain.Customer{OrgID: o.ID, Name: "Other Ada", Email: "ADA@example.com"})
	require.ErrorIs(t, err, domain.ErrConflict)
	// customers without email do not collide
	newCustomer(t, s, o.ID, "No Mail 1", "")
	newCustomer(t, s, o.ID, "No Mail 2", "")

	// every invalid field at once, named
	err = s.CreateCustomer(ctx, &domain.Customer{OrgID: o.ID, Name: " ", Email: "not-mail", Status: "vip", Type: "alien",
		LifetimeValue: &domain.Money{Amount: -1, Currency: "dollars"}, Health: &domain.Health{Score: 101},
		Tags: []string{"ok", "-bad"}, Custom: json.RawMessage(`[1]`), Address: &domain.Address{Country: "Germany"}})
	require.ErrorIs(t, err, domain.ErrInvalid)
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	var fields []string
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	require.ElementsMatch(t, []string{"name", "email", "status", "type", "lifetimeValue.currency", "lifetimeValue.amount",
		"address.country", "health.score", "tags[0]", "custom"}, fields)

	// update with the current version; a stale version is a conflict
	got.Status, got.Tags, got.Health = "customer", nil, nil
	require.NoError(t, s.UpdateCustomer(ctx, got))
	require.Equal(t, 2, got.Version)
	stale := *got
	stale.Version = 1
	require.ErrorIs(t, s.UpdateCustomer(ctx, &stale), domain.ErrConflict)
	again, err := s.GetCustomer(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, "customer", again.Status)
	require.Nil(t, again.Tags)
	require.Nil(t, again.Health)
	require.Equal(t, 2, again.Version)
	require.True(t, again.UpdatedAt.After(again.CreatedAt) || again.UpdatedAt.Equal(again.CreatedAt))
	// taking another customer's email on update is a conflict too
	other := newCustomer(t, s, o.ID, "Grace Hopper", "grace@example.com")
	other.Email = "ada@example.com"
	require.ErrorIs(t, s.UpdateCustomer(ctx, other), domain.ErrConflict)
	missing := *got
	missing.ID = "no-such-customer"
	require.ErrorIs(t, s.UpdateCustomer(ctx, &missing), domain.ErrNotFound)

	require.NoError(t, s.DeleteCustomer(ctx, o.ID, c.ID))
	_, err = s.GetCustomer(ctx, o.ID, c.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.DeleteCustomer(ctx, o.ID, c.ID), domain.ErrNotFound)
	// the email is free again
	newCustomer(t, s, o.ID, "Ada Again", "ada@example.com")
}

// testCustomerQueries covers filters, search, every sort in both
// directions, and keyset pages that stay right while rows change.
func testCustomerQueries(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	owner := newUser(t, s, o.ID, "owner@example.com")
	people := []struct {
		name, email, company, status, owner string
		value                               int64
		tags                                []string
	}{
		{"Ada Lovelace", "ada@analytical.io", "Analytical Engines", "customer", owner.ID, 5000, []string{"vip"}},
		{"Grace Hopper", "grace@navy.mil", "US Navy", "prospect", owner.ID, 0, nil},
		{"Alan Turing", "alan@bletchley.uk", "Bletchley Park", "customer", "", 12000, []string{"vip", "uk"}},
		{"Katherine Johnson", "kj@nasa.gov", "NASA", "lead", owner.ID, 300, nil},
		{"Édith Piaf", "edith@chanson.fr", "Chanson SARL", "churned", "", 0, []string{"fr"}},
		{"alan kay", "kay@parc.com", "Xerox PARC", "customer", owner.ID, 12000, nil},
		{"Margaret Hamilton", "margaret@mit.edu", "MIT", "customer", owner.ID, 800, []string{"vip"}},
	}
	for _, p := range people {
		c := &domain.Customer{OrgID: o.ID, Name: p.name, Email: p.email, Company: p.company, Status: p.status,
			OwnerID: p.owner, Tags: p.tags}
		if p.value > 0 {
			c.LifetimeValue = &domain.Money{Amount: p.value, Currency: "USD"}
		}
		require.NoError(t, s.CreateCustomer(ctx, c))
	}
	// the other organisation's look-alikes never show up
	newCustomer(t, s, other.ID, "Ada Lovelace", "ada@analytical.io")
	newCustomer(t, s, other.ID, "Alan Turing", "alan@elsewhere.uk")

	names := func(q domain.CustomerQuery) []string {
		t.Helper()
		cs, _, err := s.ListCustomers(ctx, o.ID, q)
		require.NoError(t, err)
		var out []string
		for _, c := range cs {
			out = append(out, c.Name)
		}
		return out
	}
	all := []string{"Ada Lovelace", "Grace Hopper", "Alan Turing", "Katherine Johnson", "Édith Piaf", "alan kay", "Margaret Hamilton"}
	require.Equal(t, all, names(domain.CustomerQuery{}), "created order by default")
	require.Equal(t, []string{"Ada Lovelace", "alan kay", "Margaret Hamilton"},
		names(domain.CustomerQuery{Status: "customer", OwnerID: owner.ID}))
	require.Equal(t, []string{"Ada Lovelace", "Alan Turing", "Margaret Hamilton"}, names(domain.CustomerQuery{Tag: "vip"}))
	require.Equal(t, []string{"Alan Turing"}, names(domain.CustomerQuery{Tag: "uk"}))
	require.Empty(t, names(domain.CustomerQuery{Tag: "v"}), "tags match whole")

	// email prefix, case-insensitive, wildcards are literal
	require.Equal(t, []string{"Alan Turing"}, names(domain.CustomerQuery{EmailPrefix: "AL"}))
	require.Empty(t, names(domain.CustomerQuery{EmailPrefix: "%"}))
	require.Empty(t, names(domain.CustomerQuery{EmailPrefix: "a_a"}))

	// full-text: every word starts a word of name, company or email
	require.Equal(t, []string{"Alan Turing", "alan kay"}, names(domain.CustomerQuery{Search: "alan"}))
	require.Equal(t, []string{"Alan Turing"}, names(domain.CustomerQuery{Search: "ALAN tur"}))
	require.Equal(t, []string{"Katherine Johnson"}, names(domain.CustomerQuery{Search: "nasa"}), "company")
	require.Equal(t, []string{"Grace Hopper"}, names(domain.CustomerQuery{Search: "navy"}), "company and email domain")
	require.Equal(t, []string{"Margaret Hamilton"}, names(domain.CustomerQuery{Search: "mit"}))
	require.Equal(t, []string{"alan kay"}, names(domain.CustomerQuery{Search: "alan", Status: "customer", OwnerID: owner.ID}))
	require.Empty(t, names(domain.CustomerQuery{Search: "ada\" OR \"1\"=\"1 NEAR(*) -- '"}), "operators are text")
	require.Equal(t, []string{"Ada Lovelace"}, names(domain.CustomerQuery{Search: "ada*\" ("}), "punctuation is ignored")
	require.Empty(t, names(domain.CustomerQuery{Search: "zzzz"}))

	byID := func(ns ...string) []string { return ns }
	sorts := []struct {
		sort string
		want []string
	}{
		{"created", all},
		{"name", byID("Ada Lovelace", "Alan Turing", "alan kay", "Édith Piaf", "Grace Hopper", "Katherine Johnson", "Margaret Hamilton")},
		{"value", byID("Grace Hopper", "Édith Piaf", "Katherine Johnson", "Margaret Hamilton", "Ada Lovelace", "Alan Turing", "alan kay")},
		{"updated", all},
	}
	for _, tc := range sorts {
		if tc.sort == "name" {
			// byte order of the lower-cased name (C collation on both
			// backends): "é" sorts after the ASCII letters
			tc.want = byID("Ada Lovelace", "alan kay", "Alan Turing", "Grace Hopper", "Katherine Johnson", "Margaret Hamilton", "Édith Piaf")
			require.Equal(t, tc.want, names(domain.CustomerQuery{Sort: "name"}))
		}
		if tc.sort != "name" {
			require.Equal(t, tc.want, names(domain.CustomerQuery{Sort: tc.sort}), tc.sort)
		}
		for _, desc := range []bool{false, true} {
			want := slices.Clone(tc.want)
			if desc {
				slices.Reverse(want)
			}
			if tc.sort == "value" && desc {
				// equal values are ordered by id, in the direction asked
				want = byID("alan kay", "Alan Turing", "Ada Lovelace", "Margaret Hamilton", "Katherine Johnson", "Édith Piaf", "Grace Hopper")
			}
			// pages of 2, walked with the cursors
			var walked []string
			q := domain.CustomerQuery{Sort: tc.sort, Desc: desc, Limit: 2}
			for range 10 {
				cs, next, err := s.ListCustomers(ctx, o.ID, q)
				require.NoError(t, err)
				for _, c := range cs {
					walked = append(walked, c.Name)
				}
				if next == "" {
					break
				}
				q.After = next
			}
			require.Equal(t, want, walked, "sort %s desc %v", tc.sort, desc)
		}
	}

	// a cursor belongs to its sort order
	_, next, err := s.ListCustomers(ctx, o.ID, domain.CustomerQuery{Sort: "name", Limit: 2})
	require.NoError(t, err)
	_, _, err = s.ListCustomers(ctx, o.ID, domain.CustomerQuery{Sort: "value", After: next})
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, _, err = s.ListCustomers(ctx, o.ID, domain.CustomerQuery{After: "garbage!"})
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, _, err = s.ListCustomers(ctx, o.ID, domain.CustomerQuery{Sort: "email"})
	require.ErrorIs(t, err, domain.ErrInvalid)

	// keyset pages do not skip or repeat rows when rows before the cursor go away
	cs, next, err := s.ListCustomers(ctx, o.ID, domain.CustomerQuery{Limit: 3})
	require.NoError(t, err)
	require.NoError(t, s.DeleteCustomer(ctx, o.ID, cs[0].ID))
	rest, _, err := s.ListCustomers(ctx, o.ID, domain.CustomerQuery{After: next})
	require.NoError(t, err)
	require.Equal(t, all[3:], keys(rest, func(c domain.Customer) string { return c.Name }))

	// a page of 500 at most
	for i := range 3 {
		newCustomer(t, s, o.ID, fmt.Sprintf("Bulk %d", i), "")
	}
	cs, _, err = s.ListCustomers(ctx, o.ID, domain.CustomerQuery{Limit: 100000})
	require.NoError(t, err)
	require.Len(t, cs, len(all)-1+3)
}
