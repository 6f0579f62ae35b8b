package crm

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"switchboard/domain"
)

// ImportRow is one customer of an import and where it came from.
type ImportRow struct {
	Row      int // the file's line (CSV, header = 1) or the list's index (JSON)
	Customer *domain.Customer
	// Set names the fields the row gives (for onConflict "update": only
	// those change).
	Set []string
}

// ImportResult counts what an import did (or, dry, would do).
type ImportResult struct {
	Created int  `json:"created"`
	Updated int  `json:"updated"`
	Skipped int  `json:"skipped"`
	DryRun  bool `json:"dryRun,omitempty"`
}

// RowError is a problem with one row of an import.
type RowError struct {
	Row     int    `json:"row"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// ImportError lists every bad row; nothing was imported. It wraps ErrInvalid.
type ImportError struct{ Rows []RowError }

func (e *ImportError) Error() string {
	return fmt.Sprintf("%d problem(s) in the import, the first at row %d: %s %s", len(e.Rows), e.Rows[0].Row, e.Rows[0].Field, e.Rows[0].Message)
}
func (e *ImportError) Unwrap() error { return domain.ErrInvalid }

// Import conflicts: what to do with a row whose email an existing customer has.
var ImportConflicts = []string{"fail", "skip", "update"}

// ImportCustomers imports rows all or nothing: every row is checked first
// (fields, duplicate emails within the file, emails taken in the
// organisation unless onConflict is skip or update, owners); any problem
// is an *ImportError listing them all and nothing is written. Otherwise
// the customers are created (customer.created each) or updated, in one
// transaction with one audit row. dryRun checks and counts without writing.
func (s *Service) ImportCustomers(ctx context.Context, actor Actor, orgID string, rows []ImportRow, onConflict string, dryRun bool) (*ImportResult, error) {
	if onConflict == "" {
		onConflict = "fail"
	}
	var res *ImportResult
	run := func(tx domain.Repo) ([]*domain.Event, error) {
		res = &ImportResult{DryRun: dryRun}
		var bad []RowError
		seen := map[string]int{}
		type plan struct {
			row    ImportRow
			update *domain.Customer
		}
		var plans []plan
		for _, r := range rows {
			c := r.Customer
			c.OrgID = orgID
			c.Normalize()
			if err := c.Validate(); err != nil {
				var ve *domain.ValidationError
				if errors.As(err, &ve) {
					for _, f := range ve.Fields {
						bad = append(bad, RowError{Row: r.Row, Field: f.Field, Message: f.Message})
					}
					continue
				}
				return nil, err
			}
			if err := checkOwner(ctx, tx, c); err != nil {
				bad = append(bad, RowError{Row: r.Row, Field: "ownerId", Message: "is not a user of this organisation"})
				continue
			}
			if err := checkCustom(ctx, tx, orgID, "customer", c.Custom); err != nil {
				var ve *domain.ValidationError
				if !errors.As(err, &ve) {
					return nil, err
				}
				for _, f := range ve.Fields {
					bad = append(bad, RowError{Row: r.Row, Field: f.Field, Message: f.Message})
				}
				continue
			}
			if c.Email != "" {
				if first, dup := seen[c.Email]; dup {
					bad = append(bad, RowError{Row: r.Row, Field: "email", Message: fmt.Sprintf("is also on row %d", first)})
					continue
				}
				seen[c.Email] = r.Row
				existing, err := tx.CustomerByEmail(ctx, orgID, c.Email)
				switch {
				case err == nil && onConflict == "fail":
					bad = append(bad, RowError{Row: r.Row, Field: "email", Message: "belongs to customer " + existing.ID + " (import with onConflict=skip or update)"})
					continue
				case err == nil && onConflict == "skip":
					res.Skipped++
					continue
				case err == nil:
					plans = append(plans, plan{row: r, update: existing})
					continue
				case !errors.Is(err, domain.ErrNotFound):
					return nil, err
				}
			}
			plans = append(plans, plan{row: r})
		}
		if len(bad) > 0 {
			return nil, &ImportError{Rows: bad}
		}
		var events []*domain.Event
		for _, p := range plans {
			if p.update == nil {
				res.Created++
				if !dryRun {
					if err := tx.CreateCustomer(ctx, p.row.Customer); err != nil {
						return nil, fmt.Errorf("row %d: %w", p.row.Row, err)
					}
					events = append(events, event("customer.created", CustomerEvent{Customer: p.row.Customer, Actor: actor}))
				}
				continue
			}
			before := p.update
			c := clone(before)
			applyFields(c, p.row.Customer, p.row.Set)
			c.Normalize()
			changes := changedFields(before, c)
			if len(changes) == 0 {
				res.Skipped++
				continue
			}
			res.Updated++
			if !dryRun {
				if err := tx.UpdateCustomer(ctx, c); err != nil {
					return nil, fmt.Errorf("row %d: %w", p.row.Row, err)
				}
				events = append(events, event("customer.updated", CustomerEvent{Customer: c, Changes: changes, Actor: actor}))
				if before.Status != c.Status {
					events = append(events, event("customer.status_changed", CustomerEvent{Customer: c, From: before.Status, Actor: actor}))
				}
			}
		}
		return events, nil
	}
	if dryRun {
		err := s.Store.Tx(ctx, func(tx domain.Repo) error { _, err := run(tx); return err })
		return res, err
	}
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (*ImportResult, []*domain.Event, *domain.AuditEntry, error) {
		events, err := run(tx)
		if err != nil {
			return nil, nil, nil, err
		}
		return res, events, &domain.AuditEntry{Action: "customer.import", Target: "customers",
			Details: details(map[string]any{"created": res.Created, "updated": res.Updated, "skipped": res.Skipped, "onConflict": onConflict})}, nil
	})
	return res, err
}

// applyFields copies the named fields of from onto c.
func applyFields(c, from *domain.Customer, set []string) {
	for _, f := range set {
		switch strings.SplitN(f, ".", 2)[0] {
		case "name":
			c.Name = from.Name
		case "phone":
			c.Phone = from.Phone
		case "company":
			c.Company = from.Company
		case "title":
			c.Title = from.Title
		case "status":
			c.Status = from.Status
		case "type":
			c.Type = from.Type
		case "source":
			c.Source = from.Source
		case "ownerId":
			c.OwnerID = from.OwnerID
		case "tags":
			c.Tags = from.Tags
		case "lifetimeValue":
			c.LifetimeValue = from.LifetimeValue
		case "address":
			c.Address = from.Address
		case "health":
			c.Health = from.Health
		case "custom":
			c.Custom = from.Custom
		}
	}
}
