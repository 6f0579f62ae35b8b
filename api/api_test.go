package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/api"
	"switchboard/domain"
)

// ---- workflow sources ----

// greetSrc sets a variable from its (schema-checked) input and returns it.
func greetSrc(name string) string {
	return `switchboard: v1
name: ` + name + `
input:
  type: object
  required: [who]
  properties:
    who: {type: string}
steps:
  - id: hello
    set: {greeting: '${ "hello " + input.who }'}
  - return: '${ {"greeting": vars.greeting} }'
`
}

// waiterSrc waits for the signal `paid`.
func waiterSrc(name string) string {
	return `switchboard: v1
name: ` + name + `
steps:
  - id: paid
    waitFor: {signal: paid, timeout: 1h}
output: ${ steps.paid.output }
`
}

// sleeperSrc waits for an hour.
func sleeperSrc(name string) string {
	return `switchboard: v1
name: ` + name + `
steps:
  - id: nap
    wait: 1h
`
}

// approvalSrc has one approval step with a form, assigned as assignees says.
func approvalSrc(name, assignees string) string {
	return `switchboard: v1
name: ` + name + `
steps:
  - id: ok
    approval:
      title: Approve the discount
      assignees: ` + assignees + `
      form:
        type: object
        required: [reason]
        properties: {reason: {type: string}}
output: ${ steps.ok.output }
`
}

// ---- 1. authentication and roles ----

func TestAuthentication(t *testing.T) {
	t.Parallel()
	o := newOrg(t)

	// a key to revoke: it works, is revoked, then is refused
	k := expect(t, req{method: "POST", path: "/v1/api-keys", key: o.owner(),
		body: map[string]any{"user": o.users["viewer"], "name": "temporary", "role": "viewer"}}, 201)
	temp := k["secret"].(string)
	expect(t, req{method: "GET", path: "/v1/definitions", key: temp}, 200)
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/api-keys/" + k["id"].(string), key: o.owner()}).status)
	listed := items(t, expect(t, req{method: "GET", path: "/v1/api-keys", key: o.owner()}, 200))
	revoked := false
	for _, x := range listed {
		if x["id"] == k["id"] {
			revoked = x["revokedAt"] != nil
		}
		require.NotContains(t, x, "secret")
		require.NotContains(t, x, "hash")
	}
	require.True(t, revoked, "the revoked key is listed with revokedAt: %v", listed)
	// revoking it again, or another organisation's key, is not found
	other := newOrg(t)
	requireProblem(t, do(t, req{method: "DELETE", path: "/v1/api-keys/" + other.keyIDs["viewer"], key: o.owner()}), 404, "not-found")
	expect(t, req{method: "GET", path: "/v1/definitions", key: other.viewer()}, 200)

	wwwAuth := func(t *testing.T, r *resp) {
		require.Contains(t, r.header.Get("WWW-Authenticate"), "Bearer")
		p := r.obj(t)
		require.Equal(t, "/v1/definitions", p["instance"])
	}
	runScenarios(t, []scenario{
		{name: "missing header", path: "/v1/definitions", status: 401, problem: "unauthorized", check: wwwAuth},
		{name: "basic scheme", path: "/v1/definitions", auth: "Basic dXNlcjpwYXNz", status: 401, problem: "unauthorized", check: wwwAuth},
		{name: "other scheme with a valid key", path: "/v1/definitions", auth: "Token " + o.viewer(), status: 401, problem: "unauthorized"},
		{name: "bearer without a key", path: "/v1/definitions", auth: "Bearer", status: 401, problem: "unauthorized"},
		{name: "bearer with a non-key", path: "/v1/definitions", auth: "Bearer not-a-key", status: 401, problem: "unauthorized"},
		{name: "unknown key", path: "/v1/definitions", auth: "Bearer sb_" + strings.Repeat("a", 32), status: 401,
			problem: "unauthorized", contains: []string{"unknown or revoked"}, check: wwwAuth},
		{name: "revoked key", path: "/v1/definitions", key: temp, status: 401, problem: "unauthorized",
			contains: []string{"unknown or revoked"}},
		{name: "key with a wrong character", path: "/v1/definitions", key: o.viewer()[:len(o.viewer())-1] + "!", status: 401, problem: "unauthorized"},
		{name: "scheme is case-insensitive", path: "/v1/definitions", auth: "bearer " + o.viewer(), status: 200},
		{name: "valid key", path: "/v1/definitions", key: o.viewer(), status: 200, fields: map[string]any{"items": []any{}}},
		{name: "unauthenticated on a write", method: "POST", path: "/v1/runs", body: map[string]any{"definition": "x"},
			status: 401, problem: "unauthorized"},
		{name: "public health check", path: "/healthz", status: 200, fields: map[string]any{"status": "ok"}},
		{name: "unknown endpoint", path: "/v1/nope", key: o.viewer(), status: 404, problem: "not-found"},
	})
}

func TestRoles(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, greetSrc("greet"))
	src := greetSrc("greet")
	runScenarios(t, []scenario{
		{name: "viewer cannot create a revision", method: "POST", path: "/v1/definitions", key: o.viewer(),
			body: src, contentType: "application/yaml", status: 403, problem: "forbidden", contains: []string{"builder"}},
		{name: "operator cannot create a revision", method: "POST", path: "/v1/definitions", key: o.operator(),
			body: src, contentType: "application/yaml", status: 403, problem: "forbidden"},
		{name: "viewer may validate", method: "POST", path: "/v1/definitions/validate", key: o.viewer(),
			body: src, contentType: "application/yaml", status: 200, fields: map[string]any{"valid": true}},
		{name: "viewer cannot start a run", method: "POST", path: "/v1/runs", key: o.viewer(),
			body: map[string]any{"definition": name, "input": map[string]any{"who": "x"}}, status: 403, problem: "forbidden"},
		{name: "operator starts a run", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": name, "input": map[string]any{"who": "x"}}, status: 201,
			fields: map[string]any{"definition": name, "revision": 1, "status": "running"}},
		{name: "operator cannot deploy", method: "POST", path: "/v1/definitions/" + name + "/deployment", key: o.operator(),
			body: map[string]any{"revision": 1}, status: 403, problem: "forbidden"},
		{name: "operator cannot undeploy", method: "DELETE", path: "/v1/definitions/" + name + "/deployment", key: o.operator(),
			status: 403, problem: "forbidden"},
		{name: "builder deploys", method: "POST", path: "/v1/definitions/" + name + "/deployment", key: o.builder(),
			body: map[string]any{"revision": 1}, status: 200, fields: map[string]any{"liveRevision": 1}},
		{name: "builder cannot put a secret", method: "PUT", path: "/v1/secrets/token", key: o.builder(),
			body: map[string]any{"value": "v"}, status: 403, problem: "forbidden", contains: []string{"admin"}},
		{name: "builder cannot read the audit log", path: "/v1/audit", key: o.builder(), status: 403, problem: "forbidden"},
		{name: "builder cannot add users", method: "POST", path: "/v1/users", key: o.builder(),
			body: map[string]any{"email": "x@acme.test", "role": "viewer"}, status: 403, problem: "forbidden"},
		{name: "admin puts a secret", method: "PUT", path: "/v1/secrets/token", key: o.admin(),
			body: map[string]any{"value": "v"}, status: 204},
		{name: "viewer lists runs", path: "/v1/runs", key: o.viewer(), status: 200},
		{name: "viewer lists tasks", path: "/v1/tasks", key: o.viewer(), status: 200},
		{name: "viewer lists secrets", path: "/v1/secrets", key: o.viewer(), status: 200, contains: []string{`"token"`}},
		{name: "viewer cannot delete a secret", method: "DELETE", path: "/v1/secrets/token", key: o.viewer(), status: 403, problem: "forbidden"},
		{name: "admin cannot add an owner", method: "POST", path: "/v1/users", key: o.admin(),
			body: map[string]any{"email": "boss@acme.test", "role": "owner"}, status: 403, problem: "forbidden"},
		{name: "admin adds a builder", method: "POST", path: "/v1/users", key: o.admin(),
			body: map[string]any{"email": "new@acme.test", "role": "builder"}, status: 201,
			fields: map[string]any{"email": "new@acme.test", "role": "builder"}},
		{name: "same email again", method: "POST", path: "/v1/users", key: o.admin(),
			body: map[string]any{"email": "new@acme.test", "role": "builder"}, status: 409, problem: "conflict"},
		{name: "key above the creator's role", method: "POST", path: "/v1/api-keys", key: o.admin(),
			body: map[string]any{"user": o.users["owner"], "name": "k", "role": "owner"}, status: 403, problem: "forbidden",
			contains: []string{"above your own"}},
		{name: "key above the user's role", method: "POST", path: "/v1/api-keys", key: o.owner(),
			body: map[string]any{"user": o.users["viewer"], "name": "k", "role": "admin"}, status: 422,
			contains: []string{"at most that role"}},
		{name: "key for another organisation's user", method: "POST", path: "/v1/api-keys", key: o.owner(),
			body: map[string]any{"user": newOrg(t).users["viewer"], "name": "k", "role": "viewer"}, status: 404, problem: "not-found"},
		{name: "key with a lower role than the user's", method: "POST", path: "/v1/api-keys", key: o.admin(),
			body: map[string]any{"user": o.users["builder"], "name": "read only", "role": "viewer"}, status: 201,
			fields: map[string]any{"role": "viewer", "userId": o.users["builder"]}},
		{name: "unknown role", method: "POST", path: "/v1/api-keys", key: o.owner(),
			body: map[string]any{"user": o.users["viewer"], "name": "k", "role": "god"}, status: 422, problem: "validation"},
	})

	// a key created with a lower role acts with that role, not the user's
	k := expect(t, req{method: "POST", path: "/v1/api-keys", key: o.owner(),
		body: map[string]any{"user": o.users["builder"], "name": "ro", "role": "viewer"}}, 201)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/definitions", key: k["secret"].(string), body: src,
		contentType: "application/yaml"}), 403, "forbidden")
}

// ---- 2. tenant isolation ----

