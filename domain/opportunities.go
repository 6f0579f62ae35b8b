package domain

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Opportunity stages, in pipeline order; the last two are closed.
var OpportunityStages = []string{"lead", "qualified", "proposal", "negotiation", "closed_won", "closed_lost"}

// DefaultProbability is the win probability (percent) a stage implies when
// none is set.
var DefaultProbability = map[string]int{"lead": 10, "qualified": 25, "proposal": 50, "negotiation": 75, "closed_won": 100, "closed_lost": 0}

// IsClosedStage reports whether stage ends the opportunity.
func IsClosedStage(stage string) bool { return stage == "closed_won" || stage == "closed_lost" }

// LineItem is one line of an opportunity or a quote. Money is in integer
// minor units of the document's currency; rates are in basis points
// (1250 = 12.50 %).
type LineItem struct {
	Product     string `json:"product"`
	Description string `json:"description,omitempty"`
	Quantity    int64  `json:"quantity"`
	UnitPrice   int64  `json:"unitPrice"`             // minor units
	DiscountBps int64  `json:"discountBps,omitempty"` // 0–10000
	TaxRateBps  int64  `json:"taxRateBps,omitempty"`  // 0–10000
}

// Opportunity is a deal in the sales pipeline.
type Opportunity struct {
	ID         string `json:"id"`
	OrgID      string `json:"-"`
	CustomerID string `json:"customerId"`
	Name       string `json:"name"`
	// Amount is the deal's value; with line items it is their total.
	Amount        Money      `json:"amount"`
	Stage         string     `json:"stage"`
	Probability   int        `json:"probability"`             // percent; default by stage
	ExpectedClose string     `json:"expectedClose,omitempty"` // YYYY-MM-DD
	ActualClose   string     `json:"actualClose,omitempty"`   // YYYY-MM-DD, set when closed
	OwnerID       string     `json:"ownerId,omitempty"`
	LineItems     []LineItem `json:"lineItems,omitempty"`
	NextSteps     string     `json:"nextSteps,omitempty"`
	LostReason    string     `json:"lostReason,omitempty"`
	Version       int        `json:"version"`
	CreatedAt     time.Time  `json:"createdAt"`
	UpdatedAt     time.Time  `json:"updatedAt"`
}

var dateRe = regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)

// validDate reports whether s is a calendar date YYYY-MM-DD.
func validDate(s string) bool {
	if !dateRe.MatchString(s) {
		return false
	}
	_, err := time.Parse(time.DateOnly, s)
	return err == nil
}

func (c *fieldChecker) date(field, v string) {
	if v != "" && !validDate(v) {
		c.add(field, "is %q; want a date YYYY-MM-DD", v)
	}
}

func (c *fieldChecker) lineItems(items []LineItem) {
	if len(items) > 200 {
		c.add("lineItems", "has %d lines; at most 200", len(items))
	}
	for i, li := range items {
		at := fmt.Sprintf("lineItems[%d].", i)
		c.text(at+"product", li.Product, 200, true)
		c.text(at+"description", li.Description, 2000, false)
		if li.Quantity < 1 || li.Quantity > 1_000_000 {
			c.add(at+"quantity", "is %d; want 1 to 1000000", li.Quantity)
		}
		if li.UnitPrice < 0 || li.UnitPrice > 1_000_000_000_000 {
			c.add(at+"unitPrice", "is %d; want 0 to 10^12 minor units", li.UnitPrice)
		}
		if li.DiscountBps < 0 || li.DiscountBps > 10000 {
			c.add(at+"discountBps", "is %d; want 0 to 10000 (basis points)", li.DiscountBps)
		}
		if li.TaxRateBps < 0 || li.TaxRateBps > 10000 {
			c.add(at+"taxRateBps", "is %d; want 0 to 10000 (basis points)", li.TaxRateBps)
		}
	}
}

// Normalize trims text, upper-cases the currency, defaults the stage
// (lead) and the probability (by stage), and sets the amount from the line
// items when there are any.
func (o *Opportunity) Normalize() {
	for _, p := range []*string{&o.Name, &o.CustomerID, &o.OwnerID, &o.NextSteps, &o.LostReason, &o.ExpectedClose, &o.ActualClose} {
		*p = strings.TrimSpace(*p)
	}
	o.Amount.Currency = strings.ToUpper(strings.TrimSpace(o.Amount.Currency))
	if o.Stage == "" {
		o.Stage = "lead"
	}
	if len(o.LineItems) > 0 {
		if t, err := ComputeTotals(o.LineItems); err == nil {
			o.Amount.Amount = t.Total
		}
	}
}

// Validate checks every field and reports all the invalid ones at once.
func (o *Opportunity) Validate() error {
	v := &fieldChecker{record: "opportunity"}
	v.text("name", o.Name, 200, true)
	v.text("customerId", o.CustomerID, 64, true)
	v.text("ownerId", o.OwnerID, 64, false)
	v.text("nextSteps", o.NextSteps, 2000, false)
	v.text("lostReason", o.LostReason, 500, false)
	v.oneOf("stage", o.Stage, OpportunityStages)
	v.money("amount", &o.Amount)
	if o.Probability < 0 || o.Probability > 100 {
		v.add("probability", "is %d; want 0 to 100", o.Probability)
	}
	v.date("expectedClose", o.ExpectedClose)
	v.date("actualClose", o.ActualClose)
	v.lineItems(o.LineItems)
	if len(o.LineItems) > 0 {
		if _, err := ComputeTotals(o.LineItems); err != nil {
			v.add("lineItems", "%v", err)
		}
	}
	return v.err()
}

