package api_test

// End-to-end tests of triggers on the embedded server: signed webhooks for
// every verification scheme, a Stripe-style webhook signalling a waiting
// run by business key, business events through the outbox (exactly once
// across a redelivery), and schedules.

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"

	"switchboard/activities/catalog"
	"switchboard/api"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/store"
	"switchboard/store/storetest"
	"switchboard/workers/platform"
)

func hmacHex(key []byte, msg string) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return hex.EncodeToString(m.Sum(nil))
}

// signer signs a body the way a provider does, with a secret and a time.
type signer struct {
	scheme string
	// secret is what is stored in the secret store; wrong is another valid-looking one
	secret, wrong string
	sign          func(secret, body string, at time.Time) map[string]string
	// timestamped schemes refuse stale requests
	timestamped bool
}

func signers(t *testing.T) []signer {
	sgKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	sgOther, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	pub := func(k *ecdsa.PrivateKey) string {
		der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
		require.NoError(t, err)
		return base64.StdEncoding.EncodeToString(der)
	}
	sgPrivate := map[string]*ecdsa.PrivateKey{pub(sgKey): sgKey, pub(sgOther): sgOther}
	whsec := func(b byte) string {
		return "whsec_" + base64.StdEncoding.EncodeToString([]byte(strings.Repeat(string(b), 32)))
	}
	return []signer{
		{scheme: "standard-webhooks", secret: whsec('k'), wrong: whsec('w'), timestamped: true,
			sign: func(secret, body string, at time.Time) map[string]string {
				key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, "whsec_"))
				ts := strconv.FormatInt(at.Unix(), 10)
				m := hmac.New(sha256.New, key)
				m.Write([]byte("msg_1." + ts + "." + body))
				return map[string]string{"webhook-id": "msg_1", "webhook-timestamp": ts,
					"webhook-signature": "v1," + base64.StdEncoding.EncodeToString(m.Sum(nil))}
			}},
		{scheme: "hmac-sha256", secret: "hmac-secret", wrong: "other-secret",
			sign: func(secret, body string, _ time.Time) map[string]string {
				return map[string]string{"X-Signature": hmacHex([]byte(secret), body)}
			}},
		{scheme: "stripe", secret: "whsec_stripe_test", wrong: "whsec_other", timestamped: true,
			sign: func(secret, body string, at time.Time) map[string]string {
				ts := strconv.FormatInt(at.Unix(), 10)
				return map[string]string{"Stripe-Signature": "t=" + ts + ",v1=" + hmacHex([]byte(secret), ts+"."+body)}
			}},
		{scheme: "slack", secret: "slack-signing-secret", wrong: "other-signing-secret", timestamped: true,
			sign: func(secret, body string, at time.Time) map[string]string {
				ts := strconv.FormatInt(at.Unix(), 10)
				return map[string]string{"X-Slack-Request-Timestamp": ts, "X-Slack-Signature": "v0=" + hmacHex([]byte(secret), "v0:"+ts+":"+body)}
			}},
		{scheme: "sendgrid", secret: pub(sgKey), wrong: pub(sgOther), timestamped: true,
			sign: func(secret, body string, at time.Time) map[string]string {
				ts := strconv.FormatInt(at.Unix(), 10)
				h := sha256.Sum256([]byte(ts + body))
				sig, err := ecdsa.SignASN1(rand.Reader, sgPrivate[secret], h[:])
				require.NoError(t, err)
				return map[string]string{"X-Twilio-Email-Event-Webhook-Timestamp": ts,
					"X-Twilio-Email-Event-Webhook-Signature": base64.StdEncoding.EncodeToString(sig)}
			}},
		{scheme: "github", secret: "gh-secret", wrong: "gh-other",
			sign: func(secret, body string, _ time.Time) map[string]string {
				return map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex([]byte(secret), body)}
			}},
		{scheme: "token", secret: "tok-" + strings.Repeat("x", 24), wrong: "tok-" + strings.Repeat("y", 24),
			sign: func(secret, _ string, _ time.Time) map[string]string {
				return map[string]string{"Authorization": "Bearer " + secret}
			}},
	}
}

