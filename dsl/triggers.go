package dsl

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Webhook verification schemes.
var verifySchemes = []string{"standard-webhooks", "hmac-sha256", "stripe", "slack", "sendgrid", "github", "token", "none"}

var (
	hookPath   = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._~/-]{0,199}$`)
	eventType  = regexp.MustCompile(`^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)+$`)
	secretName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9_.-]{0,127}$`)
)

// triggers parses and checks `triggers:` (executed by the runtime, not here).
// Expressions in a webhook see `body`, `headers` and `query`; in an event
// trigger `event`; the run's own variables do not exist yet.
func (c *compiler) triggers(n *Node) []Trigger {
	if n.Kind != ListNode {
		c.r.at(n.Pos, "`triggers` is a list of `webhook`, `event` or `schedule` entries, not %s", n.describe())
		return nil
	}
	if c.triggerPos == nil {
		c.triggerPos = map[*WebhookTrigger]Pos{}
	}
	var out []Trigger
	paths := map[string]int{}
	for _, it := range n.Items {
		if !c.mapNode(it, "a trigger") {
			continue
		}
		kinds := []string{"webhook", "event", "schedule"}
		c.unknownKeys(it, kinds, "in a trigger")
		var found []string
		for _, k := range kinds {
			if it.Get(k) != nil {
				found = append(found, k)
			}
		}
		if len(found) != 1 {
			c.r.at(it.Pos, "a trigger has exactly one of `webhook`, `event`, `schedule`")
			continue
		}
		v := it.Get(found[0])
		var t Trigger
		switch found[0] {
		case "webhook":
			t.Webhook = c.webhook(v)
			if t.Webhook != nil && t.Webhook.Path != "" {
				if line, dup := paths[t.Webhook.Path]; dup {
					c.r.at(v.Get("path").Pos, "webhook path `%s` is used twice (first at line %d)", t.Webhook.Path, line)
				}
				paths[t.Webhook.Path] = v.Pos.Line
			}
		case "event":
			t.Event = c.eventTrigger(v)
		case "schedule":
			t.Schedule = c.schedule(v)
		}
		out = append(out, t)
	}
	return out
}

func triggerScope(names ...string) scope {
	sc := scope{trigger: true}
	for _, n := range names {
		sc = sc.with(n, localDyn)
	}
	return sc
}

func (c *compiler) webhook(n *Node) *WebhookTrigger {
	if !c.kindMap(n, "webhook", []string{"path", "verify", "key", "input", "signal", "target", "start"}) {
		return nil
	}
	w := &WebhookTrigger{Scheme: "none"}
	c.triggerPos[w] = n.Pos
	if p := c.required(n, "path", "webhook"); p != nil {
		s := c.str(p, "path")
		if s != "" && (!hookPath.MatchString(s) || strings.Contains(s, "..") || strings.Contains(s, "//")) {
			c.r.at(p.Pos, "bad webhook path `%s`: use letters, digits and `/._~-`, without `..`", s)
		} else {
			w.Path = s
		}
	}
	sc := triggerScope("body", "headers", "query")
	if v := n.Get("verify"); v == nil {
		c.r.at(n.Pos, "webhook needs `verify: {scheme: ...}`; use `scheme: none` only in development")
	} else if c.kindMap(v, "verify", []string{"scheme", "secret", "header"}) {
		if s := c.required(v, "scheme", "verify"); s != nil {
			scheme := c.str(s, "scheme")
			if !contains(verifySchemes, scheme) {
				c.r.at(s.Pos, "unknown verification scheme `%s`; schemes are %s%s", scheme, quoteList(verifySchemes), suggest(scheme, verifySchemes))
			} else {
				w.Scheme = scheme
			}
		}
		if s := v.Get("secret"); s != nil {
			name := c.str(s, "secret")
			if strings.Contains(name, "${") || !secretName.MatchString(name) {
				c.r.at(s.Pos, "`secret` names a stored secret (like `stripe-webhook`); never write the secret itself in the file")
			} else {
				w.Secret = name
			}
		} else if w.Scheme != "none" && w.Scheme != "" {
			c.r.at(v.Pos, "scheme `%s` needs `secret: NAME` (the name of a stored secret)", w.Scheme)
		}
		if h := v.Get("header"); h != nil {
			w.Header = c.str(h, "header")
		}
	}
	if k := n.Get("key"); k != nil {
		w.Key = c.value(k, sc)
	}
	if i := n.Get("input"); i != nil {
		w.Input = c.value(i, sc)
	}
	if s := n.Get("signal"); s != nil {
		w.Signal = c.signalName(s)
		c.triggerPos[w] = s.Pos // an unknown signal is reported here
		// an extension of DSL v1: `start: true` signals-with-start (the run
		// named by `target` is started with `input` when none is running)
		if st := n.Get("start"); st != nil {
			w.Start = c.boolean(st, "start")
		}
		if n.Get("input") != nil && !w.Start {
			c.r.at(s.Pos, "a webhook either starts runs (`input`) or signals one (`signal` + `target`), not both; `start: true` does both (signal-with-start)")
		}
		if t := n.Get("target"); t == nil {
			c.r.at(s.Pos, "a signalling webhook needs `target`: the workflow id of the run to signal")
		} else {
			w.Target = c.value(t, sc)
		}
	} else if t := n.Get("target"); t != nil {
		c.r.at(t.Pos, "`target` is only used with `signal`")
	} else if st := n.Get("start"); st != nil {
		c.r.at(st.Pos, "`start` is only used with `signal` (signal-with-start)")
	}
	return w
}

