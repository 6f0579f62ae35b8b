package storetest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testCampaigns(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	ada := newCustomer(t, s, o.ID, "Ada", "ada@example.com")
	bob := newCustomer(t, s, o.ID, "Bob", "BOB@example.com")
	nomail := newCustomer(t, s, o.ID, "No Mail", "")
	theirs := newCustomer(t, s, other.ID, "Eve", "eve@example.com")

	c := &domain.Campaign{OrgID: o.ID, Name: " Spring ", Type: "drip", Audience: domain.Audience{Status: "lead", Tag: "vip"},
		Content: []domain.EmailTemplate{{Subject: "Hi {{ customer.firstName | \"there\" }}", Text: "Hello"}, {Subject: "Again", HTML: "<p>x</p>", DelayDays: 3}}}
	require.NoError(t, s.CreateCampaign(ctx, c))
	require.Equal(t, "Spring", c.Name)
	require.Equal(t, "draft", c.Status)
	got, err := s.GetCampaign(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, c, got)
	var ve *domain.ValidationError
	require.ErrorAs(t, s.CreateCampaign(ctx, &domain.Campaign{OrgID: o.ID, Type: "broadcast", Content: []domain.EmailTemplate{{Subject: "{{ customer.ssn }}"}, {Subject: "x", Text: "y"}}}), &ve)
	require.Len(t, ve.Fields, 4, "%v", ve) // content (a broadcast sends one), content[0].subject, content[0].text, name

	// suppressed addresses are not enrolled; others' customers neither; enrolling twice is once
	require.NoError(t, s.Suppress(ctx, o.ID, &domain.Suppression{Email: " Bob@Example.com ", Reason: "unsubscribed", Source: "campaign/x"}))
	require.NoError(t, s.Suppress(ctx, o.ID, &domain.Suppression{Email: "bob@example.com", Reason: "bounced"}))
	sup, err := s.GetSuppression(ctx, o.ID, "BOB@EXAMPLE.COM")
	require.NoError(t, err)
	require.Equal(t, "unsubscribed", sup.Reason, "the first reason stays")
	_, err = s.GetSuppression(ctx, other.ID, "bob@example.com")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorAs(t, s.Suppress(ctx, o.ID, &domain.Suppression{Email: "x@example.com", Reason: "bored"}), &ve)

	n, err := s.Enroll(ctx, o.ID, c.ID, []string{ada.ID, bob.ID, nomail.ID, theirs.ID, "nobody"}, "run-1")
	require.NoError(t, err)
	require.Equal(t, 2, n, "ada and the customer without email")
	n, err = s.Enroll(ctx, o.ID, c.ID, []string{ada.ID}, "run-2")
	require.NoError(t, err)
	require.Zero(t, n)
	_, err = s.Enroll(ctx, other.ID, c.ID, []string{theirs.ID}, "")
	require.ErrorIs(t, err, domain.ErrNotFound, "another organisation's campaign")

	// tracking: first time only; metrics count enrollments
	at := stamp(time.Now())
	first, err := s.TrackEnrollment(ctx, o.ID, c.ID, ada.ID, "opened", at)
	require.NoError(t, err)
	require.True(t, first)
	first, err = s.TrackEnrollment(ctx, o.ID, c.ID, ada.ID, "opened", at.Add(time.Hour))
	require.NoError(t, err)
	require.False(t, first)
	_, err = s.TrackEnrollment(ctx, o.ID, c.ID, bob.ID, "opened", at)
	require.ErrorIs(t, err, domain.ErrNotFound, "not enrolled")
	_, err = s.TrackEnrollment(ctx, o.ID, c.ID, ada.ID, "deleted_at = NULL, opened", at)
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = s.TrackEnrollment(ctx, other.ID, c.ID, ada.ID, "clicked", at)
	require.ErrorIs(t, err, domain.ErrNotFound)
	got, err = s.GetCampaign(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Nil(t, got.Metrics, "reading a campaign counts nothing")
	m, err := s.CampaignMetrics(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, &domain.CampaignCounts{Enrolled: 2, Opened: 1}, m)
	m, err = s.CampaignMetrics(ctx, other.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, &domain.CampaignCounts{}, m, "another organisation counts nothing of it")
	e, err := s.GetEnrollment(ctx, o.ID, c.ID, ada.ID)
	require.NoError(t, err)
	require.Equal(t, at, *e.Events.Opened)
	require.Equal(t, "run-1", e.RunID)
	e.Step, e.Status = 1, "completed"
	require.NoError(t, s.UpdateEnrollment(ctx, o.ID, e))
	es, err := s.ListEnrollments(ctx, o.ID, c.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, es, 2)
	es, err = s.ListEnrollments(ctx, other.ID, c.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, es)

	// update and list
	got.Status = "active"
	require.NoError(t, s.UpdateCampaign(ctx, got))
	stale := *c
	require.ErrorIs(t, s.UpdateCampaign(ctx, &stale), domain.ErrConflict)
	list, _, err := s.ListCampaigns(ctx, o.ID, domain.CampaignQuery{Status: "active"})
	require.NoError(t, err)
	require.Len(t, list, 1)
	list, _, err = s.ListCampaigns(ctx, other.ID, domain.CampaignQuery{})
	require.NoError(t, err)
	require.Empty(t, list)
	ss, err := s.ListSuppressions(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, ss, 1)
	require.ErrorIs(t, s.DeleteSuppression(ctx, other.ID, "bob@example.com"), domain.ErrNotFound)
	require.NoError(t, s.DeleteSuppression(ctx, o.ID, "bob@example.com"))

	// a deleted customer's enrollments go with them
	require.NoError(t, s.DeleteCustomer(ctx, o.ID, nomail.ID))
	m, err = s.CampaignMetrics(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, 1, m.Enrolled)
}
