package crm

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"

	"switchboard/domain"
)

// Actor says who makes a change: a user or API key id, or a run
// ("run:<workflow id>"); it is written to the audit log and the events.
type Actor string

// Service changes business records. The zero value is not usable: Store is
// required.
type Service struct {
	Store domain.Store
}

// CustomerEvent is the data of customer.* events.
type CustomerEvent struct {
	Customer *domain.Customer `json:"customer"`
	// Changes names the fields an update changed (customer.updated).
	Changes []string `json:"changes,omitempty"`
	// From is the previous status (customer.status_changed).
	From  string `json:"from,omitempty"`
	Actor Actor  `json:"actor"`
}

type keyCtx struct{}

// WithIdempotencyKey makes the changes made with ctx idempotent by key: the
// first change records its result under key in its transaction, and a
// later change with the same key returns that result and changes nothing
// (a retried action). Keys are per organisation.
func WithIdempotencyKey(ctx context.Context, key string) context.Context {
	return context.WithValue(ctx, keyCtx{}, key)
}

// change writes the record change fn makes, its events and its audit row in
// one transaction, and returns fn's result; with an idempotency key in ctx
// it does that at most once per key.
func change[T any](ctx context.Context, s *Service, orgID string, actor Actor, fn func(tx domain.Repo) (T, []*domain.Event, *domain.AuditEntry, error)) (T, error) {
	key, _ := ctx.Value(keyCtx{}).(string)
	var out T
	err := s.Store.Tx(ctx, func(tx domain.Repo) error {
		if key != "" {
			raw, err := tx.ActionResult(ctx, orgID, key)
			switch {
			case err == nil:
				if err := json.Unmarshal(raw, &out); err != nil {
					return err
				}
				setOrg(out, orgID) // records keep their organisation out of JSON
				return nil
			case !errors.Is(err, domain.ErrNotFound):
				return err
			}
		}
		res, events, audit, err := fn(tx)
		if err != nil {
			return err
		}
		out = res
		for _, e := range events {
			e.OrgID, e.Source = orgID, "records"
			if err := tx.PublishEvent(ctx, e); err != nil {
				return err
			}
			if entry := timelineOf(e, actor); entry != nil {
				entry.OrgID = orgID
				// a customer deleted since (say, a payment of theirs
				// settling later) has no timeline: the change still counts
				if err := tx.AddTimeline(ctx, entry); err != nil && !errors.Is(err, domain.ErrNotFound) {
					return err
				}
			}
		}
		audit.OrgID, audit.Actor = orgID, string(actor)
		if err := tx.AppendAudit(ctx, audit); err != nil {
			return err
		}
		if key != "" {
			b, err := json.Marshal(res)
			if err != nil {
				return err
			}
			return tx.PutActionResult(ctx, orgID, key, b)
		}
		return nil
	})
	return out, err
}

// setOrg sets the OrgID field of a pointer to a record struct.
func setOrg(v any, orgID string) {
	rv := reflect.ValueOf(v)
	if rv.Kind() != reflect.Pointer || rv.IsNil() || rv.Elem().Kind() != reflect.Struct {
		return
	}
	if f := rv.Elem().FieldByName("OrgID"); f.IsValid() && f.CanSet() && f.Kind() == reflect.String {
		f.SetString(orgID)
	}
}

func event(typ string, data any) *domain.Event {
	b, err := json.Marshal(data)
	if err != nil {
		panic(fmt.Sprintf("crm: event %s: %v", typ, err)) // our own types always marshal
	}
	return &domain.Event{Type: typ, Data: b}
}

func details(v any) json.RawMessage {
	b, _ := json.Marshal(v)
	return b
}

// CreateCustomer creates c in its organisation (c.OrgID) and emits
// customer.created.
func (s *Service) CreateCustomer(ctx context.Context, actor Actor, c *domain.Customer) (*domain.Customer, error) {
	return change(ctx, s, c.OrgID, actor, func(tx domain.Repo) (*domain.Customer, []*domain.Event, *domain.AuditEntry, error) {
		if err := checkOwner(ctx, tx, c); err != nil {
			return nil, nil, nil, err
		}
		c.Normalize()
		if err := checkCustom(ctx, tx, c.OrgID, "customer", c.Custom); err != nil {
			return nil, nil, nil, err
		}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		return c, []*domain.Event{event("customer.created", CustomerEvent{Customer: c, Actor: actor})},
			&domain.AuditEntry{Action: "customer.create", Target: "customer/" + c.ID}, nil
	})
}