func (c *compiler) eventTrigger(n *Node) *EventTrigger {
	if !c.kindMap(n, "event", []string{"type", "when", "input", "signal", "target"}) {
		return nil
	}
	e := &EventTrigger{}
	if t := c.required(n, "type", "event"); t != nil {
		s := c.str(t, "type")
		if !eventType.MatchString(s) {
			c.r.at(t.Pos, "bad event type `%s`: use a dotted lower-case name like `ticket.created`", s)
		} else {
			e.Type = s
		}
	}
	sc := triggerScope("event")
	if w := n.Get("when"); w != nil {
		e.When = c.cond(w, sc, "when")
	}
	if i := n.Get("input"); i != nil {
		e.Input = c.value(i, sc)
	}
	// an extension of DSL v1: like a webhook, an event may signal the run
	// `target` names (quote.accepted → the run that sent the quote)
	if s := n.Get("signal"); s != nil {
		e.Signal = c.signalName(s)
		if c.eventSignalPos == nil {
			c.eventSignalPos = map[*EventTrigger]Pos{}
		}
		c.eventSignalPos[e] = s.Pos
		if t := n.Get("target"); t == nil {
			c.r.at(s.Pos, "a signalling event trigger needs `target`: the id of the run to signal")
		} else {
			e.Target = c.value(t, sc)
		}
	} else if t := n.Get("target"); t != nil {
		c.r.at(t.Pos, "`target` is only used with `signal`")
	}
	return e
}

func (c *compiler) schedule(n *Node) *ScheduleTrigger {
	if !c.kindMap(n, "schedule", []string{"cron", "every", "timezone", "input", "overlap", "catchupWindow"}) {
		return nil
	}
	s := &ScheduleTrigger{}
	if ev := n.Get("every"); ev != nil {
		// an extension of DSL v1: an interval, for what cron cannot say (every 90s)
		if n.Get("cron") != nil {
			c.r.at(ev.Pos, "a schedule has `cron` or `every`, not both")
		}
		d, err := ParseDuration(c.str(ev, "every"))
		switch {
		case err != nil:
			c.r.at(ev.Pos, "bad `every`: %v", err)
		case d < time.Second:
			c.r.at(ev.Pos, "`every` is at least 1s")
		default:
			s.Every = Duration(d)
		}
	} else if cr := c.required(n, "cron", "schedule"); cr != nil {
		expr := c.str(cr, "cron")
		if err := checkCron(expr); err != "" {
			c.r.at(cr.Pos, "bad cron `%s`: %s", expr, err)
		} else {
			s.Cron = expr
		}
	}
	if tz := n.Get("timezone"); tz != nil {
		name := c.str(tz, "timezone")
		if _, err := time.LoadLocation(name); err != nil || name == "" || name == "Local" {
			c.r.at(tz.Pos, "unknown time zone `%s`; use an IANA name like `Europe/Berlin`", name)
		} else {
			s.Timezone = name
		}
	}
	if i := n.Get("input"); i != nil {
		s.Input = c.value(i, triggerScope())
	}
	// extensions of DSL v1: what a schedule does when a run is still going
	// at the next time, and how late a missed time may still start
	if o := n.Get("overlap"); o != nil {
		v := c.str(o, "overlap")
		if !contains(overlapPolicies, v) {
			c.r.at(o.Pos, "unknown overlap policy `%s`; policies are %s%s", v, quoteList(overlapPolicies), suggest(v, overlapPolicies))
		} else {
			s.Overlap = v
		}
	}
	if cw := n.Get("catchupWindow"); cw != nil {
		d, err := ParseDuration(c.str(cw, "catchupWindow"))
		switch {
		case err != nil:
			c.r.at(cw.Pos, "bad `catchupWindow`: %v", err)
		case d < 10*time.Second:
			c.r.at(cw.Pos, "`catchupWindow` is at least 10s")
		default:
			s.CatchupWindow = Duration(d)
		}
	}
	return s
}

