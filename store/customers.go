package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"switchboard/domain"
)

// Customers (domain.CustomerRepo).

const customerCols = `org_id, id, name, email, phone, company, title, address, status, type, ltv_amount, ltv_currency,
	source, owner_id, health_score, health_risks, tags, custom, version, created_at, updated_at`

func scanCustomer(s scanner) (c domain.Customer, err error) {
	var email sql.NullString
	var address, risks, tags json.RawMessage
	var score sql.NullInt64
	var ltv int64
	var currency string
	err = s.Scan(&c.OrgID, &c.ID, &c.Name, &email, &c.Phone, &c.Company, &c.Title, jsonDest{&address}, &c.Status, &c.Type,
		&ltv, &currency, &c.Source, &c.OwnerID, &score, jsonDest{&risks}, jsonDest{&tags}, jsonDest{&c.Custom},
		&c.Version, scanTime(&c.CreatedAt), scanTime(&c.UpdatedAt))
	if err != nil {
		return c, err
	}
	c.Email = email.String
	if currency != "" {
		c.LifetimeValue = &domain.Money{Amount: ltv, Currency: currency}
	}
	if len(address) > 0 {
		c.Address = new(domain.Address)
		if err := json.Unmarshal(address, c.Address); err != nil {
			return c, fmt.Errorf("customer %s: address: %w", c.ID, err)
		}
	}
	if score.Valid {
		c.Health = &domain.Health{Score: int(score.Int64)}
		if len(risks) > 0 {
			if err := json.Unmarshal(risks, &c.Health.RiskFactors); err != nil {
				return c, fmt.Errorf("customer %s: risk factors: %w", c.ID, err)
			}
		}
	}
	if err := json.Unmarshal(tags, &c.Tags); err != nil {
		return c, fmt.Errorf("customer %s: tags: %w", c.ID, err)
	}
	if len(c.Tags) == 0 {
		c.Tags = nil
	}
	return c, nil
}

// customerInsertCols are the columns a new customer row is written with,
// in the order of org_id, id, customerArgs, version and the times.
var customerInsertCols = []string{"org_id", "id", "name", "name_key", "email", "phone", "company", "title", "address", "status", "type",
	"ltv_amount", "ltv_currency", "source", "owner_id", "health_score", "health_risks", "tags", "custom", "version", "created_at", "updated_at"}

// placeholders is n comma-separated ? placeholders.
func placeholders(n int) string { return strings.TrimSuffix(strings.Repeat("?, ", n), ", ") }

// customerArgs are the values of every column but org_id, id, version and
// the times, in customerCols order.
func customerArgs(c *domain.Customer) []any {
	var email, address, score, risks any
	if c.Email != "" {
		email = c.Email
	}
	if c.Address != nil {
		b, _ := json.Marshal(c.Address)
		address = string(b)
	}
	if c.Health != nil {
		score = c.Health.Score
		if len(c.Health.RiskFactors) > 0 {
			b, _ := json.Marshal(c.Health.RiskFactors)
			risks = string(b)
		}
	}
	var ltv int64
	var currency string
	if c.LifetimeValue != nil {
		ltv, currency = c.LifetimeValue.Amount, c.LifetimeValue.Currency
	}
	tags, _ := json.Marshal(cmpOr(c.Tags, []string{}))
	return []any{c.Name, strings.ToLower(c.Name), email, c.Phone, c.Company, c.Title, address, c.Status, c.Type, ltv, currency,
		c.Source, c.OwnerID, score, risks, string(tags), jsonArg(c.Custom)}
}

func cmpOr[T any](s []T, def []T) []T {
	if s == nil {
		return def
	}
	return s
}

// checkCustomer normalises and validates c before it is written.
func checkCustomer(c *domain.Customer) error {
	if err := need("customer", "orgId", c.OrgID); err != nil {
		return err
	}
	c.Normalize()
	return c.Validate()
}

func (r *repo) CreateCustomer(ctx context.Context, c *domain.Customer) error {
	if err := checkCustomer(c); err != nil {
		return err
	}
	c.ID, c.Version = newID(c.ID), 1
	c.CreatedAt = stamp(c.CreatedAt)
	c.UpdatedAt = c.CreatedAt
	args := append([]any{c.OrgID, c.ID}, customerArgs(c)...)
	args = append(args, c.Version, r.ts(c.CreatedAt), r.ts(c.UpdatedAt))
	_, err := r.exec(ctx, `INSERT INTO customers (`+strings.Join(customerInsertCols, ", ")+`) VALUES (`+placeholders(len(customerInsertCols))+`)`, args...)
	return wrap("create customer", err)
}

func (r *repo) GetCustomer(ctx context.Context, orgID, id string) (*domain.Customer, error) {
	return get(ctx, r, "customer "+id, scanCustomer, `SELECT `+customerCols+` FROM customers WHERE org_id = ? AND id = ?`+r.forUpdate(), orgID, id)
}

