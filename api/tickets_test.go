package api_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func parseTime(t *testing.T, v any) time.Time {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%v is not a time", v)
	at, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return at
}

func TestTicketLifecycle(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Ada", "email": "ada@customer.test"}}, 201)["id"].(string)
	patch := func(id, body string) *resp {
		return do(t, req{method: "PATCH", path: "/v1/tickets/" + id, key: o.operator(), contentType: "application/merge-patch+json", body: body})
	}
	status := func(id, to, reason string) *resp {
		return do(t, req{method: "POST", path: "/v1/tickets/" + id + "/status", key: o.operator(), body: map[string]any{"status": to, "reason": reason}})
	}
	message := func(id, dir, body string) *resp {
		return do(t, req{method: "POST", path: "/v1/tickets/" + id + "/messages", key: o.operator(), body: map[string]any{"direction": dir, "body": body, "author": "ada@customer.test"}})
	}

	// the default policy in the default calendar: medium is 8 working hours to respond, 40 to resolve
	tk := expect(t, req{method: "POST", path: "/v1/tickets", key: o.operator(), body: map[string]any{
		"customerId": cust, "subject": "Engine stalls", "description": "At 3000 rpm", "category": "Hardware"}}, 201)
	id := tk["id"].(string)
	require.Equal(t, "open", tk["status"])
	require.Equal(t, "medium", tk["priority"])
	require.Equal(t, "hardware", tk["category"])
	require.Equal(t, false, tk["firstResponseBreached"])
	created := tk["createdAt"]
	for target, dur := range map[string]string{"firstResponseDue": "8h", "resolutionDue": "40h"} {
		d := expect(t, req{method: "POST", path: "/v1/calendars/default/deadline", key: o.viewer(), body: map[string]any{"start": created, "duration": dur}}, 200)
		require.Equal(t, parseTime(t, d["deadline"]), parseTime(t, tk[target]), target)
	}

	// an organisation's policy on a round-the-clock calendar: the targets are plain spans
	week := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week[d] = []any{map[string]any{"start": 0, "end": 1440}}
	}
	expect(t, req{method: "PUT", path: "/v1/calendars/always", key: o.admin(), body: map[string]any{"timezone": "UTC", "week": week}}, 200)
	p := requireProblem(t, do(t, req{method: "PUT", path: "/v1/sla-policies/gold", key: o.admin(), body: map[string]any{"calendar": "nope",
		"targets": map[string]any{"critical": map[string]any{"firstResponse": "15m"}}}}), 422, "validation")
	require.Equal(t, "body.calendar", jget(p, "errors.0.location"))
	p = requireProblem(t, do(t, req{method: "PUT", path: "/v1/sla-policies/gold", key: o.admin(), body: map[string]any{"calendar": "always",
		"targets": map[string]any{"critical": map[string]any{"firstResponse": "soon"}}}}), 422, "validation")
	require.Equal(t, "body.targets.critical.firstResponse", jget(p, "errors.0.location"))
	expect(t, req{method: "PUT", path: "/v1/sla-policies/gold", key: o.admin(), body: map[string]any{"calendar": "always",
		"targets": map[string]any{"critical": map[string]any{"firstResponse": "15m", "resolution": "2h"}, "high": map[string]any{"firstResponse": "1h", "resolution": "8h"}}}}, 200)
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/sla-policies", key: o.viewer()}, 200)), 2, "default and gold")

	res := patch(id, `{"priority": "critical", "slaPolicy": "gold"}`)
	require.Equal(t, 200, res.status, "%s", res.body)
	tk = res.obj(t)
	start := parseTime(t, tk["createdAt"])
	require.Equal(t, start.Add(15*time.Minute), parseTime(t, tk["firstResponseDue"]), "deadlines follow the priority, from creation")
	require.Equal(t, start.Add(2*time.Hour), parseTime(t, tk["resolutionDue"]))
	requireProblem(t, patch(id, `{"status": "closed"}`), 422, "validation")
	requireProblem(t, patch(id, `{"slaPolicy": "platinum"}`), 422, "validation")

	// the thread: a staff note is not a response; the first reply to the customer is
	expect(t, req{method: "POST", path: "/v1/tickets/" + id + "/messages", key: o.operator(), body: map[string]any{"direction": "internal", "body": "Check the injector"}}, 201)
	require.Nil(t, expect(t, req{method: "GET", path: "/v1/tickets/" + id, key: o.viewer()}, 200)["firstResponseAt"])
	require.Equal(t, 201, message(id, "outbound", "Which model is it?").status)
	got := expect(t, req{method: "GET", path: "/v1/tickets/" + id, key: o.viewer()}, 200)
	require.NotNil(t, got["firstResponseAt"])
	require.Equal(t, false, got["firstResponseBreached"])
	require.Equal(t, 200, status(id, "waiting_customer", "").status)
	require.Equal(t, 201, message(id, "inbound", "The V8").status)
	require.Equal(t, "open", expect(t, req{method: "GET", path: "/v1/tickets/" + id, key: o.viewer()}, 200)["status"], "the customer's reply reopens it")
	msgs := items(t, expect(t, req{method: "GET", path: "/v1/tickets/" + id + "/messages", key: o.viewer()}, 200))
	require.Len(t, msgs, 3)
	require.Equal(t, "ada@customer.test", msgs[2]["author"])
	require.Equal(t, o.actor("operator"), msgs[1]["author"], "staff messages are by the caller")

	// rating only once resolved; closed tickets take no messages and reopen only with a reason
	requireProblem(t, do(t, req{method: "POST", path: "/v1/tickets/" + id + "/satisfaction", key: o.operator(), body: map[string]any{"rating": 5}}), 409, "invalid-transition")
	res = status(id, "resolved", "")
	require.Equal(t, 200, res.status)
	require.NotNil(t, res.obj(t)["resolvedAt"])
	requireProblem(t, do(t, req{method: "POST", path: "/v1/tickets/" + id + "/satisfaction", key: o.operator(), body: map[string]any{"rating": 6}}), 422, "validation")
	rated := expect(t, req{method: "POST", path: "/v1/tickets/" + id + "/satisfaction", key: o.operator(), body: map[string]any{"rating": 4, "comment": "quick"}}, 200)
	require.EqualValues(t, 4, jget(rated, "satisfaction.rating"))
	require.Equal(t, 200, status(id, "closed", "").status)
	requireProblem(t, message(id, "inbound", "one more thing"), 409, "invalid-transition")
	requireProblem(t, patch(id, `{"subject": "Changed after closing"}`), 409, "invalid-transition")
	requireProblem(t, status(id, "open", ""), 409, "invalid-transition")
	requireProblem(t, status(id, "resolved", "oops"), 409, "invalid-transition")
	res = status(id, "in_progress", "the fix did not hold")
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Nil(t, res.obj(t)["resolvedAt"])
	require.Nil(t, res.obj(t)["closedAt"])

	// events, the customer's timeline and 360
	require.Len(t, o.events(t, "ticket.created"), 1)
	moves := o.events(t, "ticket.status_changed")
	require.Len(t, moves, 5) // waiting_customer, open (reply), resolved, closed, in_progress
	require.Equal(t, "the fix did not hold", jget(moves[len(moves)-1], "data.reason"))
	require.GreaterOrEqual(t, len(o.events(t, "ticket.updated")), 3)
	timeline := string(do(t, req{method: "GET", path: "/v1/customers/" + cust + "/timeline?limit=100", key: o.viewer()}).body)
	require.Contains(t, timeline, `Ticket \"Engine stalls\" created`)
	require.Contains(t, timeline, `Ticket \"Engine stalls\" moved from closed to in_progress`)
	require.Contains(t, timeline, "The V8", "customer messages are interactions")
	require.NotContains(t, timeline, "Check the injector", "staff notes stay on the ticket")
	c360 := expect(t, req{method: "GET", path: "/v1/customers/" + cust + "/360", key: o.viewer()}, 200)
	require.Equal(t, id, jget(c360, "tickets.0.id"))

	// lists
	for q, n := range map[string]int{"": 1, "?status=in_progress": 1, "?status=open": 0, "?priority=critical": 1, "?customer=" + cust: 1,
		"?category=hardware": 1, "?open=true": 1, "?breached=true": 0, "?q=stalling": 1, "?q=engine+rpm": 1, "?q=invoice": 0,
		"?sort=-updated": 1, "?sort=created&q=stall": 1} {
		require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/tickets" + q, key: o.viewer()}, 200)), n, q)
	}
	requireProblem(t, do(t, req{method: "GET", path: "/v1/tickets?sort=priority", key: o.viewer()}), 422, "validation")
	// bad input names its field
	p = requireProblem(t, do(t, req{method: "POST", path: "/v1/tickets", key: o.operator(), body: map[string]any{"customerId": "nope", "subject": "x"}}), 422, "validation")
	require.Equal(t, "body.customerId", jget(p, "errors.0.location"))
}