// UpdateCustomer applies edit to the stored customer and saves it, emitting
// customer.updated with the changed fields (nothing when nothing changed)
// and customer.status_changed when the status moved. version, when not 0,
// must be the stored version (else ErrConflict). It returns the customer
// as saved.
func (s *Service) UpdateCustomer(ctx context.Context, actor Actor, orgID, id string, version int, edit func(c *domain.Customer) error) (*domain.Customer, error) {
	return updateRecord(ctx, s, actor, orgID, id, version, edit, editable[domain.Customer]{
		kind:    "customer",
		get:     func(tx domain.Repo) (*domain.Customer, error) { return tx.GetCustomer(ctx, orgID, id) },
		save:    func(tx domain.Repo, c *domain.Customer) error { return tx.UpdateCustomer(ctx, c) },
		version: func(c *domain.Customer) int { return c.Version },
		keep: func(before, c *domain.Customer) {
			c.ID, c.OrgID, c.Version, c.CreatedAt = before.ID, before.OrgID, before.Version, before.CreatedAt
			c.Normalize()
		},
		check: func(tx domain.Repo, c *domain.Customer, changes []string) error {
			if slices.Contains(changes, "ownerId") {
				if err := checkOwner(ctx, tx, c); err != nil {
					return err
				}
			}
			if slices.Contains(changes, "custom") {
				return checkCustom(ctx, tx, orgID, "customer", c.Custom)
			}
			return nil
		},
		events: func(before, c *domain.Customer, changes []string) []*domain.Event {
			events := []*domain.Event{event("customer.updated", CustomerEvent{Customer: c, Changes: changes, Actor: actor})}
			if before.Status != c.Status {
				events = append(events, event("customer.status_changed", CustomerEvent{Customer: c, From: before.Status, Actor: actor}))
			}
			return events
		},
	})
}

func cmpOr[T any](s []T, def []T) []T {
	if s == nil {
		return def
	}
	return s
}

// DeleteCustomer deletes a customer and emits customer.deleted.
func (s *Service) DeleteCustomer(ctx context.Context, actor Actor, orgID, id string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Customer, []*domain.Event, *domain.AuditEntry, error) {
		c, err := tx.GetCustomer(ctx, orgID, id)
		if err != nil {
			return nil, nil, nil, err
		}
		if err := tx.DeleteCustomer(ctx, orgID, id); err != nil {
			return nil, nil, nil, err
		}
		return c, []*domain.Event{event("customer.deleted", CustomerEvent{Customer: c, Actor: actor})},
			&domain.AuditEntry{Action: "customer.delete", Target: "customer/" + id}, nil
	})
	return err
}

// checkOwner: a customer's owner is a user of its organisation.
func checkOwner(ctx context.Context, tx domain.Repo, c *domain.Customer) error {
	return checkUser(ctx, tx, c.OrgID, "customer", "ownerId", c.OwnerID)
}

// checkUser: a record's owner or assignee (field) is a user of its organisation.
func checkUser(ctx context.Context, tx domain.Repo, orgID, record, field, userID string) error {
	if userID == "" {
		return nil
	}
	if _, err := tx.GetUser(ctx, orgID, userID); err != nil {
		if errors.Is(err, domain.ErrNotFound) {
			return &domain.ValidationError{Record: record, Fields: []domain.FieldError{{Field: field, Message: "is not a user of this organisation"}}}
		}
		return err
	}
	return nil
}

// clone deep-copies a record through JSON, keeping its organisation.
func clone[T any](v *T) *T {
	b, _ := json.Marshal(v)
	out := new(T)
	_ = json.Unmarshal(b, out)
	setOrg(out, orgOf(v))
	return out
}

func orgOf(v any) string {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Pointer && !rv.IsNil() && rv.Elem().Kind() == reflect.Struct {
		if f := rv.Elem().FieldByName("OrgID"); f.IsValid() && f.Kind() == reflect.String {
			return f.String()
		}
	}
	return ""
}

// changedFields names the JSON fields that differ between two records of
// one type (pointers to structs), ignoring id, version and times.
func changedFields(a, b any) []string {
	var changes []string
	va, vb := reflect.ValueOf(a).Elem(), reflect.ValueOf(b).Elem()
	ta := va.Type()
	for i := range ta.NumField() {
		f := ta.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		switch name {
		case "", "-", "id", "version", "createdAt", "updatedAt":
			continue
		}
		x, y := va.Field(i).Interface(), vb.Field(i).Interface()
		if raw, ok := x.(json.RawMessage); ok {
			if !jsonEqual(raw, y.(json.RawMessage)) {
				changes = append(changes, name)
			}
			continue
		}
		if !reflect.DeepEqual(normalizeEmpty(x), normalizeEmpty(y)) {
			changes = append(changes, name)
		}
	}
	return changes
}

// normalizeEmpty treats an empty slice like nil.
func normalizeEmpty(v any) any {
	rv := reflect.ValueOf(v)
	if rv.Kind() == reflect.Slice && rv.Len() == 0 {
		return nil
	}
	return v
}

func jsonEqual(a, b json.RawMessage) bool {
	if len(a) == 0 || len(b) == 0 {
		return len(a) == len(b)
	}
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return string(a) == string(b)
	}
	return reflect.DeepEqual(x, y)
}
