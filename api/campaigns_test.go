package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestCampaignLifecycle(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	customer := func(name, email, status string, tags ...string) string {
		body := map[string]any{"name": name, "status": status, "tags": tags}
		if email != "" {
			body["email"] = email
		}
		return expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: body}, 201)["id"].(string)
	}
	ada := customer("<b>Ada</b> Lovelace", "ada@example.com", "lead", "vip")
	bob := customer("Bob", "bob@example.com", "lead", "vip")
	customer("Cy", "", "lead", "vip")
	customer("Bounced", "gone@example.com", "lead", "vip")
	customer("Dee", "dee@example.com", "customer", "vip") // not in the audience: a customer, not a lead
	expect(t, req{method: "POST", path: "/v1/suppressions", key: o.operator(), body: map[string]any{"email": "GONE@example.com", "reason": "bounced"}}, 201)

	// bad content names its field
	p := requireProblem(t, do(t, req{method: "POST", path: "/v1/campaigns", key: o.operator(), body: map[string]any{"name": "x", "type": "drip",
		"content": []any{map[string]any{"subject": "Hi {{ customer.password }}", "text": "x"}}}}), 422, "validation")
	require.Equal(t, "body.content[0].subject", jget(p, "errors.0.location"))
	require.Contains(t, jget(p, "errors.0.message"), "customer.password")
	requireProblem(t, do(t, req{method: "POST", path: "/v1/campaigns", key: o.operator(), body: map[string]any{"name": "x",
		"content": []any{map[string]any{"subject": "a", "text": "x"}, map[string]any{"subject": "b", "text": "y"}}}}), 422, "validation")

	c := expect(t, req{method: "POST", path: "/v1/campaigns", key: o.operator(), body: map[string]any{"name": "Spring", "type": "drip",
		"audience": map[string]any{"status": "lead", "tag": "vip"},
		"content": []any{
			map[string]any{"subject": "Hi {{ customer.firstName | \"there\" }}", "html": "<p>Dear {{ customer.name }}, from {{ seller }}</p>", "text": "Dear {{ customer.name }}"},
			map[string]any{"subject": "Still there?", "text": "{{ customer.company | \"Your team\" }} deserves better", "delayDays": 3},
		}}}, 201)
	id := c["id"].(string)
	require.Equal(t, "draft", c["status"])
	enroll := func(body map[string]any) *resp {
		return do(t, req{method: "POST", path: "/v1/campaigns/" + id + "/enrollments", key: o.operator(), body: body})
	}
	requireProblem(t, enroll(map[string]any{"audience": true}), 409, "invalid-transition")
	status := func(to string) *resp {
		return do(t, req{method: "POST", path: "/v1/campaigns/" + id + "/status", key: o.operator(), body: map[string]any{"status": to}})
	}
	require.Equal(t, 200, status("active").status)

	p = requireProblem(t, do(t, req{method: "PATCH", path: "/v1/campaigns/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		body: `{"content": []}`}), 422, "validation")
	require.Equal(t, "body.content", jget(p, "errors.0.location"), "an active campaign keeps its emails")

	// the audience: leads tagged vip, but not the suppressed address
	res := enroll(map[string]any{"audience": true})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.EqualValues(t, 3, res.obj(t)["enrolled"])
	require.EqualValues(t, 4, res.obj(t)["considered"])
	require.EqualValues(t, 0, enroll(map[string]any{"customerIds": []any{ada, bob}}).obj(t)["enrolled"], "once")
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/campaigns/" + id + "/enrollments", key: o.viewer()}, 200)), 3)

	// rendering: variables filled, escaped in HTML, never evaluated
	mail := expect(t, req{method: "GET", path: "/v1/campaigns/" + id + "/enrollments/" + ada + "/email", key: o.viewer()}, 200)
	require.Equal(t, "ada@example.com", mail["to"])
	require.Equal(t, "Hi <b>Ada</b>", mail["subject"])
	require.Equal(t, "<p>Dear &lt;b&gt;Ada&lt;/b&gt; Lovelace, from "+o.name+"</p>", mail["html"])
	require.Equal(t, "Dear <b>Ada</b> Lovelace", mail["text"])
	mail = expect(t, req{method: "GET", path: "/v1/campaigns/" + id + "/enrollments/" + ada + "/email?step=1", key: o.viewer()}, 200)
	require.Equal(t, "Your team deserves better", mail["text"], "the fallback")
	requireProblem(t, do(t, req{method: "GET", path: "/v1/campaigns/" + id + "/enrollments/" + ada + "/email?step=2", key: o.viewer()}), 422, "validation")

	// customer data cannot become a script, a javascript: link or a header
	evil := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Eve",
		"email": "eve@example.com", "status": "lead", "custom": map[string]any{"site": "javascript:alert(1)", "tagline": "x\r\nBcc: all@example.com"}}}, 201)
	probe := expect(t, req{method: "POST", path: "/v1/campaigns", key: o.operator(), body: map[string]any{"name": "Probe",
		"content": []any{map[string]any{"subject": "Hi {{ customer.custom.tagline }}", "html": `<a href="{{ customer.custom.site }}">site</a> <p>{{ customer.name }}</p>`}}}}, 201)["id"].(string)
	expect(t, req{method: "POST", path: "/v1/campaigns/" + probe + "/status", key: o.operator(), body: map[string]any{"status": "active"}}, 200)
	expect(t, req{method: "POST", path: "/v1/campaigns/" + probe + "/enrollments", key: o.operator(), body: map[string]any{"customerIds": []any{evil["id"]}}}, 200)
	m := expect(t, req{method: "GET", path: "/v1/campaigns/" + probe + "/enrollments/" + evil["id"].(string) + "/email", key: o.viewer()}, 200)
	require.NotContains(t, m["html"], "javascript:")
	require.NotContains(t, m["subject"], "\n")
	require.NotContains(t, m["subject"], "\r")
	require.Equal(t, "Hi x  Bcc: all@example.com", m["subject"], "one header line")

	// tracking: each step once per enrollment
	track := func(cust, ev string) bool {
		return expect(t, req{method: "POST", path: "/v1/campaigns/" + id + "/enrollments/" + cust + "/events", key: o.operator(), body: map[string]any{"event": ev}}, 200)["first"].(bool)
	}
	require.True(t, track(ada, "sent"))
	require.True(t, track(bob, "sent"))
	require.True(t, track(ada, "opened"))
	require.False(t, track(ada, "opened"))
	require.True(t, track(ada, "clicked"))
	require.True(t, track(bob, "unsubscribed"))
	got := expect(t, req{method: "GET", path: "/v1/campaigns/" + id, key: o.viewer()}, 200)
	require.Equal(t, map[string]any{"enrolled": float64(3), "sent": float64(2), "delivered": float64(0), "opened": float64(1),
		"clicked": float64(1), "converted": float64(0), "unsubscribed": float64(1)}, got["metrics"])
	requireProblem(t, do(t, req{method: "POST", path: "/v1/campaigns/" + id + "/enrollments/" + o.users["admin"] + "/events", key: o.operator(),
		body: map[string]any{"event": "opened"}}), 404, "not-found")

	// unsubscribing suppresses the address org-wide and ends the enrollment
	sup := expect(t, req{method: "GET", path: "/v1/suppressions/BOB@example.com", key: o.viewer()}, 200)
	require.Equal(t, "unsubscribed", sup["reason"])
	require.Equal(t, "campaign/"+id, sup["source"])
	require.Equal(t, true, expect(t, req{method: "GET", path: "/v1/campaigns/" + id + "/enrollments/" + bob + "/email", key: o.viewer()}, 200)["suppressed"])
	for _, e := range items(t, expect(t, req{method: "GET", path: "/v1/campaigns/" + id + "/enrollments", key: o.viewer()}, 200)) {
		if e["customerId"] == bob {
			require.Equal(t, "exited", e["status"])
		}
	}
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/suppressions", key: o.viewer()}, 200)), 2)
	requireProblem(t, do(t, req{method: "DELETE", path: "/v1/suppressions/gone@example.com", key: o.operator()}), 403, "forbidden")
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/suppressions/gone@example.com", key: o.admin()}).status)

	// events and the customer's timeline
	require.Len(t, o.events(t, "campaign.enrolled"), 2) // Spring's audience, the probe
	require.Len(t, o.events(t, "campaign.opened"), 1)
	require.Len(t, o.events(t, "suppression.added"), 1, "the manual one; bob's came with the unsubscribe event")
	require.Contains(t, string(do(t, req{method: "GET", path: "/v1/customers/" + ada + "/timeline", key: o.viewer()}).body), `Campaign \"Spring\": opened`)

	// statuses
	require.Equal(t, 200, status("paused").status)
	requireProblem(t, enroll(map[string]any{"customerIds": []any{ada}}), 409, "invalid-transition")
	require.Equal(t, 200, status("active").status)
	requireProblem(t, status("draft"), 409, "invalid-transition")
	require.Equal(t, 200, status("completed").status)
	require.Equal(t, 200, status("archived").status)
	requireProblem(t, status("active"), 409, "invalid-transition")
	requireProblem(t, do(t, req{method: "PATCH", path: "/v1/campaigns/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		body: `{"name": "Renamed"}`}), 409, "invalid-transition")
	require.Len(t, o.events(t, "campaign.status_changed"), 6) // the probe's start; Spring: active, paused, active, completed, archived

	// an empty campaign does not start
	empty := expect(t, req{method: "POST", path: "/v1/campaigns", key: o.operator(), body: map[string]any{"name": "Empty"}}, 201)["id"].(string)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/campaigns/" + empty + "/status", key: o.operator(), body: map[string]any{"status": "active"}}), 409, "invalid-transition")
}
