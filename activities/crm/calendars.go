package crm

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.temporal.io/sdk/temporal"

	"switchboard/dsl"
)

func calendarActions() []dsl.Action {
	return []dsl.Action{{
		Name:  "crm.calendar.deadline",
		Title: "Compute a business-hours deadline",
		Description: "When `duration` of working time after `start` (default: now) ends, in the organisation's calendar " +
			"(`calendar`, default `default`): nights, days off and holidays do not count. For SLA targets: " +
			"`wait: {until: '${ steps.sla.output.deadline }'}`.",
		Input: json.RawMessage(`{"type": "object", "required": ["duration"], "additionalProperties": false, "properties": {
			"duration": {"type": "string", "description": "4h, 90m, 2d, P1DT4H"}, "start": {"type": "string", "description": "RFC 3339"},
			"calendar": {"type": "string", "default": "default"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["deadline", "start", "calendar"], "properties": {
			"deadline": {"type": "string"}, "start": {"type": "string"}, "calendar": {"type": "string"}}}`),
		Errors: []string{ErrNotFound, ErrValidation, ErrNoRecords},
	}}
}

func (a *actions) calendarDeadline(ctx context.Context, args map[string]any) (any, error) {
	name, _ := args["calendar"].(string)
	if name == "" {
		name = "default"
	}
	c, err := a.svc.Calendar(ctx, callOf(ctx).org, name)
	if err != nil {
		return nil, err
	}
	d, err := dsl.ParseDuration(args["duration"].(string))
	if err != nil || d <= 0 {
		return nil, temporal.NewNonRetryableApplicationError(fmt.Sprintf("crm.calendar.deadline: duration %q: want a positive duration such as 4h", args["duration"]), ErrValidation, nil)
	}
	start := time.Now().UTC()
	if s, ok := args["start"].(string); ok && s != "" {
		if start, err = time.Parse(time.RFC3339Nano, s); err != nil {
			return nil, temporal.NewNonRetryableApplicationError("crm.calendar.deadline: start is not an RFC 3339 time: "+s, ErrValidation, nil)
		}
	}
	return map[string]any{"deadline": c.Add(start, d).UTC().Format(time.RFC3339Nano), "start": start.UTC().Format(time.RFC3339Nano), "calendar": c.Name}, nil
}
