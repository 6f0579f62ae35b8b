package crm

import (
	"context"
	"errors"

	"switchboard/domain"
)

// Calendar is an organisation's calendar by name; "default" is
// domain.DefaultCalendar until the organisation sets its own.
func (s *Service) Calendar(ctx context.Context, orgID, name string) (*domain.Calendar, error) {
	c, err := s.Store.GetCalendar(ctx, orgID, name)
	if errors.Is(err, domain.ErrNotFound) && name == "default" {
		return domain.DefaultCalendar(orgID), nil
	}
	return c, err
}

// Calendars lists an organisation's calendars, "default" always among them.
func (s *Service) Calendars(ctx context.Context, orgID string) ([]domain.Calendar, error) {
	cs, err := s.Store.ListCalendars(ctx, orgID)
	if err != nil {
		return nil, err
	}
	for _, c := range cs {
		if c.Name == "default" {
			return cs, nil
		}
	}
	return append([]domain.Calendar{*domain.DefaultCalendar(orgID)}, cs...), nil
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
