package api_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// fakeProviders speaks the wire protocols of the providers the connectors
// call — SendGrid's v3 mail send so far — and records what each
// organisation's key sent (tests run in parallel; each org has its own key).
type fakeProviders struct {
	mu   sync.Mutex
	sent map[string][]json.RawMessage // by Authorization header (Slack: by token)
	n    int
	url  string
	// slackEmails maps Slack user ids to the email addresses users.info gives
	slackEmails map[string]string
	// replies are the bodies posted to Slack response URLs, by path
	replies map[string][]json.RawMessage
}

func newFakeProviders() *fakeProviders {
	return &fakeProviders{sent: map[string][]json.RawMessage{}, slackEmails: map[string]string{}, replies: map[string][]json.RawMessage{}}
}

func (f *fakeProviders) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	auth := r.Header.Get("Authorization")
	switch {
	case r.Method == http.MethodPost && r.URL.Path == "/v3/mail/send":
		if !json.Valid(body) || auth == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.sent[auth] = append(f.sent[auth], body)
		f.n++
		id := "sg-" + strconv.Itoa(f.n)
		f.mu.Unlock()
		w.Header().Set("X-Message-Id", id)
		w.WriteHeader(http.StatusAccepted)
	case r.Method == http.MethodPost && r.URL.Path == "/v1/checkout/sessions":
		form, err := url.ParseQuery(string(body))
		if err != nil || auth == "" {
			w.WriteHeader(http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.sent[auth] = append(f.sent[auth], json.RawMessage(strconv.Quote(string(body))))
		f.n++
		id := "cs_test_" + strconv.Itoa(f.n)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]any{"id": id, "object": "checkout.session", "url": "https://checkout.stripe.test/" + id,
			"payment_status": "unpaid", "metadata": map[string]string{"sb_payment": form.Get("metadata[sb_payment]"), "sb_org": form.Get("metadata[sb_org]")}})
	case r.Method == http.MethodPost && r.URL.Path == "/api/chat.postMessage":
		form, _ := url.ParseQuery(string(body))
		b, _ := json.Marshal(map[string]string{"channel": form.Get("channel"), "text": form.Get("text"), "blocks": form.Get("blocks")})
		f.mu.Lock()
		f.sent["slack "+form.Get("token")] = append(f.sent["slack "+form.Get("token")], b)
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{"ok": true, "channel": "C0DEALS", "ts": "1700000000.000100"}`))
	case r.Method == http.MethodPost && r.URL.Path == "/api/users.info":
		form, _ := url.ParseQuery(string(body))
		f.mu.Lock()
		email, ok := f.slackEmails[form.Get("user")]
		f.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if !ok {
			_, _ = w.Write([]byte(`{"ok": false, "error": "user_not_found"}`))
			return
		}
		_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "user": map[string]any{"id": form.Get("user"), "profile": map[string]any{"email": email}}})
	case r.Method == http.MethodPost && strings.HasPrefix(r.URL.Path, "/slack/responses/"):
		f.mu.Lock()
		f.replies[r.URL.Path] = append(f.replies[r.URL.Path], body)
		f.mu.Unlock()
		w.WriteHeader(http.StatusOK)
	default:
		http.NotFound(w, r)
	}
}

func (f *fakeProviders) slackReplies(path string) []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]json.RawMessage(nil), f.replies[path]...)
}

func (f *fakeProviders) requests(auth string) []json.RawMessage {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]json.RawMessage(nil), f.sent[auth]...)
}

// sendGridSigner signs event webhook deliveries as SendGrid does.
type sendGridSigner struct{ key *ecdsa.PrivateKey }

func newSendGridSigner(t *testing.T) (*sendGridSigner, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	require.NoError(t, err)
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	require.NoError(t, err)
	return &sendGridSigner{k}, base64.StdEncoding.EncodeToString(der)
}

func (s *sendGridSigner) headers(t *testing.T, body []byte) map[string]string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	h := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, s.key, h[:])
	require.NoError(t, err)
	return map[string]string{"X-Twilio-Email-Event-Webhook-Signature": base64.StdEncoding.EncodeToString(sig),
		"X-Twilio-Email-Event-Webhook-Timestamp": ts}
}

// TestSendGridEndToEnd: with the organisation's SendGrid key, a run's
// campaign email goes through SendGrid carrying its run and step; SendGrid's
// signed event webhook then marks the message opened, counts the campaign
// open, and the email.opened event signals the run waiting for it.
func TestSendGridEndToEnd(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	apiKey := "SG." + o.id
	signer, pub := newSendGridSigner(t)
	for name, v := range map[string]string{"sendgrid_api_key": apiKey, "email_from": "hello@acme.test", "sendgrid_webhook_key": pub} {
		expect(t, req{method: "PUT", path: "/v1/secrets/" + name, key: o.admin(), body: map[string]any{"value": v}}, 204)
	}
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Grace Hopper", "email": "grace@example.com"}}, 201)["id"].(string)
	camp := expect(t, req{method: "POST", path: "/v1/campaigns", key: o.operator(), body: map[string]any{"name": "Welcome", "type": "drip",
		"content": []any{map[string]any{"subject": "Welcome, {{ customer.firstName }}", "text": "hi"}}}}, 201)["id"].(string)
	expect(t, req{method: "POST", path: "/v1/campaigns/" + camp + "/status", key: o.operator(), body: map[string]any{"status": "active"}}, 200)
	name := o.deploy(t, `switchboard: v1
name: sendgrid-nurture
input: {type: object, required: [campaignId, customerId], properties: {campaignId: {type: string}, customerId: {type: string}}}
triggers:
  - event: {type: email.opened, signal: opened, target: '${ event.data.message.runId }'}
steps:
  - call: crm.campaign.enroll
    with: {campaignId: '${ input.campaignId }', customerIds: ['${ input.customerId }']}
  - id: first
    call: crm.campaign.render
    with: {campaignId: '${ input.campaignId }', customerId: '${ input.customerId }'}
  - id: mailed
    call: email.send
    with: {to: '${ steps.first.output.to }', subject: '${ steps.first.output.subject }', text: '${ steps.first.output.text }',
           customerId: '${ input.customerId }', campaignId: '${ input.campaignId }'}
  - id: opened
    waitFor: {signal: opened, timeout: 2m}
output: {mail: '${ steps.mailed.output }', opened: '${ steps.opened.output.payload.message.status }'}
`)
	run := o.start(t, name, map[string]any{"campaignId": camp, "customerId": cust})

	// SendGrid got the email, with the run and step in its custom args
	var sent []json.RawMessage
	require.Eventually(t, func() bool { sent = env.providers.requests("Bearer " + apiKey); return len(sent) == 1 }, 30*time.Second, 50*time.Millisecond)
	var mail struct {
		From             struct{ Email string }
		Personalizations []struct {
			To         []struct{ Email string }
			CustomArgs map[string]string `json:"custom_args"`
		}
	}
	require.NoError(t, json.Unmarshal(sent[0], &mail))
	require.Equal(t, "hello@acme.test", mail.From.Email)
	args := mail.Personalizations[0].CustomArgs
	require.Equal(t, run, args["sb_run"])
	require.NotEmpty(t, args["sb_message"])

	var box []map[string]any
	require.Eventually(t, func() bool {
		box = items(t, expect(t, req{method: "GET", path: "/v1/outbox", key: o.viewer()}, 200))
		return len(box) == 1 && box[0]["status"] == "sent"
	}, 30*time.Second, 50*time.Millisecond)
	require.Equal(t, "sendgrid", box[0]["provider"])
	require.Equal(t, args["sb_message"], box[0]["id"])

	// SendGrid reports: processed (it is already sent: no change), delivered, open (twice), and
	// an event for a message of no one here
	events, _ := json.Marshal([]map[string]any{
		{"email": "grace@example.com", "event": "processed", "sb_message": args["sb_message"]},
		{"email": "grace@example.com", "event": "delivered", "sb_message": args["sb_message"]},
		{"email": "grace@example.com", "event": "open", "sb_message": args["sb_message"]},
		{"email": "grace@example.com", "event": "open", "sb_message": args["sb_message"]},
		{"email": "x@example.com", "event": "open", "sb_message": "nobody"},
	})
	path := "/providers/" + o.id + "/sendgrid"
	// unsigned, forged and stale deliveries are refused, and change nothing
	requireProblem(t, do(t, req{method: "POST", path: path, body: events, contentType: "application/json"}), 401, "unauthorized")
	forged := signer.headers(t, []byte(`[]`))
	requireProblem(t, do(t, req{method: "POST", path: path, body: events, contentType: "application/json", headers: forged}), 401, "unauthorized")
	got := expect(t, req{method: "POST", path: path, body: events, contentType: "application/json", headers: signer.headers(t, events)}, 200)
	require.Equal(t, map[string]any{"received": 5.0, "applied": 2.0, "ignored": 3.0}, got)
	// SendGrid retries the batch: nothing moves twice
	got = expect(t, req{method: "POST", path: path, body: events, contentType: "application/json", headers: signer.headers(t, events)}, 200)
	require.Equal(t, 0.0, got["applied"])

	r := o.waitRun(t, run, "completed")
	require.Equal(t, "opened", jget(r, "output.opened"))
	require.Equal(t, "sent", jget(r, "output.mail.status"))
	require.Len(t, o.events(t, "email.opened"), 1)
	c := expect(t, req{method: "GET", path: "/v1/campaigns/" + camp, key: o.viewer()}, 200)
	require.EqualValues(t, 1, jget(c, "metrics.opened"), "%v", c["metrics"])
	require.EqualValues(t, 1, jget(c, "metrics.delivered"))
	box = items(t, expect(t, req{method: "GET", path: "/v1/outbox", key: o.viewer()}, 200))
	require.Equal(t, "opened", box[0]["status"])

	// another organisation's endpoint does not know this message; an
	// unknown organisation has no endpoint
	other := newOrg(t)
	_, otherPub := newSendGridSigner(t)
	expect(t, req{method: "PUT", path: "/v1/secrets/sendgrid_webhook_key", key: other.admin(), body: map[string]any{"value": otherPub}}, 204)
	requireProblem(t, do(t, req{method: "POST", path: "/providers/" + other.id + "/sendgrid", body: events, contentType: "application/json",
		headers: signer.headers(t, events)}), 401, "unauthorized")
	requireProblem(t, do(t, req{method: "POST", path: "/providers/no-such-org/sendgrid", body: events, contentType: "application/json",
		headers: signer.headers(t, events)}), 404, "not-found")
	requireProblem(t, do(t, req{method: "POST", path: fmt.Sprintf("/providers/%s/mailgun", o.id), body: events}), 404, "not-found")
	// a spam report suppresses the address
	bounce, _ := json.Marshal([]map[string]any{{"event": "spamreport", "sb_message": args["sb_message"]}})
	expect(t, req{method: "POST", path: path, body: bounce, contentType: "application/json", headers: signer.headers(t, bounce)}, 200)
	sup := items(t, expect(t, req{method: "GET", path: "/v1/suppressions", key: o.viewer()}, 200))
	require.Len(t, sup, 1)
	require.Equal(t, "complained", sup[0]["reason"])
}

const paymentFlow = `switchboard: v1
name: pay-then-thank
triggers:
  - event: {type: payment.succeeded, signal: settled, target: '${ event.data.payment.runId }'}
  - event: {type: payment.failed, signal: settled, target: '${ event.data.payment.runId }'}
steps:
  - id: link
    call: stripe.createPaymentLink
    with: {currency: EUR, description: Two seats, lineItems: [{product: Seat, quantity: 2, unitPrice: 4900, taxRateBps: 1900}]}
  - id: settled
    waitFor: {signal: settled, timeout: 2m}
  - call: email.send
    with: {to: buyer@example.com, subject: Thank you, text: '${ "Payment " + steps.settled.output.payload.payment.status }'}
  - call: slack.postMessage
    with: {channel: '#sales', text: '${ "Paid: " + steps.link.output.paymentId }'}
output: {status: '${ steps.settled.output.payload.payment.status }', provider: '${ steps.link.output.provider }', amount: '${ steps.link.output.amount }'}
`

// TestSandboxPaymentEndToEnd: with no provider keys at all, a run asks for
// a payment, the payer pays on the platform's sandbox checkout page, the
// payment.succeeded event signals the run, and its thank-you email and
// Slack message land in the outbox.
func TestSandboxPaymentEndToEnd(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	run := o.start(t, o.deploy(t, paymentFlow), nil)
	var pays []map[string]any
	require.Eventually(t, func() bool {
		pays = items(t, expect(t, req{method: "GET", path: "/v1/payments", key: o.viewer()}, 200))
		return len(pays) == 1 && pays[0]["status"] == "open"
	}, 30*time.Second, 50*time.Millisecond)
	p := pays[0]
	require.Equal(t, "sandbox", p["provider"])
	require.EqualValues(t, 11662, p["amount"], "2 × 49.00 + 19 %")
	link, err := url.Parse(p["url"].(string))
	require.NoError(t, err)

	pg := page(t, link.String(), "GET", nil)
	require.Equal(t, 200, pg.status)
	require.Contains(t, string(pg.body), "Sandbox checkout")
	require.Contains(t, string(pg.body), "116.62")
	require.Equal(t, "no-store", pg.header.Get("Cache-Control"))
	// a made-up link: the same 404 as every invalid link
	require.Equal(t, 404, do(t, req{method: "GET", path: "/p/payments/" + strings.Repeat("A", 43)}).status)
	require.Equal(t, 400, page(t, link.String(), "POST", url.Values{"decision": {"steal"}}).status)

	paid := page(t, link.String(), "POST", url.Values{"decision": {"pay"}})
	require.Equal(t, http.StatusSeeOther, paid.status)
	r := o.waitRun(t, run, "completed")
	require.Equal(t, map[string]any{"status": "paid", "provider": "sandbox", "amount": 11662.0}, r["output"])
	// paying again changes nothing
	again := page(t, link.String(), "POST", url.Values{"decision": {"pay"}})
	require.Equal(t, http.StatusSeeOther, again.status)
	require.Len(t, o.events(t, "payment.succeeded"), 1)

	box := items(t, expect(t, req{method: "GET", path: "/v1/outbox", key: o.viewer()}, 200))
	require.Len(t, box, 2)
	byChannel := map[string]map[string]any{}
	for _, m := range box {
		byChannel[m["channel"].(string)] = m
		require.Equal(t, "outbox", m["provider"])
		require.Equal(t, run, m["runId"])
	}
	require.Equal(t, "buyer@example.com", byChannel["email"]["to"])
	require.Equal(t, "Payment paid", jget(byChannel["email"], "body.text"))
	require.Equal(t, "#sales", byChannel["slack"]["to"])
	got := expect(t, req{method: "GET", path: "/v1/payments/" + p["id"].(string), key: o.viewer()}, 200)
	require.Equal(t, "paid", got["status"])
}

// signStripe signs an event as Stripe does: t=<unix>,v1=HMAC-SHA256(secret, "<t>.<body>").
func signStripe(secret string, body []byte) map[string]string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte(ts + "."))
	m.Write(body)
	return map[string]string{"Stripe-Signature": "t=" + ts + ",v1=" + hex.EncodeToString(m.Sum(nil))}
}

// TestStripePaymentEndToEnd: with the organisation's Stripe key the run's
// payment link is a Checkout Session made through stripe-go; Stripe's
// signed checkout.session.completed marks the payment paid and signals the
// run; a replayed event changes nothing.
func TestStripePaymentEndToEnd(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	key, whsec := "sk_test_"+o.id, "whsec_"+o.id
	for name, v := range map[string]string{"stripe_secret_key": key, "stripe_webhook_secret": whsec} {
		expect(t, req{method: "PUT", path: "/v1/secrets/" + name, key: o.admin(), body: map[string]any{"value": v}}, 204)
	}
	run := o.start(t, o.deploy(t, paymentFlow), nil)
	var pays []map[string]any
	require.Eventually(t, func() bool {
		pays = items(t, expect(t, req{method: "GET", path: "/v1/payments", key: o.viewer()}, 200))
		return len(pays) == 1 && pays[0]["status"] == "open"
	}, 30*time.Second, 50*time.Millisecond)
	p := pays[0]
	require.Equal(t, "stripe", p["provider"])
	require.True(t, strings.HasPrefix(p["url"].(string), "https://checkout.stripe.test/cs_test_"))
	require.Len(t, env.providers.requests("Bearer "+key), 1, "one Checkout Session")

	event, _ := json.Marshal(map[string]any{"id": "evt_1", "type": "checkout.session.completed", "data": map[string]any{"object": map[string]any{
		"id": p["providerId"], "object": "checkout.session", "payment_status": "paid", "metadata": map[string]string{"sb_payment": p["id"].(string), "sb_org": o.id}}}})
	path := "/providers/" + o.id + "/stripe"
	requireProblem(t, do(t, req{method: "POST", path: path, body: event, contentType: "application/json", headers: signStripe("whsec_wrong", event)}), 401, "unauthorized")
	got := expect(t, req{method: "POST", path: path, body: event, contentType: "application/json", headers: signStripe(whsec, event)}, 200)
	require.Equal(t, 1.0, got["applied"])
	got = expect(t, req{method: "POST", path: path, body: event, contentType: "application/json", headers: signStripe(whsec, event)}, 200)
	require.Equal(t, 0.0, got["applied"], "Stripe's retry changes nothing")
	r := o.waitRun(t, run, "completed")
	require.Equal(t, "paid", jget(r, "output.status"))
	require.Equal(t, "stripe", jget(r, "output.provider"))
	require.Len(t, o.events(t, "payment.succeeded"), 1)
	// the sandbox page does not take a Stripe payment
	other, _ := json.Marshal(map[string]any{"id": "evt_2", "type": "customer.created", "data": map[string]any{"object": map[string]any{}}})
	got = expect(t, req{method: "POST", path: path, body: other, contentType: "application/json", headers: signStripe(whsec, other)}, 200)
	require.Equal(t, 1.0, got["ignored"])
}

// signSlack signs a request as Slack does: v0=HMAC-SHA256(secret, "v0:<ts>:<body>").
func signSlack(secret string, body []byte) map[string]string {
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	m := hmac.New(sha256.New, []byte(secret))
	m.Write([]byte("v0:" + ts + ":"))
	m.Write(body)
	return map[string]string{"X-Slack-Signature": "v0=" + hex.EncodeToString(m.Sum(nil)), "X-Slack-Request-Timestamp": ts}
}

// TestSlackButtonDecidesTask: a run posts an approval request with Block
// Kit buttons to Slack and waits on its approval step; clicking a button
// (Slack's signed interaction) decides the task as the organisation's user
// with that email address — with their role checked by the run. Someone
// unknown, or without the role, decides nothing and is told why.
func TestSlackButtonDecidesTask(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	token, signing := "xoxb-"+o.id, "slack-signing-"+o.id
	for name, v := range map[string]string{"slack_bot_token": token, "slack_signing_secret": signing} {
		expect(t, req{method: "PUT", path: "/v1/secrets/" + name, key: o.admin(), body: map[string]any{"value": v}}, 204)
	}
	env.providers.mu.Lock()
	env.providers.slackEmails["U_ADMIN_"+o.id] = "Admin@acme.test"
	env.providers.slackEmails["U_OPER_"+o.id] = "operator@acme.test"
	env.providers.slackEmails["U_STRANGER_"+o.id] = "stranger@elsewhere.test"
	env.providers.slackEmails["U_VIEWER_"+o.id] = "viewer@acme.test"
	env.providers.mu.Unlock()
	run := o.start(t, o.deploy(t, `switchboard: v1
name: discount-approval
steps:
  - id: ask
    call: slack.postMessage
    with:
      channel: '#deals'
      text: Approve a 15% discount?
      blocks:
        - type: actions
          elements:
            - {type: button, action_id: 'switchboard:approve', text: {type: plain_text, text: Approve}, value: '${ run.id + "|approve" }'}
            - {type: button, action_id: 'switchboard:reject', text: {type: plain_text, text: Reject}, value: '${ run.id + "|approve" }'}
  - id: approve
    approval: {title: Approve a 15% discount, assignees: {role: admin}, timeout: 1h}
output: ${ steps.approve.output }
`), nil)
	var posted []json.RawMessage
	require.Eventually(t, func() bool { posted = env.providers.requests("slack " + token); return len(posted) == 1 }, 30*time.Second, 50*time.Millisecond)
	var msg struct{ Channel, Blocks string }
	require.NoError(t, json.Unmarshal(posted[0], &msg))
	require.Equal(t, "#deals", msg.Channel)
	var blocks []struct {
		Elements []struct {
			ActionID string `json:"action_id"`
			Value    string `json:"value"`
		} `json:"elements"`
	}
	require.NoError(t, json.Unmarshal([]byte(msg.Blocks), &blocks))
	approve := blocks[0].Elements[0]
	require.Equal(t, "switchboard:approve", approve.ActionID)
	require.Equal(t, run+"|approve", approve.Value)
	// the task is open before anyone clicks
	require.Eventually(t, func() bool {
		return len(items(t, expect(t, req{method: "GET", path: "/v1/tasks", key: o.admin()}, 200))) == 1
	},
		30*time.Second, 50*time.Millisecond)

	click := func(user, responsePath string) []byte {
		payload, _ := json.Marshal(map[string]any{"type": "block_actions", "user": map[string]any{"id": user},
			"actions":      []any{map[string]any{"action_id": approve.ActionID, "value": approve.Value, "type": "button"}},
			"response_url": env.providers.url + responsePath})
		return []byte(url.Values{"payload": {string(payload)}}.Encode())
	}
	path := "/providers/" + o.id + "/slack"
	send := func(body []byte, headers map[string]string) *resp {
		return do(t, req{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded", headers: headers})
	}
	body := click("U_ADMIN_"+o.id, "/slack/responses/forged")
	requireProblem(t, send(body, signSlack("not-the-secret", body)), 401, "unauthorized")

	for _, who := range []string{"U_STRANGER_", "U_OPER_", "U_VIEWER_", "U_NOBODY_"} {
		body := click(who+o.id, "/slack/responses/"+who+o.id)
		got := expect(t, req{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded", headers: signSlack(signing, body)}, 200)
		require.Equal(t, 1.0, got["ignored"], who)
		if who == "U_NOBODY_" {
			continue
		}
		replies := env.providers.slackReplies("/slack/responses/" + who + o.id)
		require.Len(t, replies, 1, who)
		require.Contains(t, string(replies[0]), `"response_type":"ephemeral"`, "only the clicker is told")
	}
	require.Contains(t, string(env.providers.slackReplies("/slack/responses/U_STRANGER_" + o.id)[0]), "not a user of this Switchboard organisation")
	require.Contains(t, string(env.providers.slackReplies("/slack/responses/U_OPER_" + o.id)[0]), "Not decided")
	require.Contains(t, string(env.providers.slackReplies("/slack/responses/U_VIEWER_" + o.id)[0]), "needs the operator role", "viewers decide nothing, as in the API")

	body = click("U_ADMIN_"+o.id, "/slack/responses/admin")
	got := expect(t, req{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded", headers: signSlack(signing, body)}, 200)
	require.Equal(t, 1.0, got["applied"])
	r := o.waitRun(t, run, "completed")
	require.Equal(t, true, jget(r, "output.approved"))
	require.Equal(t, "admin@acme.test", jget(r, "output.decidedBy"))
	reply := env.providers.slackReplies("/slack/responses/admin")
	require.Len(t, reply, 1)
	require.JSONEq(t, `{"text": "Approved by admin@acme.test.", "replace_original": true}`, string(reply[0]))
	// a second click: the task is decided
	got = expect(t, req{method: "POST", path: path, body: body, contentType: "application/x-www-form-urlencoded", headers: signSlack(signing, body)}, 200)
	require.Equal(t, 1.0, got["ignored"])
}

func TestEmailTemplates(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	tpl := map[string]any{"subject": "Welcome, {{ customer.firstName }}", "text": "Code {{ vars.code }}", "html": "<p>{{ vars.code }}</p>"}
	requireProblem(t, do(t, req{method: "PUT", path: "/v1/email-templates/welcome", key: o.builder(), body: tpl}), 403, "forbidden")
	got := expect(t, req{method: "PUT", path: "/v1/email-templates/welcome", key: o.admin(), body: tpl}, 200)
	require.Equal(t, "welcome", got["name"])
	bad := do(t, req{method: "PUT", path: "/v1/email-templates/Bad%20Name", key: o.admin(), body: map[string]any{"subject": "{{ secret }}"}})
	requireProblem(t, bad, 422, "validation")
	require.Contains(t, string(bad.body), "name")
	require.Contains(t, string(bad.body), "{{ secret }} is not a variable")
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/email-templates", key: o.viewer()}, 200)), 1)
	require.Equal(t, "Code {{ vars.code }}", expect(t, req{method: "GET", path: "/v1/email-templates/welcome", key: o.viewer()}, 200)["text"])

	// a run sends it to a customer, filled with the step's variables
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Grace Hopper", "email": "grace@example.com"}}, 201)["id"].(string)
	run := o.start(t, o.deploy(t, "switchboard: v1\nname: templated\ninput: {type: object, properties: {c: {type: string}}}\nsteps:\n  - call: email.send\n    with: {template: welcome, customerId: '${ input.c }', variables: {code: 'A&B'}}\n"), map[string]any{"c": cust})
	o.waitRun(t, run, "completed")
	box := items(t, expect(t, req{method: "GET", path: "/v1/outbox", key: o.viewer()}, 200))
	require.Len(t, box, 1)
	require.Equal(t, "grace@example.com", box[0]["to"])
	require.Equal(t, "Welcome, Grace", box[0]["subject"])
	require.Equal(t, "Code A&B", jget(box[0], "body.text"))
	require.Equal(t, "<p>A&amp;B</p>", jget(box[0], "body.html"))

	expect(t, req{method: "DELETE", path: "/v1/email-templates/welcome", key: o.admin()}, 204)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/email-templates/welcome", key: o.viewer()}), 404, "not-found")
}

// TestPaymentOfADeletedCustomer: the customer is deleted (say, on request)
// after their payment link went out; paying still settles the payment and
// signals the run — only the timeline entry, which went with the customer,
// is left out.
func TestPaymentOfADeletedCustomer(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": "Gone Soon", "email": "gone@example.com"}}, 201)["id"].(string)
	run := o.start(t, o.deploy(t, `switchboard: v1
name: pay-and-wait
input: {type: object, properties: {c: {type: string}}}
triggers:
  - event: {type: payment.succeeded, signal: settled, target: '${ event.data.payment.runId }'}
steps:
  - id: link
    call: stripe.createPaymentLink
    with: {currency: EUR, customerId: '${ input.c }', lineItems: [{product: Seat, quantity: 1, unitPrice: 1000}]}
  - id: settled
    waitFor: {signal: settled, timeout: 2m}
output: '${ steps.settled.output.payload.payment.status }'
`), map[string]any{"c": cust})
	var pays []map[string]any
	require.Eventually(t, func() bool {
		pays = items(t, expect(t, req{method: "GET", path: "/v1/payments", key: o.viewer()}, 200))
		return len(pays) == 1 && pays[0]["status"] == "open"
	}, 30*time.Second, 50*time.Millisecond)
	expect(t, req{method: "DELETE", path: "/v1/customers/" + cust, key: o.admin()}, 204)
	require.Equal(t, http.StatusSeeOther, page(t, pays[0]["url"].(string), "POST", url.Values{"decision": {"pay"}}).status)
	require.Equal(t, "paid", o.waitRun(t, run, "completed")["output"])
}
