package api

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"net/http"
	"strings"
	"time"

	"github.com/gin-gonic/gin"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// Public pages: a customer opens a link (no login) and sees exactly one
// document, which they can accept or reject. The link's secret is the
// credential: 256 random bits, of which only the SHA-256 is stored, bound
// to one record of one kind, expiring with the document. Every failure —
// unknown, expired, revoked, another kind's link — answers the same 404,
// so a link reveals nothing about others.

//go:embed templates/*.html
var pageFiles embed.FS

var pages = template.Must(template.New("").Funcs(template.FuncMap{
	"money": domain.FormatMinor,
	"pct":   func(bps int64) string { return domain.FormatMinor(bps, "") + " %" },
	// document marks a contract's stored document as HTML: it was rendered
	// by html/template from the organisation's template (run-time data
	// escaped), and the page's Content-Security-Policy runs no script.
	"document": func(doc string) template.HTML { return template.HTML(doc) }, //nolint:gosec // see above
}).ParseFS(pageFiles, "templates/*.html"))

func (s *Server) publicRoutes() {
	s.engine.GET("/p/quotes/:token", s.quotePage)
	s.engine.POST("/p/quotes/:token", s.quoteDecision)
	s.engine.GET("/p/contracts/:token", s.contractPage)
	s.engine.POST("/p/contracts/:token", s.contractSign)
}

// publicHeaders keep the page out of caches, frames, other origins'
// referrers (the URL holds the secret) and script execution.
func publicHeaders(c *gin.Context) {
	h := c.Writer.Header()
	h.Set("Cache-Control", "no-store")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'")
}

type quotePageData struct {
	Seller  string
	Quote   *domain.Quote
	Message string
	Error   string
}

// publicLink resolves the request's link to a live token of kind and the
// name of its organisation; nil when it is not one.
func (s *Server) publicLink(c *gin.Context, kind string) (*domain.PublicToken, string) {
	token := c.Param("token")
	if len(token) != 43 || strings.Trim(token, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_") != "" {
		return nil, ""
	}
	ctx := c.Request.Context()
	t, err := s.store.PublicTokenByHash(ctx, crm.TokenHash(token), time.Now())
	if err != nil || t.Kind != kind {
		return nil, ""
	}
	seller := ""
	if o, err := s.store.GetOrg(ctx, t.OrgID); err == nil {
		seller = o.Name
	}
	return t, seller
}

// publicQuote resolves a quote link; nil when the link is not a live quote link.
func (s *Server) publicQuote(c *gin.Context) (*domain.Quote, string) {
	t, seller := s.publicLink(c, "quote")
	if t == nil {
		return nil, ""
	}
	q, err := s.store.GetQuote(c.Request.Context(), t.OrgID, t.RecordID)
	if err != nil {
		return nil, ""
	}
	return q, seller
}

func wantsJSON(c *gin.Context) bool {
	return strings.Contains(c.GetHeader("Accept"), "application/json") || strings.HasPrefix(c.ContentType(), "application/json")
}

// renderPublic answers a public page: the page (HTML) or, for a client
// asking for JSON, {seller, <kind>: view, error}; view is nil when the
// link resolved to nothing.
func (s *Server) renderPublic(c *gin.Context, status int, page, kind, seller, errMsg string, view gin.H, data any) {
	publicHeaders(c)
	if wantsJSON(c) {
		if view == nil {
			c.JSON(status, problem(status, ProbNotFound, "this link is not valid: it may have expired or been replaced"))
			return
		}
		body := gin.H{"seller": seller, kind: view}
		if errMsg != "" {
			body["error"] = errMsg
		}
		c.JSON(status, body)
		return
	}
	c.Status(status)
	c.Header("Content-Type", "text/html; charset=utf-8")
	if err := pages.ExecuteTemplate(c.Writer, page, data); err != nil {
		s.opts.Logger.Error("public page", "error", err)
	}
}

