package api_test

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

const captureLeadSrc = `switchboard: v1
name: capture-lead
input: {type: object, required: [email, name], properties: {email: {type: string}, name: {type: string}}}
steps:
  - id: lead
    call: crm.customer.create
    with: {name: '${ input.name }', email: '${ input.email }', source: webinar, onConflict: existing}
  - id: qualify
    call: crm.customer.update
    with: {id: '${ steps.lead.output.id }', set: {status: prospect, tags: [webinar], lifetimeValue: {amount: 1999, currency: EUR}}}
  - id: found
    call: crm.customer.search
    with: {query: '${ input.name }', status: prospect}
  - id: missing
    try:
      - call: crm.customer.get
        with: {id: no-such-customer}
    catch:
      - errors: [NotFound]
        steps:
          - set: {notFound: '${ error.type }'}
output: '${ {"id": steps.lead.output.id, "version": steps.qualify.output.version, "status": steps.qualify.output.status, "found": size(steps.found.output.items), "missing": vars.notFound} }'
`

// TestCRMActionsInARun: a deployed definition creates, updates, searches and
// misses customers in its organisation through the crm.* actions; the
// changes emit the same events as API changes, on behalf of the run.
func TestCRMActionsInARun(t *testing.T) {
	t.Parallel()
	o, other := newOrg(t), newOrg(t)
	// the other organisation has the same person: never seen by o's runs
	expect(t, req{method: "POST", path: "/v1/customers", key: other.operator(), body: map[string]any{"name": "Ada Lovelace", "email": "ada@example.com"}}, 201)

	name := o.deploy(t, captureLeadSrc)
	first := o.start(t, name, map[string]any{"email": "Ada@Example.com", "name": "Ada Lovelace"})
	out := o.waitRun(t, first, "completed")["output"].(map[string]any)
	id := out["id"].(string)
	require.Equal(t, map[string]any{"id": id, "version": float64(2), "status": "prospect", "found": float64(1), "missing": "NotFound"}, out)

	c := expect(t, req{method: "GET", path: "/v1/customers/" + id, key: o.viewer()}, 200)
	require.Equal(t, "ada@example.com", c["email"])
	require.Equal(t, []any{"webinar"}, c["tags"])
	require.Equal(t, map[string]any{"amount": float64(1999), "currency": "EUR"}, c["lifetimeValue"])

	// a second lead with the same email finds the customer (onConflict: existing)
	second := o.start(t, name, map[string]any{"email": "ada@example.com", "name": "Ada Lovelace"})
	out2 := o.waitRun(t, second, "completed")["output"].(map[string]any)
	require.Equal(t, id, out2["id"])
	require.Equal(t, float64(2), out2["version"], "the second update changed nothing, so no new version")

	created := o.events(t, "customer.created")
	require.Len(t, created, 1, "one customer, one customer.created")
	require.Equal(t, "run:"+first, jget(created[0], "data.actor"))
	updated := o.events(t, "customer.updated")
	require.Len(t, updated, 1)
	require.Len(t, findAudit(o.audit(t), "customer.update", "customer/"+id), 2, "both runs' updates are audited")

	// the other organisation's customer is untouched
	theirs := items(t, expect(t, req{method: "GET", path: "/v1/customers", key: other.viewer()}, 200))
	require.Len(t, theirs, 1)
	require.Equal(t, "lead", theirs[0]["status"])
}

const dealFlowSrc = `switchboard: v1
name: deal-flow
input: {type: object, required: [customerId], properties: {customerId: {type: string}}}
steps:
  - id: deal
    call: crm.opportunity.create
    with:
      customerId: ${ input.customerId }
      name: Engines
      amount: {amount: 0, currency: EUR}
      lineItems: [{product: Engine, quantity: 3, unitPrice: 1000, taxRateBps: 2000}]
  - id: qualified
    call: crm.opportunity.move
    with: {id: '${ steps.deal.output.id }', stage: qualified}
  - id: won
    call: crm.opportunity.move
    with: {id: '${ steps.deal.output.id }', stage: closed_won}
  - id: reopen
    try:
      - call: crm.opportunity.move
        with: {id: '${ steps.deal.output.id }', stage: negotiation}
    catch:
      - errors: [InvalidTransition]
        steps:
          - set: {refused: '${ error.type }'}
output: '${ {"amount": steps.deal.output.amount.amount, "stage": steps.won.output.stage, "probability": steps.won.output.probability, "refused": vars.refused} }'
`

