package crm

import (
	"context"
	"errors"
	"fmt"
	"html/template"
	"strings"
	"time"

	"github.com/google/uuid"

	"switchboard/domain"
)

// ContractEvent is the data of contract.* events. Like quote events it
// never holds a public link, nor the document (its hash says which).
type ContractEvent struct {
	Contract *domain.Contract `json:"contract"`
	// Signature is the signing (contract.signed).
	Signature *domain.Signature `json:"signature,omitempty"`
	Actor     Actor             `json:"actor"`
}

// SentContract is a sent contract and the secret of its public link,
// returned once.
type SentContract struct {
	Contract *domain.Contract `json:"contract"`
	Token    string           `json:"token"`
}

// ContractLinkValidity is how long a contract's signing link works.
const ContractLinkValidity = 30 * 24 * time.Hour

// eventContract is the contract as events carry it: without the document.
func eventContract(c *domain.Contract) *domain.Contract {
	v := *c
	v.Document, v.Signatures = "", nil
	return &v
}

func contractEvent(typ string, c *domain.Contract, sig *domain.Signature, actor Actor) *domain.Event {
	return event(typ, ContractEvent{Contract: eventContract(c), Signature: sig, Actor: actor})
}

// ContractTemplate is the organisation's template name, or the built-in
// default when name is "default" and the organisation has not stored one.
func ContractTemplate(ctx context.Context, r domain.Repo, orgID, name string) (*domain.ContractTemplate, error) {
	t, err := r.GetContractTemplate(ctx, orgID, name)
	return orBuiltin(name, t, err, func() *domain.ContractTemplate { return builtinTemplate(orgID) })
}

func builtinTemplate(orgID string) *domain.ContractTemplate {
	return &domain.ContractTemplate{OrgID: orgID, Name: "default", Body: DefaultTemplate, Builtin: true}
}

// PutContractTemplate checks a template (see documents.go) and stores it;
// contracts already made keep their documents.
func (s *Service) PutContractTemplate(ctx context.Context, actor Actor, t *domain.ContractTemplate) (*domain.ContractTemplate, error) {
	if err := t.Validate(); err != nil {
		return nil, err
	}
	if _, err := ParseTemplate(t.Name, t.Body); err != nil {
		return nil, err
	}
	return change(ctx, s, t.OrgID, actor, func(tx domain.Repo) (*domain.ContractTemplate, []*domain.Event, *domain.AuditEntry, error) {
		if err := tx.PutContractTemplate(ctx, t); err != nil {
			return nil, nil, nil, err
		}
		return t, nil, &domain.AuditEntry{Action: "contract_template.put", Target: "contract-template/" + t.Name,
			Details: details(map[string]any{"sha256": DocumentHash(t.Body)})}, nil
	})
}

// DeleteContractTemplate removes a template ("default" then falls back to
// the built-in one).
func (s *Service) DeleteContractTemplate(ctx context.Context, actor Actor, orgID, name string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (struct{}, []*domain.Event, *domain.AuditEntry, error) {
		return struct{}{}, nil, &domain.AuditEntry{Action: "contract_template.delete", Target: "contract-template/" + name},
			tx.DeleteContractTemplate(ctx, orgID, name)
	})
	return err
}

func contractField(field, format string, args ...any) error {
	return &domain.ValidationError{Record: "contract", Fields: []domain.FieldError{{Field: field, Message: fmt.Sprintf(format, args...)}}}
}

