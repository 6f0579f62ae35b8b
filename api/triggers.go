package api

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/workflows"
)

// triggerRoutes are the routes a revision's triggers need.
func (s *Server) triggerRoutes(d *domain.Definition, rev int, plan *dsl.Plan) ([]domain.TriggerRoute, error) {
	var out []domain.TriggerRoute
	for i, t := range plan.Triggers {
		r := domain.TriggerRoute{OrgID: d.OrgID, DefinitionID: d.ID, Definition: d.Name, Revision: rev, Index: i}
		switch {
		case t.Webhook != nil:
			if t.Webhook.Scheme == "none" && !s.opts.Dev {
				return nil, problem(http.StatusUnprocessableEntity, ProbInvalidDSL,
					"webhook %q has `verify: {scheme: none}`: unverified webhooks are allowed only in dev mode", t.Webhook.Path)
			}
			r.Kind, r.Key = domain.TriggerWebhook, t.Webhook.Path
		case t.Event != nil:
			r.Kind, r.Key = domain.TriggerEvent, t.Event.Type
		case t.Schedule != nil:
			r.Kind, r.Key = domain.TriggerSchedule, scheduleID(d.OrgID, d.Name, i)
		default:
			continue
		}
		out = append(out, r)
	}
	return out, nil
}

// scheduleID names the Temporal Schedule of a definition's trigger.
func scheduleID(org, definition string, index int) string {
	return fmt.Sprintf("%s/%s/schedule-%d", org, definition, index)
}

// syncSchedules makes the Temporal Schedules of a definition match its
// live revision (plan; nil when undeployed): each `schedule` trigger is
// created or updated, and those of the previous revision (had) that are
// gone are deleted.
func (s *Server) syncSchedules(ctx context.Context, d *domain.Definition, rev int, plan *dsl.Plan, had []string) error {
	want := map[string]*dsl.ScheduleTrigger{}
	if plan != nil {
		for i, t := range plan.Triggers {
			if t.Schedule != nil {
				want[scheduleID(d.OrgID, d.Name, i)] = t.Schedule
			}
		}
	}
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	sc := s.temporal.ScheduleClient()
	var nf *serviceerror.NotFound
	for _, id := range had {
		if _, keep := want[id]; !keep {
			if err := sc.GetHandle(tctx, id).Delete(tctx); err != nil && !errors.As(err, &nf) {
				return temporalErr(err, "schedule "+id)
			}
		}
	}
	for id, t := range want {
		opts, err := s.scheduleOptions(d, rev, plan, id, t)
		if err != nil {
			return err
		}
		h := sc.GetHandle(tctx, id)
		_, err = h.Describe(tctx)
		switch {
		case err == nil:
			err = h.Update(tctx, client.ScheduleUpdateOptions{DoUpdate: func(in client.ScheduleUpdateInput) (*client.ScheduleUpdate, error) {
				sch := in.Description.Schedule
				sch.Spec, sch.Action = &opts.Spec, opts.Action
				if sch.Policy == nil {
					sch.Policy = &client.SchedulePolicies{}
				}
				sch.Policy.Overlap, sch.Policy.CatchupWindow = opts.Overlap, opts.CatchupWindow
				return &client.ScheduleUpdate{Schedule: &sch}, nil
			}})
		case errors.As(err, &nf):
			_, err = sc.Create(tctx, *opts)
		}
		if err != nil {
			return temporalErr(err, "schedule "+id)
		}
	}
	return nil
}

