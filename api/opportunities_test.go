package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestOpportunityPipeline(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Ada"}}, 201)["id"].(string)
	deal := expect(t, req{method: "POST", path: "/v1/opportunities", key: o.operator(), body: map[string]any{
		"customerId": cust, "name": "Engines", "amount": map[string]any{"amount": 0, "currency": "eur"}, "expectedClose": "2027-01-15",
		"lineItems": []any{map[string]any{"product": "Engine", "quantity": 2, "unitPrice": 150000, "discountBps": 1000, "taxRateBps": 1900}}}}, 201)
	id := deal["id"].(string)
	require.Equal(t, map[string]any{"amount": float64(321300), "currency": "EUR"}, deal["amount"], "2 × 1500.00 − 10 % + 19 % tax")
	require.Equal(t, "lead", deal["stage"])
	require.EqualValues(t, 10, deal["probability"], "the stage's default")

	// the stage does not move by patch
	res := do(t, req{method: "PATCH", path: "/v1/opportunities/" + id, key: o.operator(), contentType: "application/merge-patch+json", body: `{"stage": "closed_won"}`})
	requireProblem(t, res, 422, "validation")
	require.Contains(t, string(res.body), "body.stage")
	// other fields do
	res = do(t, req{method: "PATCH", path: "/v1/opportunities/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		headers: map[string]string{"If-Match": `"1"`}, body: `{"nextSteps": "send the quote", "expectedClose": "2027-02-01"}`})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, `"2"`, res.header.Get("ETag"))

	move := func(stage, reason string, status int) map[string]any {
		t.Helper()
		body := map[string]any{"stage": stage}
		if reason != "" {
			body["reason"] = reason
		}
		return expect(t, req{method: "POST", path: "/v1/opportunities/" + id + "/stage", key: o.operator(), body: body}, status)
	}
	require.EqualValues(t, 50, move("proposal", "", 200)["probability"])
	lost := move("closed_lost", "budget cut", 200)
	require.Equal(t, "budget cut", lost["lostReason"])
	require.NotEmpty(t, lost["actualClose"])
	p := move("negotiation", "", 409)
	require.Equal(t, "urn:switchboard:problem:invalid-transition", p["type"])
	require.Contains(t, p["detail"], "needs a reason")
	back := move("negotiation", "budget is back", 200)
	require.Nil(t, back["actualClose"])
	require.Nil(t, back["lostReason"])
	require.Equal(t, "closed_won", move("closed_won", "", 200)["stage"])
	requireProblem(t, do(t, req{method: "POST", path: "/v1/opportunities/" + id + "/stage", key: o.operator(),
		headers: map[string]string{"If-Match": `"2"`}, body: map[string]any{"stage": "lead", "reason": "x"}}), 412, "precondition-failed")

	moves := o.events(t, "opportunity.stage_changed")
	var path []string
	for _, e := range moves {
		path = append(path, jget(e, "data.from").(string)+"→"+jget(e, "data.to").(string))
	}
	require.Equal(t, []string{"lead→proposal", "proposal→closed_lost", "closed_lost→negotiation", "negotiation→closed_won"}, path)
	require.Equal(t, "budget is back", jget(moves[2], "data.reason"))
	require.Len(t, o.events(t, "opportunity.created"), 1)
	require.Len(t, o.events(t, "opportunity.updated"), 1)

	// lists
	other := expect(t, req{method: "POST", path: "/v1/opportunities", key: o.operator(), body: map[string]any{
		"customerId": cust, "name": "Spare parts", "amount": map[string]any{"amount": 5000, "currency": "EUR"}}}, 201)
	page := items(t, expect(t, req{method: "GET", path: "/v1/opportunities?open=true", key: o.viewer()}, 200))
	require.Len(t, page, 1)
	require.Equal(t, other["id"], page[0]["id"])
	page = items(t, expect(t, req{method: "GET", path: "/v1/opportunities?customer=" + cust + "&sort=-amount", key: o.viewer()}, 200))
	require.Equal(t, []any{"Engines", "Spare parts"}, []any{page[0]["name"], page[1]["name"]})

	// a customer with deals is not deleted
	requireProblem(t, do(t, req{method: "DELETE", path: "/v1/customers/" + cust, key: o.admin()}), 409, "conflict")
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/opportunities/" + id, key: o.admin()}).status)
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/opportunities/" + other["id"].(string), key: o.admin()}).status)
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/customers/" + cust, key: o.admin()}).status)
	require.Len(t, o.events(t, "opportunity.deleted"), 2)

	// bad input
	runScenarios(t, []scenario{
		{name: "unknown customer", method: "POST", path: "/v1/opportunities", key: o.operator(),
			body:   map[string]any{"customerId": "nobody", "name": "x", "amount": map[string]any{"amount": 1, "currency": "EUR"}},
			status: 422, problem: "validation", contains: []string{"body.customerId"}},
		{name: "bad lines", method: "POST", path: "/v1/opportunities", key: o.operator(),
			body: map[string]any{"customerId": "nobody", "name": "x", "amount": map[string]any{"amount": 1, "currency": "EUR"},
				"lineItems": []any{map[string]any{"product": "", "quantity": 0, "unitPrice": -5, "taxRateBps": 20000}}},
			status: 422, problem: "validation", contains: []string{"lineItems[0].quantity", "lineItems[0].unitPrice", "lineItems[0].taxRateBps"}},
		{name: "bad date", method: "POST", path: "/v1/opportunities", key: o.operator(),
			body:   map[string]any{"customerId": "nobody", "name": "x", "amount": map[string]any{"amount": 1, "currency": "EUR"}, "expectedClose": "2027-13-01"},
			status: 422, problem: "validation", contains: []string{"body.expectedClose"}},
	})
}