func (s *Server) renderQuote(c *gin.Context, status int, d quotePageData) {
	var view gin.H
	if d.Quote != nil {
		view = publicQuoteView(d.Quote)
	}
	s.renderPublic(c, status, "quote.html", "quote", d.Seller, d.Error, view, d)
}

// publicQuoteView is what the customer sees: the document, not the
// organisation's internals (run, ids of other records, who decided via what).
func publicQuoteView(q *domain.Quote) gin.H {
	v := gin.H{"id": q.ID, "currency": q.Currency, "lineItems": q.LineItems, "totals": q.Totals, "validUntil": q.ValidUntil,
		"notes": q.Notes, "status": q.Status}
	if q.DecidedAt != nil {
		v["decidedAt"] = q.DecidedAt
	}
	return v
}

func (s *Server) quotePage(c *gin.Context) {
	q, seller := s.publicQuote(c)
	if q == nil {
		s.renderQuote(c, http.StatusNotFound, quotePageData{Error: "This link is not valid. It may have expired or been replaced by a newer one."})
		return
	}
	s.renderQuote(c, http.StatusOK, quotePageData{Seller: seller, Quote: q})
}

// quoteDecision takes the customer's answer: a form (action=accept or
// reject, name, email, reason) or JSON ({accepted, name, email, reason}).
func (s *Server) quoteDecision(c *gin.Context) {
	q, seller := s.publicQuote(c)
	if q == nil {
		s.renderQuote(c, http.StatusNotFound, quotePageData{Error: "This link is not valid. It may have expired or been replaced by a newer one."})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10)
	var in struct {
		Accepted *bool  `json:"accepted"`
		Action   string `json:"-" form:"action"`
		Name     string `json:"name" form:"name"`
		Email    string `json:"email" form:"email"`
		Reason   string `json:"reason" form:"reason"`
	}
	var err error
	if strings.HasPrefix(c.ContentType(), "application/json") {
		err = c.ShouldBindJSON(&in)
	} else {
		err = c.ShouldBind(&in)
		if in.Action == "accept" || in.Action == "reject" {
			accepted := in.Action == "accept"
			in.Accepted = &accepted
		}
	}
	if err != nil || in.Accepted == nil {
		s.renderQuote(c, http.StatusBadRequest, quotePageData{Seller: seller, Quote: q, Error: "Choose accept or reject."})
		return
	}
	d := domain.QuoteDecision{Accepted: *in.Accepted, Name: in.Name, Email: in.Email, Reason: in.Reason,
		IP: c.ClientIP(), UserAgent: c.Request.UserAgent(), Via: "public-link"}
	ctx := context.WithoutCancel(c.Request.Context()) // a customer's click is not lost to a closed tab
	decided, err := (&crm.Service{Store: s.store}).DecideQuote(ctx, crm.Actor("customer:"+strings.ToLower(strings.TrimSpace(in.Email))), q.OrgID, q.ID, d)
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		s.renderQuote(c, http.StatusUnprocessableEntity, quotePageData{Seller: seller, Quote: q, Error: ve.Fields[0].Message})
	case errors.Is(err, domain.ErrInvalidTransition):
		if decided == nil {
			decided, _ = s.store.GetQuote(ctx, q.OrgID, q.ID)
		}
		s.renderQuote(c, http.StatusConflict, quotePageData{Seller: seller, Quote: cmpQuote(decided, q), Error: "This quote can no longer be answered: " + afterKind(err, domain.ErrInvalidTransition) + "."})
	case err != nil:
		s.opts.Logger.Error("public quote decision", "error", err)
		s.renderQuote(c, http.StatusServiceUnavailable, quotePageData{Seller: seller, Quote: q, Error: "We could not record your answer. Please try again in a moment."})
	case wantsJSON(c):
		s.renderQuote(c, http.StatusOK, quotePageData{Seller: seller, Quote: decided})
	default:
		// post/redirect/get: a reload does not post again
		c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
	}
}

func cmpQuote(a, b *domain.Quote) *domain.Quote {
	if a != nil {
		return a
	}
	return b
}
