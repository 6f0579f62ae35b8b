package store

import (
	"context"
	"encoding/json"
	"time"

	"switchboard/domain"
)

// Calendars (domain.CalendarRepo).

type calendarData struct {
	Timezone string                     `json:"timezone"`
	Week     map[string][]domain.Window `json:"week"`
	Holidays []string                   `json:"holidays,omitempty"`
}

var calendars = namedDocs[domain.Calendar]{table: "calendars", what: "calendar",
	data: func(c *domain.Calendar) any {
		return calendarData{Timezone: c.Timezone, Week: c.Week, Holidays: c.Holidays}
	},
	fill: func(c *domain.Calendar, orgID, name string, doc json.RawMessage, at time.Time) error {
		var d calendarData
		err := json.Unmarshal(doc, &d)
		*c = domain.Calendar{OrgID: orgID, Name: name, Timezone: d.Timezone, Week: d.Week, Holidays: d.Holidays, UpdatedAt: at}
		return err
	}}

func (r *repo) PutCalendar(ctx context.Context, c *domain.Calendar) error {
	if err := need("calendar", "orgId", c.OrgID); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	at, err := calendars.put(ctx, r, c.OrgID, c.Name, c)
	c.UpdatedAt = at
	return err
}

func (r *repo) GetCalendar(ctx context.Context, orgID, name string) (*domain.Calendar, error) {
	return calendars.get(ctx, r, orgID, name)
}

func (r *repo) ListCalendars(ctx context.Context, orgID string) ([]domain.Calendar, error) {
	return calendars.list(ctx, r, orgID)
}

func (r *repo) DeleteCalendar(ctx context.Context, orgID, name string) error {
	return calendars.delete(ctx, r, orgID, name)
}
