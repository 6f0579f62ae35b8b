package api_test

import (
	"strings"
	"testing"
	"unicode/utf8"

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

// TestKBSearchInARun: kb.search in a run finds the organisation's
// published articles, best first, with excerpts — never another
// organisation's, never drafts unless asked.
func TestKBSearchInARun(t *testing.T) {
	t.Parallel()
	o, other := newOrg(t), newOrg(t)
	long := strings.Repeat("Refunds are paid back to the card used. ", 20)
	refunds := expect(t, req{method: "POST", path: "/v1/articles", key: o.operator(), body: map[string]any{"title": "Refund policy",
		"body": long, "tags": []string{"billing"}, "published": true}}, 201)["id"].(string)
	expect(t, req{method: "POST", path: "/v1/articles", key: o.operator(), body: map[string]any{"title": "Invoices",
		"body": "An invoice is refunded by a credit note.", "published": true}}, 201)
	draft := expect(t, req{method: "POST", path: "/v1/articles", key: o.operator(), body: map[string]any{"title": "Refund fraud (internal)",
		"body": "Draft."}}, 201)["id"].(string)
	expect(t, req{method: "POST", path: "/v1/articles", key: other.operator(), body: map[string]any{"title": "Refunds elsewhere", "body": "x", "published": true}}, 201)

	name := o.deploy(t, `switchboard: v1
name: kb-lookup
input: {type: object, required: [q], properties: {q: {type: string}, drafts: {type: boolean}}}
steps:
  - id: hits
    call: kb.search
    with: {query: '${ input.q }', limit: 3, includeDrafts: '${ has(input.drafts) && input.drafts }'}
output: ${ steps.hits.output.items }
`)
	out := o.waitRun(t, o.start(t, name, map[string]any{"q": "refund"}), "completed")["output"].([]any)
	require.Len(t, out, 2, "published only, this organisation only: %v", out)
	require.Equal(t, refunds, jget(out[0], "id"), "the title match ranks first")
	ex := jget(out[0], "excerpt").(string)
	require.LessOrEqual(t, utf8.RuneCountInString(ex), 301)
	require.True(t, strings.HasSuffix(ex, "…"))
	require.Equal(t, []any{"billing"}, jget(out[0], "tags"))

	out = o.waitRun(t, o.start(t, name, map[string]any{"q": "refund", "drafts": true}), "completed")["output"].([]any)
	require.Len(t, out, 3)
	require.Contains(t, []any{jget(out[0], "id"), jget(out[1], "id"), jget(out[2], "id")}, draft)
}
