package api

import (
	"context"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

// Deadline is when an amount of working time after a start ends.
type Deadline struct {
	Start    time.Time `json:"start"`
	Duration string    `json:"duration"`
	Deadline time.Time `json:"deadline"`
	Calendar string    `json:"calendar"`
}

func (s *Server) calendarRoutes() {
	svc := &crm.Service{Store: s.store}
	tags := []string{"calendars"}
	type nameInput struct {
		Name string `path:"name" maxLength:"63"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-calendars", Method: http.MethodGet, Path: "/v1/calendars",
		Summary: "The organisation's business calendars (default always among them)", Tags: tags},
		func(ctx context.Context, _ *struct{}) (*bodyOut[Page[domain.Calendar]], error) {
			cs, err := svc.Calendars(ctx, principal(ctx).OrgID)
			if err != nil {
				return nil, storeErr(err, "calendars")
			}
			return &bodyOut[Page[domain.Calendar]]{Page[domain.Calendar]{Items: cs}}, nil
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-calendar", Method: http.MethodGet, Path: "/v1/calendars/{name}",
		Summary: "A business calendar", Tags: tags},
		func(ctx context.Context, in *nameInput) (*bodyOut[domain.Calendar], error) {
			c, err := svc.Calendar(ctx, principal(ctx).OrgID, in.Name)
			if err != nil {
				return nil, storeErr(err, "calendar "+in.Name)
			}
			return &bodyOut[domain.Calendar]{*c}, nil
		})
	type putCalendarInput struct {
		Name string `path:"name" maxLength:"63"`
		Body struct {
			Timezone string                     `json:"timezone" doc:"IANA time zone, such as Europe/Berlin"`
			Week     map[string][]domain.Window `json:"week" doc:"mon … sun → working windows in minutes after midnight ({\"start\": 540, \"end\": 1020} is 09:00–17:00); a day left out is a day off"`
			Holidays []string                   `json:"holidays,omitempty" doc:"YYYY-MM-DD"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "put-calendar", Method: http.MethodPut, Path: "/v1/calendars/{name}",
		Summary: "Create or replace a business calendar", Tags: tags},
		func(ctx context.Context, in *putCalendarInput) (*bodyOut[domain.Calendar], error) {
			pr := principal(ctx)
			c := &domain.Calendar{OrgID: pr.OrgID, Name: in.Name, Timezone: in.Body.Timezone, Week: in.Body.Week, Holidays: in.Body.Holidays}
			if _, err := svc.PutCalendar(ctx, crm.Actor(pr.Actor()), c); err != nil {
				return nil, storeErr(err, "calendar "+in.Name)
			}
			return &bodyOut[domain.Calendar]{*c}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-calendar", Method: http.MethodDelete, Path: "/v1/calendars/{name}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete a business calendar (deleting default restores the built-in one)", Tags: tags},
		func(ctx context.Context, in *nameInput) (*struct{}, error) {
			pr := principal(ctx)
			return nil, storeErr(svc.DeleteCalendar(ctx, crm.Actor(pr.Actor()), pr.OrgID, in.Name), "calendar "+in.Name)
		})
	type deadlineInput struct {
		Name string `path:"name" maxLength:"63"`
		Body struct {
			Start    *time.Time `json:"start,omitempty" doc:"RFC 3339; default now"`
			Duration string     `json:"duration" doc:"Working time: 4h, 90m, 2d (of working time counted in hours: 48h), ISO 8601"`
		}
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "calendar-deadline", Method: http.MethodPost, Path: "/v1/calendars/{name}/deadline",
		Summary: "When a span of working time after a start ends (SLA targets)", Tags: tags},
		func(ctx context.Context, in *deadlineInput) (*bodyOut[Deadline], error) {
			c, err := svc.Calendar(ctx, principal(ctx).OrgID, in.Name)
			if err != nil {
				return nil, storeErr(err, "calendar "+in.Name)
			}
			d, err := dsl.ParseDuration(in.Body.Duration)
			if err != nil || d <= 0 {
				return nil, problem(http.StatusUnprocessableEntity, ProbValidation, "duration %q: want a positive duration such as 4h", in.Body.Duration)
			}
			start := time.Now().UTC()
			if in.Body.Start != nil {
				start = in.Body.Start.UTC()
			}
			return &bodyOut[Deadline]{Deadline{Start: start, Duration: in.Body.Duration, Deadline: c.Add(start, d).UTC(), Calendar: c.Name}}, nil
		})
}
