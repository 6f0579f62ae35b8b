package dsl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// wait: a durable timer.
//
//   - wait: 3d
//   - wait: {until: '${ timestamp(input.meetingAt) - duration("1h") }'}
//   - wait: {for: 4h, businessHours: {timezone: Europe/Berlin, days: [MON, TUE, WED, THU, FRI], hours: "09:00-17:00"}}
//
// Output: {firedAt: timestamp}. `until` in the past fires at once.
// With `businessHours`, `for` counts only time inside the calendar.
func init() {
	registerStepKind(&stepKind{
		Name:    "wait",
		Summary: "Wait durably for a duration, until a time, or for business hours.",
		Output:  "`{firedAt: timestamp}`",
		Schema: func(d *schemaBuilder) map[string]any {
			return map[string]any{"wait": map[string]any{"oneOf": []any{
				d.duration(),
				map[string]any{
					"type": "object", "additionalProperties": false,
					"properties": map[string]any{
						"for":           d.duration(),
						"until":         d.expr("A timestamp (or RFC 3339 string) to wait until."),
						"businessHours": d.businessHours(),
					},
				},
			}}}
		},
		Compile: compileWait,
	})
}

func compileWait(c *compiler, n *Node, st *Step, sc scope) {
	v := n.Get("wait")
	st.Wait = &WaitStep{}
	if v.Kind == StringNode || v.Kind == IntNode || v.Kind == FloatNode {
		st.Wait.For = c.duration(v)
		return
	}
	if !c.kindMap(v, "wait", []string{"for", "until", "businessHours"}) {
		return
	}
	f, u := v.Get("for"), v.Get("until")
	switch {
	case f != nil && u != nil:
		c.r.at(u.Pos, "`wait` takes `for` or `until`, not both")
	case f == nil && u == nil:
		c.r.at(v.Pos, "`wait` needs `for: DURATION` or `until: TIMESTAMP`")
	case f != nil:
		st.Wait.For = c.duration(f)
	default:
		if u.Kind == StringNode && !strings.Contains(u.Str, "${") {
			// a literal instant
			if _, err := time.Parse(time.RFC3339Nano, strings.TrimSpace(u.Str)); err != nil {
				c.r.at(u.Pos, "`until` is an RFC 3339 time like `2026-01-09T15:00:00Z`, or an expression `${ ... }` giving a timestamp")
			} else {
				st.Wait.Until = "timestamp(" + strconv.Quote(strings.TrimSpace(u.Str)) + ")"
			}
		} else {
			st.Wait.Until = c.typedExpr(u, sc, "until", "timestamp")
		}
	}
	if bh := v.Get("businessHours"); bh != nil {
		if f == nil {
			c.r.at(bh.Pos, "`businessHours` counts a `for` duration in working time; it needs `for`")
		}
		st.Wait.BusinessHours = c.businessHours(bh)
	}
}

// CalendarAction computes working-time deadlines in an organisation's
// calendars; `wait` with a calendar name calls it.
const CalendarAction = "crm.calendar.deadline"

var calendarName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`)

var weekdays = map[string]time.Weekday{"SUN": time.Sunday, "MON": time.Monday, "TUE": time.Tuesday,
	"WED": time.Wednesday, "THU": time.Thursday, "FRI": time.Friday, "SAT": time.Saturday}

// businessHours reads a calendar: {timezone, days, hours, holidays}, or the
// preset `weekdays` (Mon–Fri 09:00–17:00 UTC).
func (c *compiler) businessHours(n *Node) *BusinessHours {
	bh := &BusinessHours{Timezone: "UTC", Days: []int{1, 2, 3, 4, 5}, Start: 9 * 60, End: 17 * 60}
	if n.Kind == StringNode {
		switch {
		case n.Str == "weekdays":
		case !calendarName.MatchString(n.Str):
			c.r.at(n.Pos, "`%s` is not a calendar name; use `weekdays`, an organisation's calendar name (such as `default` or `support-eu`) or a map {timezone, days, hours, holidays}", n.Str)
		default:
			// an organisation's calendar, read when the wait starts through the calendar action
			a, ok := c.opts.Registry.Lookup(CalendarAction)
			if !ok {
				c.r.at(n.Pos, "the calendar `%s` is an organisation's calendar, which needs the action %s; this build has none (use `weekdays` or a map)", n.Str, CalendarAction)
				return bh
			}
			bh.Calendar, bh.Activity = n.Str, a.ActivityName()
		}
		return bh
	}
	if !c.kindMap(n, "businessHours", []string{"timezone", "days", "hours", "holidays"}) {
		return nil
	}
	if tz := n.Get("timezone"); tz != nil {
		name := c.str(tz, "timezone")
		if _, err := time.LoadLocation(name); err != nil || name == "" || name == "Local" {
			c.r.at(tz.Pos, "unknown time zone `%s`; use an IANA name like `Europe/Berlin`", name)
		} else {
			bh.Timezone = name
		}
	}
	if d := n.Get("days"); d != nil {
		if d.Kind != ListNode || len(d.Items) == 0 {
			c.r.at(d.Pos, "`days` is a non-empty list like [MON, TUE, WED, THU, FRI]")
		} else {
			bh.Days = nil
			for _, it := range d.Items {
				wd, ok := weekdays[strings.ToUpper(scalarText(it))]
				if !ok {
					c.r.at(it.Pos, "unknown day `%s`; use MON, TUE, WED, THU, FRI, SAT or SUN", scalarText(it))
					continue
				}
				bh.Days = append(bh.Days, int(wd))
			}
		}
	}
	if h := n.Get("hours"); h != nil {
		var a, b, e, f int
		if _, err := fmt.Sscanf(scalarText(h), "%d:%d-%d:%d", &a, &b, &e, &f); err != nil || a > 23 || e > 24 || b > 59 || f > 59 || a*60+b >= e*60+f {
			c.r.at(h.Pos, "`hours` is a range like \"09:00-17:00\", not `%s`", scalarText(h))
		} else {
			bh.Start, bh.End = a*60+b, e*60+f
		}
	}
	if hs := n.Get("holidays"); hs != nil {
		if hs.Kind != ListNode {
			c.r.at(hs.Pos, "`holidays` is a list of dates like 2026-12-25")
		} else {
			for _, it := range hs.Items {
				if _, err := time.Parse("2006-01-02", scalarText(it)); err != nil {
					c.r.at(it.Pos, "bad holiday `%s`; write dates as YYYY-MM-DD", scalarText(it))
					continue
				}
				bh.Holidays = append(bh.Holidays, scalarText(it))
			}
		}
	}
	return bh
}
