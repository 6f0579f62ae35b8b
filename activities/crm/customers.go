package crm

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

// customerFieldsSchema are the writable fields of a customer.
const customerFieldsSchema = `
	"name": {"type": "string", "minLength": 1, "maxLength": 200},
	"email": {"type": "string", "maxLength": 254},
	"phone": {"type": "string", "maxLength": 30},
	"company": {"type": "string", "maxLength": 200},
	"title": {"type": "string", "maxLength": 200},
	"address": {"type": "object", "additionalProperties": false, "properties": {
		"line1": {"type": "string"}, "line2": {"type": "string"}, "city": {"type": "string"},
		"region": {"type": "string"}, "postalCode": {"type": "string"}, "country": {"type": "string"}}},
	"status": {"enum": ["lead", "prospect", "customer", "churned"]},
	"type": {"enum": ["individual", "business", "enterprise"]},
	"lifetimeValue": {"type": "object", "required": ["amount", "currency"], "additionalProperties": false,
		"description": "Integer minor units of an ISO 4217 currency",
		"properties": {"amount": {"type": "integer", "minimum": 0}, "currency": {"type": "string"}}},
	"source": {"type": "string", "maxLength": 100},
	"ownerId": {"type": "string", "maxLength": 64},
	"health": {"type": "object", "required": ["score"], "additionalProperties": false, "properties": {
		"score": {"type": "integer", "minimum": 0, "maximum": 100},
		"riskFactors": {"type": "array", "items": {"type": "string"}}}},
	"tags": {"type": "array", "items": {"type": "string"}, "maxItems": 50},
	"custom": {"type": "object"}`

// customerSchema is a customer as the actions return it.
const customerSchema = `{"type": "object", "additionalProperties": false, "required": ["id", "name", "status", "type", "version"],
	"properties": {
	"id": {"type": "string"},
	"version": {"type": "integer"},
	"createdAt": {"type": "string", "format": "date-time"},
	"updatedAt": {"type": "string", "format": "date-time"},` + customerFieldsSchema + `}}`

func customerActions() []dsl.Action {
	errs := []string{ErrNotFound, ErrConflict, ErrValidation, ErrNoRecords}
	return []dsl.Action{{
		Name:  "crm.customer.create",
		Title: "Create a customer",
		Description: "Creates a customer in the run's organisation and emits `customer.created`. " +
			"`onConflict: existing` returns the customer who already has the email instead of failing with `Conflict`.",
		Input: json.RawMessage(`{"type": "object", "required": ["name"], "additionalProperties": false, "properties": {` +
			customerFieldsSchema + `, "onConflict": {"enum": ["fail", "existing"], "default": "fail"}}}`),
		Output: json.RawMessage(customerSchema),
		Errors: errs,
	}, {
		Name:        "crm.customer.get",
		Title:       "Get a customer by id or email",
		Description: "Fails with `NotFound` when there is no such customer in the run's organisation.",
		Input: json.RawMessage(`{"type": "object", "additionalProperties": false, "minProperties": 1, "maxProperties": 1,
			"properties": {"id": {"type": "string", "minLength": 1}, "email": {"type": "string", "minLength": 1}}}`),
		Output: json.RawMessage(customerSchema),
		Errors: errs,
	}, {
		Name:  "crm.customer.update",
		Title: "Change a customer",
		Description: "`set` is a JSON merge patch of the customer's fields (null clears one). With `version`, the " +
			"change applies only to that version (else `Conflict`). Emits `customer.updated` and, when the status moves, " +
			"`customer.status_changed`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id", "set"], "additionalProperties": false, "properties": {
			"id": {"type": "string", "minLength": 1}, "version": {"type": "integer", "minimum": 1},
			"set": {"type": "object", "additionalProperties": false, "properties": {` + nullable(customerFieldsSchema) + `}}}}`),
		Output: json.RawMessage(customerSchema),
		Errors: errs,
	}, {
		Name:        "crm.customer.search",
		Title:       "Find customers",
		Description: "Filters, full-text `query` over name, company and email, and keyset pages (`cursor` from `nextCursor`).",
		Input: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {
			"query": {"type": "string", "maxLength": 200},
			"status": {"enum": ["lead", "prospect", "customer", "churned"]},
			"type": {"enum": ["individual", "business", "enterprise"]},
			"ownerId": {"type": "string"}, "source": {"type": "string"}, "tag": {"type": "string"},
			"emailPrefix": {"type": "string"},
			"sort": {"enum": ["created", "-created", "name", "-name", "updated", "-updated", "value", "-value"]},
			"limit": {"type": "integer", "minimum": 1, "maximum": 100, "default": 20},
			"cursor": {"type": "string"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["items"], "properties": {
			"items": {"type": "array", "items": ` + customerSchema + `}, "nextCursor": {"type": "string"}}}`),
		Errors: errs,
	}}
}

