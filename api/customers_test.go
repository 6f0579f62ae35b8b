package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// events lists the organisation's events of the given types, oldest first.
func (o *org) events(t *testing.T, types ...string) []map[string]any {
	t.Helper()
	all := items(t, expect(t, req{method: "GET", path: "/v1/events?limit=500", key: o.viewer()}, 200))
	var out []map[string]any
	for i := len(all) - 1; i >= 0; i-- {
		for _, typ := range types {
			if all[i]["type"] == typ {
				out = append(out, all[i])
			}
		}
	}
	return out
}

func TestCustomerLifecycle(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	body := map[string]any{"name": "Ada Lovelace", "email": "Ada@Example.com", "company": "Analytical Engines",
		"lifetimeValue": map[string]any{"amount": 125000, "currency": "gbp"}, "tags": []string{"vip", "beta"},
		"ownerId": o.users["operator"], "custom": map[string]any{"tier": "gold", "seats": 12}}
	res := do(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: body})
	require.Equal(t, 201, res.status, "%s", res.body)
	require.Equal(t, `"1"`, res.header.Get("ETag"))
	c := res.obj(t)
	id := c["id"].(string)
	require.Equal(t, "ada@example.com", c["email"])
	require.Equal(t, "lead", c["status"], "the default status")
	require.Equal(t, map[string]any{"amount": float64(125000), "currency": "GBP"}, c["lifetimeValue"])
	require.NotContains(t, string(res.body), o.id, "the organisation id is not part of the record")

	got := expect(t, req{method: "GET", path: "/v1/customers/" + id, key: o.viewer()}, 200)
	require.Equal(t, c, got)

	// merge patch with the version read: set, clear, nested merge
	res = do(t, req{method: "PATCH", path: "/v1/customers/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		headers: map[string]string{"If-Match": `"1"`},
		body:    `{"status": "prospect", "tags": null, "custom": {"seats": 15, "tier": null}, "phone": "+44 20 7946 0000"}`})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, `"2"`, res.header.Get("ETag"))
	p := res.obj(t)
	require.Equal(t, "prospect", p["status"])
	require.Nil(t, p["tags"])
	require.Equal(t, map[string]any{"seats": float64(15)}, p["custom"])
	require.Equal(t, "Ada Lovelace", p["name"], "untouched fields stay")

	// a stale If-Match changes nothing
	res = do(t, req{method: "PATCH", path: "/v1/customers/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		headers: map[string]string{"If-Match": `"1"`}, body: `{"status": "churned"}`})
	requireProblem(t, res, http.StatusPreconditionFailed, "precondition-failed")
	require.Equal(t, "prospect", expect(t, req{method: "GET", path: "/v1/customers/" + id, key: o.viewer()}, 200)["status"])

	// a patch that changes nothing emits nothing and keeps the version
	res = do(t, req{method: "PATCH", path: "/v1/customers/" + id, key: o.operator(), contentType: "application/json", body: `{"status": "prospect"}`})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, `"2"`, res.header.Get("ETag"))

	// events, in the order of the changes, carrying the record
	evs := o.events(t, "customer.created", "customer.updated", "customer.status_changed")
	require.Len(t, evs, 3)
	require.Equal(t, "customer.created", evs[0]["type"])
	require.Equal(t, id, jget(evs[0], "data.customer.id"))
	require.Equal(t, "customer.updated", evs[1]["type"])
	require.ElementsMatch(t, []any{"phone", "status", "tags", "custom"}, jget(evs[1], "data.changes"))
	require.Equal(t, "customer.status_changed", evs[2]["type"])
	require.Equal(t, "lead", jget(evs[2], "data.from"))
	require.Equal(t, "prospect", jget(evs[2], "data.customer.status"))
	require.Equal(t, o.actor("operator"), jget(evs[2], "data.actor"))

	// delete needs admin; then it is gone and its event carries the last state
	requireProblem(t, do(t, req{method: "DELETE", path: "/v1/customers/" + id, key: o.operator()}), 403, "forbidden")
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/customers/" + id, key: o.admin()}).status)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/customers/" + id, key: o.viewer()}), 404, "not-found")
	requireProblem(t, do(t, req{method: "DELETE", path: "/v1/customers/" + id, key: o.admin()}), 404, "not-found")
	deleted := o.events(t, "customer.deleted")
	require.Len(t, deleted, 1)
	require.Equal(t, "prospect", jget(deleted[0], "data.customer.status"))

	audit := o.audit(t)
	require.Len(t, findAudit(audit, "customer.create", "customer/"+id), 1)
	require.Len(t, findAudit(audit, "customer.update", "customer/"+id), 2)
	require.Len(t, findAudit(audit, "customer.delete", "customer/"+id), 1)
}