func TestTenantIsolation(t *testing.T) {
	t.Parallel()
	a, b := newOrg(t), newOrg(t)
	ctx := context.Background()

	// organisation A: a definition with two revisions, a waiting run, an
	// open task, a secret and an outbox message
	name := a.deploy(t, waiterSrc("private-flow"))
	a.define(t, waiterSrc("private-flow")+"# second\n")
	appr := a.deploy(t, approvalSrc("private-approval", "{role: operator}"))
	run := a.start(t, name, nil)
	task := a.start(t, appr, nil)
	require.Equal(t, 204, do(t, req{method: "PUT", path: "/v1/secrets/private-token", key: a.admin(),
		body: map[string]any{"value": "s3cret"}}).status)
	require.NoError(t, env.store.AddOutbox(ctx, &domain.OutboxMessage{OrgID: a.id, Channel: "email", To: "ceo@acme.test",
		Subject: "private-subject", Body: json.RawMessage(`{"text":"hi"}`)}))
	a.waitStep(t, run, "waitFor", "waiting")
	a.waitStep(t, task, "approval", "waiting")
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: a.operator(),
		body: map[string]any{"name": "Private Customer", "email": "private@acme.test"}}, 201)["id"].(string)
	deal := expect(t, req{method: "POST", path: "/v1/opportunities", key: a.operator(),
		body: map[string]any{"customerId": cust, "name": "Private Deal", "amount": map[string]any{"amount": 100, "currency": "EUR"}}}, 201)["id"].(string)
	quote := a.newQuote(t, deal, "")["id"].(string)
	contract := a.newContract(t, deal)
	ticket := expect(t, req{method: "POST", path: "/v1/tickets", key: a.operator(), body: map[string]any{"customerId": cust, "subject": "Private trouble"}}, 201)["id"].(string)
	expect(t, req{method: "PUT", path: "/v1/sla-policies/private-sla", key: a.admin(), body: map[string]any{"targets": map[string]any{"low": map[string]any{"resolution": "99h"}}}}, 200)
	campaign := expect(t, req{method: "POST", path: "/v1/campaigns", key: a.operator(), body: map[string]any{"name": "Private launch",
		"content": []any{map[string]any{"subject": "Hi", "text": "secret offer"}}}}, 201)["id"].(string)
	expect(t, req{method: "POST", path: "/v1/campaigns/" + campaign + "/status", key: a.operator(), body: map[string]any{"status": "active"}}, 200)
	expect(t, req{method: "POST", path: "/v1/campaigns/" + campaign + "/enrollments", key: a.operator(), body: map[string]any{"customerIds": []any{cust}}}, 200)
	expect(t, req{method: "POST", path: "/v1/suppressions", key: a.operator(), body: map[string]any{"email": "muted@acme.test"}}, 201)
	expect(t, req{method: "PUT", path: "/v1/contract-templates/private-msa", key: a.admin(), body: map[string]any{"body": "<p>private terms</p>"}}, 200)
	article := expect(t, req{method: "POST", path: "/v1/articles", key: a.operator(), body: map[string]any{"title": "Private runbook", "body": "secret procedure"}}, 201)["id"].(string)
	payment := &domain.Payment{OrgID: a.id, Provider: "sandbox", Kind: "checkout", Amount: 100, Currency: "EUR", Description: "private payment",
		LineItems: []domain.LineItem{{Product: "x", Quantity: 1, UnitPrice: 100}}}
	require.NoError(t, env.store.CreatePayment(t.Context(), payment))
	document := &domain.Document{OrgID: a.id, Title: "private document", HTML: "<p>private</p>", SHA256: "00"}
	require.NoError(t, env.store.CreateDocument(t.Context(), document))
	expect(t, req{method: "PUT", path: "/v1/email-templates/private-mail", key: a.admin(), body: map[string]any{"subject": "Private offer", "text": "secret"}}, 200)
	expect(t, req{method: "PUT", path: "/v1/calendars/private-hours", key: a.admin(), body: map[string]any{"timezone": "Asia/Tokyo",
		"week": map[string]any{"mon": []any{map[string]any{"start": 0, "end": 60}}}}}, 200)
	expect(t, req{method: "PUT", path: "/v1/record-schemas/customer", key: a.admin(), body: map[string]any{"schema": map[string]any{"type": "object", "title": "A's private schema"}}}, 200)

	// A sees its own things (so that the negative checks below can fail)
	eventually(t, 30*time.Second, func() bool {
		r := do(t, req{method: "GET", path: "/v1/runs", key: a.viewer()})
		tk := do(t, req{method: "GET", path: "/v1/tasks", key: a.operator()})
		return bytes.Contains(r.body, []byte(run)) && bytes.Contains(r.body, []byte(task)) && bytes.Contains(tk.body, []byte(task))
	}, func() string { return "A's runs and task never became visible to A" })
	for path, want := range map[string]string{"/v1/definitions": name, "/v1/secrets": "private-token", "/v1/outbox": "private-subject",
		"/v1/customers": cust, "/v1/customers?q=private": cust, "/v1/customers?email=private": cust, "/v1/events": cust, "/v1/payments": "private payment"} {
		require.Contains(t, string(do(t, req{method: "GET", path: path, key: a.viewer()}).body), want, path)
	}

	// B's view: 404 for everything of A's
	decision := map[string]any{"approved": true, "data": map[string]any{"reason": "x"}}
	var cases []scenario
	for _, c := range []struct {
		method, path string
		body         any
	}{
		{"GET", "/v1/definitions/" + name, nil},
		{"GET", "/v1/definitions/" + name + "/revisions", nil},
		{"GET", "/v1/definitions/" + name + "/revisions/1", nil},
		{"GET", "/v1/definitions/" + name + "/revisions/1/source", nil},
		{"GET", "/v1/definitions/" + name + "/diff?from=1&to=2", nil},
		{"GET", "/v1/definitions/" + name + "/deployments", nil},
		{"POST", "/v1/definitions/" + name + "/deployment", map[string]any{"revision": 2}},
		{"DELETE", "/v1/definitions/" + name + "/deployment", nil},
		{"POST", "/v1/runs", map[string]any{"definition": name}},
		{"GET", "/v1/runs/" + run, nil},
		{"POST", "/v1/runs/" + run + "/signals/paid", map[string]any{"from": "b"}},
		{"POST", "/v1/runs/" + run + "/cancel", nil},
		{"POST", "/v1/runs/" + run + "/terminate", map[string]any{"reason": "b"}},
		{"POST", "/v1/runs/" + task + "/tasks/ok/decision", decision},
		{"DELETE", "/v1/secrets/private-token", nil},
		{"GET", "/v1/customers/" + cust, nil},
		{"PATCH", "/v1/customers/" + cust, map[string]any{"name": "Stolen"}},
		{"DELETE", "/v1/customers/" + cust, nil},
		{"GET", "/v1/articles/" + article, nil},
		{"GET", "/v1/payments/" + payment.ID, nil},
		{"GET", "/v1/documents/" + document.ID, nil},
		{"GET", "/v1/email-templates/private-mail", nil},
		{"DELETE", "/v1/email-templates/private-mail", nil},
		{"PATCH", "/v1/articles/" + article, map[string]any{"title": "Stolen"}},
		{"DELETE", "/v1/articles/" + article, nil},
		{"GET", "/v1/calendars/private-hours", nil},
		{"DELETE", "/v1/calendars/private-hours", nil},
		{"POST", "/v1/calendars/private-hours/deadline", map[string]any{"duration": "1h"}},
		{"GET", "/v1/record-schemas/customer", nil},
		{"DELETE", "/v1/record-schemas/customer", nil},
		{"GET", "/v1/customers/" + cust + "/timeline", nil},
		{"POST", "/v1/customers/" + cust + "/timeline", map[string]any{"kind": "note", "summary": "planted"}},
		{"GET", "/v1/customers/" + cust + "/360", nil},
		{"GET", "/v1/opportunities/" + deal, nil},
		{"PATCH", "/v1/opportunities/" + deal, map[string]any{"name": "Stolen"}},
		{"POST", "/v1/opportunities/" + deal + "/stage", map[string]any{"stage": "closed_won"}},
		{"DELETE", "/v1/opportunities/" + deal, nil},
		{"GET", "/v1/quotes/" + quote, nil},
		{"PATCH", "/v1/quotes/" + quote, map[string]any{"notes": "stolen"}},
		{"POST", "/v1/quotes/" + quote + "/send", nil},
		{"POST", "/v1/quotes/" + quote + "/decision", map[string]any{"accepted": true, "name": "B"}},
		{"GET", "/v1/contracts/" + contract, nil},
		{"POST", "/v1/contracts/" + contract + "/send", nil},
		{"POST", "/v1/contracts/" + contract + "/void", map[string]any{"reason": "b"}},
		{"GET", "/v1/contract-templates/private-msa", nil},
		{"GET", "/v1/tickets/" + ticket, nil},
		{"PATCH", "/v1/tickets/" + ticket, map[string]any{"subject": "Stolen"}},
		{"POST", "/v1/tickets/" + ticket + "/status", map[string]any{"status": "closed"}},
		{"POST", "/v1/tickets/" + ticket + "/assign", map[string]any{"userId": b.users["operator"]}},
		{"GET", "/v1/tickets/" + ticket + "/messages", nil},
		{"POST", "/v1/tickets/" + ticket + "/messages", map[string]any{"direction": "inbound", "body": "planted"}},
		{"POST", "/v1/tickets/" + ticket + "/satisfaction", map[string]any{"rating": 1}},
		{"GET", "/v1/sla-policies/private-sla", nil},
		{"GET", "/v1/campaigns/" + campaign, nil},
		{"PATCH", "/v1/campaigns/" + campaign, map[string]any{"name": "Stolen"}},
		{"POST", "/v1/campaigns/" + campaign + "/status", map[string]any{"status": "paused"}},
		{"GET", "/v1/campaigns/" + campaign + "/enrollments", nil},
		{"POST", "/v1/campaigns/" + campaign + "/enrollments", map[string]any{"customerIds": []any{cust}}},
		{"POST", "/v1/campaigns/" + campaign + "/enrollments/" + cust + "/events", map[string]any{"event": "unsubscribed"}},
		{"GET", "/v1/campaigns/" + campaign + "/enrollments/" + cust + "/email", nil},
		{"GET", "/v1/suppressions/muted@acme.test", nil},
		{"DELETE", "/v1/suppressions/muted@acme.test", nil},
		{"DELETE", "/v1/sla-policies/private-sla", nil},
		{"DELETE", "/v1/contract-templates/private-msa", nil},
		{"POST", "/v1/definitions/" + name + "/schedules/0", map[string]any{"paused": true}},
		{"DELETE", "/v1/api-keys/" + a.keyIDs["viewer"], nil},
	} {
		cases = append(cases, scenario{name: c.method + " " + c.path, method: c.method, path: c.path, key: b.owner(),
			body: c.body, status: 404, problem: "not-found", notContains: []string{a.id}})
	}
	// B's lists hold nothing of A's
	for _, path := range []string{"/v1/definitions", "/v1/runs", "/v1/tasks", "/v1/outbox", "/v1/secrets", "/v1/users", "/v1/api-keys", "/v1/audit",
		"/v1/customers", "/v1/customers?q=private", "/v1/customers?email=private", "/v1/events", "/v1/triggers", "/v1/webhooks/deliveries",
		"/v1/opportunities", "/v1/opportunities?customer=" + cust, "/v1/quotes", "/v1/quotes?opportunity=" + deal, "/v1/calendars", "/v1/articles", "/v1/articles?q=runbook",
		"/v1/contracts", "/v1/contracts?customer=" + cust, "/v1/contract-templates", "/v1/tickets", "/v1/tickets?customer=" + cust, "/v1/sla-policies",
		"/v1/campaigns", "/v1/suppressions", "/v1/payments", "/v1/email-templates"} {
		cases = append(cases, scenario{name: "list " + path, path: path, key: b.owner(), status: 200,
			notContains: []string{name, appr, run, task, "private-token", "private-subject", a.id, a.users["viewer"], cust, "private@acme.test", deal, "Private Deal", quote, "private-hours", "Asia/Tokyo", article, "Private runbook", contract, "private-msa", "private terms", ticket, "Private trouble", "private-sla", "99h", campaign, "Private launch", "muted@acme.test", payment.ID, "private payment", "private-mail", "Private offer"}})
	}
	runScenarios(t, cases)
	requireEveryIDEndpoint(t, cases, map[string]string{
		"POST /v1/definitions/{name}/revisions": "creates a definition of B's own (checked below)",
		"PUT /v1/secrets/{name}":                "writes a secret of B's own (checked below)",
		"PUT /v1/record-schemas/{record}":       "sets B's own schema (checked below)",
		"PUT /v1/calendars/{name}":              "sets B's own calendar",
		"PUT /v1/contract-templates/{name}":     "sets B's own template",
		"PUT /v1/sla-policies/{name}":           "sets B's own policy",
		"PUT /v1/email-templates/{name}":        "sets B's own template",
	})

	// B may use the same names, independently of A
	res := b.define(t, waiterSrc(name))
	require.EqualValues(t, 1, jget(res, "revision.number"))
	require.Equal(t, 204, do(t, req{method: "PUT", path: "/v1/secrets/private-token", key: b.admin(),
		body: map[string]any{"value": "b's"}}).status)

	// nothing B did touched A
	require.Equal(t, "running", a.run(t, run)["status"])
	d := expect(t, req{method: "GET", path: "/v1/definitions/" + name, key: a.viewer()}, 200)
	require.EqualValues(t, 1, d["liveRevision"])
	require.EqualValues(t, 2, d["latestRevision"])
	tasks := expect(t, req{method: "GET", path: "/v1/tasks", key: a.operator()}, 200)
	require.Contains(t, fmt.Sprint(tasks), task)
	sec, err := env.store.GetSecret(ctx, a.id, "private-token")
	require.NoError(t, err)
	plain, err := env.keyring.Open(a.id, "private-token", sec.Value)
	require.NoError(t, err)
	require.Equal(t, "s3cret", string(plain))
	require.Empty(t, findAudit(a.audit(t), "run.signal", ""))
	require.Equal(t, "Private Customer", expect(t, req{method: "GET", path: "/v1/customers/" + cust, key: a.viewer()}, 200)["name"])
	require.Equal(t, "lead", expect(t, req{method: "GET", path: "/v1/opportunities/" + deal, key: a.viewer()}, 200)["stage"])
	require.Equal(t, "draft", expect(t, req{method: "GET", path: "/v1/quotes/" + quote, key: a.viewer()}, 200)["status"])
	camp := expect(t, req{method: "GET", path: "/v1/campaigns/" + campaign, key: a.viewer()}, 200)
	require.Equal(t, "active", camp["status"])
	require.Equal(t, "Private launch", camp["name"])
	require.Equal(t, map[string]any{"enrolled": float64(1), "sent": float64(0), "delivered": float64(0), "opened": float64(0),
		"clicked": float64(0), "converted": float64(0), "unsubscribed": float64(0)}, camp["metrics"])
	expect(t, req{method: "GET", path: "/v1/suppressions/muted@acme.test", key: a.viewer()}, 200)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/suppressions/private@acme.test", key: a.viewer()}), 404, "not-found")
	tk := expect(t, req{method: "GET", path: "/v1/tickets/" + ticket, key: a.viewer()}, 200)
	require.Equal(t, "Private trouble", tk["subject"])
	require.Equal(t, "open", tk["status"])
	require.Empty(t, items(t, expect(t, req{method: "GET", path: "/v1/tickets/" + ticket + "/messages", key: a.viewer()}, 200)))
	require.Equal(t, "draft", expect(t, req{method: "GET", path: "/v1/contracts/" + contract, key: a.viewer()}, 200)["status"])
	require.Equal(t, "<p>private terms</p>", expect(t, req{method: "GET", path: "/v1/contract-templates/private-msa", key: a.viewer()}, 200)["body"])
	require.NotContains(t, string(do(t, req{method: "GET", path: "/v1/customers/" + cust + "/timeline", key: a.viewer()}).body), "planted")
	expect(t, req{method: "PUT", path: "/v1/record-schemas/customer", key: b.admin(), body: map[string]any{"schema": map[string]any{"title": "B's"}}}, 200)
	require.Equal(t, "A's private schema", jget(expect(t, req{method: "GET", path: "/v1/record-schemas/customer", key: a.viewer()}, 200), "schema.title"))
	requireProblem(t, do(t, req{method: "POST", path: "/v1/quotes", key: b.operator(),
		body: map[string]any{"opportunityId": deal, "lineItems": []any{map[string]any{"product": "x", "quantity": 1, "unitPrice": 1}}}}), 422, "validation")
	// B may have a customer with the same email, but cannot attach a deal to A's customer
	expect(t, req{method: "POST", path: "/v1/customers", key: b.operator(), body: map[string]any{"name": "B's", "email": "private@acme.test"}}, 201)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/opportunities", key: b.operator(),
		body: map[string]any{"customerId": cust, "name": "x", "amount": map[string]any{"amount": 1, "currency": "EUR"}}}), 422, "validation")
}