func TestCRMDealActions(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Ada"}}, 201)["id"].(string)
	name := o.deploy(t, dealFlowSrc)
	run := o.start(t, name, map[string]any{"customerId": cust})
	require.Equal(t, map[string]any{"amount": float64(3600), "stage": "closed_won", "probability": float64(100), "refused": "InvalidTransition"},
		o.waitRun(t, run, "completed")["output"])
	require.Len(t, o.events(t, "opportunity.stage_changed"), 2)

	// another organisation's customer is not found by this organisation's run
	other := newOrg(t)
	theirs := o.start(t, name, map[string]any{"customerId": expect(t, req{method: "POST", path: "/v1/customers", key: other.operator(),
		body: map[string]any{"name": "Theirs"}}, 201)["id"]})
	failed := o.waitRun(t, theirs, "failed")
	require.Equal(t, "ValidationError", jget(failed, "error.type"), "%v", failed["error"])
	require.Empty(t, items(t, expect(t, req{method: "GET", path: "/v1/opportunities", key: other.viewer()}, 200)))
}

// TestQuoteToClose is the sales process end to end on the embedded server:
// a run records the customer and the deal, moves it, sends a quote and
// waits; the customer accepts on the public page; the acceptance event
// signals the run, which closes the deal won. A second run's customer
// rejects, and that deal closes lost.
func TestQuoteToClose(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../flows/examples/quote-to-close.yaml")
	require.NoError(t, err)
	o := newOrg(t)
	name := o.deploy(t, string(src))

	// link waits for the run to reach its step id (done) and returns the link in its output
	link := func(run, id string) string {
		t.Helper()
		var last map[string]any
		eventually(t, 30*time.Second, func() bool {
			last = o.run(t, run)
			for _, s := range asList(last["steps"]) {
				if s["id"] == id && s["status"] == "succeeded" {
					return true
				}
			}
			return false
		}, func() string { return fmt.Sprintf("run %s never completed step %s: %v", run, id, last) })
		for _, s := range asList(last["steps"]) {
			if s["id"] == id {
				return jget(s, "output.url").(string)
			}
		}
		return ""
	}

	won := o.start(t, name, map[string]any{"email": "ada@example.com", "name": "Ada", "quantity": 2})
	quoteLink := link(won, "sent")
	p := page(t, quoteLink, "GET", nil)
	require.Equal(t, 200, p.status)
	require.Contains(t, string(p.body), `id="total">3,570.00 EUR`, "2 × 1,500.00 + 19 % tax")
	require.Equal(t, http.StatusSeeOther, page(t, quoteLink, "POST", url.Values{"action": {"accept"}, "name": {"Ada Lovelace"}}).status)

	// accepted: the run makes the contract and sends it; the customer signs it on its page
	contractLink := link(won, "contractSent")
	p = page(t, contractLink, "GET", nil)
	require.Equal(t, 200, p.status)
	hash := regexp.MustCompile(`id="hash">([0-9a-f]{64})<`).FindSubmatch(p.body)
	require.NotNil(t, hash, "%s", p.body)
	require.Contains(t, string(p.body), "3,570.00 EUR", "the document shows the accepted quote's total")
	require.Equal(t, "running", o.run(t, won)["status"], "waiting for the signature")
	require.Equal(t, http.StatusSeeOther, page(t, contractLink, "POST", url.Values{"name": {"Ada Lovelace"}, "email": {"ada@example.com"},
		"signature": {"Ada Lovelace"}, "documentHash": {string(hash[1])}, "agree": {"true"}}).status)
	out := o.waitRun(t, won, "completed")["output"].(map[string]any)
	require.Equal(t, "won", out["outcome"])
	require.EqualValues(t, 357000, out["total"])
	deal := expect(t, req{method: "GET", path: "/v1/opportunities/" + out["deal"].(string), key: o.viewer()}, 200)
	require.Equal(t, "closed_won", deal["stage"])
	require.NotEmpty(t, deal["actualClose"])

	// the customer's 360: the deal, the quote, the story, and the run that wrote it
	c360 := expect(t, req{method: "GET", path: "/v1/customers/" + deal["customerId"].(string) + "/360", key: o.viewer()}, 200)
	require.Len(t, c360["opportunities"], 1)
	require.Equal(t, "accepted", jget(c360, "quotes.0.status"))
	require.Equal(t, []any{won}, c360["runs"])
	var story []string
	for _, e := range asList(c360["timeline"]) {
		story = append([]string{e["summary"].(string)}, story...)
	}
	require.Equal(t, []string{
		"Customer created",
		`Deal "Engines for Ada" created`,
		`Deal "Engines for Ada" moved from lead to proposal`,
		"Quote of 3,570.00 EUR created",
		"Quote of 3,570.00 EUR sent",
		"Quote sent",
		"Quote of 3,570.00 EUR accepted",
		`Contract "Agreement: Engines for Ada" created`,
		`Contract "Agreement: Engines for Ada" sent`,
		`Contract "Agreement: Engines for Ada" signed by Ada Lovelace`,
		`Deal "Engines for Ada" moved from proposal to closed_won`,
	}, story)
	require.Equal(t, "signed", jget(c360, "contracts.0.status"))

	lost := o.start(t, name, map[string]any{"email": "grace@example.com", "name": "Grace", "quantity": 1})
	require.Equal(t, http.StatusSeeOther, page(t, link(lost, "sent"), "POST", url.Values{"action": {"reject"}, "reason": {"too expensive"}}).status)
	out = o.waitRun(t, lost, "completed")["output"].(map[string]any)
	require.Equal(t, "lost", out["outcome"])
	deal = expect(t, req{method: "GET", path: "/v1/opportunities/" + out["deal"].(string), key: o.viewer()}, 200)
	require.Equal(t, "closed_lost", deal["stage"])
	require.Equal(t, "quote not accepted", deal["lostReason"])

	// the acceptance event is recorded as delivered to the run it signalled
	evs := o.events(t, "quote.accepted")
	require.Len(t, evs, 1)
	eventually(t, 10*time.Second, func() bool {
		evs = o.events(t, "quote.accepted")
		runs, _ := evs[0]["runs"].([]any)
		return len(runs) == 1 && strings.HasSuffix(runs[0].(string), "/"+won)
	}, func() string { return fmt.Sprintf("quote.accepted not marked delivered to %s: %v", won, evs[0]) })
}