func hook(t *testing.T, base, org, path, body string, headers map[string]string) *resp {
	t.Helper()
	return do(t, req{base: base, method: "POST", path: "/hooks/" + org + "/" + path, body: body,
		contentType: "application/json", headers: headers})
}

func TestWebhookVerificationSchemes(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	for _, sg := range signers(t) {
		t.Run(sg.scheme, func(t *testing.T) {
			t.Parallel()
			name := "hook-" + sg.scheme
			secretName := sg.scheme + "-secret"
			expect(t, req{method: "PUT", path: "/v1/secrets/" + secretName, key: o.admin(),
				body: map[string]any{"value": sg.secret}}, 204)
			o.deploy(t, fmt.Sprintf(`switchboard: v1
name: %s
input: {type: object, required: [id], properties: {id: {type: string}}}
triggers:
  - webhook:
      path: in/%s
      verify: {scheme: %s, secret: %s}
      key: ${ body.id }
      input: '${ {"id": body.id} }'
steps:
  - id: echo
    set: {got: '${ input.id }'}
output: '${ vars.got }'
`, name, sg.scheme, sg.scheme, secretName))
			path := "in/" + sg.scheme
			body := `{"id": "evt-1", "amount": 12}`
			now := time.Now()

			// forged, tampered, missing, stale: 401, nothing started
			requireProblem(t, hook(t, env.url, o.id, path, body, sg.sign(sg.wrong, body, now)), 401, "unauthorized")
			if sg.scheme != "token" { // a token does not sign the body
				requireProblem(t, hook(t, env.url, o.id, path, `{"id": "evt-1", "amount": 13}`, sg.sign(sg.secret, body, now)), 401, "unauthorized")
			}
			requireProblem(t, hook(t, env.url, o.id, path, body, nil), 401, "unauthorized")
			if sg.timestamped {
				requireProblem(t, hook(t, env.url, o.id, path, body, sg.sign(sg.secret, body, now.Add(-6*time.Minute))), 401, "unauthorized")
				requireProblem(t, hook(t, env.url, o.id, path, body, sg.sign(sg.secret, body, now.Add(6*time.Minute))), 401, "unauthorized")
			}

			// valid: 202 and a run; the same delivery again: the same run
			first := hook(t, env.url, o.id, path, body, sg.sign(sg.secret, body, now))
			require.Equal(t, http.StatusAccepted, first.status, "%s", first.body)
			run := first.obj(t)
			require.Equal(t, "started", run["status"])
			again := hook(t, env.url, o.id, path, body, sg.sign(sg.secret, body, now))
			require.Equal(t, http.StatusOK, again.status, "%s", again.body)
			require.Equal(t, "duplicate", again.obj(t)["status"])
			require.Equal(t, run["run"], again.obj(t)["run"])
			done := o.waitRun(t, run["run"].(string), "completed")
			require.Equal(t, "evt-1", done["output"])

			// a malformed body is a 400 even when correctly signed
			bad := `{"id": `
			require.Equal(t, 400, hook(t, env.url, o.id, path, bad, sg.sign(sg.secret, bad, now)).status)
			// runs of this definition: exactly one
			eventually(t, 20*time.Second, func() bool {
				return len(items(t, expect(t, req{method: "GET", path: "/v1/runs?definition=" + name, key: o.viewer()}, 200))) == 1
			}, func() string { return "one run of " + name })
		})
	}
}

