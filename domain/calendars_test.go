package domain_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func TestCalendarAdd(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		require.NoError(t, err)
		return v
	}
	c := &domain.Calendar{Name: "support", Timezone: "Europe/Berlin", Holidays: []string{"2026-12-25"},
		Week: map[string][]domain.Window{
			"mon": {{Start: 9 * 60, End: 12 * 60}, {Start: 13 * 60, End: 17 * 60}}, // lunch break
			"tue": {{Start: 9 * 60, End: 17 * 60}}, "wed": {{Start: 9 * 60, End: 17 * 60}},
			"thu": {{Start: 9 * 60, End: 17 * 60}}, "fri": {{Start: 9 * 60, End: 17 * 60}},
		}}
	require.NoError(t, c.Validate())
	for _, tc := range []struct {
		start, want string
		d           time.Duration
	}{
		{"2026-11-23 10:00", "2026-11-23 11:00", time.Hour},             // Monday morning
		{"2026-11-23 11:30", "2026-11-23 13:30", time.Hour},             // over lunch
		{"2026-11-27 16:00", "2026-11-30 12:00", 4 * time.Hour},         // Friday → Monday, the example
		{"2026-11-28 10:00", "2026-11-30 10:00", time.Hour},             // a Saturday start waits for Monday
		{"2026-11-23 07:00", "2026-11-23 09:00", 0},                     // zero is now
		{"2026-12-24 16:30", "2026-12-28 09:30", time.Hour},             // Thursday, then the holiday, the weekend
		{"2026-11-23 09:00", "2026-11-23 17:00", 7 * time.Hour},         // exactly a Monday's working time ends with it
		{"2026-03-27 16:00", "2026-03-30 10:00", 2 * time.Hour},         // across the switch to summer time
		{"2026-11-23 09:00", "2026-11-27 17:00", (7 + 8*4) * time.Hour}, // a whole working week
		{"2026-11-23 17:00", "2026-11-24 17:00", 8 * time.Hour},         // after hours starts the next day
	} {
		if tc.d == 0 {
			require.Equal(t, at(tc.start), c.Add(at(tc.start), 0))
			continue
		}
		require.Equal(t, at(tc.want).UTC(), c.Add(at(tc.start), tc.d).UTC(), "%s + %s", tc.start, tc.d)
	}

	// validation names every problem
	bad := &domain.Calendar{Name: "Bad Name", Timezone: "Mars/Olympus", Holidays: []string{"2026-13-01"},
		Week: map[string][]domain.Window{"funday": {{Start: 0, End: 60}}, "mon": {{Start: 600, End: 540}}, "tue": {{Start: 540, End: 720}, {Start: 600, End: 800}}}}
	var ve *domain.ValidationError
	require.ErrorAs(t, bad.Validate(), &ve)
	var fields []string
	for _, f := range ve.Fields {
		fields = append(fields, f.Field)
	}
	require.ElementsMatch(t, []string{"name", "timezone", "week.funday", "week.mon[0]", "week.tue[1]", "holidays[0]"}, fields)
	require.NoError(t, domain.DefaultCalendar("o").Validate())
}
