package domain

import (
	"context"
	"time"
)

// Payment is a payment a run asked for: a checkout (a payment link) or an
// invoice, through Stripe or the platform's sandbox checkout page. Amounts
// are integer minor units.
type Payment struct {
	ID       string `json:"id"`
	OrgID    string `json:"-"`
	Provider string `json:"provider"` // sandbox or stripe
	Kind     string `json:"kind"`     // checkout or invoice
	// Status: creating (recorded, the provider not asked yet), open,
	// paid, failed, canceled.
	Status      string     `json:"status"`
	Amount      int64      `json:"amount"`
	Currency    string     `json:"currency"`
	Description string     `json:"description"`
	LineItems   []LineItem `json:"lineItems"`
	CustomerID  string     `json:"customerId,omitempty"`
	QuoteID     string     `json:"quoteId,omitempty"`
	ContractID  string     `json:"contractId,omitempty"`
	// Email is the payer's address, when known.
	Email  string `json:"email,omitempty"`
	RunID  string `json:"runId,omitempty"`
	StepID string `json:"stepId,omitempty"`
	// ProviderID is Stripe's id of the checkout session or invoice.
	ProviderID string `json:"providerId,omitempty"`
	// URL is where the payer pays: Stripe's hosted page, or the sandbox's.
	URL       string     `json:"url,omitempty"`
	Failure   string     `json:"failure,omitempty"`
	PaidAt    *time.Time `json:"paidAt,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

// PaymentStatuses are a payment's statuses.
var PaymentStatuses = []string{"creating", "open", "paid", "failed", "canceled"}

// PaymentRepo stores payments.
type PaymentRepo interface {
	CreatePayment(ctx context.Context, p *Payment) error
	GetPayment(ctx context.Context, orgID, id string) (*Payment, error)
	// OpenPayment records the provider's id and URL of a creating
	// payment and opens it (ErrConflict unless it is creating).
	OpenPayment(ctx context.Context, orgID, id, providerID, url string) error
	// SetPaymentStatus moves a payment to status if its status is one of
	// from (ErrConflict otherwise); paying stamps PaidAt.
	SetPaymentStatus(ctx context.Context, orgID, id string, from []string, status, failure string) error
	// ListPayments lists payments newest first.
	ListPayments(ctx context.Context, orgID string, p Page) ([]Payment, error)
}

// Document is an HTML document docs.render made from an organisation's
// template and a run's data, kept with its SHA-256 (hex).
type Document struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"-"`
	Title      string    `json:"title"`
	Template   string    `json:"template"`
	HTML       string    `json:"html"`
	SHA256     string    `json:"sha256"`
	CustomerID string    `json:"customerId,omitempty"`
	RunID      string    `json:"runId,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
}

// DocumentRepo stores rendered documents.
type DocumentRepo interface {
	CreateDocument(ctx context.Context, d *Document) error
	GetDocument(ctx context.Context, orgID, id string) (*Document, error)
}