func TestWebhookRotationUnknownPathsAndNone(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	// two active secrets (one per line): either signs
	expect(t, req{method: "PUT", path: "/v1/secrets/gh", key: o.admin(), body: map[string]any{"value": "new-secret\nold-secret"}}, 204)
	o.deploy(t, `switchboard: v1
name: rotated
triggers:
  - webhook: {path: gh, verify: {scheme: github, secret: gh}}
steps:
  - set: {ok: true}
`)
	body := `{"zen": "x"}`
	for _, s := range []string{"new-secret", "old-secret"} {
		r := hook(t, env.url, o.id, "gh", body, map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex([]byte(s), body)})
		require.Equal(t, 202, r.status, "%s", r.body)
	}
	// unknown paths and organisations look alike
	a := hook(t, env.url, o.id, "nope", body, nil)
	b := hook(t, env.url, "00000000-0000-0000-0000-000000000000", "gh", body, nil)
	requireProblem(t, a, 404, "not-found")
	requireProblem(t, b, 404, "not-found")
	require.Equal(t, a.obj(t)["detail"], b.obj(t)["detail"])

	// `none` is refused at deploy in server mode, allowed in dev mode
	src := `switchboard: v1
name: open-door
triggers:
  - webhook: {path: open, verify: {scheme: none}}
steps:
  - set: {ok: true}
`
	rev := o.define(t, src)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/definitions/open-door/deployment", key: o.builder(),
		body: map[string]any{"revision": jget(rev, "revision.number")}}), 422, "invalid-dsl")
	expect(t, req{base: env.devURL, method: "POST", path: "/v1/definitions/open-door/deployment", key: o.builder(),
		body: map[string]any{"revision": jget(rev, "revision.number")}}, 200)
	require.Equal(t, 202, hook(t, env.devURL, o.id, "open", body, nil).status)
	// the production API does not serve it either
	require.Equal(t, 403, hook(t, env.url, o.id, "open", body, nil).status)

	// a body that is too deep or too big: 4xx, never a crash
	deep := strings.Repeat("[", 100) + strings.Repeat("]", 100)
	r := hook(t, env.devURL, o.id, "open", deep, nil)
	require.Equal(t, 400, r.status, "%s", r.body)
	huge := `{"x": "` + strings.Repeat("a", 2<<20) + `"}`
	require.Equal(t, 413, hook(t, env.devURL, o.id, "open", huge, nil).status)

	// deliveries are recorded, accepted and refused
	ds := items(t, expect(t, req{method: "GET", path: "/v1/webhooks/deliveries?limit=100", key: o.viewer()}, 200))
	statuses := map[string]int{}
	for _, d := range ds {
		statuses[d["status"].(string)]++
	}
	require.GreaterOrEqual(t, statuses["started"], 3, "%v", statuses)
	require.GreaterOrEqual(t, statuses["rejected"], 1, "%v", statuses)

	// a webhook path belongs to one definition
	o.deploy(t, `switchboard: v1
name: first-owner
triggers:
  - webhook: {path: shared, verify: {scheme: github, secret: gh}}
steps:
  - set: {ok: true}
`)
	rev = o.define(t, `switchboard: v1
name: second-owner
triggers:
  - webhook: {path: shared, verify: {scheme: github, secret: gh}}
steps:
  - set: {ok: true}
`)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/definitions/second-owner/deployment", key: o.builder(),
		body: map[string]any{"revision": jget(rev, "revision.number")}}), 409, "conflict")
	// undeploying removes the route
	expect(t, req{method: "DELETE", path: "/v1/definitions/rotated/deployment", key: o.builder()}, 200)
	requireProblem(t, hook(t, env.url, o.id, "gh", body, map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex([]byte("new-secret"), body)}), 404, "not-found")
}

