package crm

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"regexp"
	"strings"
	"text/template/parse"
	"time"

	"github.com/microcosm-cc/bluemonday"

	"switchboard/domain"
)

// Contract documents are rendered from an organisation's HTML template in
// Go's html/template language: values are escaped for where they appear
// (a customer called <script> stays text). Templates are written by the
// organisation's admins but rendered on the server, so the language is
// bounded: no {{define}}, {{template}} or {{block}} (no recursion), {{range}}
// only over fields of the document's data (never a number) and nested at
// most twice, and a document of at most domain.MaxDocumentBytes.

// DocumentData is what a contract template sees.
type DocumentData struct {
	Seller      string              // the organisation's name
	Title       string              // the contract's title
	Number      string              // the contract's id
	Date        string              // the day it was rendered, YYYY-MM-DD (UTC)
	Signer      DocumentSigner      // who is asked to sign
	Customer    *domain.Customer    // the quote's customer
	Opportunity *domain.Opportunity // the quote's deal
	Quote       *domain.Quote       // the accepted quote: lines, totals, currency
	// Data is the data a run gives docs.render (its lists at most
	// MaxDocumentList long).
	Data map[string]any
}

// MaxDocumentList bounds every list in a rendered document's Data, so that
// two nested ranges stay cheap.
const MaxDocumentList = 1000

// DocumentSigner names who is asked to sign.
type DocumentSigner struct{ Name, Email string }

// DefaultTemplate is the "default" contract template until an organisation
// stores its own under that name.
const DefaultTemplate = `<article class="contract">
<h1>{{.Title}}</h1>
<p>Contract {{.Number}} · {{.Date}}</p>
<p>Between <strong>{{.Seller}}</strong> (the Supplier) and <strong>{{with .Customer.Company}}{{.}}{{else}}{{.Customer.Name}}{{end}}</strong> (the Customer).</p>
<h2>Scope and price</h2>
<table>
<thead><tr><th>Item</th><th>Qty</th><th>Unit price</th><th>Discount</th><th>Tax</th></tr></thead>
<tbody>
{{range .Quote.LineItems}}<tr><td>{{.Product}}</td><td>{{.Quantity}}</td><td>{{money .UnitPrice $.Quote.Currency}}</td><td>{{pct .DiscountBps}}</td><td>{{pct .TaxRateBps}}</td></tr>
{{end}}</tbody>
</table>
<p>Subtotal {{money .Quote.Totals.Subtotal .Quote.Currency}} · discount {{money .Quote.Totals.Discount .Quote.Currency}} · tax {{money .Quote.Totals.Tax .Quote.Currency}} ·
<strong>total {{money .Quote.Totals.Total .Quote.Currency}} {{.Quote.Currency}}</strong>, as in the accepted quote {{.Quote.ID}}.</p>
{{with .Quote.Notes}}<p>{{.}}</p>{{end}}
<h2>Terms</h2>
<p>The Customer pays the total within 30 days of the invoice. The Supplier delivers the items above. This contract is signed electronically; each signature records the signer's name, email, typed signature, time, address and the SHA-256 of this document.</p>
<p>Signer: {{.Signer.Name}}{{with .Signer.Email}} &lt;{{.}}&gt;{{end}}</p>
</article>
`

var documentFuncs = template.FuncMap{
	"money": domain.FormatMinor,
	"pct":   func(bps int64) string { return domain.FormatMinor(bps, "") + " %" },
	"upper": strings.ToUpper,
	"lower": strings.ToLower,
	// the built-in print functions, bounded: a width or precision such as
	// %01000000d would allocate a megabyte per call and write nothing
	"printf":  func(format string, args ...any) (string, error) { return boundedPrint(fmt.Sprintf, format, args...) },
	"print":   func(args ...any) (string, error) { return boundedPrint(nil, "", args...) },
	"println": func(args ...any) (string, error) { return boundedPrint(nil, "\n", args...) },
}

// wideVerb finds a width or precision of four digits or more in a format.
var wideVerb = regexp.MustCompile(`%[-+# 0]*(\d{4,}|\d*\.\d{4,}|\*)`)