func (r *repo) CustomerByEmail(ctx context.Context, orgID, email string) (*domain.Customer, error) {
	return get(ctx, r, "customer by email", scanCustomer, `SELECT `+customerCols+` FROM customers WHERE org_id = ? AND email = ?`,
		orgID, strings.ToLower(strings.TrimSpace(email)))
}

func (r *repo) UpdateCustomer(ctx context.Context, c *domain.Customer) error {
	if err := checkCustomer(c); err != nil {
		return err
	}
	what := "update customer " + c.ID
	c.UpdatedAt = stamp(time.Time{})
	args := append(customerArgs(c), r.ts(c.UpdatedAt), c.OrgID, c.ID, c.Version)
	n, err := r.exec(ctx, `UPDATE customers SET name = ?, name_key = ?, email = ?, phone = ?, company = ?, title = ?, address = ?,
		status = ?, type = ?, ltv_amount = ?, ltv_currency = ?, source = ?, owner_id = ?, health_score = ?, health_risks = ?,
		tags = ?, custom = ?, updated_at = ?, version = version + 1
		WHERE org_id = ? AND id = ? AND version = ?`, args...)
	if err != nil {
		return wrap(what, err)
	}
	if n == 0 {
		return r.versionConflict(ctx, what, "customers", c.OrgID, c.ID, c.Version)
	}
	c.Version++
	return nil
}

// DeleteCustomer deletes a customer; ErrConflict while records (deals,
// quotes, tickets) still refer to it.
func (r *repo) DeleteCustomer(ctx context.Context, orgID, id string) error {
	return r.deleteRecord(ctx, "customers", "customer", orgID, id, "other records (opportunities, quotes, tickets) refer to it")
}

// deleteRecord deletes a row of table; ErrNotFound when there is none,
// ErrConflict (saying why: referred) while other rows refer to it.
func (r *repo) deleteRecord(ctx context.Context, table, record, orgID, id, referred string) error {
	what := "delete " + record + " " + id
	n, err := r.exec(ctx, `DELETE FROM `+table+` WHERE org_id = ? AND id = ?`, orgID, id)
	switch {
	case isForeignKey(err):
		return fmt.Errorf("%w: %s: %s; delete them first", domain.ErrConflict, what, referred)
	case err == nil && n == 0:
		err = domain.ErrNotFound
	}
	return wrap(what, err)
}

var customerPages = &keyset[domain.Customer]{
	record: "customer query",
	order:  domain.CustomerSorts,
	from:   `SELECT ` + customerCols + ` FROM customers`,
	scan:   scanCustomer,
	sorts: map[string]sortKey[domain.Customer]{
		"created": {},
		"name":    {col: "name_key", kind: sortText, value: func(c *domain.Customer) any { return strings.ToLower(c.Name) }},
		"updated": {col: "updated_at", kind: sortTime, value: func(c *domain.Customer) any { return c.UpdatedAt }},
		"value": {col: "ltv_amount", kind: sortInt, value: func(c *domain.Customer) any {
			if c.LifetimeValue == nil {
				return int64(0)
			}
			return c.LifetimeValue.Amount
		}},
	},
}

func (r *repo) ListCustomers(ctx context.Context, orgID string, q domain.CustomerQuery) ([]domain.Customer, string, error) {
	q.Search = strings.TrimSpace(q.Search) // both paths search the same text
	if r.postgres && q.Search != "" {
		if cs, next, ok, err := r.searchWalk(ctx, orgID, q); err != nil || ok {
			return cs, next, err
		}
	}
	l, err := r.customerListing(orgID, q)
	if err != nil {
		return nil, "", err
	}
	return customerPages.run(ctx, r, l, func(c *domain.Customer) string { return c.ID })
}

// walkRows is how many rows, in the list's order, a search walks before
// it asks the search indexes instead.
const walkRows = 2000

// customerWalk is customerPages with the columns the search condition reads.
var customerWalk = &keyset[domain.Customer]{record: customerPages.record, order: customerPages.order, sorts: customerPages.sorts,
	from: `SELECT ` + customerCols + `, search, name_key FROM customers`}

// searchWalk answers a search whose words are common (a first name) from
// the first walkRows rows in the list's order, through the sort's index:
// when a page's worth of them match, those are the page (rows are walked
// in order). A search with fewer matches there is answered by the search
// indexes (ok false). Without this, PostgreSQL — which underestimates how
// many rows a prefix tsquery matches — builds and sorts a bitmap of every
// match (40,000 for a common first name in a million) to return 50.
func (r *repo) searchWalk(ctx context.Context, orgID string, q domain.CustomerQuery) ([]domain.Customer, string, bool, error) {
	all := q
	all.Search = ""
	if all.Sort == "" {
		all.Sort = "created"
	}
	inner, err := r.customerListingWith(customerWalk, orgID, all)
	if err != nil {
		return nil, "", false, err
	}
	inner.args[len(inner.args)-1] = walkRows
	cond, a := r.customerSearch(q.Search)
	outer := &listing{sql: `SELECT ` + customerCols + ` FROM (` + inner.sql + `) c WHERE ` + cond + ` ORDER BY ` + inner.order + ` LIMIT ?`,
		size: inner.size, sort: inner.sort, desc: inner.desc, order: inner.order}
	outer.args = append(append(inner.args, a...), inner.size+1)
	cs, next, err := customerPages.run(ctx, r, outer, func(c *domain.Customer) string { return c.ID })
	return cs, next, err == nil && next != "", err
}

