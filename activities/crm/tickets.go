package crm

import (
	"context"
	"encoding/json"

	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

const (
	priorityEnum     = `{"enum": ["low", "medium", "high", "critical"]}`
	ticketStatusEnum = `{"enum": ["open", "in_progress", "waiting_customer", "escalated", "resolved", "closed"]}`
	roleEnum         = `{"enum": ["owner", "admin", "builder", "operator", "viewer"]}`
)

// ticketFieldsSchema are the fields of a ticket a create or update sets.
const ticketFieldsSchema = `
	"subject": {"type": "string", "minLength": 1, "maxLength": 300},
	"description": {"type": "string"},
	"priority": ` + priorityEnum + `,
	"category": {"type": "string"},
	"slaPolicy": {"type": "string"}`

const ticketSchema = `{"type": "object", "additionalProperties": false, "required": ["id", "customerId", "subject", "status", "priority", "slaPolicy", "version"],
	"properties": {"id": {"type": "string"}, "customerId": {"type": "string"}, "status": ` + ticketStatusEnum + `, "assigneeId": {"type": "string"},
	"firstResponseDue": {"type": "string"}, "resolutionDue": {"type": "string"}, "firstResponseAt": {"type": "string"},
	"resolvedAt": {"type": "string"}, "closedAt": {"type": "string"},
	"firstResponseBreached": {"type": "boolean"}, "resolutionBreached": {"type": "boolean"},
	"satisfaction": {"type": "object"}, "runId": {"type": "string"}, "version": {"type": "integer"},
	"createdAt": {"type": "string"}, "updatedAt": {"type": "string"},` + ticketFieldsSchema + `}}`

const assignSchema = `{"type": "object", "additionalProperties": false, "description": "A user, or the next user of a role by a strategy",
	"properties": {"userId": {"type": "string"}, "strategy": {"enum": ["round_robin", "least_loaded"]}, "role": ` + roleEnum + `}}`

func ticketActions() []dsl.Action {
	errs := []string{ErrNotFound, ErrConflict, ErrValidation, ErrInvalidTransition, ErrNoRecords}
	id := `"id": {"type": "string", "minLength": 1}`
	return []dsl.Action{{
		Name:  "crm.ticket.create",
		Title: "Open a ticket",
		Description: "A ticket of a customer with SLA deadlines from its policy (default `default`) and priority (default medium), " +
			"counted in working time; `assign` picks the assignee. Emits `ticket.created`.",
		Input: json.RawMessage(`{"type": "object", "required": ["customerId", "subject"], "additionalProperties": false, "properties": {
			"customerId": {"type": "string", "minLength": 1}, "assigneeId": {"type": "string"}, "assign": ` + assignSchema + `,` + ticketFieldsSchema + `}}`),
		Output: json.RawMessage(ticketSchema),
		Errors: errs,
	}, {
		Name:   "crm.ticket.get",
		Title:  "Get a ticket",
		Input:  json.RawMessage(`{"type": "object", "required": ["id"], "additionalProperties": false, "properties": {` + id + `}}`),
		Output: json.RawMessage(ticketSchema),
		Errors: errs,
	}, {
		Name:        "crm.ticket.update",
		Title:       "Change a ticket",
		Description: "`set` is a merge patch of the subject, description, priority, category or SLA policy (the deadlines follow). Emits `ticket.updated`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id", "set"], "additionalProperties": false, "properties": {` + id + `,
			"version": {"type": "integer", "minimum": 1},
			"set": {"type": "object", "additionalProperties": false, "properties": {` + nullable(ticketFieldsSchema) + `}}}}`),
		Output: json.RawMessage(ticketSchema),
		Errors: errs,
	}, {
		Name:        "crm.ticket.move",
		Title:       "Change a ticket's status",
		Description: "A closed ticket reopens (to open or in_progress) only with a `reason` (else `InvalidTransition`). Emits `ticket.status_changed`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id", "status"], "additionalProperties": false, "properties": {` + id + `,
			"status": ` + ticketStatusEnum + `, "reason": {"type": "string", "maxLength": 500}, "version": {"type": "integer", "minimum": 1}}}`),
		Output: json.RawMessage(ticketSchema),
		Errors: errs,
	}, {
		Name:  "crm.ticket.assign",
		Title: "Assign a ticket",
		Description: "To `userId`, or to the next user with `role` by `strategy`: `round_robin` (in turn) or `least_loaded` (fewest open tickets). " +
			"Emits `ticket.assigned`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id"], "additionalProperties": false, "properties": {` + id + `,
			"userId": {"type": "string"}, "strategy": {"enum": ["round_robin", "least_loaded"]}, "role": ` + roleEnum + `}}`),
		Output: json.RawMessage(ticketSchema),
		Errors: errs,
	}, {
		Name:  "crm.ticket.message",
		Title: "Add a message to a ticket",
		Description: "`inbound` (from the customer: reopens a ticket waiting for them), `outbound` (to the customer: the first one is the first response) " +
			"or `internal` (a note). A closed ticket fails with `InvalidTransition`. Emits `ticket.message_added`.",
		Input: json.RawMessage(`{"type": "object", "required": ["id", "direction", "body"], "additionalProperties": false, "properties": {` + id + `,
			"direction": {"enum": ["inbound", "outbound", "internal"]}, "body": {"type": "string", "minLength": 1}, "author": {"type": "string"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["id", "ticketId", "direction", "author", "body", "createdAt"], "properties": {
			"id": {"type": "string"}, "ticketId": {"type": "string"}, "direction": {"type": "string"}, "author": {"type": "string"},
			"body": {"type": "string"}, "createdAt": {"type": "string"}}}`),
		Errors: errs,
	}}
}

func (a *actions) createTicket(ctx context.Context, args map[string]any) (any, error) {
	var in struct {
		domain.Ticket
		Assign *crm.Assignment `json:"assign"`
	}
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	t := &in.Ticket
	t.OrgID = k.org
	saved, err := a.svc.CreateTicket(changing(ctx), k.actor, t, in.Assign)
	if err != nil {
		return nil, err
	}
	return view(saved)
}

func (a *actions) getTicket(ctx context.Context, args map[string]any) (any, error) {
	t, err := a.store.GetTicket(ctx, callOf(ctx).org, args["id"].(string))
	if err != nil {
		return nil, err
	}
	return view(t)
}

func (a *actions) updateTicket(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	patch, _ := args["set"].(map[string]any)
	t, err := a.svc.UpdateTicket(changing(ctx), k.actor, k.org, args["id"].(string), intArg(args, "version"), func(t *domain.Ticket) error {
		return crm.PatchTicket(t, patch)
	})
	if err != nil {
		return nil, err
	}
	return view(t)
}

func (a *actions) moveTicket(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	reason, _ := args["reason"].(string)
	t, err := a.svc.MoveTicket(changing(ctx), k.actor, k.org, args["id"].(string), args["status"].(string), reason, intArg(args, "version"))
	if err != nil {
		return nil, err
	}
	return view(t)
}

func (a *actions) assignTicket(ctx context.Context, args map[string]any) (any, error) {
	var in crm.Assignment
	if err := decode(args, &in); err != nil {
		return nil, err
	}
	k := callOf(ctx)
	t, err := a.svc.AssignTicket(changing(ctx), k.actor, k.org, args["id"].(string), in)
	if err != nil {
		return nil, err
	}
	return view(t)
}

func (a *actions) messageTicket(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	author, _ := args["author"].(string)
	m := &domain.TicketMessage{Direction: args["direction"].(string), Body: args["body"].(string), Author: author}
	saved, err := a.svc.AddTicketMessage(changing(ctx), k.actor, k.org, args["id"].(string), m)
	if err != nil {
		return nil, err
	}
	return view(saved)
}