func TestCustomerBadInput(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	taken := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Taken", "email": "taken@example.com"}}, 201)
	before := len(o.events(t, "customer.created", "customer.updated"))

	fieldsOf := func(t *testing.T, r *resp) []string {
		var out []string
		for _, e := range asList(r.obj(t)["errors"]) {
			out = append(out, e["location"].(string))
		}
		return out
	}
	runScenarios(t, []scenario{
		{name: "every bad field named", method: "POST", path: "/v1/customers", key: o.operator(),
			body: map[string]any{"name": "X", "email": "not an email", "lifetimeValue": map[string]any{"amount": 5, "currency": "dollars"},
				"health": map[string]any{"score": 140}, "tags": []string{"-x"}, "address": map[string]any{"country": "Germany"}},
			status: 422, problem: "validation", check: func(t *testing.T, r *resp) {
				require.ElementsMatch(t, []string{"body.email", "body.lifetimeValue.currency", "body.health.score", "body.tags[0]", "body.address.country"}, fieldsOf(t, r))
			}},
		{name: "money is never a float", method: "POST", path: "/v1/customers", key: o.operator(),
			body: `{"name": "X", "lifetimeValue": {"amount": 19.99, "currency": "USD"}}`, contentType: "application/json",
			status: 422, problem: "validation", contains: []string{"lifetimeValue.amount"}},
		{name: "name required", method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"email": "x@example.com"},
			status: 422, problem: "validation", contains: []string{"name"}},
		{name: "unknown status", method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "X", "status": "vip"},
			status: 422, problem: "validation", contains: []string{"body.status"}},
		{name: "owner from nowhere", method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "X", "ownerId": "nobody"},
			status: 422, problem: "validation", contains: []string{"body.ownerId"}},
		{name: "email taken, whatever the case", method: "POST", path: "/v1/customers", key: o.operator(),
			body: map[string]any{"name": "Again", "email": "TAKEN@example.com"}, status: 409, problem: "conflict", contains: []string{"email is taken"},
			notContains: []string{"UNIQUE", "customers_email"}},
		{name: "viewer cannot create", method: "POST", path: "/v1/customers", key: o.viewer(), body: map[string]any{"name": "X"},
			status: 403, problem: "forbidden"},
		{name: "patch: unknown field", method: "PATCH", path: "/v1/customers/" + taken["id"].(string), key: o.operator(),
			contentType: "application/merge-patch+json", body: `{"nickname": "T"}`, status: 422, problem: "validation", contains: []string{"body.nickname"}},
		{name: "patch: wrong type", method: "PATCH", path: "/v1/customers/" + taken["id"].(string), key: o.operator(),
			contentType: "application/merge-patch+json", body: `{"tags": "vip"}`, status: 422, problem: "validation", contains: []string{"body.tags"}},
		{name: "patch: invalid value", method: "PATCH", path: "/v1/customers/" + taken["id"].(string), key: o.operator(),
			contentType: "application/merge-patch+json", body: `{"type": "alien"}`, status: 422, problem: "validation", contains: []string{"body.type"}},
		{name: "patch: not an object", method: "PATCH", path: "/v1/customers/" + taken["id"].(string), key: o.operator(),
			contentType: "application/merge-patch+json", body: `[1]`, status: 400, problem: "bad-request"},
		{name: "patch: bad If-Match", method: "PATCH", path: "/v1/customers/" + taken["id"].(string), key: o.operator(),
			contentType: "application/merge-patch+json", headers: map[string]string{"If-Match": "yesterday"}, body: `{}`, status: 400, problem: "bad-request"},
		{name: "list: bad sort", path: "/v1/customers?sort=email", key: o.viewer(), status: 422, problem: "validation"},
		{name: "list: bad cursor", path: "/v1/customers?cursor=abc", key: o.viewer(), status: 422, problem: "validation", contains: []string{"query.cursor"}},
	})
	// nothing of that was saved or emitted
	require.Len(t, o.events(t, "customer.created", "customer.updated"), before)
	list := items(t, expect(t, req{method: "GET", path: "/v1/customers", key: o.viewer()}, 200))
	require.Len(t, list, 1)
	require.Equal(t, "Taken", list[0]["name"])
}

