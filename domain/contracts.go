package domain

import (
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// Contract statuses.
var ContractStatuses = []string{"draft", "sent", "signed", "void"}

// Contract is the agreement made from an accepted quote: a document
// rendered from one of the organisation's templates, stored as it was
// rendered with its SHA-256, sent to the signer as a public link and
// signed there. The document never changes after creation (a different
// document is a new contract); a signature records the hash of the
// document it was given on.
type Contract struct {
	ID            string `json:"id"`
	OrgID         string `json:"-"`
	QuoteID       string `json:"quoteId"`
	OpportunityID string `json:"opportunityId"` // the quote's
	CustomerID    string `json:"customerId"`    // the quote's
	Title         string `json:"title"`
	// Template is the name of the template the document was rendered from.
	Template string `json:"template"`
	// Document is the rendered HTML; lists leave it out (empty).
	Document string `json:"document,omitempty"`
	// DocumentHash is the hex SHA-256 of Document's UTF-8 bytes.
	DocumentHash string `json:"documentHash"`
	Status       string `json:"status"`
	// SignerName and SignerEmail say who is asked to sign (by default the
	// customer); when SignerEmail is set, the signature must give it.
	SignerName  string `json:"signerName,omitempty"`
	SignerEmail string `json:"signerEmail,omitempty"`
	// RunID is the run that created the contract (its public id), when a run did.
	RunID      string     `json:"runId,omitempty"`
	SentAt     *time.Time `json:"sentAt,omitempty"`
	SignedAt   *time.Time `json:"signedAt,omitempty"`
	VoidedAt   *time.Time `json:"voidedAt,omitempty"`
	VoidReason string     `json:"voidReason,omitempty"`
	// PaidAt is when a payment of the contract (stripe.*) was paid.
	PaidAt     *time.Time  `json:"paidAt,omitempty"`
	Signatures []Signature `json:"signatures,omitempty"` // Get only
	Version    int         `json:"version"`
	CreatedAt  time.Time   `json:"createdAt"`
	UpdatedAt  time.Time   `json:"updatedAt"`
}

// Signature is one signing of a contract: who (name, email, the typed
// signature), when, from where, and the hash of the document they were
// shown. Signatures are append-only in both stores.
type Signature struct {
	ID           string    `json:"id"`
	ContractID   string    `json:"contractId"`
	Name         string    `json:"name"`
	Email        string    `json:"email"`
	Typed        string    `json:"signature"` // the typed signature
	DocumentHash string    `json:"documentHash"`
	IP           string    `json:"ip,omitempty"`
	UserAgent    string    `json:"userAgent,omitempty"`
	Via          string    `json:"via"` // "public-link"
	SignedAt     time.Time `json:"signedAt"`
}

// Validate checks a signature's fields (lower-cased email expected).
func (s *Signature) Validate() error {
	v := &fieldChecker{record: "signature"}
	v.text("name", s.Name, 200, true)
	if s.Email == "" {
		v.add("email", "is required")
	}
	v.email("email", s.Email)
	v.text("signature", s.Typed, 200, true)
	if !sha256Hex.MatchString(s.DocumentHash) {
		v.add("documentHash", "is not a hex SHA-256")
	}
	v.text("userAgent", s.UserAgent, 500, false)
	return v.err()
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Normalize trims the text fields and lower-cases the signer's email.
func (c *Contract) Normalize() {
	for _, p := range []*string{&c.QuoteID, &c.Title, &c.Template, &c.SignerName, &c.SignerEmail, &c.VoidReason} {
		*p = strings.TrimSpace(*p)
	}
	c.SignerEmail = strings.ToLower(c.SignerEmail)
	if c.Status == "" {
		c.Status = "draft"
	}
}

// Validate checks every field and reports all the invalid ones at once.
func (c *Contract) Validate() error {
	v := &fieldChecker{record: "contract"}
	v.text("quoteId", c.QuoteID, 64, true)
	v.text("title", c.Title, 200, true)
	v.text("template", c.Template, 64, true)
	if c.Template != "" && !templateNameRe.MatchString(c.Template) {
		v.add("template", "is %q; names are 1–64 letters, digits, _ . -", c.Template)
	}
	if len(c.Document) > MaxDocumentBytes {
		v.add("document", "is larger than %d bytes", MaxDocumentBytes)
	}
	if !sha256Hex.MatchString(c.DocumentHash) {
		v.add("documentHash", "is not a hex SHA-256")
	}
	v.text("signerName", c.SignerName, 200, false)
	v.email("signerEmail", c.SignerEmail)
	v.text("voidReason", c.VoidReason, 2000, false)
	v.oneOf("status", c.Status, ContractStatuses)
	return v.err()
}

// CanSign says whether the contract can be signed now.
func (c *Contract) CanSign() error {
	switch c.Status {
	case "sent":
		return nil
	case "draft":
		return fmt.Errorf("%w: the contract has not been sent", ErrInvalidTransition)
	case "void":
		return fmt.Errorf("%w: the contract is void", ErrInvalidTransition)
	}
	return fmt.Errorf("%w: the contract is already signed", ErrInvalidTransition)
}

// MaxDocumentBytes bounds a rendered contract document (and a template).
const MaxDocumentBytes = 1 << 20

var templateNameRe = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// ContractTemplate is an organisation's HTML template for contract
// documents (Go html/template syntax; see docs/records.md).
type ContractTemplate struct {
	OrgID     string    `json:"-"`
	Name      string    `json:"name"`
	Body      string    `json:"body"`
	UpdatedAt time.Time `json:"updatedAt"`
	// Builtin marks the template Switchboard provides as "default" while
	// the organisation has not stored its own.
	Builtin bool `json:"builtin,omitempty"`
}

// Validate checks the name and size; the template language is checked
// where documents are rendered (domain/crm).
func (t *ContractTemplate) Validate() error {
	v := &fieldChecker{record: "contract template"}
	if !templateNameRe.MatchString(t.Name) {
		v.add("name", "is %q; names are 1–64 letters, digits, _ . -", t.Name)
	}
	switch {
	case strings.TrimSpace(t.Body) == "":
		v.add("body", "is required")
	case len(t.Body) > MaxDocumentBytes:
		v.add("body", "is larger than %d bytes", MaxDocumentBytes)
	}
	return v.err()
}

// ContractQuery selects contracts, newest first; every filter set must hold.
type ContractQuery struct {
	QuoteID, CustomerID, Status string
	After                       string
	Limit                       int
}

// ContractRepo keeps contracts, their signatures and templates (part of Repo).
type ContractRepo interface {
	// CreateContract inserts c with its quote's opportunity and customer;
	// ErrNotFound when the quote is not in the organisation, ErrConflict
	// when the quote already has a contract that is not void.
	CreateContract(ctx context.Context, c *Contract) error
	// GetContract reads a contract with its document and signatures.
	GetContract(ctx context.Context, orgID, id string) (*Contract, error)
	// UpdateContract saves the status fields of c when its stored version
	// is c.Version (else ErrConflict); the document never changes.
	UpdateContract(ctx context.Context, c *Contract) error
	// ListContracts lists contracts without their documents and signatures.
	ListContracts(ctx context.Context, orgID string, q ContractQuery) ([]Contract, string, error)
	// AddSignature appends a signature to a contract (never changed or removed).
	AddSignature(ctx context.Context, orgID string, s *Signature) error

	PutContractTemplate(ctx context.Context, t *ContractTemplate) error
	GetContractTemplate(ctx context.Context, orgID, name string) (*ContractTemplate, error)
	ListContractTemplates(ctx context.Context, orgID string) ([]ContractTemplate, error)
	DeleteContractTemplate(ctx context.Context, orgID, name string) error
}
