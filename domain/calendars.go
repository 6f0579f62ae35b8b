package domain

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Window is a span of working time within a day, in minutes after midnight.
type Window struct {
	Start int `json:"start"` // 540 = 09:00
	End   int `json:"end"`   // 1020 = 17:00; up to 1440
}

// Calendar says when an organisation works: a time zone, working windows
// for each weekday, and holidays. Business-hours waits and SLA targets
// count time in it. Every organisation has a calendar named "default"
// (DefaultCalendar until it sets its own).
type Calendar struct {
	OrgID    string `json:"-"`
	Name     string `json:"name"`
	Timezone string `json:"timezone"` // IANA, e.g. Europe/Berlin
	// Week maps mon … sun to the day's working windows (none: a day off).
	Week      map[string][]Window `json:"week"`
	Holidays  []string            `json:"holidays,omitempty"` // YYYY-MM-DD, in the calendar's zone
	UpdatedAt time.Time           `json:"updatedAt"`
}

// Weekdays are the keys of Calendar.Week, Monday first.
var Weekdays = []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"}

var calendarName = regexp.MustCompile(`^[a-z][a-z0-9-]{0,62}$`)

// DefaultCalendar is the calendar an organisation has until it sets its
// own "default": Monday to Friday, 09:00–17:00 UTC.
func DefaultCalendar(orgID string) *Calendar {
	day := []Window{{Start: 9 * 60, End: 17 * 60}}
	return &Calendar{OrgID: orgID, Name: "default", Timezone: "UTC",
		Week: map[string][]Window{"mon": day, "tue": day, "wed": day, "thu": day, "fri": day}}
}

// Validate checks every field and reports all the invalid ones at once.
func (c *Calendar) Validate() error {
	v := &fieldChecker{record: "calendar"}
	if !calendarName.MatchString(c.Name) {
		v.add("name", "is %q; use lower-case letters, digits and -", c.Name)
	}
	if _, err := time.LoadLocation(c.Timezone); err != nil || c.Timezone == "" || c.Timezone == "Local" {
		v.add("timezone", "is %q; want an IANA time zone such as Europe/Berlin", c.Timezone)
	}
	total := 0
	for day, ws := range c.Week {
		if !slices.Contains(Weekdays, day) {
			v.add("week."+day, "is not a weekday; use %s", strings.Join(Weekdays, ", "))
			continue
		}
		sorted := slices.Clone(ws)
		slices.SortFunc(sorted, func(a, b Window) int { return a.Start - b.Start })
		for i, w := range sorted {
			if w.Start < 0 || w.End > 1440 || w.End <= w.Start {
				v.add(fmt.Sprintf("week.%s[%d]", day, i), "is %d–%d; want 0 ≤ start < end ≤ 1440 (minutes after midnight)", w.Start, w.End)
			}
			if i > 0 && w.Start < sorted[i-1].End {
				v.add(fmt.Sprintf("week.%s[%d]", day, i), "overlaps the window before it")
			}
			total += w.End - w.Start
		}
	}
	if total == 0 {
		v.add("week", "has no working time")
	}
	if len(c.Holidays) > 1000 {
		v.add("holidays", "has %d days; at most 1000", len(c.Holidays))
	}
	for i, h := range c.Holidays {
		v.date(fmt.Sprintf("holidays[%d]", i), h)
	}
	return v.err()
}

// windows are the working windows of the day that t is in (in the calendar's zone).
func (c *Calendar) windows(t time.Time) []Window {
	if slices.Contains(c.Holidays, t.Format(time.DateOnly)) {
		return nil
	}
	day := Weekdays[(int(t.Weekday())+6)%7]
	ws := slices.Clone(c.Week[day])
	slices.SortFunc(ws, func(a, b Window) int { return a.Start - b.Start })
	return ws
}

// Add returns the instant d of working time after start: time outside the
// working windows, on days off and on holidays does not count. Windows are
// wall-clock times in the calendar's zone, so a daylight-saving change
// moves them with the clocks. A calendar with no working time in the next
// ten years returns start + d.
func (c *Calendar) Add(start time.Time, d time.Duration) time.Time {
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || d <= 0 {
		return start.Add(max(d, 0))
	}
	t := start.In(loc)
	remaining := d
	for range 3660 {
		y, m, day := t.Date()
		for _, w := range c.windows(t) {
			ws := time.Date(y, m, day, 0, 0, 0, 0, loc).Add(time.Duration(w.Start) * time.Minute)
			we := time.Date(y, m, day, 0, 0, 0, 0, loc).Add(time.Duration(w.End) * time.Minute)
			if w.End == 1440 {
				we = time.Date(y, m, day+1, 0, 0, 0, 0, loc)
			}
			if !t.Before(we) {
				continue
			}
			if t.Before(ws) {
				t = ws
			}
			if avail := we.Sub(t); remaining <= avail {
				return t.Add(remaining)
			} else {
				remaining -= avail
				t = we
			}
		}
		t = time.Date(y, m, day+1, 0, 0, 0, 0, loc)
	}
	return start.Add(d)
}

// CalendarRepo keeps calendars (part of Repo).
type CalendarRepo interface {
	// PutCalendar creates or replaces a calendar by name.
	PutCalendar(ctx context.Context, c *Calendar) error
	// GetCalendar is ErrNotFound when the organisation has no calendar of
	// that name (the service answers DefaultCalendar for "default").
	GetCalendar(ctx context.Context, orgID, name string) (*Calendar, error)
	ListCalendars(ctx context.Context, orgID string) ([]Calendar, error)
	DeleteCalendar(ctx context.Context, orgID, name string) error
}