// requireEveryIDEndpoint checks that cases try every operation of the
// OpenAPI document that names an object in its path (other than those
// exempted, with the reason), so a new endpoint cannot skip the isolation test.
func requireEveryIDEndpoint(t *testing.T, cases []scenario, exempt map[string]string) {
	t.Helper()
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	res := do(t, req{method: "GET", path: "/openapi.json"})
	require.Equal(t, 200, res.status)
	require.NoError(t, json.Unmarshal(res.body, &doc))
	var missing []string
	for tmpl, ops := range doc.Paths {
		if !strings.Contains(tmpl, "{") || !strings.HasPrefix(tmpl, "/v1/") {
			continue
		}
		segs := strings.Split(tmpl, "/")
		for i, seg := range segs {
			if strings.HasPrefix(seg, "{") {
				segs[i] = "[^/]+"
			} else {
				segs[i] = regexp.QuoteMeta(seg)
			}
		}
		re := regexp.MustCompile("^" + strings.Join(segs, "/") + "$")
		for method := range ops {
			m := strings.ToUpper(method)
			if _, ok := exempt[m+" "+tmpl]; ok {
				continue
			}
			covered := false
			for _, c := range cases {
				path, _, _ := strings.Cut(c.path, "?")
				covered = covered || (strings.EqualFold(c.method, m) && re.MatchString(path))
			}
			if !covered {
				missing = append(missing, m+" "+tmpl)
			}
		}
	}
	slices.Sort(missing)
	require.Empty(t, missing, "operations on an object that the tenant isolation test does not try with another organisation's key")
}

// ---- 3. definitions ----

func TestValidate(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	bad := `switchboard: v1
name: broken
steps:
  - id: first
    sleepy: 3s
  - wait: 3dd
`
	jsonSrc := `{"switchboard": "v1", "name": "from-json", "steps": [{"set": {"a": 1}}]}`
	diag := func(line, col int, msg string) func(t *testing.T, r *resp) {
		return func(t *testing.T, r *resp) {
			var v ValidateResult
			require.NoError(t, json.Unmarshal(r.body, &v))
			require.False(t, v.Valid)
			for _, d := range v.Diagnostics {
				if d.Line == line && d.Col == col && strings.Contains(d.Message, msg) {
					return
				}
			}
			require.Failf(t, "diagnostic missing", "want %d:%d %q in %+v", line, col, msg, v.Diagnostics)
		}
	}
	runScenarios(t, []scenario{
		{name: "valid yaml", method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: greetSrc("valid-one"),
			contentType: "application/yaml", status: 200,
			fields: map[string]any{"valid": true, "name": "valid-one", "diagnostics": []any{}},
			check: func(t *testing.T, r *resp) {
				h, _ := r.obj(t)["planHash"].(string)
				require.NotEmpty(t, h)
			}},
		{name: "valid json", method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: jsonSrc,
			contentType: "application/json", status: 200, fields: map[string]any{"valid": true, "name": "from-json"}},
		{name: "json sniffed without a content type", method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: jsonSrc,
			status: 200, fields: map[string]any{"valid": true, "name": "from-json"}},
		{name: "unknown step kind", method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: bad,
			contentType: "application/yaml", status: 200, fields: map[string]any{"valid": false, "diagnostics.0.file": "workflow.yaml"},
			check: diag(5, 5, "sleepy")},
		{name: "bad duration", method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: bad,
			contentType: "application/yaml", status: 200, check: diag(6, 11, "3dd")},
		{name: "file names the diagnostics", method: "POST", path: "/v1/definitions/validate?file=flow.yaml", key: o.viewer(), body: bad,
			contentType: "application/yaml", status: 200, fields: map[string]any{"diagnostics.0.file": "flow.yaml"}},
		{name: "malformed yaml", method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: "name: [unclosed\n",
			contentType: "application/yaml", status: 200, fields: map[string]any{"valid": false},
			check: func(t *testing.T, r *resp) {
				ds := asList(r.obj(t)["diagnostics"])
				require.NotEmpty(t, ds)
				require.Greater(t, ds[0]["line"], 0.0)
			}},
	})
	// the hash is the plan's: the same source validates to the same hash
	h1 := expect(t, req{method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: greetSrc("h"), contentType: "application/yaml"}, 200)
	h2 := expect(t, req{method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: greetSrc("h"), contentType: "application/yaml"}, 200)
	h3 := expect(t, req{method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: waiterSrc("h"), contentType: "application/yaml"}, 200)
	require.Equal(t, h1["planHash"], h2["planHash"])
	require.NotEqual(t, h1["planHash"], h3["planHash"])
	// nothing was saved
	require.Empty(t, items(t, expect(t, req{method: "GET", path: "/v1/definitions", key: o.viewer()}, 200)))
}

