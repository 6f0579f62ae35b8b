package api

import (
	"context"
	"net/http"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
)

// AssignmentFields say who gets a ticket: a user, or the next user of a
// role by a strategy.
type AssignmentFields struct {
	UserID   string `json:"userId,omitempty" maxLength:"64"`
	Strategy string `json:"strategy,omitempty" enum:"round_robin,least_loaded" doc:"With role: in turn by user id, or the user with the fewest open tickets"`
	Role     string `json:"role,omitempty" enum:"owner,admin,builder,operator,viewer"`
}

func (a *AssignmentFields) assignment() *crm.Assignment {
	if a == nil {
		return nil
	}
	return &crm.Assignment{UserID: a.UserID, Strategy: a.Strategy, Role: domain.Role(a.Role)}
}

func (s *Server) ticketRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"tickets"}

	type createTicketInput struct {
		Body struct {
			CustomerID  string            `json:"customerId" minLength:"1" maxLength:"64"`
			Subject     string            `json:"subject" minLength:"1" maxLength:"300"`
			Description string            `json:"description,omitempty" maxLength:"102400"`
			Priority    string            `json:"priority,omitempty" enum:"low,medium,high,critical" doc:"Default medium"`
			Category    string            `json:"category,omitempty" maxLength:"63"`
			SLAPolicy   string            `json:"slaPolicy,omitempty" maxLength:"64" doc:"Default \"default\""`
			AssigneeID  string            `json:"assigneeId,omitempty" maxLength:"64"`
			Assign      *AssignmentFields `json:"assign,omitempty" doc:"Instead of assigneeId: pick the assignee among a role"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "create-ticket", Method: http.MethodPost, Path: "/v1/tickets",
		DefaultStatus: http.StatusCreated, Summary: "Open a ticket", Tags: tags,
		Description: "The SLA deadlines come from the policy and priority, in working time of the policy's calendar. Emits `ticket.created`."},
		func(ctx context.Context, in *createTicketInput) (*recordOut[domain.Ticket], error) {
			pr := principal(ctx)
			b := in.Body
			t := &domain.Ticket{OrgID: pr.OrgID, CustomerID: b.CustomerID, Subject: b.Subject, Description: b.Description, Priority: b.Priority,
				Category: b.Category, SLAPolicy: b.SLAPolicy, AssigneeID: b.AssigneeID}
			if _, err := svc.CreateTicket(ctx, crm.Actor(pr.Actor()), t, b.Assign.assignment()); err != nil {
				return nil, storeErr(err, "ticket")
			}
			return out(t, t.Version), nil
		})

	type listTicketsInput struct {
		Status   string `query:"status" enum:"open,in_progress,waiting_customer,escalated,resolved,closed"`
		Priority string `query:"priority" enum:"low,medium,high,critical"`
		Assignee string `query:"assignee" maxLength:"64"`
		Customer string `query:"customer" maxLength:"64"`
		Category string `query:"category" maxLength:"63"`
		Open     bool   `query:"open" doc:"Only tickets not resolved or closed"`
		Breached bool   `query:"breached" doc:"Only tickets past an SLA target"`
		Q        string `query:"q" maxLength:"200" doc:"Words that must start words of the subject or description (English stemming)"`
		Sort     string `query:"sort" enum:"created,-created,updated,-updated" doc:"Order; default newest first (-created)"`
		Limit    int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor   string `query:"cursor" maxLength:"1000"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-tickets", Method: http.MethodGet, Path: "/v1/tickets",
		Summary: "List tickets (newest first by default), filtered and searched", Tags: tags},
		func(ctx context.Context, in *listTicketsInput) (*bodyOut[Page[domain.Ticket]], error) {
			q := domain.TicketQuery{Status: in.Status, Priority: in.Priority, AssigneeID: in.Assignee, CustomerID: in.Customer,
				Category: in.Category, Open: in.Open, Breached: in.Breached, Search: in.Q, Limit: in.Limit, After: in.Cursor}
			q.Sort, q.Desc = sortParam(in.Sort)
			ts, next, err := s.store.ListTickets(ctx, principal(ctx).OrgID, q)
			if err != nil {
				return nil, storeErr(err, "tickets")
			}
			return &bodyOut[Page[domain.Ticket]]{Page[domain.Ticket]{Items: ts, NextCursor: next}}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-ticket", Method: http.MethodGet, Path: "/v1/tickets/{id}",
		Summary: "Get a ticket", Tags: tags},
		func(ctx context.Context, in *idInput) (*recordOut[domain.Ticket], error) {
			t, err := s.store.GetTicket(ctx, principal(ctx).OrgID, in.ID)
			if err != nil {
				return nil, storeErr(err, "ticket "+in.ID)
			}
			return out(t, t.Version), nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "update-ticket", Method: http.MethodPatch, Path: "/v1/tickets/{id}",
		Summary: "Change a ticket (JSON merge patch)", Tags: tags,
		Description: "`subject`, `description`, `priority`, `category`, `slaPolicy` (the deadlines follow, counted from creation). " +
			"Status, assignee, messages and rating have their own endpoints. Emits `ticket.updated`."},
		func(ctx context.Context, in *patchInput) (*recordOut[domain.Ticket], error) {
			pr := principal(ctx)
			version, patch, err := in.parse()
			if err != nil {
				return nil, err
			}
			t, err := svc.UpdateTicket(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, version, func(t *domain.Ticket) error {
				return crm.PatchTicket(t, patch)
			})
			if err != nil {
				return nil, recordErr(err, version != 0, "ticket "+in.ID)
			}
			return out(t, t.Version), nil
		})

	type ticketStatusInput struct {
		ID      string `path:"id" maxLength:"64"`
		IfMatch string `header:"If-Match"`
		Body    struct {
			Status string `json:"status" enum:"open,in_progress,waiting_customer,escalated,resolved,closed"`
			Reason string `json:"reason,omitempty" maxLength:"500" doc:"Why; required to reopen a closed ticket"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "move-ticket", Method: http.MethodPost, Path: "/v1/tickets/{id}/status",
		Summary: "Change a ticket's status", Tags: tags,
		Description: "A closed ticket reopens (to open or in_progress) only with a `reason` (else 409 `invalid-transition`). " +
			"Emits `ticket.status_changed` and `ticket.updated`."},
		func(ctx context.Context, in *ticketStatusInput) (*recordOut[domain.Ticket], error) {
			pr := principal(ctx)
			version, err := ifMatch(in.IfMatch)
			if err != nil {
				return nil, err
			}
			t, err := svc.MoveTicket(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, in.Body.Status, in.Body.Reason, version)
			if err != nil {
				return nil, recordErr(err, version != 0, "ticket "+in.ID)
			}
			return out(t, t.Version), nil
		})

	type assignTicketInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body AssignmentFields
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "assign-ticket", Method: http.MethodPost, Path: "/v1/tickets/{id}/assign",
		Summary: "Assign a ticket to a user, or to the next of a role", Tags: tags,
		Description: "`{userId}`, or `{strategy: round_robin | least_loaded, role}`. Emits `ticket.assigned` and `ticket.updated`."},
		func(ctx context.Context, in *assignTicketInput) (*recordOut[domain.Ticket], error) {
			pr := principal(ctx)
			t, err := svc.AssignTicket(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, *in.Body.assignment())
			if err != nil {
				return nil, storeErr(err, "ticket "+in.ID)
			}
			return out(t, t.Version), nil
		})

	type listMessagesInput struct {
		ID     string `path:"id" maxLength:"64"`
		Limit  int    `query:"limit" minimum:"0" maximum:"500"`
		Cursor string `query:"cursor" maxLength:"100"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-ticket-messages", Method: http.MethodGet, Path: "/v1/tickets/{id}/messages",
		Summary: "A ticket's message thread, oldest first", Tags: tags},
		func(ctx context.Context, in *listMessagesInput) (*bodyOut[Page[domain.TicketMessage]], error) {
			org := principal(ctx).OrgID
			if _, err := s.store.GetTicket(ctx, org, in.ID); err != nil {
				return nil, storeErr(err, "ticket "+in.ID)
			}
			pg := domain.Page{Limit: in.Limit, After: in.Cursor}
			ms, err := s.store.ListTicketMessages(ctx, org, in.ID, pg)
			if err != nil {
				return nil, storeErr(err, "messages")
			}
			return &bodyOut[Page[domain.TicketMessage]]{Page[domain.TicketMessage]{Items: ms,
				NextCursor: nextCursor(ms, pg, func(m domain.TicketMessage) string { return m.ID })}}, nil
		})

	type addMessageInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Direction string `json:"direction" enum:"inbound,outbound,internal" doc:"inbound: from the customer; outbound: to the customer; internal: a note among staff"`
			Body      string `json:"body" minLength:"1" maxLength:"102400"`
			Author    string `json:"author,omitempty" maxLength:"300" doc:"For inbound messages: who wrote (the customer's email); otherwise the caller"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "add-ticket-message", Method: http.MethodPost, Path: "/v1/tickets/{id}/messages",
		DefaultStatus: http.StatusCreated, Summary: "Add a message to a ticket's thread", Tags: tags,
		Description: "The first outbound message is the first response (`firstResponseAt`); an inbound message reopens a ticket waiting " +
			"for the customer or resolved. A closed ticket answers 409 `invalid-transition`. Emits `ticket.message_added`."},
		func(ctx context.Context, in *addMessageInput) (*bodyOut[domain.TicketMessage], error) {
			pr := principal(ctx)
			m := &domain.TicketMessage{Direction: in.Body.Direction, Body: in.Body.Body, Author: in.Body.Author}
			if _, err := svc.AddTicketMessage(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, m); err != nil {
				return nil, storeErr(err, "ticket "+in.ID)
			}
			return &bodyOut[domain.TicketMessage]{*m}, nil
		})

	type rateTicketInput struct {
		ID   string `path:"id" maxLength:"64"`
		Body struct {
			Rating  int    `json:"rating" minimum:"1" maximum:"5"`
			Comment string `json:"comment,omitempty" maxLength:"2000"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "rate-ticket", Method: http.MethodPost, Path: "/v1/tickets/{id}/satisfaction",
		Summary: "Record the customer's satisfaction with a resolved or closed ticket", Tags: tags, Description: "Emits `ticket.updated`."},
		func(ctx context.Context, in *rateTicketInput) (*recordOut[domain.Ticket], error) {
			pr := principal(ctx)
			t, err := svc.RateTicket(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.ID, domain.Satisfaction{Rating: in.Body.Rating, Comment: in.Body.Comment})
			if err != nil {
				return nil, storeErr(err, "ticket "+in.ID)
			}
			return out(t, t.Version), nil
		})

	stags := []string{"SLA policies"}
	type slaNameInput struct {
		Name string `path:"name" maxLength:"64"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-sla-policies", Method: http.MethodGet, Path: "/v1/sla-policies",
		Summary: "The organisation's SLA policies (default always among them)", Tags: stags},
		func(ctx context.Context, _ *struct{}) (*bodyOut[Page[domain.SLAPolicy]], error) {
			ps, err := svc.SLAPolicies(ctx, principal(ctx).OrgID)
			if err != nil {
				return nil, storeErr(err, "SLA policies")
			}
			return &bodyOut[Page[domain.SLAPolicy]]{Page[domain.SLAPolicy]{Items: ps}}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-sla-policy", Method: http.MethodGet, Path: "/v1/sla-policies/{name}",
		Summary: "An SLA policy", Tags: stags},
		func(ctx context.Context, in *slaNameInput) (*bodyOut[domain.SLAPolicy], error) {
			p, err := crm.SLAPolicy(ctx, s.store, principal(ctx).OrgID, in.Name)
			if err != nil {
				return nil, storeErr(err, "SLA policy "+in.Name)
			}
			return &bodyOut[domain.SLAPolicy]{*p}, nil
		})
	type putSLAInput struct {
		Name string `path:"name" maxLength:"64"`
		Body struct {
			Calendar string                      `json:"calendar,omitempty" maxLength:"63" doc:"The business calendar targets count in; default \"default\""`
			Targets  map[string]domain.SLATarget `json:"targets" doc:"priority (low, medium, high, critical) → {firstResponse, resolution}: working time such as 30m, 4h, 16h"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "put-sla-policy", Method: http.MethodPut, Path: "/v1/sla-policies/{name}",
		Summary: "Create or replace an SLA policy", Tags: stags, Description: "Tickets already open keep their deadlines."},
		func(ctx context.Context, in *putSLAInput) (*bodyOut[domain.SLAPolicy], error) {
			pr := principal(ctx)
			p := &domain.SLAPolicy{OrgID: pr.OrgID, Name: in.Name, Calendar: in.Body.Calendar, Targets: in.Body.Targets}
			if _, err := svc.PutSLAPolicy(ctx, crm.Actor(pr.Actor()), p); err != nil {
				return nil, storeErr(err, "SLA policy "+in.Name)
			}
			return &bodyOut[domain.SLAPolicy]{*p}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-sla-policy", Method: http.MethodDelete, Path: "/v1/sla-policies/{name}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete an SLA policy (deleting default restores the built-in one)", Tags: stags},
		func(ctx context.Context, in *slaNameInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteSLAPolicy(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.Name), "SLA policy "+in.Name)
		})
}