func TestCustomerListing(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	for i, n := range []string{"Grace Hopper", "Ada Lovelace", "Alan Turing", "Alan Kay", "Barbara Liskov"} {
		status := "customer"
		if i%2 == 1 {
			status = "lead"
		}
		expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": n, "status": status,
			"email":         strings.ToLower(strings.ReplaceAll(n, " ", ".")) + "@example.com",
			"lifetimeValue": map[string]any{"amount": (i + 1) * 1000, "currency": "EUR"}}}, 201)
	}
	// names walks every page of 2 of the query, following nextCursor
	names := func(query string) []string {
		var out []string
		path := "/v1/customers?limit=2&" + query
		for range 10 {
			page := expect(t, req{method: "GET", path: path, key: o.viewer()}, 200)
			for _, c := range items(t, page) {
				out = append(out, c["name"].(string))
			}
			next, _ := page["nextCursor"].(string)
			if next == "" {
				break
			}
			path = "/v1/customers?limit=2&" + query + "&cursor=" + url.QueryEscape(next)
		}
		return out
	}
	require.Equal(t, []string{"Grace Hopper", "Ada Lovelace", "Alan Turing", "Alan Kay", "Barbara Liskov"}, names(""))
	require.Equal(t, []string{"Grace Hopper", "Barbara Liskov", "Alan Turing", "Alan Kay", "Ada Lovelace"}, names("sort=-name"))
	require.Equal(t, []string{"Barbara Liskov", "Alan Kay", "Alan Turing", "Ada Lovelace", "Grace Hopper"}, names("sort=-value"))
	require.Equal(t, []string{"Alan Turing", "Alan Kay"}, names("q=alan"))
	require.Equal(t, []string{"Alan Kay"}, names("q=alan+kay"))
	require.Equal(t, []string{"Ada Lovelace", "Alan Kay"}, names("status=lead"))
	require.Equal(t, []string{"Alan Turing", "Alan Kay"}, names("email=ALAN"))
	require.Equal(t, []string{"Alan Kay"}, names("email=alan&status=lead"))
	// the cursor of one order is refused by another
	page := expect(t, req{method: "GET", path: "/v1/customers?limit=2&sort=name", key: o.viewer()}, 200)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/customers?sort=value&cursor=" + url.QueryEscape(page["nextCursor"].(string)), key: o.viewer()}), 422, "validation")
}

func TestCustomerTimeline(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	id := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Ada"}}, 201)["id"].(string)
	res := do(t, req{method: "PATCH", path: "/v1/customers/" + id, key: o.operator(), contentType: "application/merge-patch+json", body: `{"status": "customer", "phone": "+1 555 0100"}`})
	require.Equal(t, 200, res.status, "%s", res.body)
	for i, kind := range []string{"call", "note", "email"} {
		e := expect(t, req{method: "POST", path: "/v1/customers/" + id + "/timeline", key: o.operator(),
			body: map[string]any{"kind": kind, "summary": fmt.Sprintf("%s %d", kind, i), "body": "details"}}, 201)
		require.Equal(t, o.actor("operator"), e["actor"])
	}
	var all []string
	path := "/v1/customers/" + id + "/timeline?limit=2"
	for path != "" {
		page := expect(t, req{method: "GET", path: path, key: o.viewer()}, 200)
		for _, e := range items(t, page) {
			all = append(all, e["kind"].(string)+": "+e["summary"].(string))
		}
		path = ""
		if next, _ := page["nextCursor"].(string); next != "" {
			path = "/v1/customers/" + id + "/timeline?limit=2&cursor=" + next
		}
	}
	require.Equal(t, []string{"email: email 2", "note: note 1", "call: call 0", "customer: Status changed from lead to customer",
		"customer: Customer updated: phone, status", "customer: Customer created"}, all)
	require.Len(t, o.events(t, "timeline.logged"), 3)

	c360 := expect(t, req{method: "GET", path: "/v1/customers/" + id + "/360", key: o.viewer()}, 200)
	require.Equal(t, id, jget(c360, "customer.id"))
	require.Empty(t, c360["opportunities"])
	require.Empty(t, c360["runs"])
	require.Len(t, c360["timeline"], 6)

	runScenarios(t, []scenario{
		{name: "logged kinds only", method: "POST", path: "/v1/customers/" + id + "/timeline", key: o.operator(),
			body: map[string]any{"kind": "deal", "summary": "x"}, status: 422, problem: "validation"},
		{name: "unknown customer", method: "POST", path: "/v1/customers/nobody/timeline", key: o.operator(),
			body: map[string]any{"kind": "note", "summary": "x"}, status: 404, problem: "not-found"},
		{name: "viewer cannot log", method: "POST", path: "/v1/customers/" + id + "/timeline", key: o.viewer(),
			body: map[string]any{"kind": "note", "summary": "x"}, status: 403, problem: "forbidden"},
	})
	// the timeline goes with the customer
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/customers/" + id, key: o.admin()}).status)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/customers/" + id + "/timeline", key: o.viewer()}), 404, "not-found")
}

