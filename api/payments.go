package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/danielgtaylor/huma/v2"
	"github.com/gin-gonic/gin"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// Payments the stripe.* actions asked for, and the sandbox checkout page:
// without a Stripe key a payment link opens the platform's own page, where
// the payer pays or declines (no card involved), and that records the same
// outcome and emits the same events as Stripe's webhook would.

func (s *Server) paymentRoutes() {
	tags := []string{"payments"}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-payments", Method: http.MethodGet, Path: "/v1/payments",
		Summary: "Payments asked for by runs (Stripe or sandbox), newest first", Tags: tags},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[domain.Payment]], error) {
			pg := in.page()
			ps, err := s.store.ListPayments(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "payments")
			}
			if ps == nil {
				ps = []domain.Payment{}
			}
			return &bodyOut[Page[domain.Payment]]{Page[domain.Payment]{Items: ps, NextCursor: nextCursor(ps, pg, func(p domain.Payment) string { return p.ID })}}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-payment", Method: http.MethodGet, Path: "/v1/payments/{id}",
		Summary: "Get a payment", Tags: tags},
		func(ctx context.Context, in *idInput) (*bodyOut[domain.Payment], error) {
			p, err := s.store.GetPayment(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "payment "+in.ID)
			}
			return &bodyOut[domain.Payment]{*p}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-document", Method: http.MethodGet, Path: "/v1/documents/{id}",
		Summary: "Get a document docs.render made (its HTML and SHA-256)", Tags: []string{"documents"}},
		func(ctx context.Context, in *idInput) (*bodyOut[domain.Document], error) {
			d, err := s.store.GetDocument(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "document "+in.ID)
			}
			return &bodyOut[domain.Document]{*d}, nil
		})
	s.engine.GET("/p/payments/:token", s.paymentPage)
	s.engine.POST("/p/payments/:token", s.paymentDecision)
}

type paymentPageData struct {
	Seller  string
	Payment *domain.Payment
	Error   string
}

func (s *Server) renderPayment(c *gin.Context, status int, d paymentPageData) {
	var view gin.H
	if p := d.Payment; p != nil {
		view = gin.H{"id": p.ID, "status": p.Status, "amount": p.Amount, "currency": p.Currency, "description": p.Description,
			"lineItems": p.LineItems, "sandbox": true}
	}
	s.renderPublic(c, status, "payment.html", "payment", d.Seller, d.Error, view, d)
}

const invalidPaymentLink = "This payment link is not valid. It may have expired or been replaced by a newer one."

func (s *Server) publicPayment(c *gin.Context) (*domain.Payment, string) {
	if c.Param("token") == "done" {
		return nil, ""
	}
	t, seller := s.publicLink(c, "payment")
	if t == nil {
		return nil, ""
	}
	p, err := s.store.GetPayment(c.Request.Context(), t.OrgID, t.RecordID)
	if err != nil {
		return nil, ""
	}
	return p, seller
}

func (s *Server) paymentPage(c *gin.Context) {
	if c.Param("token") == "done" {
		// where Stripe Checkout returns the payer by default
		s.renderPayment(c, http.StatusOK, paymentPageData{Error: ""})
		return
	}
	p, seller := s.publicPayment(c)
	if p == nil {
		s.renderPayment(c, http.StatusNotFound, paymentPageData{Error: invalidPaymentLink})
		return
	}
	s.renderPayment(c, http.StatusOK, paymentPageData{Seller: seller, Payment: p})
}

// paymentDecision takes the sandbox payer's choice: decision=pay or
// decision=decline (a form or JSON).
func (s *Server) paymentDecision(c *gin.Context) {
	p, seller := s.publicPayment(c)
	if p == nil {
		s.renderPayment(c, http.StatusNotFound, paymentPageData{Error: invalidPaymentLink})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 4<<10)
	var in struct {
		Decision string `json:"decision" form:"decision"`
	}
	status := map[string]string{"pay": "paid", "decline": "failed"}
	if err := c.ShouldBind(&in); err != nil || status[in.Decision] == "" {
		s.renderPayment(c, http.StatusBadRequest, paymentPageData{Seller: seller, Payment: p, Error: "Choose to pay or to decline."})
		return
	}
	if p.Provider != "sandbox" {
		s.renderPayment(c, http.StatusConflict, paymentPageData{Seller: seller, Payment: p, Error: "This payment is taken by Stripe, not here."})
		return
	}
	failure := ""
	if in.Decision == "decline" {
		failure = "declined on the sandbox checkout page"
	}
	ctx := context.WithoutCancel(c.Request.Context())
	paid, moved, err := (&crm.Service{Store: s.store}).SettlePayment(ctx, "payer:sandbox", p.OrgID, p.ID, status[in.Decision], failure)
	switch {
	case err != nil && !errors.Is(err, domain.ErrInvalid):
		s.opts.Logger.Error("sandbox payment", "error", err)
		s.renderPayment(c, http.StatusServiceUnavailable, paymentPageData{Seller: seller, Payment: p, Error: "We could not record your payment. Please try again in a moment."})
	case err != nil:
		s.renderPayment(c, http.StatusBadRequest, paymentPageData{Seller: seller, Payment: p, Error: "Choose to pay or to decline."})
	case !moved && paid.Status != status[in.Decision]:
		s.renderPayment(c, http.StatusConflict, paymentPageData{Seller: seller, Payment: paid, Error: "This payment is already " + paid.Status + "."})
	case wantsJSON(c):
		s.renderPayment(c, http.StatusOK, paymentPageData{Seller: seller, Payment: paid})
	default:
		c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
	}
}
