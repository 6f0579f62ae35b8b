package storetest

import (
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testCalendars(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	c := domain.DefaultCalendar(o.ID)
	c.Name, c.Timezone, c.Holidays = "support", "Europe/Berlin", []string{"2026-12-25"}
	require.NoError(t, s.PutCalendar(ctx, c))
	got, err := s.GetCalendar(ctx, o.ID, "support")
	require.NoError(t, err)
	require.Equal(t, c, got)
	c.Timezone = "America/New_York"
	require.NoError(t, s.PutCalendar(ctx, c), "replaces")
	cs, err := s.ListCalendars(ctx, o.ID)
	require.NoError(t, err)
	require.Len(t, cs, 1)
	require.Equal(t, "America/New_York", cs[0].Timezone)
	_, err = s.GetCalendar(ctx, other.ID, "support")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.DeleteCalendar(ctx, other.ID, "support"), domain.ErrNotFound)
	bad := domain.DefaultCalendar(o.ID)
	bad.Timezone = "Nowhere"
	require.ErrorIs(t, s.PutCalendar(ctx, bad), domain.ErrInvalid)
	require.NoError(t, s.DeleteCalendar(ctx, o.ID, "support"))
	cs, err = s.ListCalendars(ctx, o.ID)
	require.NoError(t, err)
	require.Empty(t, cs)
}