// ValidateResult mirrors api.ValidateResult for decoding.
type ValidateResult = api.ValidateResult

func TestCreateRejectedSavesNothing(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	o.define(t, greetSrc("existing"))
	before := do(t, req{method: "GET", path: "/v1/definitions", key: o.viewer()}).body
	beforeRevs := do(t, req{method: "GET", path: "/v1/definitions/existing/revisions", key: o.viewer()}).body
	auditBefore := o.audit(t)

	bad := `switchboard: v1
name: broken
steps:
  - id: first
    sleepy: 3s
`
	withDiag := func(line, col int) func(t *testing.T, r *resp) {
		return func(t *testing.T, r *resp) {
			ds := asList(r.obj(t)["diagnostics"])
			require.NotEmpty(t, ds, "diagnostics in %s", r.body)
			for _, d := range ds {
				require.Greater(t, d["line"], 0.0)
				require.Greater(t, d["col"], 0.0)
			}
			if line > 0 {
				require.EqualValues(t, line, ds[0]["line"])
				require.EqualValues(t, col, ds[0]["col"])
			}
		}
	}
	runScenarios(t, []scenario{
		{name: "does not compile", method: "POST", path: "/v1/definitions", key: o.builder(), body: bad,
			contentType: "application/yaml", status: 422, problem: "invalid-dsl", contains: []string{"sleepy"}, check: withDiag(5, 5)},
		{name: "json that does not compile", method: "POST", path: "/v1/definitions", key: o.builder(),
			body: `{"switchboard": "v1", "name": "broken", "steps": [{"sleepy": 1}]}`, contentType: "application/json",
			status: 422, problem: "invalid-dsl", fields: map[string]any{"diagnostics.0.file": "workflow.json"}, check: withDiag(0, 0)},
		{name: "malformed yaml", method: "POST", path: "/v1/definitions", key: o.builder(), body: "switchboard: v1\nname: [oops\n",
			contentType: "application/yaml", status: 422, problem: "invalid-dsl", check: withDiag(0, 0)},
		{name: "empty body", method: "POST", path: "/v1/definitions", key: o.builder(), body: "",
			contentType: "application/yaml", status: 400, problem: "bad-request"},
		{name: "new revision of an existing definition that does not compile", method: "POST",
			path: "/v1/definitions/existing/revisions", key: o.builder(), body: strings.Replace(greetSrc("existing"), "set:", "sett:", 1),
			contentType: "application/yaml", status: 422, problem: "invalid-dsl", fields: map[string]any{"diagnostics.0.file": "existing.yaml"},
			check: withDiag(0, 0)},
		{name: "name differs from the path", method: "POST", path: "/v1/definitions/existing/revisions", key: o.builder(),
			body: greetSrc("other"), contentType: "application/yaml", status: 422, problem: "invalid-dsl",
			contains: []string{`workflow \"other\"`, `to \"existing\"`}},
		{name: "viewer", method: "POST", path: "/v1/definitions", key: o.viewer(), body: greetSrc("sneaky"),
			contentType: "application/yaml", status: 403, problem: "forbidden"},
	})

	require.Equal(t, string(before), string(do(t, req{method: "GET", path: "/v1/definitions", key: o.viewer()}).body))
	require.Equal(t, string(beforeRevs), string(do(t, req{method: "GET", path: "/v1/definitions/existing/revisions", key: o.viewer()}).body))
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/broken", key: o.viewer()}), 404, "not-found")
	require.Equal(t, auditBefore, o.audit(t))

	// and a change that is accepted is audited (the check above can fail)
	o.define(t, greetSrc("accepted"))
	after := o.audit(t)
	require.Len(t, after, len(auditBefore)+1)
	require.Equal(t, "definition.revision.create", after[0]["action"])
	require.Equal(t, "definition/accepted@1", after[0]["target"])
}

func TestDefinitionLifecycle(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	v1 := greetSrc("lifecycle")
	v2 := `{
  "switchboard": "v1",
  "name": "lifecycle",
  "steps": [{"return": "${ {\"greeting\": \"json\"} }"}]
}`
	v3 := strings.Replace(v1, `"hello "`, `"bonjour "`, 1)

	// revision 1: YAML, with a message
	res := do(t, req{method: "POST", path: "/v1/definitions?message=" + url.QueryEscape("first cut"), key: o.builder(),
		body: v1, contentType: "application/yaml"})
	require.Equal(t, 201, res.status, "%s", res.body)
	require.Equal(t, "/v1/definitions/lifecycle/revisions/1", res.header.Get("Location"))
	r1 := res.obj(t)
	require.EqualValues(t, 1, jget(r1, "revision.number"))
	require.EqualValues(t, 1, jget(r1, "definition.latestRevision"))
	require.Nil(t, jget(r1, "definition.liveRevision"))
	require.Equal(t, "yaml", jget(r1, "revision.format"))
	require.Equal(t, "builder@acme.test", jget(r1, "revision.author"))
	require.Equal(t, "first cut", jget(r1, "revision.message"))
	require.Nil(t, jget(r1, "revision.source"), "a create answer does not echo the source")

	// revision 2: JSON to the named endpoint
	res = do(t, req{method: "POST", path: "/v1/definitions/lifecycle/revisions", key: o.builder(), body: v2, contentType: "application/json"})
	require.Equal(t, 201, res.status, "%s", res.body)
	require.Equal(t, "/v1/definitions/lifecycle/revisions/2", res.header.Get("Location"))
	r2 := res.obj(t)
	require.EqualValues(t, 2, jget(r2, "revision.number"))
	require.Equal(t, "json", jget(r2, "revision.format"))
	require.NotEqual(t, jget(r1, "revision.planHash"), jget(r2, "revision.planHash"))

	// revision 3: YAML again
	r3 := o.define(t, v3)
	require.EqualValues(t, 3, jget(r3, "revision.number"))
	require.EqualValues(t, 3, jget(r3, "definition.latestRevision"))

	// list: newest first, and paged
	revs := items(t, expect(t, req{method: "GET", path: "/v1/definitions/lifecycle/revisions", key: o.viewer()}, 200))
	var nums []any
	for _, r := range revs {
		nums = append(nums, r["number"])
		require.Nil(t, r["source"], "lists do not carry sources")
	}
	require.Equal(t, []any{3.0, 2.0, 1.0}, nums)
	nums = nil
	cursor, pages := "", 0
	for {
		path := "/v1/definitions/lifecycle/revisions?limit=1"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		page := expect(t, req{method: "GET", path: path, key: o.viewer()}, 200)
		for _, r := range items(t, page) {
			nums = append(nums, r["number"])
		}
		pages++
		require.Less(t, pages, 10)
		c, _ := page["nextCursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	require.Equal(t, []any{3.0, 2.0, 1.0}, nums)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/lifecycle/revisions?limit=501", key: o.viewer()}), 422, "validation")

	// one revision, with its source; the source endpoint returns the bytes as saved
	g := expect(t, req{method: "GET", path: "/v1/definitions/lifecycle/revisions/1", key: o.viewer()}, 200)
	require.Equal(t, v1, g["source"])
	require.Equal(t, false, g["live"])
	require.Equal(t, jget(r1, "revision.planHash"), g["planHash"])
	for n, want := range map[int][2]string{1: {v1, "application/yaml"}, 2: {v2, "application/json"}, 3: {v3, "application/yaml"}} {
		s := do(t, req{method: "GET", path: fmt.Sprintf("/v1/definitions/lifecycle/revisions/%d/source", n), key: o.viewer()})
		require.Equal(t, 200, s.status)
		require.Equal(t, want[0], string(s.body), "revision %d", n)
		require.True(t, strings.HasPrefix(s.header.Get("Content-Type"), want[1]), "revision %d: %s", n, s.header.Get("Content-Type"))
	}
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/lifecycle/revisions/4", key: o.viewer()}), 404, "not-found")
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/lifecycle/revisions/4/source", key: o.viewer()}), 404, "not-found")
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/lifecycle/revisions/0", key: o.viewer()}), 422, "validation")

	// diff
	diff := expect(t, req{method: "GET", path: "/v1/definitions/lifecycle/diff?from=1&to=3", key: o.viewer()}, 200)
	require.EqualValues(t, 1, diff["from"])
	require.EqualValues(t, 3, diff["to"])
	text := diff["diff"].(string)
	require.Contains(t, text, "--- lifecycle@1")
	require.Contains(t, text, "+++ lifecycle@3")
	require.Contains(t, text, "\n-    set: {greeting: '${ \"hello \" + input.who }'}\n")
	require.Contains(t, text, "\n+    set: {greeting: '${ \"bonjour \" + input.who }'}\n")
	require.NotContains(t, text, "\n-switchboard: v1", "unchanged lines are context")
	same := expect(t, req{method: "GET", path: "/v1/definitions/lifecycle/diff?from=2&to=2", key: o.viewer()}, 200)
	require.Equal(t, "", same["diff"])
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/lifecycle/diff?from=1&to=9", key: o.viewer()}), 404, "not-found")
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/lifecycle/diff?from=1", key: o.viewer()}), 422, "validation")

	// not deployed yet: runs are refused
	requireProblem(t, do(t, req{method: "POST", path: "/v1/runs", key: o.operator(),
		body: map[string]any{"definition": "lifecycle", "input": map[string]any{"who": "x"}}}), 409, "not-deployed")

	// deploy 2, then 3
	d := expect(t, req{method: "POST", path: "/v1/definitions/lifecycle/deployment", key: o.builder(), body: map[string]any{"revision": 2}}, 200)
	require.EqualValues(t, 2, d["liveRevision"])
	require.EqualValues(t, 3, d["latestRevision"])
	require.Equal(t, true, expect(t, req{method: "GET", path: "/v1/definitions/lifecycle/revisions/2", key: o.viewer()}, 200)["live"])
	d = expect(t, req{method: "POST", path: "/v1/definitions/lifecycle/deployment", key: o.builder(), body: map[string]any{"revision": 3}}, 200)
	require.EqualValues(t, 3, d["liveRevision"])
	require.EqualValues(t, 3, expect(t, req{method: "GET", path: "/v1/definitions/lifecycle", key: o.viewer()}, 200)["liveRevision"])
	defs := items(t, expect(t, req{method: "GET", path: "/v1/definitions", key: o.viewer()}, 200))
	require.Len(t, defs, 1)
	require.EqualValues(t, 3, defs[0]["liveRevision"])

	// a revision that does not exist: 404, and the live revision stays
	requireProblem(t, do(t, req{method: "POST", path: "/v1/definitions/lifecycle/deployment", key: o.builder(),
		body: map[string]any{"revision": 9}}), 404, "not-found")
	requireProblem(t, do(t, req{method: "POST", path: "/v1/definitions/nothing/deployment", key: o.builder(),
		body: map[string]any{"revision": 1}}), 404, "not-found")
	require.EqualValues(t, 3, expect(t, req{method: "GET", path: "/v1/definitions/lifecycle", key: o.viewer()}, 200)["liveRevision"])

	// a run starts on the live revision
	id := o.start(t, "lifecycle", map[string]any{"who": "ada"})
	run := o.waitRun(t, id, "completed")
	require.EqualValues(t, 3, run["revision"])
	require.Equal(t, map[string]any{"greeting": "bonjour ada"}, run["output"])

	// undeploy
	d = expect(t, req{method: "DELETE", path: "/v1/definitions/lifecycle/deployment", key: o.builder()}, 200)
	require.Nil(t, d["liveRevision"])
	requireProblem(t, do(t, req{method: "POST", path: "/v1/runs", key: o.operator(),
		body: map[string]any{"definition": "lifecycle", "input": map[string]any{"who": "x"}}}), 409, "not-deployed")
	deps := items(t, expect(t, req{method: "GET", path: "/v1/definitions/lifecycle/deployments", key: o.viewer()}, 200))
	require.Len(t, deps, 3)
	require.EqualValues(t, 0, deps[0]["revision"])
	require.EqualValues(t, 3, deps[1]["revision"])
	require.EqualValues(t, 2, deps[2]["revision"])
	require.Equal(t, "builder@acme.test", deps[1]["deployedBy"])

	// the audit log has every change, with its actor
	log := o.audit(t)
	builder := o.actor("builder")
	for _, want := range []struct{ action, target string }{
		{"definition.revision.create", "definition/lifecycle@1"},
		{"definition.revision.create", "definition/lifecycle@2"},
		{"definition.revision.create", "definition/lifecycle@3"},
		{"definition.deploy", "definition/lifecycle@2"},
		{"definition.deploy", "definition/lifecycle@3"},
		{"definition.undeploy", "definition/lifecycle@0"},
	} {
		rows := findAudit(log, want.action, want.target)
		require.Len(t, rows, 1, "%s %s in %v", want.action, want.target, log)
		require.Equal(t, builder, rows[0]["actor"])
		require.NotEmpty(t, rows[0]["at"])
	}
	require.Empty(t, findAudit(log, "definition.deploy", "definition/lifecycle@9"), "a failed deploy is not audited")
	require.Equal(t, "definition.undeploy", log[0]["action"], "newest first")
}