// Totals are the sums of line items, in minor units.
type Totals struct {
	Subtotal int64 `json:"subtotal"` // Σ quantity × unit price
	Discount int64 `json:"discount"` // Σ line discounts
	Tax      int64 `json:"tax"`      // Σ line taxes
	Total    int64 `json:"total"`    // subtotal − discount + tax
}

// maxMinor bounds line and document amounts (10^14 minor units: a
// trillion dollars in cents), so that amount × 10000 basis points stays
// inside int64.
const maxMinor = 100_000_000_000_000

// ComputeTotals computes totals line by line, in integer minor units:
//
//	gross    = quantity × unitPrice
//	discount = round(gross × discountBps / 10000)
//	net      = gross − discount
//	tax      = round(net × taxRateBps / 10000)
//
// where round is half away from zero (a half minor unit rounds up; amounts
// are never negative), and the totals are the sums of the lines' rounded
// values. Amounts above 10^14 minor units are refused.
func ComputeTotals(items []LineItem) (Totals, error) {
	var t Totals
	for i, li := range items {
		if li.Quantity < 0 || li.UnitPrice < 0 || li.DiscountBps < 0 || li.DiscountBps > 10000 || li.TaxRateBps < 0 || li.TaxRateBps > 10000 {
			return Totals{}, fmt.Errorf("line %d: negative amounts or rates out of 0–10000", i)
		}
		if li.UnitPrice != 0 && li.Quantity > maxMinor/li.UnitPrice {
			return Totals{}, fmt.Errorf("line %d: the amount is too large", i)
		}
		gross := li.Quantity * li.UnitPrice
		discount := roundDiv(mulBps(gross, li.DiscountBps), 10000)
		net := gross - discount
		tax := roundDiv(mulBps(net, li.TaxRateBps), 10000)
		t.Subtotal += gross
		t.Discount += discount
		t.Tax += tax
		if t.Subtotal > maxMinor {
			return Totals{}, fmt.Errorf("the total is too large")
		}
	}
	t.Total = t.Subtotal - t.Discount + t.Tax
	return t, nil
}

// mulBps is amount × bps; amount ≤ 10^14 and bps ≤ 10^4 keep it in int64.
func mulBps(amount, bps int64) int64 { return amount * bps }

// roundDiv is n / d rounded half away from zero, for n ≥ 0 and d > 0.
func roundDiv(n, d int64) int64 { return (n + d/2) / d }

// CanMoveStage says whether an opportunity may move from one stage to
// another: open stages move freely (forwards or back) and may close; a
// closed opportunity reopens only with a reason.
func CanMoveStage(from, to, reason string) error {
	switch {
	case !slices.Contains(OpportunityStages, to):
		return fmt.Errorf("%w: stage %q; want one of %s", ErrInvalid, to, strings.Join(OpportunityStages, ", "))
	case from == to:
		return fmt.Errorf("%w: the opportunity is already at stage %s", ErrInvalidTransition, to)
	case IsClosedStage(from) && strings.TrimSpace(reason) == "":
		return fmt.Errorf("%w: the opportunity is %s; reopening or moving it needs a reason", ErrInvalidTransition, from)
	}
	return nil
}

// OpportunityQuery selects opportunities; every filter set must hold.
type OpportunityQuery struct {
	CustomerID, Stage, OwnerID string
	// Open keeps only opportunities not closed.
	Open bool
	// Sort: created (default), amount, expectedClose, updated; Desc reverses.
	Sort  string
	Desc  bool
	After string
	Limit int
}

// OpportunitySorts are the sort orders of opportunity lists.
var OpportunitySorts = []string{"created", "amount", "expectedClose", "updated"}

// OpportunityRepo keeps opportunities (part of Repo). The customer must
// exist in the organisation (else ErrNotFound).
type OpportunityRepo interface {
	CreateOpportunity(ctx context.Context, o *Opportunity) error
	GetOpportunity(ctx context.Context, orgID, id string) (*Opportunity, error)
	// UpdateOpportunity saves o when its stored version is o.Version (else ErrConflict).
	UpdateOpportunity(ctx context.Context, o *Opportunity) error
	DeleteOpportunity(ctx context.Context, orgID, id string) error
	ListOpportunities(ctx context.Context, orgID string, q OpportunityQuery) ([]Opportunity, string, error)
}

// currencyExponents are the ISO 4217 minor-unit exponents that are not 2.
var currencyExponents = map[string]int{
	"BIF": 0, "CLP": 0, "DJF": 0, "GNF": 0, "ISK": 0, "JPY": 0, "KMF": 0, "KRW": 0, "PYG": 0, "RWF": 0,
	"UGX": 0, "UYI": 0, "VND": 0, "VUV": 0, "XAF": 0, "XOF": 0, "XPF": 0,
	"BHD": 3, "IQD": 3, "JOD": 3, "KWD": 3, "LYD": 3, "OMR": 3, "TND": 3,
	"CLF": 4, "UYW": 4,
}

// CurrencyExponent is the number of decimals of a currency's minor unit
// (ISO 4217): 2 for most, 0 for JPY, 3 for KWD.
func CurrencyExponent(code string) int {
	if e, ok := currencyExponents[code]; ok {
		return e
	}
	return 2
}

// FormatMinor writes an amount of minor units as a decimal: 123456 EUR is
// "1,234.56", 1500 JPY is "1,500".
func FormatMinor(amount int64, currency string) string {
	neg := amount < 0
	if neg {
		amount = -amount
	}
	exp := CurrencyExponent(currency)
	div := int64(1)
	for range exp {
		div *= 10
	}
	whole, frac := amount/div, amount%div
	s := fmt.Sprint(whole)
	var b strings.Builder
	for i, r := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(r)
	}
	out := b.String()
	if exp > 0 {
		out += fmt.Sprintf(".%0*d", exp, frac)
	}
	if neg {
		out = "-" + out
	}
	return out
}