func (s *Server) scheduleOptions(d *domain.Definition, rev int, plan *dsl.Plan, id string, t *dsl.ScheduleTrigger) (*client.ScheduleOptions, error) {
	var input any = map[string]any{}
	if t.Input != nil {
		v, err := t.Input.Eval(dsl.Activation{Values: map[string]any{"now": time.Now().UTC()}})
		if err != nil {
			return nil, problem(http.StatusUnprocessableEntity, ProbInvalidInput, "schedule input of %s: %v", d.Name, err)
		}
		input = v
	}
	raw, err := dsl.MarshalJSON(input)
	if err != nil {
		return nil, internal(err)
	}
	if err := validateInput(plan, raw); err != nil {
		return nil, err
	}
	return &client.ScheduleOptions{
		ID:            id,
		Spec:          scheduleSpec(t),
		Overlap:       overlapPolicy(t.Overlap),
		CatchupWindow: cmp.Or(t.CatchupWindow.D(), time.Minute),
		Action: &client.ScheduleWorkflowAction{
			// <org>/<definition>:schedule-<n>; Temporal appends the scheduled time
			ID:        d.OrgID + "/" + d.Name + ":" + id[strings.LastIndex(id, "/")+1:],
			Workflow:  workflows.WorkflowName,
			TaskQueue: s.opts.TaskQueue,
			Args: []any{workflows.RunInput{Plan: plan, Input: raw,
				Meta: workflows.RunMeta{Revision: rev, Org: d.OrgID}}},
			TypedSearchAttributes: workflows.RunAttributes(d.OrgID, d.Name, rev),
		},
	}, nil
}

func overlapPolicy(p string) enumspb.ScheduleOverlapPolicy {
	switch p {
	case "bufferOne":
		return enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ONE
	case "bufferAll":
		return enumspb.SCHEDULE_OVERLAP_POLICY_BUFFER_ALL
	case "allow":
		return enumspb.SCHEDULE_OVERLAP_POLICY_ALLOW_ALL
	case "cancelOther":
		return enumspb.SCHEDULE_OVERLAP_POLICY_CANCEL_OTHER
	case "terminateOther":
		return enumspb.SCHEDULE_OVERLAP_POLICY_TERMINATE_OTHER
	}
	return enumspb.SCHEDULE_OVERLAP_POLICY_SKIP
}

func scheduleSpec(t *dsl.ScheduleTrigger) client.ScheduleSpec {
	if t.Every > 0 {
		return client.ScheduleSpec{Intervals: []client.ScheduleIntervalSpec{{Every: t.Every.D()}}, TimeZoneName: t.Timezone}
	}
	return client.ScheduleSpec{CronExpressions: []string{t.Cron}, TimeZoneName: t.Timezone}
}

// TriggerView is a trigger of a deployed revision.
type TriggerView struct {
	Kind       string `json:"kind" enum:"webhook,event,schedule"`
	Key        string `json:"key" doc:"The webhook path, the event type, or the schedule's id"`
	Definition string `json:"definition"`
	Revision   int    `json:"revision"`
	Index      int    `json:"index" doc:"Position in the revision's triggers"`
	URL        string `json:"url,omitempty" doc:"Where the webhook is called (relative to the API's base URL)"`
	Paused     *bool  `json:"paused,omitempty" doc:"Whether the schedule is paused"`
}

