package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/gin-gonic/gin"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// The contract signing page: the signer reads the stored document (its
// SHA-256 shown under it), types their name as their signature, and signs.
// The form carries the hash of the document it showed, so a signature is
// always on the document the signer saw.

type contractPageData struct {
	Seller   string
	Contract *domain.Contract
	Error    string
}

func (s *Server) publicContract(c *gin.Context) (*domain.Contract, string) {
	t, seller := s.publicLink(c, "contract")
	if t == nil {
		return nil, ""
	}
	k, err := s.store.GetContract(c.Request.Context(), t.OrgID, t.RecordID)
	if err != nil {
		return nil, ""
	}
	return k, seller
}

// publicContractView is what the signer sees: the document and its
// signing state, not the organisation's internals.
func publicContractView(k *domain.Contract) gin.H {
	v := gin.H{"id": k.ID, "title": k.Title, "document": k.Document, "documentHash": k.DocumentHash, "status": k.Status,
		"signerName": k.SignerName}
	if k.SignedAt != nil {
		v["signedAt"] = k.SignedAt
	}
	return v
}

func (s *Server) renderContract(c *gin.Context, status int, d contractPageData) {
	var view gin.H
	if d.Contract != nil {
		view = publicContractView(d.Contract)
	}
	s.renderPublic(c, status, "contract.html", "contract", d.Seller, d.Error, view, d)
}

const invalidLink = "This link is not valid. It may have expired, been replaced by a newer one, or the contract was voided."

func (s *Server) contractPage(c *gin.Context) {
	k, seller := s.publicContract(c)
	if k == nil {
		s.renderContract(c, http.StatusNotFound, contractPageData{Error: invalidLink})
		return
	}
	s.renderContract(c, http.StatusOK, contractPageData{Seller: seller, Contract: k})
}

// contractSign takes a signature: a form or JSON with name, email,
// signature (typed), documentHash and agree.
func (s *Server) contractSign(c *gin.Context) {
	k, seller := s.publicContract(c)
	if k == nil {
		s.renderContract(c, http.StatusNotFound, contractPageData{Error: invalidLink})
		return
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 16<<10)
	var in struct {
		Name         string `json:"name" form:"name"`
		Email        string `json:"email" form:"email"`
		Signature    string `json:"signature" form:"signature"`
		DocumentHash string `json:"documentHash" form:"documentHash"`
		Agree        bool   `json:"agree" form:"agree"`
	}
	if err := c.ShouldBind(&in); err != nil || !in.Agree {
		s.renderContract(c, http.StatusBadRequest, contractPageData{Seller: seller, Contract: k,
			Error: "Tick the box to agree to sign this contract electronically."})
		return
	}
	sig := domain.Signature{Name: in.Name, Email: in.Email, Typed: in.Signature, DocumentHash: in.DocumentHash,
		IP: c.ClientIP(), UserAgent: c.Request.UserAgent(), Via: "public-link"}
	ctx := context.WithoutCancel(c.Request.Context())
	actor := crm.Actor("signer:" + strings.ToLower(strings.TrimSpace(in.Email)))
	signed, err := (&crm.Service{Store: s.store}).SignContract(ctx, actor, k.OrgID, k.ID, sig)
	var ve *domain.ValidationError
	switch {
	case errors.As(err, &ve):
		s.renderContract(c, http.StatusUnprocessableEntity, contractPageData{Seller: seller, Contract: k, Error: ve.Fields[0].Field + " " + ve.Fields[0].Message})
	case errors.Is(err, domain.ErrInvalidTransition):
		s.renderContract(c, http.StatusConflict, contractPageData{Seller: seller, Contract: k,
			Error: "This contract cannot be signed: " + afterKind(err, domain.ErrInvalidTransition) + "."})
	case errors.Is(err, domain.ErrConflict):
		s.renderContract(c, http.StatusConflict, contractPageData{Seller: seller, Contract: k,
			Error: "The document changed since this page was opened. Read it again before signing."})
	case err != nil:
		s.opts.Logger.Error("public contract signature", "error", err)
		s.renderContract(c, http.StatusServiceUnavailable, contractPageData{Seller: seller, Contract: k, Error: "We could not record your signature. Please try again in a moment."})
	case wantsJSON(c):
		s.renderContract(c, http.StatusOK, contractPageData{Seller: seller, Contract: signed})
	default:
		c.Redirect(http.StatusSeeOther, c.Request.URL.Path)
	}
}
