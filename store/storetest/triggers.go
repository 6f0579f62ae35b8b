package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

// Trigger routes, webhook deliveries and events.

// newDeployable creates a definition with revisions revisions.
func newDeployable(t *testing.T, s domain.Repo, orgID, name string, revisions int) *domain.Definition {
	t.Helper()
	d := newDefinition(t, s, orgID, name)
	for range revisions {
		newRevision(t, s, orgID, d.ID)
	}
	return d
}

func route(kind, key string, revision, index int) domain.TriggerRoute {
	return domain.TriggerRoute{Kind: kind, Key: key, Revision: revision, Index: index}
}

func newEvent(t *testing.T, s domain.Repo, orgID, typ string) *domain.Event {
	t.Helper()
	e := &domain.Event{OrgID: orgID, Type: typ, Data: json.RawMessage(`{"n":1}`), Source: "api"}
	require.NoError(t, s.PublishEvent(t.Context(), e))
	return e
}

func newDelivery(t *testing.T, s domain.Repo, orgID, path string) *domain.WebhookDelivery {
	t.Helper()
	d := &domain.WebhookDelivery{OrgID: orgID, Path: path, Status: "rejected", HTTPStatus: 404, Error: "no such path"}
	require.NoError(t, s.AddDelivery(t.Context(), d))
	return d
}