// TestTicketEscalation runs flows/examples/ticket-escalation.yaml from
// ticket.created events: a ticket nobody answers by its first-response
// target is escalated to an admin; an answered one is left alone.
func TestTicketEscalation(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../flows/examples/ticket-escalation.yaml")
	require.NoError(t, err)
	o := newOrg(t)
	o.deploy(t, string(src))
	week := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week[d] = []any{map[string]any{"start": 0, "end": 1440}}
	}
	expect(t, req{method: "PUT", path: "/v1/calendars/always", key: o.admin(), body: map[string]any{"timezone": "UTC", "week": week}}, 200)
	expect(t, req{method: "PUT", path: "/v1/sla-policies/fast", key: o.admin(), body: map[string]any{"calendar": "always",
		"targets": map[string]any{"medium": map[string]any{"firstResponse": "3s", "resolution": "1h"}}}}, 200)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Ada"}}, 201)["id"].(string)
	newTicket := func(subject string) string {
		return expect(t, req{method: "POST", path: "/v1/tickets", key: o.operator(), body: map[string]any{"customerId": cust,
			"subject": subject, "slaPolicy": "fast"}}, 201)["id"].(string)
	}
	ignored, answered := newTicket("Nobody answers"), newTicket("Answered")
	expect(t, req{method: "POST", path: "/v1/tickets/" + answered + "/messages", key: o.operator(), body: map[string]any{"direction": "outbound", "body": "On it"}}, 201)

	var runs []map[string]any
	eventually(t, 30*time.Second, func() bool {
		runs = items(t, expect(t, req{method: "GET", path: "/v1/runs?definition=ticket-escalation", key: o.viewer()}, 200))
		done := 0
		for _, r := range runs {
			if r["status"] == "completed" {
				done++
			}
		}
		return done == 2
	}, func() string { return fmt.Sprintf("the two runs did not complete: %v", runs) })
	outcomes := map[string]bool{}
	for _, r := range runs {
		outcomes[jget(o.run(t, r["id"].(string)), "output.outcome").(string)] = true
	}
	require.Equal(t, map[string]bool{"escalated": true, "answered": true}, outcomes)

	esc := expect(t, req{method: "GET", path: "/v1/tickets/" + ignored, key: o.viewer()}, 200)
	require.Equal(t, "escalated", esc["status"])
	require.Equal(t, "critical", esc["priority"])
	require.Equal(t, o.users["admin"], esc["assigneeId"], "the only admin")
	require.Nil(t, esc["firstResponseDue"], "critical has no target in this policy: the deadlines follow the priority")
	ok := expect(t, req{method: "GET", path: "/v1/tickets/" + answered, key: o.viewer()}, 200)
	require.Equal(t, "open", ok["status"])
	require.Contains(t, []any{o.users["operator"], o.users["someone"]}, ok["assigneeId"], "an operator")
	require.Equal(t, false, ok["firstResponseBreached"])
	moves := o.events(t, "ticket.status_changed")
	require.Len(t, moves, 1)
	require.Equal(t, "no first response within the SLA", jget(moves[0], "data.reason"))
	require.True(t, strings.HasPrefix(jget(moves[0], "data.actor").(string), "run:ticket-escalation:event-"), "the run did it")
}

