package domain

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Quote statuses.
var QuoteStatuses = []string{"draft", "sent", "accepted", "rejected", "expired"}

// Quote is a priced offer on an opportunity. Its totals are computed by
// the server (ComputeTotals); only a draft changes; a sent quote is
// accepted or rejected by the customer (public page) or expires after
// ValidUntil.
type Quote struct {
	ID            string     `json:"id"`
	OrgID         string     `json:"-"`
	OpportunityID string     `json:"opportunityId"`
	CustomerID    string     `json:"customerId"` // the opportunity's
	Currency      string     `json:"currency"`
	LineItems     []LineItem `json:"lineItems"`
	Totals        Totals     `json:"totals"`
	ValidUntil    string     `json:"validUntil"` // YYYY-MM-DD, the last day it can be accepted (UTC)
	Notes         string     `json:"notes,omitempty"`
	Status        string     `json:"status"`
	// RunID is the run that created the quote (its public id), when a run did.
	RunID     string         `json:"runId,omitempty"`
	SentAt    *time.Time     `json:"sentAt,omitempty"`
	DecidedAt *time.Time     `json:"decidedAt,omitempty"`
	Decision  *QuoteDecision `json:"decision,omitempty"`
	// PaidAt is when a payment of the quote (stripe.*) was paid.
	PaidAt    *time.Time `json:"paidAt,omitempty"`
	Version   int        `json:"version"`
	CreatedAt time.Time  `json:"createdAt"`
	UpdatedAt time.Time  `json:"updatedAt"`
}

// QuoteDecision records who accepted or rejected a quote, and from where.
type QuoteDecision struct {
	Accepted  bool   `json:"accepted"`
	Name      string `json:"name"`
	Email     string `json:"email,omitempty"`
	Reason    string `json:"reason,omitempty"`
	IP        string `json:"ip,omitempty"`
	UserAgent string `json:"userAgent,omitempty"`
	Via       string `json:"via"` // "public-link" or "api"
}

// Normalize trims text, upper-cases the currency and computes the totals.
func (q *Quote) Normalize() {
	for _, p := range []*string{&q.OpportunityID, &q.CustomerID, &q.Notes, &q.ValidUntil} {
		*p = strings.TrimSpace(*p)
	}
	q.Currency = strings.ToUpper(strings.TrimSpace(q.Currency))
	if q.Status == "" {
		q.Status = "draft"
	}
	if t, err := ComputeTotals(q.LineItems); err == nil {
		q.Totals = t
	}
}

// Validate checks every field and reports all the invalid ones at once.
func (q *Quote) Validate() error {
	v := &fieldChecker{record: "quote"}
	v.text("opportunityId", q.OpportunityID, 64, true)
	if !IsCurrency(q.Currency) {
		v.add("currency", "is %q; want an ISO 4217 code such as EUR", q.Currency)
	}
	if len(q.LineItems) == 0 {
		v.add("lineItems", "is empty; a quote has at least one line")
	}
	v.lineItems(q.LineItems)
	if _, err := ComputeTotals(q.LineItems); err != nil {
		v.add("lineItems", "%v", err)
	}
	if q.ValidUntil == "" {
		v.add("validUntil", "is required")
	}
	v.date("validUntil", q.ValidUntil)
	v.text("notes", q.Notes, 5000, false)
	v.oneOf("status", q.Status, QuoteStatuses)
	return v.err()
}

// Expired reports whether a sent quote can no longer be accepted on day
// today (YYYY-MM-DD): its last valid day has passed.
func (q *Quote) Expired(today string) bool {
	return (q.Status == "sent" || q.Status == "expired") && q.ValidUntil < today
}

// CanDecide says whether the quote can be accepted or rejected on day today.
func (q *Quote) CanDecide(today string) error {
	switch {
	case q.Status == "sent" && q.Expired(today):
		return fmt.Errorf("%w: the quote expired after %s", ErrInvalidTransition, q.ValidUntil)
	case q.Status == "sent":
		return nil
	case q.Status == "draft":
		return fmt.Errorf("%w: the quote has not been sent", ErrInvalidTransition)
	}
	return fmt.Errorf("%w: the quote is %s", ErrInvalidTransition, q.Status)
}

// QuoteQuery selects quotes; every filter set must hold. Status "expired"
// includes sent quotes past their last valid day (Today).
type QuoteQuery struct {
	OpportunityID, CustomerID, Status string
	// Today is the day expiry is judged on (YYYY-MM-DD); default the current UTC day.
	Today string
	After string
	Limit int
}

// PublicToken is a single-purpose link to one document: only the hash of
// its secret is kept. Kind says which page it opens ("quote", "contract").
type PublicToken struct {
	Hash      []byte     `json:"-"`
	OrgID     string     `json:"-"`
	Kind      string     `json:"kind"`
	RecordID  string     `json:"recordId"`
	ExpiresAt time.Time  `json:"expiresAt"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
}

// QuoteRepo keeps quotes and public tokens (part of Repo).
type QuoteRepo interface {
	// CreateQuote inserts q; ErrNotFound when its opportunity is not in the organisation.
	CreateQuote(ctx context.Context, q *Quote) error
	GetQuote(ctx context.Context, orgID, id string) (*Quote, error)
	// UpdateQuote saves q when its stored version is q.Version (else ErrConflict).
	UpdateQuote(ctx context.Context, q *Quote) error
	ListQuotes(ctx context.Context, orgID string, q QuoteQuery) ([]Quote, string, error)
	// ExpireQuote stores a sent quote past its last valid day (before today)
	// as expired, and says whether it did (false: already stored so).
	ExpireQuote(ctx context.Context, orgID, id, today string) (bool, error)

	// CreatePublicToken stores a token (by its hash).
	CreatePublicToken(ctx context.Context, t *PublicToken) error
	// PublicTokenByHash finds a token that is neither revoked nor expired
	// at now: with APIKeyByHash and ClaimEvents, the only lookups across
	// organisations (the token is the credential).
	PublicTokenByHash(ctx context.Context, hash []byte, now time.Time) (*PublicToken, error)
	// RevokePublicTokens revokes the live tokens of a record.
	RevokePublicTokens(ctx context.Context, orgID, kind, recordID string) error
}