func TestStripeWebhookSignalsARunByBusinessKey(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	expect(t, req{method: "PUT", path: "/v1/secrets/stripe-webhook", key: o.admin(), body: map[string]any{"value": "whsec_abc"}}, 204)
	name := o.deploy(t, `switchboard: v1
name: quote-to-cash
input: {type: object, required: [quoteId], properties: {quoteId: {type: string}}}
concurrency: {key: '${ input.quoteId }', onConflict: skip}
triggers:
  - webhook:
      path: stripe
      verify: {scheme: stripe, secret: stripe-webhook}
      signal: payment.succeeded
      target: ${ "quote-to-cash:" + body.data.object.metadata.quote_id }
      key: ${ body.id }
steps:
  - id: paid
    waitFor: {signal: payment.succeeded, timeout: 1h}
output: '${ steps.paid.output.payload }'
`)
	id := o.start(t, name, map[string]any{"quoteId": "Q-42"})
	require.Equal(t, "quote-to-cash:Q-42", id)
	o.waitStep(t, id, "waitFor", "waiting")
	body := `{"id": "evt_1", "type": "checkout.session.completed", "data": {"object": {"amount_total": 4200, "metadata": {"quote_id": "Q-42"}}}}`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	r := hook(t, env.url, o.id, "stripe", body, map[string]string{"Stripe-Signature": "t=" + ts + ",v1=" + hmacHex([]byte("whsec_abc"), ts+"."+body)})
	require.Equal(t, 202, r.status, "%s", r.body)
	require.Equal(t, "signalled", r.obj(t)["status"])
	done := o.waitRun(t, id, "completed")
	require.EqualValues(t, 4200, jget(done["output"], "data.object.amount_total"), "the signal's payload is the body")
	// Stripe delivers the same event again: its key was delivered already
	// (without the key the run, finished, would answer 404)
	r = hook(t, env.url, o.id, "stripe", body, map[string]string{"Stripe-Signature": "t=" + ts + ",v1=" + hmacHex([]byte("whsec_abc"), ts+"."+body)})
	require.Equal(t, 200, r.status, "%s", r.body)
	require.Equal(t, "duplicate", r.obj(t)["status"])

	// a payment for a quote with no running run: 404, recorded
	body = `{"id": "evt_2", "data": {"object": {"amount_total": 1, "metadata": {"quote_id": "Q-nope"}}}}`
	r = hook(t, env.url, o.id, "stripe", body, map[string]string{"Stripe-Signature": "t=" + ts + ",v1=" + hmacHex([]byte("whsec_abc"), ts+"."+body)})
	requireProblem(t, r, 404, "not-found")
	// an undelivered key is not remembered: the retry is tried again
	r = hook(t, env.url, o.id, "stripe", body, map[string]string{"Stripe-Signature": "t=" + ts + ",v1=" + hmacHex([]byte("whsec_abc"), ts+"."+body)})
	requireProblem(t, r, 404, "not-found")
}

func TestEventTriggersStartEachRunOnce(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, `switchboard: v1
name: escalate
input: {type: object, required: [ticketId], properties: {ticketId: {type: string}}}
triggers:
  - event:
      type: ticket.created
      when: ${ event.data.priority == "critical" }
      input: '${ {"ticketId": event.data.id} }'
steps:
  - id: note
    set: {seen: '${ input.ticketId }'}
output: '${ vars.seen }'
`)
	publish := func(id, priority string) string {
		e := expect(t, req{method: "POST", path: "/v1/events", key: o.operator(),
			body: map[string]any{"type": "ticket.created", "data": map[string]any{"id": id, "priority": priority}}}, 202)
		return e["id"].(string)
	}
	critical, low := publish("T-1", "critical"), publish("T-2", "low")
	delivered := func(id string) map[string]any {
		var found map[string]any
		eventually(t, 30*time.Second, func() bool {
			for _, e := range items(t, expect(t, req{method: "GET", path: "/v1/events?limit=500", key: o.viewer()}, 200)) {
				if e["id"] == id && e["deliveredAt"] != nil {
					found = e
					return true
				}
			}
			return false
		}, func() string { return "event " + id + " delivered" })
		return found
	}
	require.Len(t, delivered(critical)["runs"], 1)
	require.Empty(t, delivered(low)["runs"], "`when` filters the low-priority ticket")
	runWID := delivered(critical)["runs"].([]any)[0].(string)
	runID := strings.TrimPrefix(runWID, o.id+"/")
	require.Equal(t, name+":event-"+critical, runID)
	require.Equal(t, "T-1", o.waitRun(t, runID, "completed")["output"])

	// a dispatcher that died after starting the runs but before marking
	// the event: the event is delivered again, and still starts one run
	ev, err := env.store.GetEvent(t.Context(), o.id, critical)
	require.NoError(t, err)
	again, err := env.dispatch.Deliver(t.Context(), *ev)
	require.NoError(t, err)
	require.Equal(t, []string{runWID}, again)
	eventually(t, 20*time.Second, func() bool {
		return len(items(t, expect(t, req{method: "GET", path: "/v1/runs?definition=" + name, key: o.viewer()}, 200))) == 1
	}, func() string { return "exactly one run of " + name })
}