func testTriggerRoutes(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	orders := newDeployable(t, s, o.ID, "orders", 2)
	billing := newDeployable(t, s, o.ID, "billing", 1)

	routes := []domain.TriggerRoute{
		route(domain.TriggerWebhook, "shop/orders", 1, 0),
		route(domain.TriggerEvent, "ticket.created", 1, 1),
		route(domain.TriggerSchedule, "nightly", 1, 2),
		route(domain.TriggerEvent, "ticket.created", 1, 3),
	}
	require.NoError(t, s.SetTriggerRoutes(ctx, o.ID, orders.ID, routes))
	for _, rt := range routes {
		require.Equal(t, o.ID, rt.OrgID, "the store fills in the organisation")
		require.Equal(t, orders.ID, rt.DefinitionID)
		require.Equal(t, "orders", rt.Definition, "the store fills in the definition's name")
	}
	wh, err := s.WebhookRoute(ctx, o.ID, "shop/orders")
	require.NoError(t, err)
	require.Equal(t, routes[0], *wh)
	_, err = s.WebhookRoute(ctx, o.ID, "shop/refunds")
	require.ErrorIs(t, err, domain.ErrNotFound)
	_, err = s.WebhookRoute(ctx, o.ID, "nightly")
	require.ErrorIs(t, err, domain.ErrNotFound, "only webhook routes are webhook paths")
	evs, err := s.EventRoutes(ctx, o.ID, "ticket.created")
	require.NoError(t, err)
	require.Equal(t, []domain.TriggerRoute{routes[1], routes[3]}, evs)
	evs, err = s.EventRoutes(ctx, o.ID, "ticket.closed")
	require.NoError(t, err)
	require.NotNil(t, evs)
	require.Empty(t, evs)
	all, err := s.ListTriggerRoutes(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, []domain.TriggerRoute{routes[1], routes[3], routes[2], routes[0]}, all, "by kind, key, definition, index")

	// billing routes the same event type and a webhook of its own.
	billingRoutes := []domain.TriggerRoute{
		route(domain.TriggerEvent, "ticket.created", 1, 0),
		route(domain.TriggerWebhook, "billing", 1, 1),
	}
	require.NoError(t, s.SetTriggerRoutes(ctx, o.ID, billing.ID, billingRoutes))
	evs, err = s.EventRoutes(ctx, o.ID, "ticket.created")
	require.NoError(t, err)
	require.Equal(t, []domain.TriggerRoute{billingRoutes[0], routes[1], routes[3]}, evs, "by definition name, then index")

	// Another definition cannot take orders' webhook path; its routes stay
	// as they were.
	err = s.SetTriggerRoutes(ctx, o.ID, billing.ID, []domain.TriggerRoute{
		route(domain.TriggerEvent, "invoice.paid", 1, 0),
		route(domain.TriggerWebhook, "shop/orders", 1, 1),
	})
	require.ErrorIs(t, err, domain.ErrConflict)
	wh, err = s.WebhookRoute(ctx, o.ID, "shop/orders")
	require.NoError(t, err)
	require.Equal(t, orders.ID, wh.DefinitionID)
	evs, err = s.EventRoutes(ctx, o.ID, "invoice.paid")
	require.NoError(t, err)
	require.Empty(t, evs, "a failed replacement changes nothing")
	wh, err = s.WebhookRoute(ctx, o.ID, "billing")
	require.NoError(t, err)
	require.Equal(t, billingRoutes[1], *wh)
	// Nor can one revision route a path twice.
	err = s.SetTriggerRoutes(ctx, o.ID, billing.ID, []domain.TriggerRoute{
		route(domain.TriggerWebhook, "twice", 1, 0), route(domain.TriggerWebhook, "twice", 1, 1),
	})
	require.ErrorIs(t, err, domain.ErrConflict)

	// Redeploying orders (revision 2) with the same path is fine; the
	// routes it no longer has are gone.
	redeployed := []domain.TriggerRoute{
		route(domain.TriggerWebhook, "shop/orders", 2, 0),
		route(domain.TriggerEvent, "order.paid", 2, 1),
	}
	require.NoError(t, s.SetTriggerRoutes(ctx, o.ID, orders.ID, redeployed))
	wh, err = s.WebhookRoute(ctx, o.ID, "shop/orders")
	require.NoError(t, err)
	require.Equal(t, redeployed[0], *wh)
	all, err = s.ListTriggerRoutes(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, []domain.TriggerRoute{redeployed[1], billingRoutes[0], billingRoutes[1], redeployed[0]}, all)

	// Undeploying orders (no routes) frees the path for billing, in a
	// transaction with billing's deploy.
	require.NoError(t, s.Tx(ctx, func(tx domain.Repo) error {
		if err := tx.SetTriggerRoutes(ctx, o.ID, orders.ID, nil); err != nil {
			return err
		}
		return tx.SetTriggerRoutes(ctx, o.ID, billing.ID, []domain.TriggerRoute{route(domain.TriggerWebhook, "shop/orders", 1, 0)})
	}))
	wh, err = s.WebhookRoute(ctx, o.ID, "shop/orders")
	require.NoError(t, err)
	require.Equal(t, billing.ID, wh.DefinitionID)
	require.Equal(t, "billing", wh.Definition)
	all, err = s.ListTriggerRoutes(ctx, o.ID)
	require.NoError(t, err)
	require.Len(t, all, 1)

	// A rolled back replacement changes nothing.
	boom := errors.New("boom")
	err = s.Tx(ctx, func(tx domain.Repo) error {
		if err := tx.SetTriggerRoutes(ctx, o.ID, billing.ID, nil); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	after, err := s.ListTriggerRoutes(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, all, after)

	for name, bad := range map[string]domain.TriggerRoute{
		"unknown kind":   route("cron", "x", 1, 0),
		"empty key":      route(domain.TriggerEvent, "", 1, 0),
		"no revision":    route(domain.TriggerEvent, "x", 0, 0),
		"negative index": route(domain.TriggerEvent, "x", 1, -1),
		"other org":      {OrgID: "other-org", Kind: domain.TriggerEvent, Key: "x", Revision: 1},
		"other def":      {DefinitionID: orders.ID, Kind: domain.TriggerEvent, Key: "x", Revision: 1},
		"other name":     {Definition: "orders", Kind: domain.TriggerEvent, Key: "x", Revision: 1},
	} {
		err := s.SetTriggerRoutes(ctx, o.ID, billing.ID, []domain.TriggerRoute{bad})
		require.ErrorIs(t, err, domain.ErrInvalid, name)
	}
	require.ErrorIs(t, s.SetTriggerRoutes(ctx, o.ID, billing.ID, []domain.TriggerRoute{route(domain.TriggerEvent, "x", 2, 0)}),
		domain.ErrNotFound, "billing has no revision 2")
	require.ErrorIs(t, s.SetTriggerRoutes(ctx, o.ID, "no-such-definition", nil), domain.ErrNotFound)
	require.ErrorIs(t, s.SetTriggerRoutes(ctx, o.ID, "", nil), domain.ErrInvalid)
	after, err = s.ListTriggerRoutes(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, all, after, "invalid replacements change nothing")
}

func testDeliveries(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	d1 := &domain.WebhookDelivery{OrgID: o.ID, Path: "shop/orders", Definition: "orders", Status: "started", HTTPStatus: 202,
		DedupeKey: "evt_1", WorkflowID: "wf-1", RunID: "run-1", DurationMS: 1 << 40}
	require.NoError(t, s.AddDelivery(ctx, d1))
	require.NotEmpty(t, d1.ID)
	requireStamped(t, d1.ReceivedAt)
	d2 := newDelivery(t, s, o.ID, "shop/nothing")
	list, err := s.ListDeliveries(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.WebhookDelivery{*d2, *d1}, list)

	require.ErrorIs(t, s.AddDelivery(ctx, &domain.WebhookDelivery{OrgID: o.ID}), domain.ErrInvalid)
	require.ErrorIs(t, s.AddDelivery(ctx, &domain.WebhookDelivery{Status: "started"}), domain.ErrInvalid)
	require.ErrorIs(t, s.AddDelivery(ctx, &domain.WebhookDelivery{OrgID: "no-such-org", Status: "started"}), domain.ErrNotFound)
	require.ErrorIs(t, s.AddDelivery(ctx, &domain.WebhookDelivery{ID: d1.ID, OrgID: o.ID, Status: "started"}), domain.ErrConflict)
}

func testEvents(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	delivered := time.Now()
	e1 := &domain.Event{OrgID: o.ID, Type: "ticket.created", Data: json.RawMessage(`{"id": 7, "tags": ["a"]}`), Source: "api",
		// The delivery fields are the store's to set.
		DeliveredAt: &delivered, Attempts: 3, LastError: "old", Runs: []string{"wf"}}
	require.NoError(t, s.PublishEvent(ctx, e1))
	require.NotEmpty(t, e1.ID)
	requireStamped(t, e1.CreatedAt)
	require.Nil(t, e1.DeliveredAt)
	require.Zero(t, e1.Attempts)
	require.Empty(t, e1.LastError)
	require.Nil(t, e1.Runs)
	got, err := s.GetEvent(ctx, o.ID, e1.ID)
	require.NoError(t, err)
	require.Equal(t, e1, got)
	e2 := newEvent(t, s, o.ID, "ticket.closed")
	list, err := s.ListEvents(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.Event{*e2, *e1}, list)

	_, err = s.GetEvent(ctx, o.ID, "no-such-event")
	require.ErrorIs(t, err, domain.ErrNotFound)
	for _, data := range []string{``, `{`, `{"a":}`, `nope`, `{} {}`} {
		err := s.PublishEvent(ctx, &domain.Event{OrgID: o.ID, Type: "x", Data: json.RawMessage(data)})
		require.ErrorIs(t, err, domain.ErrInvalid, "data %q", data)
	}
	require.ErrorIs(t, s.PublishEvent(ctx, &domain.Event{OrgID: o.ID, Data: json.RawMessage(`{}`)}), domain.ErrInvalid)
	require.ErrorIs(t, s.PublishEvent(ctx, &domain.Event{Type: "x", Data: json.RawMessage(`{}`)}), domain.ErrInvalid)
	require.ErrorIs(t, s.PublishEvent(ctx, &domain.Event{OrgID: "no-such-org", Type: "x", Data: json.RawMessage(`{}`)}), domain.ErrNotFound)
	require.ErrorIs(t, s.PublishEvent(ctx, &domain.Event{ID: e1.ID, OrgID: o.ID, Type: "x", Data: json.RawMessage(`{}`)}), domain.ErrConflict)
	list, err = s.ListEvents(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, list, 2, "nothing invalid was published")

	// Marking: delivered with its runs, or failed with the reason.
	require.NoError(t, s.MarkEventDelivered(ctx, o.ID, e1.ID, []string{"wf-1", "wf-2"}))
	got, err = s.GetEvent(ctx, o.ID, e1.ID)
	require.NoError(t, err)
	require.NotNil(t, got.DeliveredAt)
	requireStamped(t, *got.DeliveredAt)
	require.Equal(t, []string{"wf-1", "wf-2"}, got.Runs)
	first := *got.DeliveredAt
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, s.MarkEventDelivered(ctx, o.ID, e1.ID, nil))
	got, err = s.GetEvent(ctx, o.ID, e1.ID)
	require.NoError(t, err)
	require.Equal(t, first, *got.DeliveredAt, "marking again keeps the first delivery time")
	require.Nil(t, got.Runs)

	require.NoError(t, s.MarkEventFailed(ctx, o.ID, e2.ID, 0, "no route answered", time.Now().Add(time.Hour)))
	got, err = s.GetEvent(ctx, o.ID, e2.ID)
	require.NoError(t, err)
	require.Equal(t, "no route answered", got.LastError)
	require.Nil(t, got.DeliveredAt)

	require.ErrorIs(t, s.MarkEventDelivered(ctx, o.ID, "no-such-event", nil), domain.ErrNotFound)
	require.ErrorIs(t, s.MarkEventFailed(ctx, o.ID, "no-such-event", 0, "x", time.Now()), domain.ErrNotFound)

	// An event published in a transaction that rolls back never was.
	boom := errors.New("boom")
	var doomed domain.Event
	err = s.Tx(ctx, func(tx domain.Repo) error {
		doomed = domain.Event{OrgID: o.ID, Type: "ticket.created", Data: json.RawMessage(`1`)}
		if err := tx.PublishEvent(ctx, &doomed); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	_, err = s.GetEvent(ctx, o.ID, doomed.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	claimed, err := s.ClaimEvents(ctx, 10, time.Minute)
	require.NoError(t, err)
	require.Empty(t, claimed, "e1 is delivered, e2 waits for its retry, the third was rolled back")
}

// ids lists the ids of events.
func ids(events []domain.Event) []string {
	return keys(events, func(e domain.Event) string { return e.ID })
}

func testEventClaims(t *testing.T, s domain.Store) {
	ctx := t.Context()
	a, b := newOrg(t, s), newOrg(t, s)
	claim := func(limit int, lease time.Duration) []domain.Event {
		t.Helper()
		events, err := s.ClaimEvents(ctx, limit, lease)
		require.NoError(t, err)
		require.NotNil(t, events)
		return events
	}
	event := func(e *domain.Event) *domain.Event {
		t.Helper()
		got, err := s.GetEvent(ctx, e.OrgID, e.ID)
		require.NoError(t, err)
		return got
	}

	require.Empty(t, claim(10, time.Minute), "nothing published yet")
	// Events of every organisation, claimed oldest first.
	e1 := newEvent(t, s, a.ID, "ticket.created")
	e2 := newEvent(t, s, b.ID, "ticket.created")
	e3 := newEvent(t, s, a.ID, "ticket.closed")

	got := claim(2, time.Hour)
	require.Equal(t, []string{e1.ID, e2.ID}, ids(got), "the oldest two")
	for _, e := range got {
		require.Equal(t, 1, e.Attempts)
		require.Equal(t, *event(&e), e, "claims return the events as they are now")
	}
	require.Equal(t, e2.OrgID, got[1].OrgID)
	require.Equal(t, e2.Data, got[1].Data)
	// While their lease runs, claimed events are not claimed again.
	require.Equal(t, []string{e3.ID}, ids(claim(10, time.Hour)))
	require.Empty(t, claim(10, time.Hour))

	// A failed event comes back at its retry time, not before; the attempts
	// add up.
	require.NoError(t, s.MarkEventFailed(ctx, a.ID, e1.ID, 1, "workflow start failed", time.Now().Add(time.Hour)))
	require.Empty(t, claim(10, time.Hour), "e1 retries in an hour")
	require.NoError(t, s.MarkEventFailed(ctx, a.ID, e1.ID, 1, "workflow start failed again", time.Now().Add(-time.Second)))
	got = claim(10, time.Hour)
	require.Equal(t, []string{e1.ID}, ids(got))
	require.Equal(t, 2, got[0].Attempts)
	require.Equal(t, "workflow start failed again", got[0].LastError)
	// the first claim's dispatcher, late: its failure no longer counts
	require.ErrorIs(t, s.MarkEventFailed(ctx, a.ID, e1.ID, 1, "stale claim", time.Now().Add(time.Hour)), domain.ErrConflict)
	require.Equal(t, "workflow start failed again", event(e1).LastError)

	// Delivered events are never claimed again, failed or not.
	require.NoError(t, s.MarkEventDelivered(ctx, a.ID, e1.ID, []string{"wf-1"}))
	require.ErrorIs(t, s.MarkEventFailed(ctx, a.ID, e1.ID, 2, "late failure", time.Now().Add(-time.Hour)), domain.ErrConflict,
		"a delivered event cannot be failed")
	require.NoError(t, s.MarkEventDelivered(ctx, b.ID, e2.ID, nil))
	require.NoError(t, s.MarkEventFailed(ctx, a.ID, e3.ID, 1, "retry now", time.Time{}))
	require.Equal(t, []string{e3.ID}, ids(claim(10, time.Hour)))
	require.Empty(t, claim(10, time.Hour))
	got1 := event(e1)
	require.NotNil(t, got1.DeliveredAt)
	require.Equal(t, []string{"wf-1"}, got1.Runs)
	require.Equal(t, 2, got1.Attempts)

	// A lease ends: the event is claimable again, another attempt.
	e4 := newEvent(t, s, b.ID, "ticket.created")
	const lease = 200 * time.Millisecond
	start := time.Now()
	got = claim(10, lease)
	require.Equal(t, []string{e4.ID}, ids(got))
	if time.Since(start) < lease/2 { // on a very slow machine the lease may have run out already
		require.Empty(t, claim(10, lease), "the lease still runs")
	}
	time.Sleep(lease + 50*time.Millisecond)
	got = claim(10, lease)
	require.Equal(t, []string{e4.ID}, ids(got), "the lease ran out")
	require.Equal(t, 2, got[0].Attempts)
	require.Equal(t, 2, event(e4).Attempts)
	require.NoError(t, s.MarkEventDelivered(ctx, b.ID, e4.ID, []string{"wf-4"}))
	time.Sleep(lease + 50*time.Millisecond)
	require.Empty(t, claim(10, lease), "delivered before its lease ran out")

	// Claims inside a transaction roll back with it.
	e5 := newEvent(t, s, a.ID, "ticket.created")
	boom := errors.New("boom")
	err := s.Tx(ctx, func(tx domain.Repo) error {
		events, err := tx.ClaimEvents(ctx, 10, time.Hour)
		if err != nil {
			return err
		}
		if len(events) != 1 || events[0].ID != e5.ID {
			return fmt.Errorf("claimed %v in the transaction, want %s", ids(events), e5.ID)
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Zero(t, event(e5).Attempts)
	require.Equal(t, []string{e5.ID}, ids(claim(10, time.Hour)))

	_, err = s.ClaimEvents(ctx, 0, time.Minute)
	require.ErrorIs(t, err, domain.ErrInvalid)
	_, err = s.ClaimEvents(ctx, 10, 0)
	require.ErrorIs(t, err, domain.ErrInvalid)
}

// testEventClaimsConcurrent drains 200 events with 4 claimers at once,
// each marking what it claims delivered: every event is claimed exactly
// once.
func testEventClaimsConcurrent(t *testing.T, s domain.Store) {
	const n, claimers = 200, 4
	ctx := t.Context()
	orgs := []*domain.Org{newOrg(t, s), newOrg(t, s)}
	published := map[string]bool{}
	require.NoError(t, s.Tx(ctx, func(tx domain.Repo) error {
		for i := range n {
			e := &domain.Event{OrgID: orgs[i%2].ID, Type: "bulk", Data: json.RawMessage(fmt.Sprint(i))}
			if err := tx.PublishEvent(ctx, e); err != nil {
				return err
			}
			published[e.ID] = true
		}
		return nil
	}))

	claimed := make([][]string, claimers)
	errs := make([]error, claimers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for c := range claimers {
		wg.Go(func() {
			<-start
			for {
				events, err := s.ClaimEvents(ctx, 7, time.Minute)
				if err != nil {
					errs[c] = err
					return
				}
				if len(events) == 0 {
					return
				}
				for _, e := range events {
					claimed[c] = append(claimed[c], e.ID)
					if err := s.MarkEventDelivered(ctx, e.OrgID, e.ID, []string{fmt.Sprintf("claimer-%d", c)}); err != nil {
						errs[c] = err
						return
					}
				}
			}
		})
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))

	seen := map[string]int{}
	for c, got := range claimed {
		for _, id := range got {
			if prev, dup := seen[id]; dup {
				t.Fatalf("event %s claimed by claimer %d and claimer %d", id, prev, c)
			}
			seen[id] = c
		}
	}
	require.Len(t, seen, n, "every event claimed")
	for id := range published {
		_, ok := seen[id]
		require.True(t, ok, "event %s never claimed", id)
	}
	for _, o := range orgs {
		events, err := s.ListEvents(ctx, o.ID, domain.Page{Limit: n})
		require.NoError(t, err)
		require.Len(t, events, n/2)
		for _, e := range events {
			require.NotNil(t, e.DeliveredAt, "event %s", e.ID)
			require.Equal(t, 1, e.Attempts, "event %s", e.ID)
			require.Equal(t, []string{fmt.Sprintf("claimer-%d", seen[e.ID])}, e.Runs)
		}
	}
	events, err := s.ClaimEvents(ctx, n, time.Minute)
	require.NoError(t, err)
	require.Empty(t, events)
}
