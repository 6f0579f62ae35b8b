package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestKnowledgeBase(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	a := expect(t, req{method: "POST", path: "/v1/articles", key: o.operator(), body: map[string]any{
		"title": "Refund policy", "body": "Customers can ask for **refunds** within 30 days.", "tags": []string{"billing"}}}, 201)
	id := a["id"].(string)
	require.Equal(t, false, a["published"])
	expect(t, req{method: "POST", path: "/v1/articles", key: o.operator(), body: map[string]any{"title": "Passwords", "body": "Reset it from the login page.", "published": true}}, 201)

	res := do(t, req{method: "PATCH", path: "/v1/articles/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		headers: map[string]string{"If-Match": `"1"`}, body: `{"published": true}`})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Len(t, o.events(t, "article.published"), 1)

	hits := items(t, expect(t, req{method: "GET", path: "/v1/articles?q=refunded&published=true", key: o.viewer()}, 200))
	require.Len(t, hits, 1, "stemmed: refunded finds refunds")
	require.Equal(t, id, hits[0]["id"])
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/articles?tag=billing", key: o.viewer()}, 200)), 1)
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/articles", key: o.viewer()}, 200)), 2)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/articles", key: o.operator(), body: map[string]any{"title": "x", "tags": []string{"-bad"}}}), 422, "validation")
	requireProblem(t, do(t, req{method: "DELETE", path: "/v1/articles/" + id, key: o.operator()}), 403, "forbidden")
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/articles/" + id, key: o.admin()}).status)
	require.Empty(t, items(t, expect(t, req{method: "GET", path: "/v1/articles?q=refund", key: o.viewer()}, 200)))
}
