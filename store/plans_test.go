package store

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

// TestCustomerQueriesUseIndexes loads 20,000 customers into one
// organisation (and 2,000 into another), and checks that every customer
// list query the API makes is answered from an index: on PostgreSQL an
// index path exists (the planner is told to avoid sequential scans: at
// 20,000 rows it may rightly prefer one for a search), on SQLite no full
// scan, and no sort of more than a search's matches (temp B-tree). The
// benchmark (store/storebench) records the plans the planner picks by
// itself at 1,000,000.
func TestCustomerQueriesUseIndexes(t *testing.T) {
	t.Parallel()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			ctx := t.Context()
			st := open(t, b.url(t))
			org, other := &domain.Org{Name: "big"}, &domain.Org{Name: "small"}
			require.NoError(t, st.CreateOrg(ctx, org))
			require.NoError(t, st.CreateOrg(ctx, other))
			owner := &domain.User{OrgID: org.ID, Email: "owner@example.com", Role: domain.RoleOperator}
			require.NoError(t, st.CreateUser(ctx, owner))
			require.NoError(t, LoadCustomers(ctx, st, FakeCustomers(org.ID, 20000, 1, []string{owner.ID, ""})))
			require.NoError(t, LoadCustomers(ctx, st, FakeCustomers(other.ID, 2000, 2, nil)))
			require.NoError(t, Analyze(ctx, st))

			// a cursor 10 pages deep, for each sort
			deep := func(q domain.CustomerQuery) domain.CustomerQuery {
				for range 10 {
					_, next, err := st.ListCustomers(ctx, org.ID, q)
					require.NoError(t, err)
					require.NotEmpty(t, next)
					q.After = next
				}
				return q
			}
			for name, q := range map[string]domain.CustomerQuery{
				"first page":          {},
				"deep page":           deep(domain.CustomerQuery{}),
				"deep page by name":   deep(domain.CustomerQuery{Sort: "name"}),
				"deep page by value":  deep(domain.CustomerQuery{Sort: "value", Desc: true}),
				"status and owner":    {Status: "customer", OwnerID: owner.ID},
				"email prefix":        {EmailPrefix: "ada.love"},
				"full-text name":      {Search: "grace hopper"},
				"full-text by prefix": {Search: "kath"},
			} {
				plan, err := ExplainCustomers(ctx, st, org.ID, q, true)
				require.NoError(t, err)
				if b.name == "postgres" {
					require.NotContains(t, plan, "Seq Scan on customers", "%s:\n%s", name, plan)
				} else {
					for _, line := range strings.Split(plan, "\n") {
						// a bare "SCAN customers" reads every row; "SCAN customers USING
						// INDEX" walks an index in order, "SCAN customers_fts ... INDEX" is the
						// full-text index's lookup
						full := (line == "SCAN customers" || strings.HasPrefix(line, "SCAN customers ")) && !strings.Contains(line, "USING")
						require.False(t, full, "%s: a full scan:\n%s", name, plan)
					}
					if q.EmailPrefix == "" && q.Search == "" {
						// only a search's matches may be sorted; a list comes in index order
						require.NotContains(t, plan, "TEMP B-TREE", "%s: sorts all matching rows:\n%s", name, plan)
					}
				}
				t.Logf("%s — %s:\n%s", b.name, name, plan)
			}
			// and the answers are right
			cs, _, err := st.ListCustomers(ctx, org.ID, domain.CustomerQuery{EmailPrefix: "ada.lovelace.1"})
			require.NoError(t, err)
			require.NotEmpty(t, cs)
			for _, c := range cs {
				require.True(t, strings.HasPrefix(c.Email, "ada.lovelace.1"), c.Email)
			}

			// a search gives the same pages whether it walks the list (common
			// words) or asks the search indexes (the plain listing)
			s, err := asStore(st)
			require.NoError(t, err)
			for _, text := range []string{"ada", " ada ", "grace hopper", "kath", "lovelace", "nomatchatall"} {
				for _, sort := range []string{"created", "name"} {
					walked, indexed := []string{}, []string{}
					q := domain.CustomerQuery{Search: text, Sort: sort, Limit: 50}
					for range 4 {
						cs, next, err := st.ListCustomers(ctx, org.ID, q)
						require.NoError(t, err)
						for _, c := range cs {
							walked = append(walked, c.ID)
						}
						if q.After = next; next == "" {
							break
						}
					}
					q.After = ""
					for range 4 {
						l, err := s.customerListing(org.ID, q)
						require.NoError(t, err)
						cs, next, err := customerPages.run(ctx, &s.repo, l, func(c *domain.Customer) string { return c.ID })
						require.NoError(t, err)
						for _, c := range cs {
							indexed = append(indexed, c.ID)
						}
						if q.After = next; next == "" {
							break
						}
					}
					require.Equal(t, indexed, walked, "%q by %s", text, sort)
					if text == "ada" {
						require.Len(t, walked, 200, "four full pages")
					}
				}
			}
		})
	}
}