// boundedPrint is print, println (sep "\n") or printf with a format
// without huge widths, and a result of at most 64 KiB.
func boundedPrint(sprintf func(string, ...any) string, format string, args ...any) (string, error) {
	var out string
	switch {
	case sprintf != nil && wideVerb.MatchString(format):
		return "", errors.New("printf: widths and precisions are at most 999")
	case sprintf != nil:
		out = sprintf(format, args...)
	case format == "\n":
		out = fmt.Sprintln(args...)
	default:
		out = fmt.Sprint(args...)
	}
	if len(out) > 64<<10 {
		return "", errors.New("print: the result is larger than 64 KiB")
	}
	return out, nil
}

// templateError is a template's problem as a validation error on body.
func templateError(format string, args ...any) error {
	return &domain.ValidationError{Record: "contract template", Fields: []domain.FieldError{{Field: "body", Message: fmt.Sprintf(format, args...)}}}
}

// ParseTemplate parses and checks a contract template, and renders it once
// with sample data so that a template naming a field documents do not have
// fails when it is saved, not when a contract is made.
func ParseTemplate(name, body string) (*template.Template, error) {
	t, err := parseTemplate(name, body)
	if err != nil {
		return nil, err
	}
	if _, err := render(t, sampleDocument()); err != nil {
		return nil, err
	}
	return t, nil
}

// parseTemplate parses and checks a template (what rendering a contract
// needs: the trial render was done when the template was saved).
func parseTemplate(name, body string) (*template.Template, error) {
	t, err := template.New(name).Funcs(documentFuncs).Option("missingkey=zero").Parse(body)
	if err != nil {
		msg := strings.TrimPrefix(strings.TrimPrefix(err.Error(), "template: "), name+":")
		return nil, templateError("line %s", msg)
	}
	if len(t.Templates()) > 1 {
		return nil, templateError("{{define}} and {{block}} are not allowed in contract templates")
	}
	if t.Tree != nil && t.Tree.Root != nil {
		if err := checkNodes(t.Tree, t.Tree.Root.Nodes, 0, true); err != nil {
			return nil, err
		}
		if work := cost(t.Tree.Root.Nodes, 1); work > maxWork {
			return nil, templateError("the template could take %d steps to render (its loops repeat %d steps); at most %d", work, work, maxWork)
		}
	}
	return t, nil
}

// checkNodes checks a template's nodes; ranges counts the enclosing
// {{range}}s and root says whether dot is still the document's data.
func checkNodes(tree *parse.Tree, nodes []parse.Node, ranges int, root bool) error {
	for _, n := range nodes {
		var lists []*parse.ListNode
		depth, inner := ranges, root
		switch n := n.(type) {
		case *parse.TemplateNode:
			return templateError("{{template}} is not allowed in contract templates (%s)", at(tree, n))
		case *parse.RangeNode:
			if depth = ranges + 1; depth > 2 {
				return templateError("{{range}} is nested more than twice (%s)", at(tree, n))
			}
			if !rangesOverData(n.Pipe, root) {
				return templateError("{{range}} goes over one of the document's lists ($.Quote.LineItems, $.Opportunity.LineItems, $.Customer.Tags), not %s (%s)", n.Pipe, at(tree, n))
			}
			lists, inner = []*parse.ListNode{n.List, n.ElseList}, false
		case *parse.IfNode:
			lists = []*parse.ListNode{n.List, n.ElseList}
		case *parse.WithNode:
			lists, inner = []*parse.ListNode{n.List, n.ElseList}, false
		case *parse.ListNode:
			lists = []*parse.ListNode{n}
		}
		for _, l := range lists {
			if l == nil {
				continue
			}
			if err := checkNodes(tree, l.Nodes, depth, inner); err != nil {
				return err
			}
		}
	}
	return nil
}

// maxWork bounds the steps a render may take: each action counts the
// times it can run, maxRange per enclosing {{range}}.
const (
	maxWork  = 2_000_000
	maxRange = 200 // the most lines a quote or deal has
)

// cost is how many actions nodes can run, each counted times times.
func cost(nodes []parse.Node, times int) int {
	total := 0
	for _, n := range nodes {
		total += times
		switch n := n.(type) {
		case *parse.RangeNode:
			total += cost(listNodes(n.List), times*maxRange) + cost(listNodes(n.ElseList), times)
		case *parse.IfNode:
			total += cost(listNodes(n.List), times) + cost(listNodes(n.ElseList), times)
		case *parse.WithNode:
			total += cost(listNodes(n.List), times) + cost(listNodes(n.ElseList), times)
		case *parse.ListNode:
			total += cost(n.Nodes, times)
		}
		if total > maxWork {
			return total
		}
	}
	return total
}