// nullable lets every property of a fields schema also be null (a merge
// patch's "clear this field").
func nullable(fields string) string {
	var props map[string]json.RawMessage
	if err := json.Unmarshal([]byte("{"+fields+"}"), &props); err != nil {
		panic("crm: customer fields schema: " + err.Error())
	}
	out := map[string]any{}
	for k, v := range props {
		out[k] = map[string]any{"anyOf": []any{v, map[string]any{"type": "null"}}}
	}
	b, _ := json.Marshal(out)
	return strings.TrimSuffix(strings.TrimPrefix(string(b), "{"), "}")
}

// view is what the actions return for a record: the record without its
// organisation, with empty lists and objects left out.
func view(c any) (map[string]any, error) {
	b, err := json.Marshal(c)
	if err != nil {
		return nil, err
	}
	var m map[string]any
	return m, json.Unmarshal(b, &m)
}

func (a *actions) createCustomer(ctx context.Context, args map[string]any) (any, error) {
	onConflict, _ := args["onConflict"].(string)
	delete(args, "onConflict")
	c := &domain.Customer{}
	if err := decode(args, c); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	c.OrgID = k.org
	saved, err := a.svc.CreateCustomer(changing(ctx), k.actor, c)
	if errors.Is(err, domain.ErrConflict) && onConflict == "existing" && c.Email != "" {
		saved, err = a.store.CustomerByEmail(ctx, k.org, c.Email)
	}
	if err != nil {
		return nil, err
	}
	return view(saved)
}

func (a *actions) getCustomer(ctx context.Context, args map[string]any) (any, error) {
	org := callOf(ctx).org
	var c *domain.Customer
	var err error
	if email, ok := args["email"].(string); ok {
		c, err = a.store.CustomerByEmail(ctx, org, email)
	} else {
		c, err = a.store.GetCustomer(ctx, org, args["id"].(string))
	}
	if err != nil {
		return nil, err
	}
	return view(c)
}

func (a *actions) updateCustomer(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	patch, _ := args["set"].(map[string]any)
	c, err := a.svc.UpdateCustomer(changing(ctx), k.actor, k.org, args["id"].(string), intArg(args, "version"), func(c *domain.Customer) error {
		return crm.PatchCustomer(c, patch)
	})
	if err != nil {
		return nil, err
	}
	return view(c)
}

func (a *actions) searchCustomers(ctx context.Context, args map[string]any) (any, error) {
	var in struct {
		Query, Status, Type, OwnerID, Source, Tag, EmailPrefix, Sort, Cursor string
		Limit                                                                int
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	if in.Limit == 0 {
		in.Limit = 20
	}
	cs, next, err := a.store.ListCustomers(ctx, callOf(ctx).org, domain.CustomerQuery{Status: in.Status, Type: in.Type,
		OwnerID: in.OwnerID, Source: in.Source, Tag: in.Tag, EmailPrefix: in.EmailPrefix, Search: in.Query,
		Sort: strings.TrimPrefix(in.Sort, "-"), Desc: strings.HasPrefix(in.Sort, "-"), Limit: in.Limit, After: in.Cursor})
	if err != nil {
		return nil, err
	}
	items := make([]any, len(cs))
	for i := range cs {
		if items[i], err = view(&cs[i]); err != nil {
			return nil, err
		}
	}
	out := map[string]any{"items": items}
	if next != "" {
		out["nextCursor"] = next
	}
	return out, nil
}
