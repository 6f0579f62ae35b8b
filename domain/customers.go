package domain

import (
	"context"
	"encoding/json"
	"fmt"
	"net/mail"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Customer statuses and types.
var (
	CustomerStatuses = []string{"lead", "prospect", "customer", "churned"}
	CustomerTypes    = []string{"individual", "business", "enterprise"}
)

// Money is an amount in integer minor units (cents for USD, yen for JPY) of
// an ISO 4217 currency: money is never a float.
type Money struct {
	Amount   int64  `json:"amount"`
	Currency string `json:"currency"`
}

// Address is a postal address.
type Address struct {
	Line1      string `json:"line1,omitempty"`
	Line2      string `json:"line2,omitempty"`
	City       string `json:"city,omitempty"`
	Region     string `json:"region,omitempty"`
	PostalCode string `json:"postalCode,omitempty"`
	Country    string `json:"country,omitempty"` // ISO 3166-1 alpha-2
}

// Health is a customer's health: a score from 0 to 100 and what puts it at risk.
type Health struct {
	Score       int      `json:"score"`
	RiskFactors []string `json:"riskFactors,omitempty"`
}

// Customer is a person or company the organisation sells to or supports.
type Customer struct {
	ID      string   `json:"id"`
	OrgID   string   `json:"-"`
	Name    string   `json:"name"`
	Email   string   `json:"email,omitempty"` // unique per organisation, case-insensitively
	Phone   string   `json:"phone,omitempty"`
	Company string   `json:"company,omitempty"`
	Title   string   `json:"title,omitempty"`
	Address *Address `json:"address,omitempty"`
	Status  string   `json:"status"` // lead, prospect, customer, churned
	Type    string   `json:"type"`   // individual, business, enterprise
	// LifetimeValue is what the customer has been worth so far.
	LifetimeValue *Money          `json:"lifetimeValue,omitempty"`
	Source        string          `json:"source,omitempty"`  // how they were acquired
	OwnerID       string          `json:"ownerId,omitempty"` // a user of the organisation
	Health        *Health         `json:"health,omitempty"`
	Tags          []string        `json:"tags,omitempty"`
	Custom        json.RawMessage `json:"custom,omitempty"` // an object; the org may set a JSON Schema for it
	// Version counts changes; an update naming a version that is no longer
	// current is a conflict (optimistic concurrency).
	Version   int       `json:"version"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// FieldError is one invalid field of a record.
type FieldError struct {
	Field   string `json:"field"` // JSON path: email, address.country, tags[2]
	Message string `json:"message"`
}

// ValidationError lists every invalid field of a record; it wraps ErrInvalid.
type ValidationError struct {
	Record string
	Fields []FieldError
}

func (e *ValidationError) Error() string {
	parts := make([]string, len(e.Fields))
	for i, f := range e.Fields {
		parts[i] = f.Field + ": " + f.Message
	}
	return fmt.Sprintf("%s: %s", e.Record, strings.Join(parts, "; "))
}

func (e *ValidationError) Unwrap() error { return ErrInvalid }

type fieldChecker struct {
	record string
	errs   []FieldError
}

func (c *fieldChecker) add(field, format string, args ...any) {
	c.errs = append(c.errs, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

func (c *fieldChecker) text(field, v string, max int, required bool) {
	switch {
	case required && strings.TrimSpace(v) == "":
		c.add(field, "is required")
	case !utf8.ValidString(v):
		c.add(field, "is not valid UTF-8")
	case utf8.RuneCountInString(v) > max:
		c.add(field, "is longer than %d characters", max)
	case strings.ContainsFunc(v, func(r rune) bool { return r < 0x20 && r != '\t' }):
		c.add(field, "contains control characters")
	}
}

// email checks an optional, lower-cased email address.
func (c *fieldChecker) email(field, v string) {
	if v != "" && !IsEmail(v) {
		c.add(field, "is not an email address")
	}
}

// IsEmail reports whether v is a bare email address (no name, no angle brackets).
func IsEmail(v string) bool {
	a, err := mail.ParseAddress(v)
	return err == nil && a.Address == v && len(v) <= 254
}

func (c *fieldChecker) oneOf(field, v string, allowed []string) {
	if !slices.Contains(allowed, v) {
		c.add(field, "is %q; want one of %s", v, strings.Join(allowed, ", "))
	}
}

func (c *fieldChecker) money(field string, m *Money) {
	if m == nil {
		return
	}
	if !IsCurrency(m.Currency) {
		c.add(field+".currency", "is %q; want an ISO 4217 code such as USD", m.Currency)
	}
	if m.Amount < 0 {
		c.add(field+".amount", "is negative")
	}
}

func (c *fieldChecker) err() error {
	if len(c.errs) == 0 {
		return nil
	}
	return &ValidationError{Record: c.record, Fields: c.errs}
}

var (
	currencyRe = regexp.MustCompile(`^[A-Z]{3}$`)
	countryRe  = regexp.MustCompile(`^[A-Z]{2}$`)
	tagRe      = regexp.MustCompile(`^[\p{L}\p{N}][\p{L}\p{N} _.:/-]{0,62}$`)
	phoneRe    = regexp.MustCompile(`^\+?[0-9 ()./-]{3,30}$`)
)

// IsCurrency reports whether code looks like an ISO 4217 code (three upper-case letters).
func IsCurrency(code string) bool { return currencyRe.MatchString(code) }

// Normalize trims the customer's text fields, lower-cases its email,
// defaults its status (lead) and type (individual), and sorts and
// de-duplicates its tags.
func (c *Customer) Normalize() {
	for _, p := range []*string{&c.Name, &c.Email, &c.Phone, &c.Company, &c.Title, &c.Source, &c.OwnerID} {
		*p = strings.TrimSpace(*p)
	}
	c.Email = strings.ToLower(c.Email)
	if c.Status == "" {
		c.Status = "lead"
	}
	if c.Type == "" {
		c.Type = "individual"
	}
	if c.LifetimeValue != nil {
		c.LifetimeValue.Currency = strings.ToUpper(strings.TrimSpace(c.LifetimeValue.Currency))
	}
	if c.Address != nil {
		c.Address.Country = strings.ToUpper(strings.TrimSpace(c.Address.Country))
	}
	for i := range c.Tags {
		c.Tags[i] = strings.TrimSpace(c.Tags[i])
	}
	slices.Sort(c.Tags)
	c.Tags = slices.Compact(c.Tags)
	if len(c.Custom) > 0 && string(c.Custom) == "null" {
		c.Custom = nil
	}
}

// Validate checks every field and reports all the invalid ones at once.
func (c *Customer) Validate() error {
	v := &fieldChecker{record: "customer"}
	v.text("name", c.Name, 200, true)
	v.email("email", c.Email)
	if c.Phone != "" && !phoneRe.MatchString(c.Phone) {
		v.add("phone", "is not a phone number (digits, spaces, + ( ) . / -)")
	}
	v.text("company", c.Company, 200, false)
	v.text("title", c.Title, 200, false)
	v.text("source", c.Source, 100, false)
	v.text("ownerId", c.OwnerID, 64, false)
	v.oneOf("status", c.Status, CustomerStatuses)
	v.oneOf("type", c.Type, CustomerTypes)
	v.money("lifetimeValue", c.LifetimeValue)
	if a := c.Address; a != nil {
		for _, f := range []struct{ name, v string }{{"line1", a.Line1}, {"line2", a.Line2}, {"city", a.City}, {"region", a.Region}, {"postalCode", a.PostalCode}} {
			v.text("address."+f.name, f.v, 200, false)
		}
		if a.Country != "" && !countryRe.MatchString(a.Country) {
			v.add("address.country", "is %q; want an ISO 3166-1 alpha-2 code such as DE", a.Country)
		}
	}
	if h := c.Health; h != nil {
		if h.Score < 0 || h.Score > 100 {
			v.add("health.score", "is %d; want 0 to 100", h.Score)
		}
		if len(h.RiskFactors) > 20 {
			v.add("health.riskFactors", "has %d entries; at most 20", len(h.RiskFactors))
		}
		for i, r := range h.RiskFactors {
			v.text(fmt.Sprintf("health.riskFactors[%d]", i), r, 200, true)
		}
	}
	if len(c.Tags) > 50 {
		v.add("tags", "has %d tags; at most 50", len(c.Tags))
	}
	for i, t := range c.Tags {
		if !tagRe.MatchString(t) {
			v.add(fmt.Sprintf("tags[%d]", i), "is %q; tags are 1–63 letters, digits, spaces and _ . : / -, starting with a letter or digit", t)
		}
	}
	if len(c.Custom) > 0 {
		var m map[string]any
		if err := json.Unmarshal(c.Custom, &m); err != nil || m == nil {
			v.add("custom", "is not a JSON object")
		} else if len(c.Custom) > 64<<10 {
			v.add("custom", "is larger than 64 KiB")
		}
	}
	return v.err()
}

// Customer sort orders: created (the default: by id, which is time ordered),
// name, updated, value (lifetime value).
var CustomerSorts = []string{"created", "name", "updated", "value"}

// CustomerQuery selects customers. Every filter that is set must hold.
type CustomerQuery struct {
	Status, Type, OwnerID, Source, Tag string
	// EmailPrefix matches emails starting with it (case-insensitive).
	EmailPrefix string
	// Search matches words of the name, company and email: each word of
	// Search must start a word there (full text), or Search must occur
	// inside the name or email (trigram on Postgres).
	Search string
	// Sort is one of CustomerSorts (default created); Desc reverses it.
	Sort string
	Desc bool
	// After is the cursor a previous page returned; Limit as Page.
	After string
	Limit int
}

// CustomerRepo keeps customers (part of Repo).
type CustomerRepo interface {
	// CreateCustomer inserts c (normalised and valid: see Customer.Validate),
	// setting ID, Version 1 and the times. ErrConflict: the email is taken
	// in the organisation.
	CreateCustomer(ctx context.Context, c *Customer) error
	GetCustomer(ctx context.Context, orgID, id string) (*Customer, error)
	// CustomerByEmail finds a customer by email, case-insensitively.
	CustomerByEmail(ctx context.Context, orgID, email string) (*Customer, error)
	// UpdateCustomer replaces the customer's fields when its stored version
	// is c.Version, and increments the version. ErrConflict: the version
	// moved on, or the email is taken; ErrNotFound: no such customer.
	UpdateCustomer(ctx context.Context, c *Customer) error
	// DeleteCustomer removes a customer; ErrNotFound when there is none.
	DeleteCustomer(ctx context.Context, orgID, id string) error
	// ListCustomers returns a page of customers and the cursor of the next
	// page ("" on the last page).
	ListCustomers(ctx context.Context, orgID string, q CustomerQuery) ([]Customer, string, error)
}