func TestCustomFieldSchema(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	// before any schema, custom is any object
	expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Free", "custom": map[string]any{"seats": "many"}}}, 201)

	schema := map[string]any{"type": "object", "required": []string{"tier"}, "properties": map[string]any{
		"tier": map[string]any{"enum": []string{"gold", "silver"}}, "seats": map[string]any{"type": "integer", "minimum": 1}}}
	requireProblem(t, do(t, req{method: "PUT", path: "/v1/record-schemas/customer", key: o.operator(), body: map[string]any{"schema": schema}}), 403, "forbidden")
	requireProblem(t, do(t, req{method: "PUT", path: "/v1/record-schemas/customer", key: o.admin(),
		body: map[string]any{"schema": map[string]any{"type": "nonsense"}}}), 422, "validation")
	requireProblem(t, do(t, req{method: "PUT", path: "/v1/record-schemas/customer", key: o.admin(),
		body: map[string]any{"schema": map[string]any{"$ref": "https://example.com/s.json"}}}), 422, "validation")
	expect(t, req{method: "PUT", path: "/v1/record-schemas/customer", key: o.admin(), body: map[string]any{"schema": schema}}, 200)
	require.Equal(t, normJSON(t, schema), jget(expect(t, req{method: "GET", path: "/v1/record-schemas/customer", key: o.viewer()}, 200), "schema"))

	res := do(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "X", "custom": map[string]any{"tier": "bronze", "seats": 0}}})
	requireProblem(t, res, 422, "validation")
	require.Contains(t, string(res.body), "body.custom.tier")
	require.Contains(t, string(res.body), "body.custom.seats")
	requireProblem(t, do(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "No custom"}}), 422, "validation")
	c := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Gold", "custom": map[string]any{"tier": "gold", "seats": 3}}}, 201)

	// changes of custom fields are checked; other changes of old records are not
	res = do(t, req{method: "PATCH", path: "/v1/customers/" + c["id"].(string), key: o.operator(), contentType: "application/merge-patch+json", body: `{"custom": {"seats": -1}}`})
	requireProblem(t, res, 422, "validation")
	require.Contains(t, string(res.body), "body.custom.seats")
	free := items(t, expect(t, req{method: "GET", path: "/v1/customers?q=free", key: o.viewer()}, 200))[0]
	res = do(t, req{method: "PATCH", path: "/v1/customers/" + free["id"].(string), key: o.operator(), contentType: "application/merge-patch+json", body: `{"phone": "+1 555 0100"}`})
	require.Equal(t, 200, res.status, "%s", res.body)

	// imports too, per row
	res = do(t, req{method: "POST", path: "/v1/customers/import", key: o.operator(), contentType: "text/csv", body: "name,custom.tier\nA,gold\nB,bronze\n"})
	requireProblem(t, res, 422, "validation")
	require.Contains(t, string(res.body), "rows[3].custom.tier")

	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/record-schemas/customer", key: o.admin()}).status)
	expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Free again"}}, 201)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/record-schemas/customer", key: o.viewer()}), 404, "not-found")
}
