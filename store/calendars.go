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

func (r *repo) PutCalendar(ctx context.Context, c *domain.Calendar) error {
	if err := need("calendar", "orgId", c.OrgID); err != nil {
		return err
	}
	if err := c.Validate(); err != nil {
		return err
	}
	c.UpdatedAt = stamp(time.Time{})
	b, _ := json.Marshal(calendarData{Timezone: c.Timezone, Week: c.Week, Holidays: c.Holidays})
	_, err := r.exec(ctx, `INSERT INTO calendars (org_id, name, data, updated_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (org_id, name) DO UPDATE SET data = excluded.data, updated_at = excluded.updated_at`,
		c.OrgID, c.Name, string(b), r.ts(c.UpdatedAt))
	return wrap("put calendar "+c.Name, err)
}

func scanCalendar(s scanner) (c domain.Calendar, err error) {
	var raw json.RawMessage
	if err = s.Scan(&c.OrgID, &c.Name, jsonDest{&raw}, scanTime(&c.UpdatedAt)); err != nil {
		return c, err
	}
	var d calendarData
	err = json.Unmarshal(raw, &d)
	c.Timezone, c.Week, c.Holidays = d.Timezone, d.Week, d.Holidays
	return c, err
}

func (r *repo) GetCalendar(ctx context.Context, orgID, name string) (*domain.Calendar, error) {
	return get(ctx, r, "calendar "+name, scanCalendar, `SELECT org_id, name, data, updated_at FROM calendars WHERE org_id = ? AND name = ?`, orgID, name)
}

func (r *repo) ListCalendars(ctx context.Context, orgID string) ([]domain.Calendar, error) {
	return list(ctx, r, "list calendars", scanCalendar, `SELECT org_id, name, data, updated_at FROM calendars WHERE org_id = ? ORDER BY name`, orgID)
}

func (r *repo) DeleteCalendar(ctx context.Context, orgID, name string) error {
	return r.execOne(ctx, "delete calendar "+name, `DELETE FROM calendars WHERE org_id = ? AND name = ?`, orgID, name)
}