func listNodes(l *parse.ListNode) []parse.Node {
	if l == nil {
		return nil
	}
	return l.Nodes
}

// rangeable are the lists of the document's data a template may range
// over (written from the data's root: . at the top level, or $ anywhere).
// Only these: a range over anything else — a number (Go templates range
// over integers), a string, a map of custom fields — is refused, so a
// template's loops are bounded by the lines (at most 200) and the
// customer's tags (at most 50).
var rangeable = map[string]bool{
	"Quote.LineItems": true, "Opportunity.LineItems": true, "Customer.Tags": true,
}

// rangesOverData: the pipeline is one of the rangeable lists.
func rangesOverData(p *parse.PipeNode, top bool) bool {
	if p == nil || len(p.Cmds) != 1 || len(p.Cmds[0].Args) != 1 {
		return false
	}
	switch a := p.Cmds[0].Args[0].(type) {
	case *parse.FieldNode: // .A.B: the root only at the top level, where dot is the data
		return top && (rangeable[strings.Join(a.Ident, ".")] || (len(a.Ident) > 1 && a.Ident[0] == "Data"))
	case *parse.VariableNode: // $.A.B
		return len(a.Ident) > 1 && a.Ident[0] == "$" && (rangeable[strings.Join(a.Ident[1:], ".")] || (len(a.Ident) > 2 && a.Ident[1] == "Data"))
	}
	return false
}

// at is where n is in the template: "line L, column C".
func at(tree *parse.Tree, n parse.Node) string {
	loc, _ := tree.ErrorContext(n)
	parts := strings.Split(loc, ":")
	if len(parts) < 3 {
		return loc
	}
	return "line " + parts[len(parts)-2] + ", column " + parts[len(parts)-1]
}

// capped is a buffer that refuses to grow past domain.MaxDocumentBytes.
type capped struct{ bytes.Buffer }

var errTooLarge = errors.New("document too large")

func (c *capped) Write(p []byte) (int, error) {
	if c.Len()+len(p) > domain.MaxDocumentBytes {
		return 0, errTooLarge
	}
	return c.Buffer.Write(p)
}

// documentPolicy is the HTML a stored document may hold: formatting,
// tables, lists, links and images — no script, style, form, meta, base or
// frame, no event handler, no javascript: URL. The page that shows the
// document also runs no script (its CSP), but a <meta refresh>, a <form>
// or a <style> hiding clauses would still work there: the document is
// sanitised before it is hashed, so what is signed is what is shown.
var documentPolicy = func() *bluemonday.Policy {
	p := bluemonday.UGCPolicy()
	p.AllowElements("article", "section", "header", "footer")
	p.AllowAttrs("class").Globally()
	return p
}()

// render executes a checked template and sanitises the document.
func render(t *template.Template, d *DocumentData) (string, error) {
	var b capped
	if err := t.Execute(&b, d); err != nil {
		if errors.Is(err, errTooLarge) {
			return "", templateError("the document is larger than %d bytes", domain.MaxDocumentBytes)
		}
		return "", templateError("%s", strings.TrimPrefix(err.Error(), "template: "))
	}
	return documentPolicy.Sanitize(b.String()), nil
}

// DocumentHash is the hex SHA-256 of a document.
func DocumentHash(doc string) string {
	h := sha256.Sum256([]byte(doc))
	return hex.EncodeToString(h[:])
}

func sampleDocument() *DocumentData {
	q := &domain.Quote{ID: "quote", Currency: "EUR", ValidUntil: "2030-01-31", Status: "accepted",
		LineItems: []domain.LineItem{{Product: "Plan", Quantity: 1, UnitPrice: 100}}}
	q.Normalize()
	return &DocumentData{Seller: "Seller", Title: "Agreement", Number: "contract", Date: time.Now().UTC().Format(time.DateOnly),
		Signer: DocumentSigner{Name: "Signer", Email: "signer@example.com"}, Customer: &domain.Customer{ID: "customer", Name: "Customer"},
		Opportunity: &domain.Opportunity{ID: "deal", Name: "Deal"}, Quote: q}
}
