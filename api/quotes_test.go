package api_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// newDeal creates a customer and a deal; it returns the deal's id.
func (o *org) newDeal(t *testing.T, name string) string {
	t.Helper()
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{"name": name + " Ltd"}}, 201)["id"]
	return expect(t, req{method: "POST", path: "/v1/opportunities", key: o.operator(), body: map[string]any{
		"customerId": cust, "name": name, "amount": map[string]any{"amount": 0, "currency": "EUR"}}}, 201)["id"].(string)
}

func (o *org) newQuote(t *testing.T, deal string, validUntil string) map[string]any {
	t.Helper()
	body := map[string]any{"opportunityId": deal, "lineItems": []any{
		map[string]any{"product": "Engine", "quantity": 3, "unitPrice": 333, "discountBps": 1000, "taxRateBps": 1900},
		map[string]any{"product": "Service <b>plan</b>", "description": "12 months", "quantity": 1, "unitPrice": 120000}}}
	if validUntil != "" {
		body["validUntil"] = validUntil
	}
	return expect(t, req{method: "POST", path: "/v1/quotes", key: o.operator(), body: body}, 201)
}

// page fetches a public link as a browser would, without following redirects.
func page(t *testing.T, link, method string, form url.Values) *resp {
	t.Helper()
	u, err := url.Parse(link)
	require.NoError(t, err)
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	hr, err := http.NewRequest(method, env.url+u.Path, body)
	require.NoError(t, err)
	if form != nil {
		hr.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	hr.Header.Set("User-Agent", "Mozilla/5.0 (test browser)")
	c := &http.Client{Timeout: 30 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Do(hr)
	require.NoError(t, err)
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	require.NoError(t, err)
	return &resp{status: res.StatusCode, header: res.Header, body: b}
}

func TestQuoteToAcceptance(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	deal := o.newDeal(t, "Engines")
	q := o.newQuote(t, deal, "")
	id := q["id"].(string)
	require.Equal(t, "draft", q["status"])
	require.Equal(t, "EUR", q["currency"], "the deal's currency")
	require.Equal(t, map[string]any{"subtotal": float64(120999), "discount": float64(100), "tax": float64(171), "total": float64(121070)}, q["totals"])
	require.Equal(t, time.Now().UTC().Add(30*24*time.Hour).Format(time.DateOnly), q["validUntil"])

	// a draft changes; totals follow
	res := do(t, req{method: "PATCH", path: "/v1/quotes/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		body: `{"notes": "Delivery in 4 weeks", "lineItems": [{"product": "Engine", "quantity": 2, "unitPrice": 50000}]}`})
	require.Equal(t, 200, res.status, "%s", res.body)
	require.EqualValues(t, 100000, jget(res.obj(t), "totals.total"))
	res = do(t, req{method: "PATCH", path: "/v1/quotes/" + id, key: o.operator(), contentType: "application/merge-patch+json", body: `{"totals": {"total": 1}}`})
	requireProblem(t, res, 422, "validation")

	// send: a link, shown once
	sent := expect(t, req{method: "POST", path: "/v1/quotes/" + id + "/send", key: o.operator()}, 200)
	link := sent["url"].(string)
	require.Regexp(t, `^http://127\.0\.0\.1:\d+/p/quotes/[A-Za-z0-9_-]{43}$`, link)
	require.Equal(t, "sent", jget(sent, "quote.status"))
	require.NotContains(t, string(do(t, req{method: "GET", path: "/v1/quotes/" + id, key: o.viewer()}).body), strings.TrimPrefix(link, "http://"))
	for _, e := range o.events(t, "quote.sent") {
		require.NotContains(t, e, link[len(link)-43:], "events never carry the link")
	}
	requireProblem(t, do(t, req{method: "PATCH", path: "/v1/quotes/" + id, key: o.operator(), contentType: "application/merge-patch+json",
		body: `{"notes": "x"}`}), 409, "invalid-transition")

	// the page: the document, with the headers that keep the secret in it
	p := page(t, link, "GET", nil)
	require.Equal(t, 200, p.status)
	html := string(p.body)
	require.Contains(t, html, "Quote from "+o.name)
	require.Contains(t, html, `id="total">1,000.00 EUR`)
	require.Contains(t, html, `id="status">sent`)
	require.Equal(t, "no-store", p.header.Get("Cache-Control"))
	require.Equal(t, "no-referrer", p.header.Get("Referrer-Policy"))
	require.Equal(t, "DENY", p.header.Get("X-Frame-Options"))
	require.Contains(t, p.header.Get("Content-Security-Policy"), "default-src 'none'")
	require.NotContains(t, html, o.id)
	require.NotContains(t, html, deal, "only this document")

	// a second send replaces the link
	again := expect(t, req{method: "POST", path: "/v1/quotes/" + id + "/send", key: o.operator()}, 200)["url"].(string)
	require.NotEqual(t, link, again)
	gone := page(t, link, "GET", nil)
	require.Equal(t, 404, gone.status)
	notFound := page(t, "http://x/p/quotes/"+strings.Repeat("A", 43), "GET", nil)
	require.Equal(t, 404, notFound.status)
	require.Equal(t, string(notFound.body), string(gone.body), "an old link and a made-up one look the same")
	link = again

	// accepting needs a typed name
	p = page(t, link, "POST", url.Values{"action": {"accept"}, "email": {"cfo@customer.test"}})
	require.Equal(t, 422, p.status)
	require.Contains(t, string(p.body), "type your full name")
	p = page(t, link, "POST", url.Values{"action": {"accept"}, "name": {"Grace Hopper"}, "email": {"CFO@customer.test"}})
	require.Equal(t, http.StatusSeeOther, p.status, "%s", p.body)
	p = page(t, link, "GET", nil)
	require.Contains(t, string(p.body), `id="status">accepted`)
	require.Contains(t, string(p.body), "You accepted this quote as Grace Hopper")

	accepted := expect(t, req{method: "GET", path: "/v1/quotes/" + id, key: o.viewer()}, 200)
	require.Equal(t, "accepted", accepted["status"])
	require.Equal(t, "Grace Hopper", jget(accepted, "decision.name"))
	require.Equal(t, "cfo@customer.test", jget(accepted, "decision.email"))
	require.Equal(t, "127.0.0.1", jget(accepted, "decision.ip"))
	require.Equal(t, "public-link", jget(accepted, "decision.via"))
	require.Equal(t, "Mozilla/5.0 (test browser)", jget(accepted, "decision.userAgent"))
	evs := o.events(t, "quote.accepted")
	require.Len(t, evs, 1)
	require.Equal(t, id, jget(evs[0], "data.quote.id"))

	// answered once: a second answer changes nothing
	p = page(t, link, "POST", url.Values{"action": {"reject"}})
	require.Equal(t, 409, p.status)
	require.Contains(t, string(p.body), "can no longer be answered")
	require.Len(t, o.events(t, "quote.accepted", "quote.rejected"), 1)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/quotes/" + id + "/send", key: o.operator()}), 409, "invalid-transition")
	// the deal, now quoted, is not deleted
	requireProblem(t, do(t, req{method: "DELETE", path: "/v1/opportunities/" + deal, key: o.admin()}), 409, "conflict")
}

func TestQuoteRejectionAndExpiry(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	deal := o.newDeal(t, "Parts")

	// rejected through the JSON form of the page
	q := o.newQuote(t, deal, "")
	link := expect(t, req{method: "POST", path: "/v1/quotes/" + q["id"].(string) + "/send", key: o.operator()}, 200)["url"].(string)
	u, _ := url.Parse(link)
	view := expect(t, req{method: "GET", path: u.Path, headers: map[string]string{"Accept": "application/json"}}, 200)
	require.Equal(t, "sent", jget(view, "quote.status"))
	require.Nil(t, jget(view, "quote.runId"))
	require.Nil(t, jget(view, "quote.opportunityId"), "the customer sees the document, not the organisation's records")
	res := expect(t, req{method: "POST", path: u.Path, body: map[string]any{"accepted": false, "reason": "too expensive"}}, 200)
	require.Equal(t, "rejected", jget(res, "quote.status"))
	require.Equal(t, "too expensive", jget(o.events(t, "quote.rejected")[0], "data.quote.decision.reason"))

	// a quote valid until today, then its last day passes
	today := time.Now().UTC().Format(time.DateOnly)
	q = o.newQuote(t, deal, today)
	id := q["id"].(string)
	link = expect(t, req{method: "POST", path: "/v1/quotes/" + id + "/send", key: o.operator()}, 200)["url"].(string)
	_, err := env.db.Exec(rawSQL(`UPDATE quotes SET valid_until = '2020-01-01' WHERE id = ?`), id)
	require.NoError(t, err)
	require.Equal(t, "expired", expect(t, req{method: "GET", path: "/v1/quotes/" + id, key: o.viewer()}, 200)["status"])
	expired := items(t, expect(t, req{method: "GET", path: "/v1/quotes?status=expired", key: o.viewer()}, 200))
	require.Len(t, expired, 1)
	for range 2 {
		requireProblem(t, do(t, req{method: "POST", path: "/v1/quotes/" + id + "/decision", key: o.operator(),
			body: map[string]any{"accepted": true, "name": "Late"}}), 409, "invalid-transition")
	}
	require.Len(t, o.events(t, "quote.expired"), 1, "recorded once")
	require.Empty(t, o.events(t, "quote.accepted"))
	require.Equal(t, 409, page(t, link, "POST", url.Values{"action": {"accept"}, "name": {"Late"}}).status)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/quotes/" + id + "/send", key: o.operator()}), 409, "invalid-transition")

	// bad input
	runScenarios(t, []scenario{
		{name: "no lines", method: "POST", path: "/v1/quotes", key: o.operator(), body: map[string]any{"opportunityId": deal, "lineItems": []any{}},
			status: 422, problem: "validation"},
		{name: "unknown deal", method: "POST", path: "/v1/quotes", key: o.operator(),
			body:   map[string]any{"opportunityId": "nope", "lineItems": []any{map[string]any{"product": "x", "quantity": 1, "unitPrice": 1}}},
			status: 422, problem: "validation", contains: []string{"body.opportunityId"}},
		{name: "float price", method: "POST", path: "/v1/quotes", key: o.operator(), contentType: "application/json",
			body:   `{"opportunityId": "` + deal + `", "lineItems": [{"product": "x", "quantity": 1, "unitPrice": 9.99}]}`,
			status: 422, problem: "validation"},
		{name: "impossible date", method: "POST", path: "/v1/quotes", key: o.operator(),
			body:   map[string]any{"opportunityId": deal, "validUntil": "2020-02-30", "lineItems": []any{map[string]any{"product": "x", "quantity": 1, "unitPrice": 1}}},
			status: 422, problem: "validation", contains: []string{"body.validUntil"}},
	})
}
