package api_test

import (
	"testing"

	"github.com/stretchr/testify/require"
)

func TestBusinessCalendars(t *testing.T) {
	t.Parallel()
	o := newOrg(t)
	// every organisation has a default calendar
	list := items(t, expect(t, req{method: "GET", path: "/v1/calendars", key: o.viewer()}, 200))
	require.Len(t, list, 1)
	require.Equal(t, "default", list[0]["name"])
	d := expect(t, req{method: "POST", path: "/v1/calendars/default/deadline", key: o.viewer(),
		body: map[string]any{"start": "2026-11-27T16:00:00Z", "duration": "4h"}}, 200)
	require.Equal(t, "2026-11-30T12:00:00Z", d["deadline"], "Friday 16:00 UTC + 4 working hours, Mon–Fri 9–17")

	week := map[string]any{"mon": []any{map[string]any{"start": 540, "end": 1020}}, "tue": []any{map[string]any{"start": 540, "end": 1020}},
		"wed": []any{map[string]any{"start": 540, "end": 1020}}, "thu": []any{map[string]any{"start": 540, "end": 1020}},
		"fri": []any{map[string]any{"start": 540, "end": 1020}}}
	requireProblem(t, do(t, req{method: "PUT", path: "/v1/calendars/support", key: o.operator(), body: map[string]any{"timezone": "Europe/Berlin", "week": week}}), 403, "forbidden")
	res := do(t, req{method: "PUT", path: "/v1/calendars/support", key: o.admin(), body: map[string]any{"timezone": "Mars/Olympus", "week": map[string]any{"funday": []any{}}}})
	requireProblem(t, res, 422, "validation")
	require.Contains(t, string(res.body), "body.timezone")
	expect(t, req{method: "PUT", path: "/v1/calendars/support", key: o.admin(), body: map[string]any{"timezone": "Europe/Berlin", "week": week, "holidays": []string{"2026-11-30"}}}, 200)
	d = expect(t, req{method: "POST", path: "/v1/calendars/support/deadline", key: o.viewer(),
		body: map[string]any{"start": "2026-11-27T15:00:00Z", "duration": "4h"}}, 200)
	require.Equal(t, "2026-12-01T11:00:00Z", d["deadline"], "Fri 16:00 Berlin: 1h, Monday a holiday, Tue 09:00–12:00 Berlin")
	requireProblem(t, do(t, req{method: "POST", path: "/v1/calendars/nope/deadline", key: o.viewer(), body: map[string]any{"duration": "4h"}}), 404, "not-found")
	requireProblem(t, do(t, req{method: "POST", path: "/v1/calendars/support/deadline", key: o.viewer(), body: map[string]any{"duration": "soon"}}), 422, "validation")
	require.Len(t, items(t, expect(t, req{method: "GET", path: "/v1/calendars", key: o.viewer()}, 200)), 2)

	// from a run: an SLA deadline in the support calendar
	name := o.deploy(t, `switchboard: v1
name: sla
steps:
  - id: sla
    call: crm.calendar.deadline
    with: {calendar: support, start: "2026-11-27T15:00:00Z", duration: 4h}
output: ${ steps.sla.output.deadline }
`)
	require.Equal(t, "2026-12-01T11:00:00Z", o.waitRun(t, o.start(t, name, nil), "completed")["output"])

	require.Equal(t, 204, do(t, req{method: "DELETE", path: "/v1/calendars/support", key: o.admin()}).status)
	requireProblem(t, do(t, req{method: "GET", path: "/v1/calendars/support", key: o.viewer()}), 404, "not-found")
}
