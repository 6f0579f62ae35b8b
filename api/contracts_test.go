package api_test

import (
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// acceptedQuote creates a quote on deal, sends it and records its acceptance.
func (o *org) acceptedQuote(t *testing.T, deal string) string {
	t.Helper()
	id := o.newQuote(t, deal, "")["id"].(string)
	expect(t, req{method: "POST", path: "/v1/quotes/" + id + "/send", key: o.operator()}, 200)
	expect(t, req{method: "POST", path: "/v1/quotes/" + id + "/decision", key: o.operator(), body: map[string]any{"accepted": true, "name": "Grace"}}, 200)
	return id
}

// newContract makes a draft contract from a new accepted quote on deal.
func (o *org) newContract(t *testing.T, deal string) string {
	t.Helper()
	q := o.acceptedQuote(t, deal)
	return expect(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": q}}, 201)["id"].(string)
}

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func TestContractTemplates(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	// the built-in default is listed until the organisation stores its own
	list := expect(t, req{method: "GET", path: "/v1/contract-templates", key: o.viewer()}, 200)
	require.Len(t, items(t, list), 1)
	require.Equal(t, true, jget(items(t, list)[0], "builtin"))

	for _, bad := range []struct{ body, want string }{
		{"<p>\n{{.Title}</p>", "line 2: bad character"},
		{`{{define "x"}}{{.}}{{end}}<p>{{template "x" .}}</p>`, "not allowed"},
		{`{{block "x" .}}{{end}}`, "not allowed"},
		{`{{range 1000000000}}{{end}}`, "{{range}} goes over one of the document's lists"},
		{`{{range .Quote.Totals.Total}}{{range $.Quote.Totals.Total}}{{end}}{{end}}`, "{{range}} goes over one of the document's lists"},
		{`{{with .Quote}}{{range .LineItems}}x{{end}}{{end}}`, "{{range}} goes over one of the document's lists"},
		{`{{len (printf "%01000000d" 0)}}`, "widths and precisions are at most 999"},
		{`{{range .Quote.LineItems}}{{range $.Quote.LineItems}}` + strings.Repeat("{{if .Product}}{{end}}", 60) + `{{end}}{{end}}`, "could take"},
		{`<p>{{.Customer.Name}}</p>{{len (printf "%.5000s" "x")}}`, "widths and precisions"},
		{`{{$n := 5}}{{range $n}}x{{end}}`, "{{range}} goes over one of the document's lists"},
		{`{{range .Quote.LineItems}}{{range $.Quote.LineItems}}{{range $.Quote.LineItems}}{{end}}{{end}}{{end}}`, "nested more than twice"},
		{`<p>{{.Customer.Nmae}}</p>`, "Nmae"},
	} {
		res := do(t, req{method: "PUT", path: "/v1/contract-templates/msa", key: o.admin(), body: map[string]any{"body": bad.body}})
		p := requireProblem(t, res, 422, "validation")
		require.Equal(t, "body.body", jget(p, "errors.0.location"), "%s", res.body)
		require.Contains(t, jget(p, "errors.0.message"), bad.want, bad.body)
	}
	requireProblem(t, do(t, req{method: "PUT", path: "/v1/contract-templates/msa", key: o.operator(), body: map[string]any{"body": "<p></p>"}}), 403, "forbidden")
	requireProblem(t, do(t, req{method: "PUT", path: "/v1/contract-templates/has%20space", key: o.admin(), body: map[string]any{"body": "<p></p>"}}), 422, "validation")
	good := `<h1>{{.Title}}</h1><p>{{.Customer.Name}} · {{.Signer.Email}}</p><ul>{{range .Quote.LineItems}}<li>{{.Product}}: {{money .UnitPrice $.Quote.Currency}}</li>{{end}}</ul><p id="total">{{money .Quote.Totals.Total .Quote.Currency}}</p>`
	expect(t, req{method: "PUT", path: "/v1/contract-templates/msa", key: o.admin(), body: map[string]any{"body": good}}, 200)
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/contract-templates", key: o.viewer()}, 200)), 2)
	require.Equal(t, good, expect(t, req{method: "GET", path: "/v1/contract-templates/msa", key: o.viewer()}, 200)["body"])
	require.NotEmpty(t, findAudit(o.audit(t), "contract_template.put", "contract-template/msa"))
	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/contract-templates/msa", key: o.admin()}).status)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/contract-templates/msa", key: o.viewer()}), 404, "not-found")
}

