package api_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCustomerImport(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	existing := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Grace", "email": "grace@example.com"}}, 201)
	importCSV := func(query, csv string) *resp {
		return do(t, req{method: "POST", path: "/v1/customers/import" + query, key: o.operator(), contentType: "text/csv", body: csv})
	}
	count := func() int {
		return len(items(t, expect(t, req{method: "GET", path: "/v1/customers?limit=500", key: o.viewer()}, 200)))
	}

	// every bad row reported, by line and field; nothing imported
	bad := "\ufeffname,email,status,lifetimeValue.amount,lifetimeValue.currency,tags,custom.tier\n" +
		"Ada Lovelace,ada@example.com,customer,125000,EUR,vip;beta,gold\n" +
		",no-name@example.com,lead,,,,\n" +
		"Alan,not-an-email,vip,,,,\n" +
		"Ada Again,ADA@example.com,lead,,,,\n" +
		"Grace Dup,grace@example.com,lead,,,,\n"
	res := importCSV("", bad)
	p := requireProblem(t, res, 422, "validation")
	var locs []string
	for _, e := range asList(p["errors"]) {
		locs = append(locs, e["location"].(string))
	}
	require.Equal(t, []string{"rows[3].name", "rows[4].email", "rows[4].status", "rows[5].email", "rows[6].email"}, locs, "%s", res.body)
	require.Contains(t, string(res.body), "is also on row 2")
	require.Contains(t, string(res.body), existing["id"].(string), "the customer who has the email")
	require.Equal(t, 1, count(), "nothing imported")

	// money is never a decimal; unknown columns are named
	requireProblem(t, importCSV("", "name,lifetimeValue.amount\nAda,12.50\n"), 422, "validation")
	res = importCSV("", "name,nickname\nAda,Addie\n")
	requireProblem(t, res, 422, "validation")
	require.Contains(t, string(res.body), `unknown column \"nickname\"`)

	good := "name,email,status,lifetimeValue.amount,lifetimeValue.currency,tags,custom.tier,address.country\n" +
		"Ada Lovelace,ada@example.com,customer,125000,eur,vip;beta,gold,gb\n" +
		"\"Hopper, Grace\",grace@example.com,customer,,,,,\n" +
		"Alan Turing,alan@example.com,,,,,,\n"
	// a dry run counts and writes nothing
	dry := expect(t, req{method: "POST", path: "/v1/customers/import?dryRun=true&onConflict=update", key: o.operator(), contentType: "text/csv", body: good}, 200)
	require.Equal(t, map[string]any{"created": float64(2), "updated": float64(1), "skipped": float64(0), "dryRun": true}, dry)
	require.Equal(t, 1, count())

	res = importCSV("?onConflict=update", good)
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, map[string]any{"created": float64(2), "updated": float64(1), "skipped": float64(0)}, res.obj(t))
	require.Equal(t, 3, count())
	ada := items(t, expect(t, req{method: "GET", path: "/v1/customers?email=ada@", key: o.viewer()}, 200))[0]
	require.Equal(t, map[string]any{"amount": float64(125000), "currency": "EUR"}, ada["lifetimeValue"])
	require.Equal(t, []any{"beta", "vip"}, ada["tags"])
	require.Equal(t, map[string]any{"tier": "gold"}, ada["custom"])
	grace := expect(t, req{method: "GET", path: "/v1/customers/" + existing["id"].(string), key: o.viewer()}, 200)
	require.Equal(t, "Hopper, Grace", grace["name"])
	require.Equal(t, "customer", grace["status"])
	require.Len(t, o.events(t, "customer.created"), 3, "one for the API create, two imported")
	require.Len(t, o.events(t, "customer.status_changed"), 1)
	require.Len(t, findAudit(o.audit(t), "customer.import", "customers"), 1)

	// the same file again: skip leaves everyone, fail refuses
	require.Equal(t, map[string]any{"created": float64(0), "updated": float64(0), "skipped": float64(3)},
		expect(t, req{method: "POST", path: "/v1/customers/import?onConflict=skip", key: o.operator(), contentType: "text/csv", body: good}, 200))
	requireProblem(t, importCSV("", good), 422, "validation")

	// JSON: the customer fields, strictly
	res = do(t, req{method: "POST", path: "/v1/customers/import", key: o.operator(),
		body: []any{map[string]any{"name": "Barbara Liskov", "email": "barbara@example.com", "type": "business"}}})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.EqualValues(t, 1, res.obj(t)["created"])
	requireProblem(t, do(t, req{method: "POST", path: "/v1/customers/import", key: o.operator(),
		body: []any{map[string]any{"name": "X", "id": "mine"}}}), 422, "validation")
	requireProblem(t, do(t, req{method: "POST", path: "/v1/customers/import", key: o.viewer(), contentType: "text/csv", body: good}), 403, "forbidden")

	// bounded
	var big strings.Builder
	big.WriteString("name\n")
	for range 5001 {
		big.WriteString("Someone\n")
	}
	res = importCSV("", big.String())
	requireProblem(t, res, 422, "validation")
	require.Contains(t, string(res.body), "more than 5000 rows")
}