func TestScheduleTriggerFiresAndGoesWithTheDeployment(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	name := o.deploy(t, `switchboard: v1
name: heartbeat
triggers:
  - schedule: {every: 2s, input: {beat: true}, overlap: bufferOne, catchupWindow: 5m}
steps:
  - set: {ok: '${ input.beat }'}
output: '${ vars.ok }'
`)
	eventually(t, 30*time.Second, func() bool {
		for _, r := range items(t, expect(t, req{method: "GET", path: "/v1/runs?definition=" + name, key: o.viewer()}, 200)) {
			if r["status"] == "completed" {
				return true
			}
		}
		return false
	}, func() string { return "a scheduled run of " + name + " completed" })

	tr := items(t, expect(t, req{method: "GET", path: "/v1/triggers", key: o.viewer()}, 200))
	require.Len(t, tr, 1)
	require.Equal(t, "schedule", tr[0]["kind"])
	require.Equal(t, false, tr[0]["paused"])
	expect(t, req{method: "POST", path: "/v1/definitions/" + name + "/schedules/0", key: o.operator(), body: map[string]any{"paused": true}}, 204)
	tr = items(t, expect(t, req{method: "GET", path: "/v1/triggers", key: o.viewer()}, 200))
	require.Equal(t, true, tr[0]["paused"])

	// undeploy: the Temporal Schedule is deleted
	id := o.id + "/" + name + "/schedule-0"
	desc, err := env.temporal.ScheduleClient().GetHandle(t.Context(), id).Describe(t.Context())
	require.NoError(t, err)
	require.Equal(t, enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE, desc.Schedule.Policy.Overlap)
	require.Equal(t, 5*time.Minute, desc.Schedule.Policy.CatchupWindow)
	expect(t, req{method: "DELETE", path: "/v1/definitions/" + name + "/deployment", key: o.builder()}, 200)
	_, err = env.temporal.ScheduleClient().GetHandle(t.Context(), id).Describe(t.Context())
	require.Error(t, err, "the schedule is gone with the deployment")
	require.Empty(t, items(t, expect(t, req{method: "GET", path: "/v1/triggers", key: o.viewer()}, 200)))
}

func TestSendGridBatchSignalsEachRun(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&key.PublicKey)
	require.NoError(t, err)
	expect(t, req{method: "PUT", path: "/v1/secrets/sendgrid-key", key: o.admin(),
		body: map[string]any{"value": base64.StdEncoding.EncodeToString(der)}}, 204)
	name := o.deploy(t, `switchboard: v1
name: tracker
input: {type: object, required: [msg], properties: {msg: {type: string}}}
concurrency: {key: '${ input.msg }', onConflict: skip}
triggers:
  - webhook:
      path: sendgrid/events
      verify: {scheme: sendgrid, secret: sendgrid-key}
      signal: email.event
      target: ${ "tracker:" + body.sg_message_id }
steps:
  - id: ev
    waitFor: {signal: email.event, timeout: 1h}
output: '${ steps.ev.output.payload.event }'
`)
	a, b := o.start(t, name, map[string]any{"msg": "m-a"}), o.start(t, name, map[string]any{"msg": "m-b"})
	o.waitStep(t, a, "waitFor", "waiting")
	o.waitStep(t, b, "waitFor", "waiting")
	body := `[{"sg_message_id": "m-a", "event": "open"}, {"sg_message_id": "m-b", "event": "click"}]`
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := sha256.Sum256([]byte(ts + body))
	sig, err := ecdsa.SignASN1(rand.Reader, key, h[:])
	require.NoError(t, err)
	r := hook(t, env.url, o.id, "sendgrid/events", body, map[string]string{"X-Twilio-Email-Event-Webhook-Timestamp": ts,
		"X-Twilio-Email-Event-Webhook-Signature": base64.StdEncoding.EncodeToString(sig)})
	require.Equal(t, 202, r.status, "%s", r.body)
	require.Equal(t, "open", o.waitRun(t, a, "completed")["output"])
	require.Equal(t, "click", o.waitRun(t, b, "completed")["output"])
}

