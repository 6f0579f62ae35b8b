package dsl

import (
	"encoding/json"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"time"
)

// Duration is a time.Duration that reads and writes the DSL's duration
// forms: "90s", "15m", "2h30m", "3d", "1w", "500ms" or ISO 8601 ("P3DT4H").
// In JSON it is written as a Go duration string so plans round-trip.
type Duration time.Duration

// D returns the value as a time.Duration.
func (d Duration) D() time.Duration { return time.Duration(d) }

func (d Duration) MarshalJSON() ([]byte, error) {
	return json.Marshal(time.Duration(d).String())
}

func (d *Duration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	v, err := ParseDuration(s)
	*d = Duration(v)
	return err
}

var (
	shortDur = regexp.MustCompile(`^(\d+(?:\.\d+)?)(ms|w|d|h|m|s)`)
	isoDur   = regexp.MustCompile(`^P(?:(\d+(?:\.\d+)?)Y)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)W)?(?:(\d+(?:\.\d+)?)D)?(?:T(?:(\d+(?:\.\d+)?)H)?(?:(\d+(?:\.\d+)?)M)?(?:(\d+(?:\.\d+)?)S)?)?$`)
)

var unitDur = map[string]time.Duration{
	"ms": time.Millisecond, "s": time.Second, "m": time.Minute, "h": time.Hour,
	"d": 24 * time.Hour, "w": 7 * 24 * time.Hour,
}

// maxDuration bounds durations to 100 years so arithmetic cannot overflow.
const maxDuration = 100 * 365 * 24 * time.Hour

// ParseDuration reads a DSL duration. Zero and negative durations are
// rejected: every place that takes a duration needs a positive one.
func ParseDuration(s string) (time.Duration, error) {
	in := strings.TrimSpace(s)
	if in == "" {
		return 0, fmt.Errorf("empty duration; write one like `90s`, `15m`, `2h30m`, `3d`, `1w` or `P3DT4H`")
	}
	var total float64
	if strings.HasPrefix(in, "P") {
		m := isoDur.FindStringSubmatch(in)
		if m == nil || in == "P" || strings.HasSuffix(in, "T") {
			return 0, badDuration(s)
		}
		// Years and months are calendar units; the DSL reads them as 365 and 30 days.
		units := []time.Duration{365 * 24 * time.Hour, 30 * 24 * time.Hour, 7 * 24 * time.Hour, 24 * time.Hour, time.Hour, time.Minute, time.Second}
		for i, u := range units {
			if m[i+1] == "" {
				continue
			}
			f, _ := strconv.ParseFloat(m[i+1], 64)
			total += f * float64(u)
		}
	} else {
		rest := in
		for rest != "" {
			m := shortDur.FindStringSubmatch(rest)
			if m == nil {
				return 0, badDuration(s)
			}
			f, _ := strconv.ParseFloat(m[1], 64)
			total += f * float64(unitDur[m[2]])
			rest = rest[len(m[0]):]
		}
	}
	if total > float64(maxDuration) {
		return 0, fmt.Errorf("duration `%s` is longer than 100 years", s)
	}
	if total < float64(time.Millisecond) {
		return 0, fmt.Errorf("duration `%s` must be at least 1ms", s)
	}
	return time.Duration(total), nil
}

func badDuration(s string) error {
	return fmt.Errorf("bad duration `%s`; write one like `90s`, `15m`, `2h30m`, `3d`, `1w` or ISO 8601 `P3DT4H`", s)
}