func (s *Server) triggerRoutesAPI() {
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-triggers", Method: http.MethodGet, Path: "/v1/triggers",
		Summary: "The triggers of the deployed revisions", Tags: []string{"triggers"}},
		func(ctx context.Context, _ *struct{}) (*bodyOut[Page[TriggerView]], error) {
			pr := principal(ctx)
			rs, err := s.store.ListTriggerRoutes(ctx, pr.OrgID)
			if err != nil {
				return nil, storeErr(err, "triggers")
			}
			out := Page[TriggerView]{Items: []TriggerView{}}
			for _, r := range rs {
				v := TriggerView{Kind: r.Kind, Key: r.Key, Definition: r.Definition, Revision: r.Revision, Index: r.Index}
				switch r.Kind {
				case domain.TriggerWebhook:
					v.URL = "/hooks/" + pr.OrgID + "/" + r.Key
				case domain.TriggerSchedule:
					v.Key = strings.TrimPrefix(r.Key, pr.OrgID+"/")
					tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
					if d, err := s.temporal.ScheduleClient().GetHandle(tctx, r.Key).Describe(tctx); err == nil {
						paused := d.Schedule.State.Paused
						v.Paused = &paused
					}
					cancel()
				}
				out.Items = append(out.Items, v)
			}
			return &bodyOut[Page[TriggerView]]{out}, nil
		})

	type pauseInput struct {
		NameParam
		Index int `path:"index" minimum:"0"`
		Body  struct {
			Paused bool   `json:"paused"`
			Note   string `json:"note,omitempty" maxLength:"500"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "pause-schedule", Method: http.MethodPost,
		Path: "/v1/definitions/{name}/schedules/{index}", Summary: "Pause or unpause a deployed schedule trigger", Tags: []string{"triggers"}},
		func(ctx context.Context, in *pauseInput) (*struct{}, error) {
			pr := principal(ctx)
			d, err := s.definition(ctx, in.Name)
			if err != nil {
				return nil, err
			}
			id := scheduleID(pr.OrgID, d.Name, in.Index)
			rs, err := s.store.ListTriggerRoutes(ctx, pr.OrgID)
			if err != nil {
				return nil, storeErr(err, "triggers")
			}
			found := false
			for _, r := range rs {
				found = found || (r.Kind == domain.TriggerSchedule && r.Key == id)
			}
			if !found {
				return nil, problem(http.StatusNotFound, ProbNotFound, "%s has no deployed schedule trigger at index %d", in.Name, in.Index)
			}
			tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			defer cancel()
			h := s.temporal.ScheduleClient().GetHandle(tctx, id)
			note := in.Body.Note
			if note == "" {
				note = "through the API by " + authorOf(pr)
			}
			if in.Body.Paused {
				err = h.Pause(tctx, client.SchedulePauseOptions{Note: note})
			} else {
				err = h.Unpause(tctx, client.ScheduleUnpauseOptions{Note: note})
			}
			if err != nil {
				return nil, temporalErr(err, "schedule "+strconv.Itoa(in.Index)+" of "+in.Name)
			}
			s.audit(ctx, "schedule.pause", "definition/"+in.Name+"/schedule/"+strconv.Itoa(in.Index), map[string]any{"paused": in.Body.Paused})
			return nil, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-webhook-deliveries", Method: http.MethodGet,
		Path: "/v1/webhooks/deliveries", Summary: "Webhook deliveries, newest first", Tags: []string{"triggers"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[domain.WebhookDelivery]], error) {
			pg := in.page()
			ds, err := s.store.ListDeliveries(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "deliveries")
			}
			if ds == nil {
				ds = []domain.WebhookDelivery{}
			}
			return &bodyOut[Page[domain.WebhookDelivery]]{Page[domain.WebhookDelivery]{Items: ds,
				NextCursor: nextCursor(ds, pg, func(d domain.WebhookDelivery) string { return d.ID })}}, nil
		})

	type publishInput struct {
		Body struct {
			Type string          `json:"type" pattern:"^[a-z][a-z0-9_]*(\\.[a-z][a-z0-9_]*)+$" doc:"e.g. order.shipped"`
			Data json.RawMessage `json:"data" doc:"The event's data (any JSON)"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "publish-event", Method: http.MethodPost, Path: "/v1/events",
		DefaultStatus: http.StatusAccepted, Summary: "Publish a custom business event", Tags: []string{"events"},
		Description: "The event is written to the outbox and delivered, at least once, to every deployed `event` trigger whose type and `when` match."},
		func(ctx context.Context, in *publishInput) (*bodyOut[domain.Event], error) {
			pr := principal(ctx)
			data := in.Body.Data
			if len(data) == 0 {
				data = json.RawMessage(`{}`)
			}
			e := &domain.Event{OrgID: pr.OrgID, Type: in.Body.Type, Data: data, Source: "api:" + authorOf(pr)}
			err := s.store.Tx(ctx, func(tx domain.Repo) error {
				if err := tx.PublishEvent(ctx, e); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: "event.publish",
					Target: "event/" + e.ID, Details: mustJSON(map[string]any{"type": e.Type})})
			})
			if err != nil {
				return nil, storeErr(err, "event")
			}
			return &bodyOut[domain.Event]{*e}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-events", Method: http.MethodGet, Path: "/v1/events",
		Summary: "Events with their delivery status, newest first", Tags: []string{"events"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[domain.Event]], error) {
			pg := in.page()
			es, err := s.store.ListEvents(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "events")
			}
			if es == nil {
				es = []domain.Event{}
			}
			return &bodyOut[Page[domain.Event]]{Page[domain.Event]{Items: es,
				NextCursor: nextCursor(es, pg, func(e domain.Event) string { return e.ID })}}, nil
		})
}
