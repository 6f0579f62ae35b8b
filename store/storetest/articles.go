package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testArticles(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	mk := func(org, title, body string, published bool, tags ...string) *domain.Article {
		a := &domain.Article{OrgID: org, Title: title, Body: body, Published: published, Tags: tags}
		require.NoError(t, s.CreateArticle(ctx, a))
		return a
	}
	refunds := mk(o.ID, "Refund policy", "Customers can ask for refunds within 30 days of purchase.", true, "billing")
	mk(o.ID, "Resetting your password", "Use the forgot-password link; refunds are not handled here.", true, "account")
	draft := mk(o.ID, "Refunding annual plans", "Draft: how annual plans are refunded pro rata.", false, "billing")
	mk(other.ID, "Refund policy", "Another organisation's refunds.", true)

	titles := func(q domain.ArticleQuery) []string {
		t.Helper()
		as, _, err := s.ListArticles(ctx, o.ID, q)
		require.NoError(t, err)
		return keys(as, func(a domain.Article) string { return a.Title })
	}
	require.Equal(t, []string{"Refunding annual plans", "Resetting your password", "Refund policy"}, titles(domain.ArticleQuery{}), "newest first")
	yes := true
	require.Equal(t, []string{"Resetting your password", "Refund policy"}, titles(domain.ArticleQuery{Published: &yes}))
	require.Equal(t, []string{"Refunding annual plans", "Refund policy"}, titles(domain.ArticleQuery{Tag: "billing"}))
	// search: stems and prefixes, the title outranks the body, other organisations never show
	found := titles(domain.ArticleQuery{Search: "refund"})
	require.ElementsMatch(t, []string{"Refund policy", "Refunding annual plans", "Resetting your password"}, found)
	require.Equal(t, "Resetting your password", found[2], "only its body mentions refunds")
	require.Equal(t, []string{"Refund policy"}, titles(domain.ArticleQuery{Search: "refund polic", Published: &yes}))
	require.Empty(t, titles(domain.ArticleQuery{Search: "zebra"}))
	titles(domain.ArticleQuery{Search: `"refund" OR * NEAR(`}) // operators are text: no error

	draft.Published, draft.Title = true, "Refunds for annual plans"
	require.NoError(t, s.UpdateArticle(ctx, draft))
	require.Equal(t, 2, draft.Version)
	require.Contains(t, titles(domain.ArticleQuery{Search: "annual", Published: &yes}), "Refunds for annual plans")
	stale := *draft
	stale.Version = 1
	require.ErrorIs(t, s.UpdateArticle(ctx, &stale), domain.ErrConflict)

	_, err := s.GetArticle(ctx, other.ID, refunds.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.DeleteArticle(ctx, other.ID, refunds.ID), domain.ErrNotFound)
	require.NoError(t, s.DeleteArticle(ctx, o.ID, refunds.ID))
	require.NotContains(t, titles(domain.ArticleQuery{Search: "refund"}), "Refund policy", "deleted from the index too")
	require.ErrorIs(t, s.CreateArticle(ctx, &domain.Article{OrgID: o.ID, Title: " "}), domain.ErrInvalid)
}