// CreateContract makes a draft contract from an accepted quote: it renders
// the document from the template c.Template (default "default") and
// stores it with its SHA-256. Title defaults to "Agreement: <deal name>",
// the signer to the customer. A quote has at most one contract that is not
// void (Conflict). Emits contract.created.
func (s *Service) CreateContract(ctx context.Context, actor Actor, c *domain.Contract) (*domain.Contract, error) {
	return change(ctx, s, c.OrgID, actor, func(tx domain.Repo) (*domain.Contract, []*domain.Event, *domain.AuditEntry, error) {
		c.Normalize()
		q, err := tx.GetQuote(ctx, c.OrgID, c.QuoteID)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, nil, nil, contractField("quoteId", "is not a quote of this organisation")
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if q.Status != "accepted" {
			return nil, nil, nil, fmt.Errorf("%w: the quote is %s; a contract is made from an accepted quote", domain.ErrInvalidTransition, q.Status)
		}
		opp, err := tx.GetOpportunity(ctx, c.OrgID, q.OpportunityID)
		if err != nil {
			return nil, nil, nil, err
		}
		cust, err := tx.GetCustomer(ctx, c.OrgID, q.CustomerID)
		if err != nil {
			return nil, nil, nil, err
		}
		if c.Template == "" {
			c.Template = "default"
		}
		tpl, err := ContractTemplate(ctx, tx, c.OrgID, c.Template)
		if errors.Is(err, domain.ErrNotFound) {
			return nil, nil, nil, contractField("template", "is %q; the organisation has no such contract template", c.Template)
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if c.Title == "" {
			c.Title = "Agreement: " + opp.Name
		}
		if c.SignerName == "" && c.SignerEmail == "" {
			c.SignerName, c.SignerEmail = cust.Name, cust.Email
		}
		seller := ""
		if o, err := tx.GetOrg(ctx, c.OrgID); err == nil {
			seller = o.Name
		}
		c.ID = newContractID()
		c.Status, c.RunID, c.SentAt, c.SignedAt, c.VoidedAt, c.VoidReason, c.PaidAt = "draft", runOf(actor), nil, nil, nil, "", nil
		c.Document, err = renderDocument(tpl, &DocumentData{Seller: seller, Title: c.Title, Number: c.ID,
			Date: time.Now().UTC().Format(time.DateOnly), Signer: DocumentSigner{Name: c.SignerName, Email: c.SignerEmail},
			Customer: cust, Opportunity: opp, Quote: q})
		if err != nil {
			return nil, nil, nil, err
		}
		c.DocumentHash = DocumentHash(c.Document)
		if err := tx.CreateContract(ctx, c); err != nil {
			if errors.Is(err, domain.ErrConflict) {
				return nil, nil, nil, fmt.Errorf("%w: quote %s already has a contract that is not void", domain.ErrConflict, q.ID)
			}
			return nil, nil, nil, err
		}
		return c, []*domain.Event{contractEvent("contract.created", c, nil, actor)},
			&domain.AuditEntry{Action: "contract.create", Target: "contract/" + c.ID,
				Details: details(map[string]any{"quote": q.ID, "template": c.Template, "documentHash": c.DocumentHash})}, nil
	})
}

// newContractID is chosen before rendering so the document can show it.
func newContractID() string { return uuid.Must(uuid.NewV7()).String() }

func renderDocument(t *domain.ContractTemplate, d *DocumentData) (string, error) {
	var (
		tpl *template.Template
		err error
	)
	if tpl, err = parseTemplate(t.Name, t.Body); err != nil {
		return "", err
	}
	doc, err := render(tpl, d)
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		ve.Record, ve.Fields[0].Field = "contract", "template"
		ve.Fields[0].Message = fmt.Sprintf("%q does not render: %s", t.Name, ve.Fields[0].Message)
	}
	return doc, err
}

// SendContract marks a draft (or a sent contract: a new link) sent and
// issues a signing link valid for ContractLinkValidity; earlier links stop
// working. Emits contract.sent.
func (s *Service) SendContract(ctx context.Context, actor Actor, orgID, id string) (*SentContract, error) {
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*SentContract, []*domain.Event, *domain.AuditEntry, error) {
		c, err := tx.GetContract(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if c.Status != "draft" && c.Status != "sent" {
			return nil, nil, nil, fmt.Errorf("%w: the contract is %s", domain.ErrInvalidTransition, c.Status)
		}
		now := time.Now().UTC()
		token, err := issueToken(ctx, tx, orgID, "contract", c.ID, now.Add(ContractLinkValidity))
		if err != nil {
			return nil, nil, nil, err
		}
		c.Status, c.SentAt = "sent", &now
		if err := tx.UpdateContract(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		return &SentContract{Contract: c, Token: token}, []*domain.Event{contractEvent("contract.sent", c, nil, actor)},
			&domain.AuditEntry{Action: "contract.send", Target: "contract/" + id}, nil
	})
}