// nurtureSrc walks a customer through a drip campaign's emails: render
// each step, stop when the address is suppressed, record it sent.
const nurtureSrc = `switchboard: v1
name: nurture
input:
  type: object
  required: [campaignId, customerId]
  properties: {campaignId: {type: string}, customerId: {type: string}}
steps:
  - id: joined
    call: crm.campaign.enroll
    with: {campaignId: '${ input.campaignId }', customerIds: ['${ input.customerId }']}
  - id: first
    call: crm.campaign.render
    with: {campaignId: '${ input.campaignId }', customerId: '${ input.customerId }'}
  - id: gate
    switch:
      cases:
        - when: '!steps.first.output.suppressed'
          steps:
            - id: mailed
              call: email.send
              with:
                to: ${ steps.first.output.to }
                subject: ${ steps.first.output.subject }
                text: ${ steps.first.output.text }
                customerId: ${ input.customerId }
                campaignId: ${ input.campaignId }
            - call: crm.campaign.track
              with: {campaignId: '${ input.campaignId }', customerId: '${ input.customerId }', event: sent}
  - id: second
    call: crm.campaign.render
    with: {campaignId: '${ input.campaignId }', customerId: '${ input.customerId }', step: 1}
  - id: check
    call: crm.suppression.check
    with: {email: '${ steps.first.output.to }'}
output: '${ {"enrolled": steps.joined.output.enrolled, "subjects": [steps.first.output.subject, steps.second.output.subject], "suppressed": steps.check.output.suppressed} }'
`