// overlapPolicies are what a schedule may do when its previous run is
// still going: skip the new time (the default), buffer one or all, start
// anyway, or cancel or terminate the previous run.
var overlapPolicies = []string{"skip", "bufferOne", "bufferAll", "allow", "cancelOther", "terminateOther"}

var cronField = regexp.MustCompile(`^(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?(,(\*|[0-9A-Za-z]+(-[0-9A-Za-z]+)?)(/[0-9]+)?)*$`)

// checkCron checks a 5-field cron expression (or @hourly, @daily, ...).
func checkCron(expr string) string {
	switch expr {
	case "@yearly", "@annually", "@monthly", "@weekly", "@daily", "@midnight", "@hourly":
		return ""
	}
	fields := strings.Fields(expr)
	if len(fields) != 5 {
		return "a cron expression has 5 fields (minute hour day-of-month month day-of-week)"
	}
	names := []string{"minute", "hour", "day-of-month", "month", "day-of-week"}
	for i, f := range fields {
		if !cronField.MatchString(f) {
			return "bad " + names[i] + " field `" + f + "`"
		}
		if msg := checkCronRanges(f, cronBounds[i]); msg != "" {
			return names[i] + " field `" + f + "`: " + msg
		}
	}
	return ""
}

// cronBound is the range of one cron field and the names it accepts.
type cronBound struct {
	lo, hi int
	names  []string // names[i] stands for lo+i
}

var cronBounds = []cronBound{
	{0, 59, nil},
	{0, 23, nil},
	{1, 31, nil},
	{1, 12, []string{"JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"}},
	{0, 7, []string{"SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"}},
}

// checkCronRanges checks every value of a field (lists, ranges, steps).
func checkCronRanges(field string, b cronBound) string {
	value := func(v string) (int, string) {
		for i, n := range b.names {
			if strings.EqualFold(v, n) {
				return b.lo + i, ""
			}
		}
		n, err := strconv.Atoi(v)
		if err != nil {
			if len(b.names) > 0 {
				return 0, "unknown name `" + v + "`; use " + strings.Join(b.names, ", ")
			}
			return 0, "`" + v + "` is not a number"
		}
		if n < b.lo || n > b.hi {
			return 0, fmt.Sprintf("%d is out of range %d-%d", n, b.lo, b.hi)
		}
		return n, ""
	}
	for _, part := range strings.Split(field, ",") {
		part, step, hasStep := strings.Cut(part, "/")
		if hasStep {
			if n, err := strconv.Atoi(step); err != nil || n < 1 {
				return "bad step `/" + step + "`"
			}
		}
		if part == "*" {
			continue
		}
		from, to, isRange := strings.Cut(part, "-")
		a, msg := value(from)
		if msg != "" {
			return msg
		}
		if isRange {
			z, msg := value(to)
			if msg != "" {
				return msg
			}
			if z < a {
				return "range `" + part + "` runs backwards"
			}
		}
	}
	return ""
}