func TestDefinitionRequestErrors(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	o.define(t, greetSrc("target"))
	huge := greetSrc("huge") + "# " + strings.Repeat("x", 1<<20) + "\n"
	runScenarios(t, []scenario{
		{name: "name differs from the path", method: "POST", path: "/v1/definitions/target/revisions", key: o.builder(),
			body: greetSrc("elsewhere"), contentType: "application/yaml", status: 422, problem: "invalid-dsl",
			contains: []string{"elsewhere", "target"}},
		{name: "malformed yaml", method: "POST", path: "/v1/definitions/target/revisions", key: o.builder(),
			body: "switchboard: v1\nname: target\nsteps:\n  - set: {a: 1\n", contentType: "application/yaml",
			status: 422, problem: "invalid-dsl", check: func(t *testing.T, r *resp) {
				ds := asList(r.obj(t)["diagnostics"])
				require.NotEmpty(t, ds)
				require.Greater(t, ds[0]["line"], 0.0)
				require.Equal(t, "target.yaml", ds[0]["file"])
			}},
		{name: "body over 1 MiB", method: "POST", path: "/v1/definitions", key: o.builder(), body: huge,
			contentType: "application/yaml", status: 413, problem: "too-large"},
		{name: "validate over 1 MiB", method: "POST", path: "/v1/definitions/validate", key: o.viewer(), body: huge,
			contentType: "application/yaml", status: 413, problem: "too-large"},
		{name: "unknown field in deploy", method: "POST", path: "/v1/definitions/target/deployment", key: o.builder(),
			body: `{"revision":1,"bogus":1}`, contentType: "application/json", status: 422, problem: "validation",
			contains: []string{"bogus"}},
		{name: "deploy revision 0", method: "POST", path: "/v1/definitions/target/deployment", key: o.builder(),
			body: map[string]any{"revision": 0}, status: 422, problem: "validation"},
		{name: "deploy with a string revision", method: "POST", path: "/v1/definitions/target/deployment", key: o.builder(),
			body: `{"revision":"1"}`, contentType: "application/json", status: 422, problem: "validation"},
		{name: "deploy with malformed json", method: "POST", path: "/v1/definitions/target/deployment", key: o.builder(),
			body: `{"revision":`, contentType: "application/json", status: 400, problem: "bad-request"},
		{name: "deploy a revision that does not exist", method: "POST", path: "/v1/definitions/target/deployment", key: o.builder(),
			body: map[string]any{"revision": 2}, status: 404, problem: "not-found", contains: []string{"revision 2"}},
		{name: "bad name in the path", method: "GET", path: "/v1/definitions/Bad_Name", key: o.viewer(), status: 422, problem: "validation"},
		{name: "method not allowed", method: "PATCH", path: "/v1/definitions", key: o.builder(), status: 405},
	})
	// nothing of the above was saved or deployed
	d := expect(t, req{method: "GET", path: "/v1/definitions/target", key: o.viewer()}, 200)
	require.EqualValues(t, 1, d["latestRevision"])
	require.Nil(t, d["liveRevision"])
	requireProblem(t, do(t, req{method: "GET", path: "/v1/definitions/huge", key: o.viewer()}), 404, "not-found")
}

// ---- 4. runs ----