func TestTicketAssignment(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Grace"}}, 201)["id"].(string)
	// four operators: operator, someone, and two more
	ops := []string{o.users["operator"], o.users["someone"]}
	for i := range 2 {
		ops = append(ops, expect(t, req{method: "POST", path: "/v1/users", key: o.owner(), body: map[string]any{"email": fmt.Sprintf("agent%d@acme.test", i), "role": "operator"}}, 201)["id"].(string))
	}
	open := func(assign map[string]any) map[string]any {
		return expect(t, req{method: "POST", path: "/v1/tickets", key: o.operator(), body: map[string]any{"customerId": cust, "subject": "Help", "assign": assign}}, 201)
	}
	load := func() map[string]int {
		n := map[string]int{}
		for _, tk := range items(t, expect(t, req{method: "GET", path: "/v1/tickets?open=true&limit=500", key: o.viewer()}, 200)) {
			if a, ok := tk["assigneeId"].(string); ok {
				n[a]++
			}
		}
		return n
	}

	// round robin, eight at once: two each
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() { open(map[string]any{"strategy": "round_robin", "role": "operator"}) })
	}
	wg.Wait()
	for _, u := range ops {
		require.Equal(t, 2, load()[u], "user %s: %v", u, load())
	}

	// least loaded: whoever has the fewest open tickets
	mine := items(t, expect(t, req{method: "GET", path: "/v1/tickets?assignee=" + ops[2], key: o.viewer()}, 200))
	require.Len(t, mine, 2)
	expect(t, req{method: "POST", path: "/v1/tickets/" + mine[0]["id"].(string) + "/status", key: o.operator(), body: map[string]any{"status": "resolved"}}, 200)
	tk := open(map[string]any{"strategy": "least_loaded", "role": "operator"})
	require.Equal(t, ops[2], tk["assigneeId"])
	for range 4 { // all at 2 open tickets: one more each
		open(map[string]any{"strategy": "least_loaded", "role": "operator"})
	}
	for _, u := range ops {
		require.Equal(t, 3, load()[u], "user %s: %v", u, load())
	}

	// reassign: a user, or by strategy; another organisation's user is not one
	re := expect(t, req{method: "POST", path: "/v1/tickets/" + tk["id"].(string) + "/assign", key: o.operator(), body: map[string]any{"userId": o.users["admin"]}}, 200)
	require.Equal(t, o.users["admin"], re["assigneeId"])
	require.Len(t, o.events(t, "ticket.assigned"), 1)
	p := requireProblem(t, do(t, req{method: "POST", path: "/v1/tickets/" + tk["id"].(string) + "/assign", key: o.operator(),
		body: map[string]any{"userId": newOrg(t).users["operator"]}}), 422, "validation")
	require.Equal(t, "body.assigneeId", jget(p, "errors.0.location"))
	requireProblem(t, do(t, req{method: "POST", path: "/v1/tickets/" + tk["id"].(string) + "/assign", key: o.operator(),
		body: map[string]any{"strategy": "round_robin"}}), 422, "validation")
	p = requireProblem(t, do(t, req{method: "POST", path: "/v1/tickets", key: o.operator(), body: map[string]any{"customerId": cust, "subject": "x",
		"assigneeId": newOrg(t).users["operator"]}}), 422, "validation")
	require.Equal(t, "body.assigneeId", jget(p, "errors.0.location"))
}