func TestWebhookAnswers503WhenTemporalIsDown(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	rev := o.define(t, `switchboard: v1
name: door
triggers:
  - webhook: {path: door, verify: {scheme: none}}
steps:
  - set: {ok: true}
`)
	expect(t, req{base: env.devURL, method: "POST", path: "/v1/definitions/door/deployment", key: o.builder(),
		body: map[string]any{"revision": jget(rev, "revision.number")}}, 200)
	began := time.Now()
	p := requireProblem(t, hook(t, env.deadDev, o.id, "door", `{"a": 1}`, nil), 503, "unavailable")
	require.Equal(t, true, p["retryable"], "the sender retries: nothing is lost")
	require.Less(t, time.Since(began), env.deadWait*2+8*time.Second, "answered within the deadline")
	var failed bool
	for _, d := range items(t, expect(t, req{method: "GET", path: "/v1/webhooks/deliveries", key: o.viewer()}, 200)) {
		failed = failed || (d["path"] == "door" && d["status"] == "failed" && d["httpStatus"] == float64(503))
	}
	require.True(t, failed, "the failed delivery is recorded")
}

func TestChildWorkflowsResolveInTheirOrganisation(t *testing.T) {
	t.Parallel()
	o, other := newOrg(t), newOrg(t)
	child := `switchboard: v1
name: scorer
input: {type: object, properties: {n: {type: integer}}}
steps:
  - set: {score: '${ input.n * 2 }'}
output: '${ {"score": vars.score, "run": run.id} }'
`
	o.deploy(t, child)
	parent := `switchboard: v1
name: parent
steps:
  - id: c
    workflow: scorer
    with: {n: 21}
output: '${ steps.c.output }'
`
	name := o.deploy(t, parent)
	done := o.waitRun(t, o.start(t, name, nil), "completed")
	require.EqualValues(t, 42, jget(done["output"], "score"))
	require.NotContains(t, jget(done["output"], "run"), o.id, "run.id is the id without the organisation")

	// the other organisation has a parent but no scorer: the child is not found there
	name = other.deploy(t, parent)
	failed := other.waitRun(t, other.start(t, name, nil), "failed")
	require.Equal(t, "WorkflowNotFound", jget(failed["error"], "type"), "%v", failed["error"])
}