// customerListing builds the query of a customer list.
func (r *repo) customerListing(orgID string, q domain.CustomerQuery) (*listing, error) {
	return r.customerListingWith(customerPages, orgID, q)
}

func (r *repo) customerListingWith(pages *keyset[domain.Customer], orgID string, q domain.CustomerQuery) (*listing, error) {
	if q.Sort == "" {
		q.Sort = "created"
	}
	where, args := []string{"org_id = ?"}, []any{orgID}
	add := func(cond string, a ...any) { where, args = append(where, cond), append(args, a...) }
	for _, f := range []struct{ col, v string }{{"status", q.Status}, {"type", q.Type}, {"owner_id", q.OwnerID}, {"source", q.Source}} {
		if f.v != "" {
			add(f.col+" = ?", f.v)
		}
	}
	if q.Tag != "" {
		if r.postgres {
			b, _ := json.Marshal([]string{q.Tag})
			add("tags @> ?::jsonb", string(b))
		} else {
			add("EXISTS (SELECT 1 FROM json_each(customers.tags) WHERE value = ?)", q.Tag)
		}
	}
	if p := strings.ToLower(strings.TrimSpace(q.EmailPrefix)); p != "" {
		// a range, not LIKE: both backends use the (org_id, email) index,
		// and no character of p is a wildcard
		add("email >= ? AND email < ?", p, p+"\U0010FFFF")
	}
	if s := strings.TrimSpace(q.Search); s != "" {
		cond, a := r.customerSearch(s)
		add(cond, a...)
	}
	return pages.build(r, where, args, q.Sort, q.Desc, q.After, q.Limit)
}

// customerSearch is the condition of a free-text search: each word must
// be a word of the name, company or email, and the last word may be the
// start of one (typing "grace hop" finds Grace Hopper); on Postgres a
// single word of four or more characters may also occur anywhere inside
// the name or email (trigram indexes: "ovela" finds Lovelace). Exact
// earlier words and trigrams only for longer single words keep the index
// work small: a prefix like "grace:*" or a trigram like "ada" reads tens
// of thousands of postings in a million customers.
func (r *repo) customerSearch(s string) (string, []any) {
	words := searchWords(s, 8)
	last := len(words) - 1
	if r.postgres {
		terms := make([]string, len(words))
		for i, w := range words {
			terms[i] = w // only letters and digits: nothing for to_tsquery to parse
			if i == last {
				terms[i] += ":*"
			}
		}
		like := "%" + escapeLike(strings.ToLower(strings.TrimSpace(s))) + "%"
		switch {
		case len(words) == 0:
			return "(name_key LIKE ? OR email LIKE ?)", []any{like, like}
		case len(words) == 1 && utf8.RuneCountInString(words[0]) >= 4:
			return "(search @@ to_tsquery('simple', ?) OR name_key LIKE ? OR email LIKE ?)", []any{terms[0], like, like}
		}
		return "search @@ to_tsquery('simple', ?)", []any{strings.Join(terms, " & ")}
	}
	if len(words) == 0 {
		return "0", nil
	}
	terms := make([]string, len(words))
	for i, w := range words {
		terms[i] = `"` + w + `"` // a quoted FTS5 string: no operator inside
		if i == last {
			terms[i] += "*"
		}
	}
	return "rowid IN (SELECT rowid FROM customers_fts WHERE customers_fts MATCH ?)", []any{strings.Join(terms, " ")}
}

// escapeLike escapes LIKE's wildcards with a backslash (Postgres's default escape).
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

func (r *repo) PutActionResult(ctx context.Context, orgID, key string, result json.RawMessage) error {
	if err := need("action result", "orgId", orgID, "key", key); err != nil {
		return err
	}
	if !json.Valid(result) {
		return fmt.Errorf("%w: action result %s: not JSON", domain.ErrInvalid, key)
	}
	_, err := r.exec(ctx, `INSERT INTO action_results (org_id, key, result, created_at) VALUES (?, ?, ?, ?)`,
		orgID, key, string(result), r.ts(stamp(time.Time{})))
	return wrap("put action result "+key, err)
}

func (r *repo) ActionResult(ctx context.Context, orgID, key string) (json.RawMessage, error) {
	var out json.RawMessage
	err := r.queryRow(ctx, `SELECT result FROM action_results WHERE org_id = ? AND key = ?`, orgID, key).Scan(jsonDest{&out})
	if err != nil {
		return nil, wrap("action result "+key, translate(err))
	}
	return out, nil
}