func TestCampaignActionsInARun(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, nurtureSrc)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Grace Hopper", "email": "grace@example.com"}}, 201)["id"].(string)
	camp := expect(t, req{method: "POST", path: "/v1/campaigns", key: o.operator(), body: map[string]any{"name": "Welcome", "type": "drip",
		"content": []any{map[string]any{"subject": "Welcome, {{ customer.firstName }}", "text": "hi"}, map[string]any{"subject": "Tips for {{ customer.name }}", "text": "tips"}}}}, 201)["id"].(string)
	expect(t, req{method: "POST", path: "/v1/campaigns/" + camp + "/status", key: o.operator(), body: map[string]any{"status": "active"}}, 200)

	run := o.start(t, name, map[string]any{"campaignId": camp, "customerId": cust})
	out := o.waitRun(t, run, "completed")["output"].(map[string]any)
	require.EqualValues(t, 1, out["enrolled"])
	require.Equal(t, []any{"Welcome, Grace", "Tips for Grace Hopper"}, out["subjects"])
	require.Equal(t, false, out["suppressed"])
	got := expect(t, req{method: "GET", path: "/v1/campaigns/" + camp, key: o.viewer()}, 200)
	require.EqualValues(t, 1, jget(got, "metrics.sent"), "sent counts the enrollment once")
	require.EqualValues(t, 1, jget(got, "metrics.enrolled"))
	enr := items(t, expect(t, req{method: "GET", path: "/v1/campaigns/" + camp + "/enrollments", key: o.viewer()}, 200))
	require.Equal(t, run, enr[0]["runId"], "the enrollment remembers its run")

	// with no email provider configured, the email is in the outbox, once
	box := items(t, expect(t, req{method: "GET", path: "/v1/outbox", key: o.viewer()}, 200))
	require.Len(t, box, 1)
	require.Equal(t, "grace@example.com", box[0]["to"])
	require.Equal(t, "Welcome, Grace", box[0]["subject"])
	require.Equal(t, run, box[0]["runId"])
	require.Equal(t, "hi", jget(box[0], "body.text"))
	require.Len(t, o.events(t, "email.queued"), 1)

	// a suppressed address: the send step fails with Suppressed, nothing is queued
	expect(t, req{method: "POST", path: "/v1/suppressions", key: o.operator(), body: map[string]any{"email": "lin@example.com", "reason": "complained"}}, 201)
	sendSrc := "switchboard: v1\nname: direct-send\nsteps:\n  - call: email.send\n    with: {to: lin@example.com, subject: Hi, text: x}\n"
	failed := o.waitRun(t, o.start(t, o.deploy(t, sendSrc), nil), "failed")
	require.Equal(t, "Suppressed", jget(failed, "error.type"), "%v", failed["error"])
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/outbox", key: o.viewer()}, 200)), 1)
}

// TestWaitInOrgCalendar: `wait: {for, businessHours: <name>}` counts in the
// organisation's calendar of that name, read when the wait starts.
func TestWaitInOrgCalendar(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	week := map[string]any{}
	for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
		week[d] = []any{map[string]any{"start": 0, "end": 1440}}
	}
	expect(t, req{method: "PUT", path: "/v1/calendars/always", key: o.admin(), body: map[string]any{"timezone": "UTC", "week": week}}, 200)
	name := o.deploy(t, `switchboard: v1
name: org-calendar-wait
input: {type: object, required: [calendar], properties: {calendar: {type: string}}}
steps:
  - id: pick
    switch:
      cases:
        - when: input.calendar == "always"
          steps:
            - id: w
              wait: {for: 2s, businessHours: always}
      default:
        - wait: {for: 2s, businessHours: nonexistent}
output: ${ steps.w.output.firedAt }
`)
	run := o.start(t, name, map[string]any{"calendar": "always"})
	r := o.waitRun(t, run, "completed")
	started, fired := parseTime(t, r["startedAt"]), parseTime(t, r["output"])
	require.GreaterOrEqual(t, fired.Sub(started), 2*time.Second, "two seconds of a round-the-clock calendar")
	require.Less(t, fired.Sub(started), 20*time.Second)

	missing := o.start(t, name, map[string]any{"calendar": "other"})
	r = o.waitRun(t, missing, "failed")
	require.Equal(t, "NotFound", jget(r, "error.type"), "%v", r["error"])
}
