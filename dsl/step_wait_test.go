package dsl

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestWaitNamedCalendar(t *testing.T) {
	src := func(cal string) string {
		return "switchboard: v1\nname: w\nsteps:\n  - wait: {for: 4h, businessHours: " + cal + "}\n"
	}
	// without the calendar action, a name cannot be resolved
	_, diags := compileSrc(t, "w.yaml", src("support-eu"))
	requireDiags(t, diags, []string{"w.yaml:4:36: needs the action crm.calendar.deadline"})
	_, diags = compileSrc(t, "w.yaml", src(`"no spaces"`))
	requireDiags(t, diags, []string{"w.yaml:4:36: is not a calendar name"})

	reg := testRegistry(t)
	require.NoError(t, reg.Register(Action{Name: CalendarAction, Title: "deadline",
		Input: json.RawMessage(`{"type": "object"}`), Output: json.RawMessage(`{"type": "object"}`)}))
	p, diags := Compile("w.yaml", []byte(src("support-eu")), Options{Registry: reg})
	require.Empty(t, diags, diags.Error())
	bh := p.Steps[0].Wait.BusinessHours
	require.Equal(t, "support-eu", bh.Calendar)
	require.Equal(t, CalendarAction, bh.Activity)

	// the preset stays inline: no action needed
	p = mustCompile(t, "w.yaml", src("weekdays"))
	require.Empty(t, p.Steps[0].Wait.BusinessHours.Calendar)
	require.Equal(t, []int{1, 2, 3, 4, 5}, p.Steps[0].Wait.BusinessHours.Days)
}
