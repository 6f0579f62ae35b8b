package crm

import (
	"context"
	"errors"
	"slices"

	"switchboard/domain"
)

// Calendar is an organisation's calendar by name; "default" is
// domain.DefaultCalendar until the organisation sets its own.
func (s *Service) Calendar(ctx context.Context, orgID, name string) (*domain.Calendar, error) {
	return calendarIn(ctx, s.Store, orgID, name)
}

// calendarIn is Service.Calendar in a transaction (or any Repo).
func calendarIn(ctx context.Context, r domain.Repo, orgID, name string) (*domain.Calendar, error) {
	c, err := r.GetCalendar(ctx, orgID, name)
	return orBuiltin(name, c, err, func() *domain.Calendar { return domain.DefaultCalendar(orgID) })
}

// Calendars lists an organisation's calendars, "default" always among them.
func (s *Service) Calendars(ctx context.Context, orgID string) ([]domain.Calendar, error) {
	cs, err := s.Store.ListCalendars(ctx, orgID)
	return withBuiltin(cs, err, func(c domain.Calendar) string { return c.Name }, func() *domain.Calendar { return domain.DefaultCalendar(orgID) })
}

// orBuiltin is a named record read with err, or the built-in one when the
// name is "default" and the organisation has not stored its own. Calendars,
// contract templates and SLA policies work this way.
func orBuiltin[T any](name string, rec *T, err error, builtin func() *T) (*T, error) {
	if errors.Is(err, domain.ErrNotFound) && name == "default" {
		return builtin(), nil
	}
	return rec, err
}

// withBuiltin is a list of named records (read with err) with the built-in
// "default" first when the organisation has not stored its own.
func withBuiltin[T any](recs []T, err error, name func(T) string, builtin func() *T) ([]T, error) {
	if err != nil {
		return nil, err
	}
	if slices.ContainsFunc(recs, func(r T) bool { return name(r) == "default" }) {
		return recs, nil
	}
	return append([]T{*builtin()}, recs...), nil
}

// PutCalendar creates or replaces a calendar (audited).
func (s *Service) PutCalendar(ctx context.Context, actor Actor, c *domain.Calendar) (*domain.Calendar, error) {
	return change(ctx, s, c.OrgID, actor, func(tx domain.Repo) (*domain.Calendar, []*domain.Event, *domain.AuditEntry, error) {
		if err := tx.PutCalendar(ctx, c); err != nil {
			return nil, nil, nil, err
		}
		return c, nil, &domain.AuditEntry{Action: "calendar.put", Target: "calendar/" + c.Name}, nil
	})
}

// DeleteCalendar removes a calendar; removing "default" brings back
// domain.DefaultCalendar.
func (s *Service) DeleteCalendar(ctx context.Context, actor Actor, orgID, name string) error {
	_, err := change(ctx, s, orgID, actor, func(tx domain.Repo) (*domain.Calendar, []*domain.Event, *domain.AuditEntry, error) {
		if err := tx.DeleteCalendar(ctx, orgID, name); err != nil {
			return nil, nil, nil, err
		}
		return &domain.Calendar{Name: name}, nil, &domain.AuditEntry{Action: "calendar.delete", Target: "calendar/" + name}, nil
	})
	return err
}