// SignContract records a signature on a sent contract and marks it signed
// (emits contract.signed). The signature names the hash of the document
// the signer was shown: when it is not the contract's, nothing is signed
// (Conflict). When the contract names a signer email, the signature must
// give it. A draft, void or signed contract is not signed (InvalidTransition).
func (s *Service) SignContract(ctx context.Context, actor Actor, orgID, id string, sig domain.Signature) (*domain.Contract, error) {
	sig.Name, sig.Typed = strings.TrimSpace(sig.Name), strings.TrimSpace(sig.Typed)
	sig.Email, sig.DocumentHash = strings.ToLower(strings.TrimSpace(sig.Email)), strings.ToLower(strings.TrimSpace(sig.DocumentHash))
	sig.ContractID, sig.SignedAt = id, time.Now().UTC()
	if len(sig.UserAgent) > 500 {
		sig.UserAgent = sig.UserAgent[:500]
	}
	if err := sig.Validate(); err != nil {
		return nil, err
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Contract, []*domain.Event, *domain.AuditEntry, error) {
		c, err := tx.GetContract(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := c.CanSign(); err != nil {
			return nil, nil, nil, err
		}
		if sig.DocumentHash != c.DocumentHash {
			return nil, nil, nil, fmt.Errorf("%w: the document was not the one shown (its SHA-256 is %s); open the link again", domain.ErrConflict, c.DocumentHash)
		}
		if c.SignerEmail != "" && sig.Email != c.SignerEmail {
			return nil, nil, nil, &domain.ValidationError{Record: "signature", Fields: []domain.FieldError{{Field: "email", Message: "is not the address this contract was sent to"}}}
		}
		if err := tx.AddSignature(ctx, orgID, &sig); err != nil {
			return nil, nil, nil, err
		}
		c.Status, c.SignedAt = "signed", &sig.SignedAt
		if err := tx.UpdateContract(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		c.Signatures = append(c.Signatures, sig)
		return c, []*domain.Event{contractEvent("contract.signed", c, &sig, actor)},
			&domain.AuditEntry{Action: "contract.sign", Target: "contract/" + id, Details: details(map[string]any{
				"name": sig.Name, "email": sig.Email, "documentHash": sig.DocumentHash, "ip": sig.IP, "via": sig.Via})}, nil
	})
}

// VoidContract voids a draft or sent contract (a reason is required); its
// links stop working and its quote may get a new contract. A signed
// contract is not voided (InvalidTransition). Emits contract.voided.
func (s *Service) VoidContract(ctx context.Context, actor Actor, orgID, id, reason string) (*domain.Contract, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return nil, contractField("reason", "is required to void a contract")
	}
	return change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Contract, []*domain.Event, *domain.AuditEntry, error) {
		c, err := tx.GetContract(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if c.Status != "draft" && c.Status != "sent" {
			return nil, nil, nil, fmt.Errorf("%w: the contract is %s; only a draft or sent contract is voided", domain.ErrInvalidTransition, c.Status)
		}
		if err := tx.RevokePublicTokens(ctx, orgID, "contract", id); err != nil {
			return nil, nil, nil, err
		}
		now := time.Now().UTC()
		c.Status, c.VoidedAt, c.VoidReason = "void", &now, reason
		if err := tx.UpdateContract(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		return c, []*domain.Event{contractEvent("contract.voided", c, nil, actor)},
			&domain.AuditEntry{Action: "contract.void", Target: "contract/" + id, Details: details(map[string]any{"reason": reason})}, nil
	})
}

// ContractTemplates lists the organisation's templates, with the built-in
// default when the organisation has not stored its own.
func (s *Service) ContractTemplates(ctx context.Context, orgID string) ([]domain.ContractTemplate, error) {
	ts, err := s.Store.ListContractTemplates(ctx, orgID)
	return withBuiltin(ts, err, func(t domain.ContractTemplate) string { return t.Name }, func() *domain.ContractTemplate { return builtinTemplate(orgID) })
}