func TestContractToSignature(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	cust := expect(t, req{method: "POST", path: "/v1/customers", key: o.operator(), body: map[string]any{
		"name": "Rockets <script>alert(1)</script>", "email": "CFO@rockets.test"}}, 201)["id"].(string)
	deal := expect(t, req{method: "POST", path: "/v1/opportunities", key: o.operator(), body: map[string]any{
		"customerId": cust, "name": "Rockets", "amount": map[string]any{"amount": 0, "currency": "EUR"}}}, 201)["id"].(string)
	expect(t, req{method: "PUT", path: "/v1/contract-templates/msa", key: o.admin(), body: map[string]any{"body": `<h1>{{.Title}}</h1>` +
		`<p id="party">{{.Customer.Name}}</p><ul>{{range .Quote.LineItems}}<li>{{.Product}}</li>{{end}}</ul><p id="total">{{money .Quote.Totals.Total .Quote.Currency}}</p>`}}, 200)

	// only from an accepted quote
	draft := o.newQuote(t, deal, "")["id"].(string)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": draft}}), 409, "invalid-transition")
	p := requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": "nope"}}), 422, "validation")
	require.Equal(t, "body.quoteId", jget(p, "errors.0.location"))
	q := o.acceptedQuote(t, deal)
	p = requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": q, "template": "missing"}}), 422, "validation")
	require.Equal(t, "body.template", jget(p, "errors.0.location"))

	c := expect(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": q, "template": "msa"}}, 201)
	id := c["id"].(string)
	doc := c["document"].(string)
	require.Equal(t, "draft", c["status"])
	require.Equal(t, "Agreement: Rockets", c["title"])
	require.Equal(t, cust, c["customerId"])
	require.Equal(t, "cfo@rockets.test", c["signerEmail"], "the customer signs by default")
	require.Equal(t, sha(doc), c["documentHash"], "the stored hash is the document's")
	require.Contains(t, doc, `<p id="party">Rockets &lt;script&gt;alert(1)&lt;/script&gt;</p>`, "data is escaped")
	require.Contains(t, doc, "<li>Service &lt;b&gt;plan&lt;/b&gt;</li>")
	require.Contains(t, doc, `<p id="total">1,210.70</p>`)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": q}}), 409, "conflict")
	require.Len(t, o.events(t, "contract.created"), 1)
	require.NotContains(t, o.events(t, "contract.created")[0], "document", "events carry the hash, not the document")

	// the document is sanitised before it is hashed: no script, meta refresh, form, style or javascript: URL survives
	expect(t, req{method: "PUT", path: "/v1/contract-templates/hostile", key: o.admin(), body: map[string]any{"body": `<h1>{{.Title}}</h1>` +
		`<script>alert(1)</script><meta http-equiv="refresh" content="0;url=https://evil.test"><style>p{display:none}</style>` +
		`<form action="https://evil.test"><input name="x"></form><a href="javascript:alert(1)" onclick="x()">terms</a><p>Clause 1</p>`}}, 200)
	q2 := o.acceptedQuote(t, deal)
	hostile := expect(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": q2, "template": "hostile"}}, 201)
	hdoc := hostile["document"].(string)
	for _, bad := range []string{"<script", "alert(1)", "<meta", "refresh", "<style", "<form", "<input", "javascript:", "onclick"} {
		require.NotContains(t, hdoc, bad)
	}
	require.Contains(t, hdoc, "<p>Clause 1</p>")
	require.Equal(t, sha(hdoc), hostile["documentHash"], "the hash is of the sanitised document")

	// a changed template does not change a made contract
	expect(t, req{method: "PUT", path: "/v1/contract-templates/msa", key: o.admin(), body: map[string]any{"body": "<p>new terms</p>"}}, 200)
	require.Equal(t, doc, expect(t, req{method: "GET", path: "/v1/contracts/" + id, key: o.viewer()}, 200)["document"])
	listed := items(t, expect(t, req{method: "GET", path: "/v1/contracts?quote=" + q, key: o.viewer()}, 200))
	require.Len(t, listed, 1)
	require.Nil(t, listed[0]["document"], "lists leave documents out")

	// a draft is not signed; sending makes the link
	sent := expect(t, req{method: "POST", path: "/v1/contracts/" + id + "/send", key: o.operator()}, 200)
	link := sent["url"].(string)
	require.Regexp(t, `/p/contracts/[A-Za-z0-9_-]{43}$`, link)
	pg := page(t, link, "GET", nil)
	require.Equal(t, 200, pg.status)
	html := string(pg.body)
	require.Contains(t, html, doc, "the stored document, as stored")
	require.Contains(t, html, `<span id="hash">`+sha(doc)+`</span>`)
	require.Contains(t, html, `name="documentHash" value="`+sha(doc)+`"`)
	require.Contains(t, pg.header.Get("Content-Security-Policy"), "default-src 'none'", "no script runs in the document")
	require.NotContains(t, html, o.id)

	// a quote link does not open the contract page, nor the reverse
	qlink := expect(t, req{method: "POST", path: "/v1/quotes/" + draft + "/send", key: o.operator()}, 200)["url"].(string)
	require.Equal(t, 404, page(t, strings.Replace(qlink, "/p/quotes/", "/p/contracts/", 1), "GET", nil).status)
	require.Equal(t, 404, page(t, strings.Replace(link, "/p/contracts/", "/p/quotes/", 1), "GET", nil).status)

	sign := url.Values{"name": {"Grace Hopper"}, "email": {"cfo@rockets.test"}, "signature": {"Grace Hopper"}, "documentHash": {sha(doc)}, "agree": {"true"}}
	with := func(k, v string) url.Values {
		f := url.Values{}
		for key, vs := range sign {
			f[key] = vs
		}
		if v == "" {
			f.Del(k)
		} else {
			f.Set(k, v)
		}
		return f
	}
	require.Equal(t, 400, page(t, link, "POST", with("agree", "")).status)
	pg = page(t, link, "POST", with("email", "eve@evil.test"))
	require.Equal(t, 422, pg.status)
	require.Contains(t, string(pg.body), "not the address this contract was sent to")
	require.Equal(t, 422, page(t, link, "POST", with("signature", "")).status)
	pg = page(t, link, "POST", with("documentHash", sha("another document")))
	require.Equal(t, 409, pg.status)
	require.Contains(t, string(pg.body), "changed since this page was opened")
	require.Empty(t, o.events(t, "contract.signed"), "nothing signed by refused attempts")

	pg = page(t, link, "POST", sign)
	require.Equal(t, http.StatusSeeOther, pg.status, "%s", pg.body)
	pg = page(t, link, "GET", nil)
	require.Contains(t, string(pg.body), `id="status">signed`)
	require.Contains(t, string(pg.body), "Signed by Grace Hopper")

	// the audit trail: who, when, from where, on which document
	got := expect(t, req{method: "GET", path: "/v1/contracts/" + id, key: o.viewer()}, 200)
	require.Equal(t, "signed", got["status"])
	require.NotEmpty(t, got["signedAt"])
	sigs := got["signatures"].([]any)
	require.Len(t, sigs, 1)
	for k, v := range map[string]any{"name": "Grace Hopper", "email": "cfo@rockets.test", "signature": "Grace Hopper", "documentHash": sha(doc),
		"ip": "127.0.0.1", "userAgent": "Mozilla/5.0 (test browser)", "via": "public-link"} {
		require.Equal(t, v, jget(sigs[0], k), k)
	}
	evs := o.events(t, "contract.signed")
	require.Len(t, evs, 1)
	require.Equal(t, sha(doc), jget(evs[0], "data.signature.documentHash"))
	require.NotEmpty(t, findAudit(o.audit(t), "contract.sign", "contract/"+id))
	require.Contains(t, string(do(t, req{method: "GET", path: "/v1/customers/" + cust + "/timeline", key: o.viewer()}).body), "signed by Grace Hopper")

	// signed once; a signed contract is not voided
	require.Equal(t, 409, page(t, link, "POST", sign).status)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts/" + id + "/void", key: o.operator(), body: map[string]any{"reason": "x"}}), 409, "invalid-transition")
	requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts/" + id + "/send", key: o.operator()}), 409, "invalid-transition")
	require.Len(t, o.events(t, "contract.signed"), 1)
}

func TestContractVoid(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	deal := o.newDeal(t, "Trains")
	id := o.newContract(t, deal)
	link := expect(t, req{method: "POST", path: "/v1/contracts/" + id + "/send", key: o.operator()}, 200)["url"].(string)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts/" + id + "/void", key: o.operator(), body: map[string]any{"reason": ""}}), 422, "validation")
	v := expect(t, req{method: "POST", path: "/v1/contracts/" + id + "/void", key: o.operator(), body: map[string]any{"reason": "wrong terms"}}, 200)
	require.Equal(t, "void", v["status"])
	require.Equal(t, "wrong terms", v["voidReason"])
	// the link is dead: no signing a void contract
	require.Equal(t, 404, page(t, link, "GET", nil).status)
	require.Equal(t, 404, page(t, link, "POST", url.Values{"name": {"x"}, "agree": {"true"}}).status)
	requireProblem(t, do(t, req{method: "POST", path: "/v1/contracts/" + id + "/send", key: o.operator()}), 409, "invalid-transition")
	require.Len(t, o.events(t, "contract.voided"), 1)
	// its quote may get a new contract
	q := v["quoteId"].(string)
	expect(t, req{method: "POST", path: "/v1/contracts", key: o.operator(), body: map[string]any{"quoteId": q, "title": "Second try"}}, 201)
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/contracts?status=void", key: o.viewer()}, 200)), 1)
}