// TestTwoDispatchersOnPostgres runs two event dispatchers at once over a
// PostgreSQL store (as two workers would): every event starts exactly one
// run.
func TestTwoDispatchersOnPostgres(t *testing.T) {
	t.Parallel()
	ctx := t.Context()
	pg, err := store.Open(ctx, storetest.PostgresURL(t), store.Options{})
	require.NoError(t, err)
	defer pg.Close()
	org, _, err := api.Bootstrap(ctx, pg, "pg-org", "owner@pg.test")
	require.NoError(t, err)
	src := `switchboard: v1
name: counted
input: {type: object, required: [n], properties: {n: {type: integer}}}
triggers:
  - event: {type: thing.counted, input: '${ {"n": event.data.n} }'}
steps:
  - set: {n: '${ input.n }'}
`
	p, diags := dsl.Compile("counted.yaml", []byte(src), dsl.Options{Registry: catalog.Registry()})
	require.Empty(t, diags)
	d := &domain.Definition{OrgID: org.ID, Name: "counted"}
	require.NoError(t, pg.CreateDefinition(ctx, d))
	require.NoError(t, pg.CreateRevision(ctx, &domain.Revision{OrgID: org.ID, DefinitionID: d.ID, Source: src, Format: "yaml", PlanHash: p.Hash, Author: "test"}))
	require.NoError(t, pg.Deploy(ctx, &domain.Deployment{OrgID: org.ID, DefinitionID: d.ID, Revision: 1, DeployedBy: "test"}))
	require.NoError(t, pg.SetTriggerRoutes(ctx, org.ID, d.ID, []domain.TriggerRoute{{OrgID: org.ID, Kind: domain.TriggerEvent,
		Key: "thing.counted", DefinitionID: d.ID, Definition: "counted", Revision: 1, Index: 0}}))

	const n = 100
	ids := make([]string, n)
	for i := range n {
		e := &domain.Event{OrgID: org.ID, Type: "thing.counted", Data: []byte(fmt.Sprintf(`{"n": %d}`, i))}
		require.NoError(t, pg.PublishEvent(ctx, e))
		ids[i] = e.ID
	}
	dctx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_ = platform.NewDispatcher(platform.DispatcherOptions{Client: env.temporal, Store: pg, Batch: 7,
				Idle: 20 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}).Run(dctx)
		}()
	}
	defer func() { stop(); wg.Wait() }()

	runs := map[string]bool{}
	eventually(t, time.Minute, func() bool {
		clear(runs)
		for _, id := range ids {
			e, err := pg.GetEvent(ctx, org.ID, id)
			require.NoError(t, err)
			if e.DeliveredAt == nil {
				return false
			}
			require.Len(t, e.Runs, 1)
			runs[e.Runs[0]] = true
		}
		return true
	}, func() string { return "every event delivered" })
	require.Len(t, runs, n, "one distinct run per event")
	eventually(t, time.Minute, func() bool {
		resp, err := env.temporal.CountWorkflow(ctx, &workflowservice.CountWorkflowExecutionsRequest{Namespace: "default",
			Query: fmt.Sprintf("SwitchboardOrg = '%s' AND SwitchboardDefinition = 'counted'", org.ID)})
		require.NoError(t, err)
		return resp.GetCount() == n
	}, func() string { return "Temporal has exactly one run per event" })
}

func TestSignalWithStartWebhook(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	expect(t, req{method: "PUT", path: "/v1/secrets/onb", key: o.admin(), body: map[string]any{"value": "onb-secret"}}, 204)
	name := o.deploy(t, `switchboard: v1
name: onboarding
input: {type: object, required: [customer], properties: {customer: {type: string}}}
triggers:
  - webhook:
      path: onboarding/step
      verify: {scheme: github, secret: onb}
      signal: step.done
      target: ${ "onboarding:" + body.customer }
      start: true
      input: '${ {"customer": body.customer} }'
steps:
  - id: first
    waitFor: {signal: step.done, timeout: 1h}
  - id: second
    waitFor: {signal: step.done, timeout: 1h}
output: '${ {"customer": input.customer, "steps": [steps.first.output.payload.step, steps.second.output.payload.step]} }'
`)
	send := func(step string) *resp {
		body := fmt.Sprintf(`{"customer": "c-7", "step": "%s"}`, step)
		return hook(t, env.url, o.id, "onboarding/step", body, map[string]string{"X-Hub-Signature-256": "sha256=" + hmacHex([]byte("onb-secret"), body)})
	}
	first := send("profile")
	require.Equal(t, 202, first.status, "%s", first.body)
	require.Equal(t, name+":c-7", first.obj(t)["run"], "the first delivery started the run named by target")
	o.waitStep(t, name+":c-7", "waitFor", "waiting") // the second waitFor
	second := send("billing")
	require.Equal(t, 202, second.status, "%s", second.body)
	require.Equal(t, first.obj(t)["runId"], second.obj(t)["runId"], "the second delivery signalled the same run")
	done := o.waitRun(t, name+":c-7", "completed")
	require.Equal(t, map[string]any{"customer": "c-7", "steps": []any{"profile", "billing"}}, done["output"])
}