func TestStartRunErrors(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	o.define(t, greetSrc("undeployed"))
	name := o.deploy(t, greetSrc("greet"))
	runScenarios(t, []scenario{
		{name: "not deployed", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": "undeployed", "input": map[string]any{"who": "x"}}, status: 409, problem: "not-deployed"},
		{name: "no such definition", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": "nothing"}, status: 404, problem: "not-found"},
		{name: "input misses a required property", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": name, "input": map[string]any{}}, status: 422, problem: "invalid-input",
			contains: []string{"who"}},
		{name: "input of the wrong type", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": name, "input": map[string]any{"who": 5}}, status: 422, problem: "invalid-input"},
		{name: "no input at all", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": name}, status: 422, problem: "invalid-input"},
		{name: "unknown body field", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": name, "input": map[string]any{"who": "x"}, "revision": 1}, status: 422, problem: "validation"},
		{name: "bad definition name", method: "POST", path: "/v1/runs", key: o.operator(),
			body: map[string]any{"definition": "No Such"}, status: 422, problem: "validation"},
		{name: "unknown run", path: "/v1/runs/" + name + ":nothing", key: o.viewer(), status: 404, problem: "not-found"},
		{name: "cancel an unknown run", method: "POST", path: "/v1/runs/" + name + ":nothing/cancel", key: o.operator(), status: 404, problem: "not-found"},
		{name: "bad status filter", path: "/v1/runs?status=sleeping", key: o.viewer(), status: 422, problem: "validation"},
		{name: "bad cursor", path: "/v1/runs?cursor=***", key: o.viewer(), status: 400, problem: "bad-request"},
		{name: "bad time filter", path: "/v1/runs?startedAfter=yesterday", key: o.viewer(), status: 422, problem: "validation"},
	})
}

func TestRunCompletesWithTimeline(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	// a service that fails once, then answers
	var hits atomic.Int32
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if hits.Add(1) == 1 {
			w.WriteHeader(http.StatusServiceUnavailable)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"score": 7, "who": %q}`, r.URL.Query().Get("who"))
	}))
	defer svc.Close()
	name := o.deploy(t, `switchboard: v1
name: scored
input:
  type: object
  required: [who]
  properties: {who: {type: string}}
steps:
  - id: lookup
    call: http.request
    with:
      method: GET
      url: "`+svc.URL+`/score"
      query: {who: '${ input.who }'}
    retry: {maxAttempts: 3, initialInterval: 100ms}
  - id: keep
    set: {score: '${ steps.lookup.output.body.score }'}
  - return: '${ {"who": steps.lookup.output.body.who, "score": vars.score} }'
`)
	before := time.Now().Add(-time.Minute)
	res := do(t, req{method: "POST", path: "/v1/runs", key: o.operator(),
		body: map[string]any{"definition": name, "input": map[string]any{"who": "ada"}}})
	require.Equal(t, 201, res.status, "%s", res.body)
	started := res.obj(t)
	id := started["id"].(string)
	require.Equal(t, "/v1/runs/"+id, res.header.Get("Location"))
	require.Equal(t, name, started["definition"])
	require.EqualValues(t, 1, started["revision"])
	require.Equal(t, "running", started["status"])
	require.NotEmpty(t, started["runId"])
	require.NotContains(t, id, o.id, "the public id does not carry the organisation")

	run := o.waitRun(t, id, "completed")
	require.Equal(t, map[string]any{"who": "ada", "score": 7.0}, run["output"])
	require.Equal(t, started["runId"], run["runId"])
	require.Empty(t, run["timelineError"])
	require.Nil(t, run["error"])
	require.NotEmpty(t, run["startedAt"])
	require.NotEmpty(t, run["closedAt"])
	require.Empty(t, run["tasks"])
	steps := asList(run["steps"])
	require.Len(t, steps, 3, "%v", run["steps"])
	call, set := steps[0], steps[1]
	require.Equal(t, "lookup", call["id"])
	require.Equal(t, "call", call["kind"])
	require.Equal(t, "succeeded", call["status"])
	require.EqualValues(t, 2, call["attempts"], "one failure, one success")
	require.Equal(t, "ada", jget(call, "input.query.who"), "the step's evaluated input: %v", call["input"])
	require.EqualValues(t, 200, jget(call, "output.status"))
	require.EqualValues(t, 7, jget(call, "output.body.score"))
	require.Equal(t, "keep", set["id"])
	require.Equal(t, "set", set["kind"])
	require.Equal(t, "succeeded", set["status"])
	require.Equal(t, map[string]any{"score": 7.0}, set["output"])
	for _, s := range steps {
		st, err := time.Parse(time.RFC3339Nano, s["startedAt"].(string))
		require.NoError(t, err)
		require.True(t, st.After(before), "startedAt %v", st)
		end, err := time.Parse(time.RFC3339Nano, s["endedAt"].(string))
		require.NoError(t, err)
		require.False(t, end.Before(st))
	}
	require.EqualValues(t, 2, hits.Load())

	// a finished run cannot be cancelled, terminated or signalled; its timeline stays readable
	runScenarios(t, []scenario{
		{name: "cancel a completed run", method: "POST", path: "/v1/runs/" + id + "/cancel", key: o.operator(), status: 409, problem: "conflict",
			contains: []string{"completed"}},
		{name: "terminate a completed run", method: "POST", path: "/v1/runs/" + id + "/terminate", key: o.operator(), body: map[string]any{},
			status: 409, problem: "conflict"},
		{name: "signal a completed run", method: "POST", path: "/v1/runs/" + id + "/signals/x", key: o.operator(), status: 409, problem: "conflict"},
		{name: "timeline still readable", path: "/v1/runs/" + id, key: o.viewer(), status: 200,
			fields: map[string]any{"status": "completed", "steps.0.attempts": 2, "output.score": 7}},
	})
}

func TestIdempotencyKey(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, greetSrc("idem"))
	body := map[string]any{"definition": name, "input": map[string]any{"who": "ada"}}
	first := do(t, req{method: "POST", path: "/v1/runs", key: o.operator(), body: body, headers: map[string]string{"Idempotency-Key": "order-1"}})
	require.Equal(t, 201, first.status, "%s", first.body)
	f := first.obj(t)
	require.Nil(t, f["replayed"])

	again := do(t, req{method: "POST", path: "/v1/runs", key: o.operator(), body: body, headers: map[string]string{"Idempotency-Key": "order-1"}})
	require.Equal(t, 200, again.status, "%s", again.body)
	a := again.obj(t)
	require.Equal(t, f["id"], a["id"])
	require.Equal(t, f["runId"], a["runId"])
	require.Equal(t, true, a["replayed"])
	require.Equal(t, first.header.Get("Location"), again.header.Get("Location"))

	// the same key for another request
	other := do(t, req{method: "POST", path: "/v1/runs", key: o.operator(), headers: map[string]string{"Idempotency-Key": "order-1"},
		body: map[string]any{"definition": name, "input": map[string]any{"who": "bob"}}})
	requireProblem(t, other, 422, "idempotency-key-reused")
	require.Contains(t, string(other.body), "Idempotency-Key")

	// another key starts another run; no key always starts one
	k2 := expect(t, req{method: "POST", path: "/v1/runs", key: o.operator(), body: body, headers: map[string]string{"Idempotency-Key": "order-2"}}, 201)
	require.NotEqual(t, f["id"], k2["id"])
	n1 := expect(t, req{method: "POST", path: "/v1/runs", key: o.operator(), body: body}, 201)
	n2 := expect(t, req{method: "POST", path: "/v1/runs", key: o.operator(), body: body}, 201)
	require.NotEqual(t, n1["id"], n2["id"])

	// keys are per organisation
	p := newOrg(t)
	pname := p.deploy(t, greetSrc("idem"))
	pr := expect(t, req{method: "POST", path: "/v1/runs", key: p.operator(), headers: map[string]string{"Idempotency-Key": "order-1"},
		body: map[string]any{"definition": pname, "input": map[string]any{"who": "ada"}}}, 201)
	require.Nil(t, pr["replayed"])

	// replays after the run finished still return it
	o.waitRun(t, f["id"].(string), "completed")
	late := expect(t, req{method: "POST", path: "/v1/runs", key: o.operator(), body: body, headers: map[string]string{"Idempotency-Key": "order-1"}}, 200)
	require.Equal(t, f["id"], late["id"])
	require.Equal(t, true, late["replayed"])
}

func TestListRuns(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	a := o.deploy(t, greetSrc("list-a"))
	b := o.deploy(t, greetSrc("list-b"))
	slow := o.deploy(t, sleeperSrc("list-slow"))
	var ids []string
	for i := range 3 {
		ids = append(ids, o.start(t, a, map[string]any{"who": fmt.Sprint(i)}))
	}
	other := o.start(t, b, map[string]any{"who": "b"})
	sleeping := o.start(t, slow, nil)
	for _, id := range append(ids, other) {
		o.waitRun(t, id, "completed")
	}
	list := func(query string) []map[string]any {
		return items(t, expect(t, req{method: "GET", path: "/v1/runs?" + query, key: o.viewer()}, 200))
	}
	idsOf := func(rs []map[string]any) []string {
		var out []string
		for _, r := range rs {
			out = append(out, r["id"].(string))
		}
		return out
	}
	eventually(t, 30*time.Second, func() bool {
		return len(list("definition="+a+"&status=completed")) == 3 && len(list("")) == 5 && len(list("status=running")) == 1
	}, func() string { return fmt.Sprintf("visibility never caught up: %v", list("")) })

	all := list("definition=" + a)
	require.ElementsMatch(t, ids, idsOf(all))
	for _, r := range all {
		require.Equal(t, a, r["definition"])
		require.EqualValues(t, 1, r["revision"])
		require.Equal(t, "completed", r["status"])
		require.NotEmpty(t, r["closedAt"])
	}
	require.ElementsMatch(t, ids, idsOf(list("definition="+a+"&status=completed")))
	require.Empty(t, list("definition="+a+"&status=running"))
	require.Empty(t, list("definition="+a+"&status=cancelled"))
	require.Equal(t, []string{sleeping}, idsOf(list("status=running")))
	require.Equal(t, []string{other}, idsOf(list("definition="+b)))
	require.Empty(t, list("definition=nothing-here"))
	future := url.QueryEscape(time.Now().Add(time.Hour).UTC().Format(time.RFC3339))
	past := url.QueryEscape(time.Now().Add(-time.Hour).UTC().Format(time.RFC3339))
	require.Empty(t, list("startedAfter="+future))
	require.Len(t, list("startedAfter="+past), 5)
	require.Empty(t, list("startedBefore="+past))
	require.Len(t, list("startedBefore="+future+"&definition="+a), 3)

	// limit=1 walks every page, without duplicates
	var walked []string
	cursor := ""
	for pages := 0; ; pages++ {
		require.Less(t, pages, 20, "too many pages")
		path := "/v1/runs?limit=1"
		if cursor != "" {
			path += "&cursor=" + url.QueryEscape(cursor)
		}
		page := expect(t, req{method: "GET", path: path, key: o.viewer()}, 200)
		got := items(t, page)
		require.LessOrEqual(t, len(got), 1)
		walked = append(walked, idsOf(got)...)
		c, _ := page["nextCursor"].(string)
		if c == "" {
			break
		}
		cursor = c
	}
	require.Len(t, walked, 5, "%v", walked)
	require.ElementsMatch(t, append(append([]string{}, ids...), other, sleeping), walked)

	// newest first
	full := list("")
	for i := 1; i < len(full); i++ {
		prev, _ := time.Parse(time.RFC3339Nano, full[i-1]["startedAt"].(string))
		cur, _ := time.Parse(time.RFC3339Nano, full[i]["startedAt"].(string))
		// Temporal's visibility store orders by start time to the millisecond
		// (two runs started in the same millisecond come in either order)
		require.False(t, prev.Truncate(time.Millisecond).Before(cur.Truncate(time.Millisecond)), "runs are listed newest first: %v then %v", prev, cur)
	}
	expect(t, req{method: "POST", path: "/v1/runs/" + sleeping + "/terminate", key: o.operator(), body: map[string]any{}}, 204)
}

func TestSignal(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, waiterSrc("waiter"))
	id := o.start(t, name, nil)
	run := o.waitStep(t, id, "waitFor", "waiting")
	require.Equal(t, "running", run["status"])
	require.Equal(t, "steps[0]", run["position"])

	runScenarios(t, []scenario{
		{name: "a signal the workflow does not listen to", method: "POST", path: "/v1/runs/" + id + "/signals/refund", key: o.operator(),
			body: map[string]any{"amount": 1}, status: 422, contains: []string{"paid"}},
		{name: "viewer cannot signal", method: "POST", path: "/v1/runs/" + id + "/signals/paid", key: o.viewer(),
			body: map[string]any{"amount": 1}, status: 403, problem: "forbidden"},
		{name: "payload is not JSON", method: "POST", path: "/v1/runs/" + id + "/signals/paid", key: o.operator(),
			body: `{"amount":`, contentType: "application/json", status: 400},
	})
	require.Equal(t, "running", o.run(t, id)["status"], "rejected signals did not reach the run")

	res := do(t, req{method: "POST", path: "/v1/runs/" + id + "/signals/paid", key: o.operator(), body: map[string]any{"amount": 9}})
	require.Equal(t, 202, res.status, "%s", res.body)
	run = o.waitRun(t, id, "completed")
	require.Equal(t, map[string]any{"timedOut": false, "payload": map[string]any{"amount": 9.0}}, run["output"])
	wf := asList(run["steps"])[0]
	require.Equal(t, "succeeded", wf["status"])
	rows := findAudit(o.audit(t), "run.signal", "run/"+id)
	require.Len(t, rows, 1)
	require.Equal(t, o.actor("operator"), rows[0]["actor"])

	// a signal without a body is null
	id2 := o.start(t, name, nil)
	require.Equal(t, 202, do(t, req{method: "POST", path: "/v1/runs/" + id2 + "/signals/paid", key: o.operator()}).status)
	run = o.waitRun(t, id2, "completed")
	require.Equal(t, map[string]any{"timedOut": false}, dropNil(run["output"]))
}

func dropNil(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := map[string]any{}
	for k, x := range m {
		if x != nil {
			out[k] = x
		}
	}
	return out
}

func TestCancelAndTerminate(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, sleeperSrc("sleeper"))
	c := o.start(t, name, nil)
	x := o.start(t, name, nil)
	o.waitStep(t, c, "wait", "waiting")
	o.waitStep(t, x, "wait", "waiting")

	requireProblem(t, do(t, req{method: "POST", path: "/v1/runs/" + c + "/cancel", key: o.viewer()}), 403, "forbidden")
	require.Equal(t, 202, do(t, req{method: "POST", path: "/v1/runs/" + c + "/cancel", key: o.operator()}).status)
	run := o.waitRun(t, c, "cancelled")
	require.NotEmpty(t, run["closedAt"])
	require.Empty(t, run["timelineError"], "a cancelled run's timeline is readable")
	require.NotEmpty(t, run["steps"])

	res := do(t, req{method: "POST", path: "/v1/runs/" + x + "/terminate", key: o.operator(), body: map[string]any{"reason": "test over"}})
	require.Equal(t, 204, res.status, "%s", res.body)
	// the reason is optional: no body at all
	y := o.start(t, name, nil)
	o.waitStep(t, y, "wait", "waiting")
	res = do(t, req{method: "POST", path: "/v1/runs/" + y + "/terminate", key: o.operator()})
	require.Equal(t, 204, res.status, "%s", res.body)
	o.waitRun(t, y, "terminated")
	run = o.waitRun(t, x, "terminated")
	require.NotEmpty(t, run["closedAt"])

	for _, id := range []string{c, x} {
		for _, action := range []string{"cancel", "terminate"} {
			r := do(t, req{method: "POST", path: "/v1/runs/" + id + "/" + action, key: o.operator(), body: map[string]any{}})
			requireProblem(t, r, 409, "conflict")
		}
	}
	log := o.audit(t)
	require.Len(t, findAudit(log, "run.cancel", "run/"+c), 1)
	term := findAudit(log, "run.terminate", "run/"+x)
	require.Len(t, term, 1)
	require.Contains(t, fmt.Sprint(term[0]["details"]), "test over")
	require.Contains(t, fmt.Sprint(findAudit(log, "run.terminate", "run/"+y)[0]["details"]), "operator@acme.test")
	eventually(t, 30*time.Second, func() bool {
		r := items(t, expect(t, req{method: "GET", path: "/v1/runs?status=cancelled", key: o.viewer()}, 200))
		return len(r) == 1 && r[0]["id"] == c
	}, func() string { return "the cancelled run is never listed as cancelled" })
}

// ---- 5. tasks ----

func TestTasks(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, approvalSrc("discount", "{role: operator}"))
	id := o.start(t, name, nil)
	o.waitStep(t, id, "approval", "waiting")

	var task map[string]any
	eventually(t, 30*time.Second, func() bool {
		for _, tk := range items(t, expect(t, req{method: "GET", path: "/v1/tasks", key: o.operator()}, 200)) {
			if tk["run"] == id {
				task = tk
				return true
			}
		}
		return false
	}, func() string { return "the task is never listed for the operator" })
	require.Equal(t, name, task["definition"])
	require.Equal(t, "Approve the discount", task["title"])
	require.Equal(t, "operator", task["role"])
	require.Equal(t, "ok", task["step"])
	require.NotEmpty(t, task["id"])
	require.Equal(t, "object", jget(task, "form.type"))
	// higher roles see it too; a viewer does not; the definition filter works
	require.Contains(t, string(do(t, req{method: "GET", path: "/v1/tasks", key: o.owner()}).body), id)
	require.Contains(t, string(do(t, req{method: "GET", path: "/v1/tasks?definition=" + name, key: o.operator()}).body), id)
	require.NotContains(t, string(do(t, req{method: "GET", path: "/v1/tasks?definition=other", key: o.operator()}).body), id)
	viewer := do(t, req{method: "GET", path: "/v1/tasks", key: o.viewer()})
	require.Equal(t, 200, viewer.status)
	require.NotContains(t, string(viewer.body), id)
	// the run shows its open task
	require.Len(t, asList(o.run(t, id)["tasks"]), 1)

	decide := func(key, task string, body any) *resp {
		return do(t, req{method: "POST", path: "/v1/runs/" + id + "/tasks/" + url.PathEscape(task) + "/decision", key: key, body: body})
	}
	taskID := task["id"].(string)
	requireProblem(t, decide(o.viewer(), taskID, map[string]any{"approved": true, "data": map[string]any{"reason": "x"}}), 403, "forbidden")
	requireProblem(t, decide(o.operator(), taskID, map[string]any{"approved": true, "data": map[string]any{}}), 422, "invalid-input")
	requireProblem(t, decide(o.operator(), taskID, map[string]any{"approved": true, "data": map[string]any{"reason": 5}}), 422, "invalid-input")
	requireProblem(t, decide(o.operator(), taskID, map[string]any{"approved": true}), 422, "invalid-input")
	requireProblem(t, decide(o.operator(), "nope", map[string]any{"approved": true}), 404, "not-found")
	requireProblem(t, decide(o.operator(), taskID, map[string]any{"approved": "yes"}), 422, "validation")
	require.Equal(t, "running", o.run(t, id)["status"], "rejected decisions left the task open")

	res := decide(o.operator(), taskID, map[string]any{"approved": true, "comment": "fine", "data": map[string]any{"reason": "loyal"}})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.Equal(t, map[string]any{"task": taskID, "approved": true}, res.obj(t))
	run := o.waitRun(t, id, "completed")
	require.Equal(t, map[string]any{"approved": true, "decidedBy": "operator@acme.test", "comment": "fine",
		"data": map[string]any{"reason": "loyal"}}, run["output"])
	requireProblem(t, decide(o.operator(), taskID, map[string]any{"approved": false}), 409, "conflict")
	rows := findAudit(o.audit(t), "task.decide", "run/"+id+"/task/"+taskID)
	require.Len(t, rows, 1)
	require.Equal(t, o.actor("operator"), rows[0]["actor"])
	eventually(t, 30*time.Second, func() bool {
		return !bytes.Contains(do(t, req{method: "GET", path: "/v1/tasks", key: o.operator()}).body, []byte(id))
	}, func() string { return "a decided task is still listed" })
}

func TestTaskDecidedTwiceWhileRunning(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	// the run goes on after the approval, so the second decision reaches it
	name := o.deploy(t, `switchboard: v1
name: two-step
steps:
  - id: ok
    approval:
      title: First
      assignees: {role: operator}
  - id: after
    waitFor: {signal: done, timeout: 1h}
`)
	id := o.start(t, name, nil)
	o.waitStep(t, id, "approval", "waiting")
	path := "/v1/runs/" + id + "/tasks/ok/decision"
	expect(t, req{method: "POST", path: path, key: o.operator(), body: map[string]any{"approved": false, "comment": "no"}}, 200)
	o.waitStep(t, id, "waitFor", "waiting")
	second := do(t, req{method: "POST", path: path, key: o.operator(), body: map[string]any{"approved": true}})
	// the run remembers closed tasks: a second decision is a conflict, not "no such task"
	requireProblem(t, second, 409, "conflict")
	require.Equal(t, "application/problem+json", second.header.Get("Content-Type"))
	steps := asList(o.run(t, id)["steps"])
	require.Equal(t, false, jget(steps[0], "output.approved"), "the first decision stands")
	expect(t, req{method: "POST", path: "/v1/runs/" + id + "/terminate", key: o.operator(), body: map[string]any{}}, 204)
}

func TestTaskAssignedToUser(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, approvalSrc("personal", "{users: [someone@acme.test]}"))
	id := o.start(t, name, nil)
	o.waitStep(t, id, "approval", "waiting")
	eventually(t, 30*time.Second, func() bool {
		return bytes.Contains(do(t, req{method: "GET", path: "/v1/tasks", key: o.keys["someone"]}).body, []byte(id))
	}, func() string { return "the task is never listed for its user" })
	for _, who := range []string{"operator", "owner", "admin", "viewer"} {
		require.NotContains(t, string(do(t, req{method: "GET", path: "/v1/tasks", key: o.keys[who]}).body), id, who)
	}
	path := "/v1/runs/" + id + "/tasks/ok/decision"
	ok := map[string]any{"approved": true, "data": map[string]any{"reason": "mine"}}
	requireProblem(t, do(t, req{method: "POST", path: path, key: o.operator(), body: ok}), 403, "forbidden")
	requireProblem(t, do(t, req{method: "POST", path: path, key: o.owner(), body: ok}), 403, "forbidden")
	require.Equal(t, "running", o.run(t, id)["status"])
	expect(t, req{method: "POST", path: path, key: o.keys["someone"], body: ok}, 200)
	run := o.waitRun(t, id, "completed")
	require.Equal(t, "someone@acme.test", jget(run, "output.decidedBy"))
	require.Equal(t, true, jget(run, "output.approved"))
}

// An approval step's id is a signal name the run listens to (decisions by
// signal, for `switchboard run`); through the API that would let anyone who
// may signal decide any task as anyone, so the signal endpoint refuses it.
func TestApprovalCannotBeDecidedBySignal(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, approvalSrc("guarded", "{role: admin}"))
	id := o.start(t, name, nil)
	o.waitStep(t, id, "approval", "waiting")
	forged := map[string]any{"approved": true, "by": "owner@acme.test", "data": map[string]any{"reason": "forged"}}
	res := do(t, req{method: "POST", path: "/v1/runs/" + id + "/signals/ok", key: o.operator(), body: forged})
	require.Equal(t, 422, res.status, "%s", res.body)
	require.Contains(t, string(res.body), "decision")
	// the task is still open: the operator could not decide an admin's task
	decision := map[string]any{"approved": true, "data": map[string]any{"reason": "real"}}
	requireProblem(t, do(t, req{method: "POST", path: "/v1/runs/" + id + "/tasks/ok/decision", key: o.operator(), body: decision}), 403, "forbidden")
	run := o.run(t, id)
	require.Equal(t, "running", run["status"])
	require.Len(t, asList(run["tasks"]), 1)
	// a decision cannot name its decider either
	requireProblem(t, do(t, req{method: "POST", path: "/v1/runs/" + id + "/tasks/ok/decision", key: o.admin(), body: forged}), 422, "validation")
	expect(t, req{method: "POST", path: "/v1/runs/" + id + "/tasks/ok/decision", key: o.admin(), body: decision}, 200)
	run = o.waitRun(t, id, "completed")
	require.Equal(t, "admin@acme.test", jget(run, "output.decidedBy"))
}

// ---- 6. secrets ----

func TestSecrets(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	other := newOrg(t)
	ctx := context.Background()
	const first, second = "sk_live_FIRST_plaintext_1234", "sk_live_SECOND_plaintext_5678"
	put := func(value string) *resp {
		return do(t, req{method: "PUT", path: "/v1/secrets/stripe.key", key: o.admin(), body: map[string]any{"value": value}})
	}
	res := put(first)
	require.Equal(t, 204, res.status, "%s", res.body)
	require.Empty(t, res.body)

	list := do(t, req{method: "GET", path: "/v1/secrets", key: o.viewer()})
	require.Equal(t, 200, list.status)
	require.NotContains(t, string(list.body), first)
	require.NotContains(t, string(list.body), "value")
	ss := items(t, list.obj(t))
	require.Len(t, ss, 1)
	require.Equal(t, "stripe.key", ss[0]["name"])
	require.Equal(t, env.keyring.CurrentKeyID(), ss[0]["keyId"])
	created := ss[0]["createdAt"]

	// replace
	require.Equal(t, 204, put(second).status)
	list = do(t, req{method: "GET", path: "/v1/secrets", key: o.viewer()})
	require.NotContains(t, string(list.body), first)
	require.NotContains(t, string(list.body), second)
	ss = items(t, list.obj(t))
	require.Len(t, ss, 1)
	require.Equal(t, created, ss[0]["createdAt"])

	// stored sealed, bound to the organisation and the name
	sec, err := env.store.GetSecret(ctx, o.id, "stripe.key")
	require.NoError(t, err)
	require.NotContains(t, string(sec.Value), second)
	require.NotContains(t, string(sec.Value), "SECOND")
	plain, err := env.keyring.Open(o.id, "stripe.key", sec.Value)
	require.NoError(t, err)
	require.Equal(t, second, string(plain))
	_, err = env.keyring.Open(other.id, "stripe.key", sec.Value)
	require.Error(t, err, "another organisation cannot open it")
	_, err = env.keyring.Open(o.id, "other.key", sec.Value)
	require.Error(t, err, "under another name it does not open")
	var raw []byte
	require.NoError(t, env.db.QueryRowContext(ctx, rawSQL(`SELECT value FROM secrets WHERE org_id = ? AND name = ?`), o.id, "stripe.key").Scan(&raw))
	require.Equal(t, sec.Value, raw)
	require.False(t, bytes.Contains(raw, []byte("plaintext")))
	var n int
	anyPlain := `SELECT count(*) FROM secrets WHERE instr(CAST(value AS TEXT), 'plaintext') > 0`
	if env.postgres {
		anyPlain = `SELECT count(*) FROM secrets WHERE position('plaintext'::bytea in value) > 0`
	}
	require.NoError(t, env.db.QueryRowContext(ctx, anyPlain).Scan(&n))
	require.Zero(t, n)

	// the audit log names the change, never the value
	log := do(t, req{method: "GET", path: "/v1/audit", key: o.owner()})
	require.NotContains(t, string(log.body), "plaintext")
	require.Len(t, findAudit(items(t, log.obj(t)), "secret.put", "secret/stripe.key"), 2)

	runScenarios(t, []scenario{
		{name: "empty value", method: "PUT", path: "/v1/secrets/empty", key: o.admin(), body: map[string]any{"value": ""}, status: 422, problem: "validation"},
		{name: "bad name", method: "PUT", path: "/v1/secrets/1bad", key: o.admin(), body: map[string]any{"value": "v"}, status: 422, problem: "validation"},
		{name: "unknown field", method: "PUT", path: "/v1/secrets/x", key: o.admin(), body: map[string]any{"value": "v", "v2": 1}, status: 422, problem: "validation"},
		{name: "no secret to read back", path: "/v1/secrets/stripe.key", key: o.admin(), status: 405},
		{name: "delete", method: "DELETE", path: "/v1/secrets/stripe.key", key: o.admin(), status: 204},
		{name: "delete again", method: "DELETE", path: "/v1/secrets/stripe.key", key: o.admin(), status: 404, problem: "not-found"},
		{name: "gone from the list", path: "/v1/secrets", key: o.viewer(), status: 200, fields: map[string]any{"items": []any{}}},
	})
	_, err = env.store.GetSecret(ctx, o.id, "stripe.key")
	require.Error(t, err)
	require.Len(t, findAudit(o.audit(t), "secret.delete", "secret/stripe.key"), 1)
}

// ---- 7. Temporal unavailable ----

func TestTemporalUnavailable(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, greetSrc("offline"))
	body := map[string]any{"definition": name, "input": map[string]any{"who": "x"}}

	start := time.Now()
	res := do(t, req{base: env.deadURL, method: "POST", path: "/v1/runs", key: o.operator(), body: body,
		headers: map[string]string{"Idempotency-Key": "while-down"}})
	took := time.Since(start)
	p := requireProblem(t, res, 503, "unavailable")
	require.Equal(t, true, p["retryable"])
	require.Less(t, took, env.deadWait+8*time.Second, "the API answers within its Temporal timeout")

	for _, path := range []string{"/v1/runs", "/v1/tasks", "/v1/runs/" + name + ":abc"} {
		start = time.Now()
		p = requireProblem(t, do(t, req{base: env.deadURL, path: path, key: o.viewer()}), 503, "unavailable")
		require.Equal(t, true, p["retryable"], path)
		require.Less(t, time.Since(start), env.deadWait+8*time.Second, path)
	}
	// what does not need Temporal still works
	expect(t, req{base: env.deadURL, path: "/v1/definitions/" + name, key: o.viewer()}, 200)
	requireProblem(t, do(t, req{base: env.deadURL, method: "POST", path: "/v1/runs", key: o.operator(),
		body: map[string]any{"definition": "nothing"}}), 404, "not-found")
	// no keyring: secrets cannot be stored
	p = requireProblem(t, do(t, req{base: env.deadURL, method: "PUT", path: "/v1/secrets/s", key: o.admin(),
		body: map[string]any{"value": "v"}}), 503, "unavailable")
	require.Contains(t, p["detail"], "SWITCHBOARD_MASTER_KEY", "the problem names the setting to add")

	ready := do(t, req{base: env.deadURL, path: "/readyz"})
	require.Equal(t, 503, ready.status, "%s", ready.body)
	require.Equal(t, "ok", jget(ready.obj(t), "checks.store"))
	require.NotEqual(t, "ok", jget(ready.obj(t), "checks.temporal"))
	live := do(t, req{path: "/readyz"})
	require.Equal(t, 200, live.status, "%s", live.body)
	require.Equal(t, "ok", jget(live.obj(t), "checks.temporal"))
	require.Equal(t, 200, do(t, req{base: env.deadURL, path: "/healthz"}).status)

	// the failed start released its Idempotency-Key: a retry starts the run
	retry := do(t, req{method: "POST", path: "/v1/runs", key: o.operator(), body: body,
		headers: map[string]string{"Idempotency-Key": "while-down"}})
	require.Equal(t, 201, retry.status, "%s", retry.body)
}

// ---- 8. OpenAPI, health, metrics ----

func TestOpenAPIAndOperations(t *testing.T) {
	t.Parallel()
	res := do(t, req{path: "/openapi.json"})
	require.Equal(t, 200, res.status)
	var doc struct {
		OpenAPI    string                               `json:"openapi"`
		Paths      map[string]map[string]map[string]any `json:"paths"`
		Components struct {
			SecuritySchemes map[string]any `json:"securitySchemes"`
		} `json:"components"`
	}
	require.NoError(t, json.Unmarshal(res.body, &doc))
	require.True(t, strings.HasPrefix(doc.OpenAPI, "3.1"), doc.OpenAPI)
	require.Contains(t, doc.Components.SecuritySchemes, "bearer")
	for path, methods := range map[string][]string{
		"/v1/runs":                                           {"get", "post"},
		"/v1/runs/{id}":                                      {"get"},
		"/v1/runs/{id}/signals/{signal}":                     {"post"},
		"/v1/runs/{id}/cancel":                               {"post"},
		"/v1/runs/{id}/terminate":                            {"post"},
		"/v1/runs/{id}/tasks/{task}/decision":                {"post"},
		"/v1/tasks":                                          {"get"},
		"/v1/definitions":                                    {"get", "post"},
		"/v1/definitions/validate":                           {"post"},
		"/v1/definitions/{name}/deployment":                  {"post", "delete"},
		"/v1/definitions/{name}/revisions":                   {"get", "post"},
		"/v1/definitions/{name}/revisions/{revision}/source": {"get"},
		"/v1/definitions/{name}/diff":                        {"get"},
		"/v1/secrets/{name}":                                 {"put", "delete"},
		"/v1/secrets":                                        {"get"},
		"/v1/api-keys":                                       {"get", "post"},
		"/v1/audit":                                          {"get"},
		"/v1/outbox":                                         {"get"},
	} {
		require.Contains(t, doc.Paths, path)
		for _, m := range methods {
			require.Contains(t, doc.Paths[path], m, path)
			require.NotEmpty(t, doc.Paths[path][m]["operationId"], "%s %s", m, path)
			require.NotEmpty(t, doc.Paths[path][m]["security"], "%s %s needs a key", m, path)
		}
	}
	require.Equal(t, "start-run", doc.Paths["/v1/runs"]["post"]["operationId"])
	require.Equal(t, "deploy-revision", doc.Paths["/v1/definitions/{name}/deployment"]["post"]["operationId"])

	h := do(t, req{path: "/healthz"})
	require.Equal(t, 200, h.status)
	require.Equal(t, "ok", h.obj(t)["status"])

	o := newOrg(t)
	name := o.deploy(t, greetSrc("metered"))
	o.start(t, name, map[string]any{"who": "m"})
	m := do(t, req{path: "/metrics"})
	require.Equal(t, 200, m.status)
	text := string(m.body)
	require.Contains(t, text, "switchboard_http_request_duration_seconds")
	require.Contains(t, text, `route="/v1/runs"`)
	require.Contains(t, text, `switchboard_runs_started_total{definition="`+name+`"} 1`)
}
