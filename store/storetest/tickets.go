package storetest

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testTickets(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	cust := newCustomer(t, s, o.ID, "Ada", "")
	agent := newUser(t, s, o.ID, "agent@example.com")
	stranger := newUser(t, s, other.ID, "agent@other.test")

	due := stamp(time.Now().Add(time.Hour))
	tk := &domain.Ticket{OrgID: o.ID, CustomerID: cust.ID, Subject: " Engine stalls ", Priority: "high", Category: "Hardware",
		AssigneeID: agent.ID, FirstResponseDue: &due}
	require.NoError(t, s.CreateTicket(ctx, tk))
	require.Equal(t, "Engine stalls", tk.Subject)
	require.Equal(t, "open", tk.Status)
	require.Equal(t, "hardware", tk.Category)
	require.Equal(t, "default", tk.SLAPolicy)
	got, err := s.GetTicket(ctx, o.ID, tk.ID)
	require.NoError(t, err)
	require.Equal(t, tk, got)
	require.False(t, got.FirstResponseBreached)

	// customer and assignee must be the organisation's
	require.ErrorIs(t, s.CreateTicket(ctx, &domain.Ticket{OrgID: other.ID, CustomerID: cust.ID, Subject: "x"}), domain.ErrNotFound)
	require.ErrorIs(t, s.CreateTicket(ctx, &domain.Ticket{OrgID: o.ID, CustomerID: cust.ID, Subject: "x", AssigneeID: stranger.ID}), domain.ErrNotFound)
	var ve *domain.ValidationError
	require.ErrorAs(t, s.CreateTicket(ctx, &domain.Ticket{OrgID: o.ID, CustomerID: cust.ID, Priority: "urgent", Satisfaction: &domain.Satisfaction{Rating: 6}}), &ve)
	require.Len(t, ve.Fields, 3, "%v", ve) // subject, priority, satisfaction.rating

	// a target passed without a response reads as breached, and lists so
	past := stamp(time.Now().Add(-time.Minute))
	late := &domain.Ticket{OrgID: o.ID, CustomerID: cust.ID, Subject: "Late", FirstResponseDue: &past}
	require.NoError(t, s.CreateTicket(ctx, late))
	got, err = s.GetTicket(ctx, o.ID, late.ID)
	require.NoError(t, err)
	require.True(t, got.FirstResponseBreached)
	require.False(t, got.ResolutionBreached)
	list, _, err := s.ListTickets(ctx, o.ID, domain.TicketQuery{Breached: true})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Equal(t, late.ID, list[0].ID)
	// answered late stays breached; answered in time is not
	resp := stamp(time.Now())
	got.FirstResponseAt = &resp
	require.NoError(t, s.UpdateTicket(ctx, got))
	require.True(t, got.FirstResponseBreached)

	for q, n := range map[*domain.TicketQuery]int{
		{}: 2, {Status: "open"}: 2, {Priority: "high"}: 1, {AssigneeID: agent.ID}: 1, {Category: "HARDWARE"}: 1,
		{CustomerID: cust.ID}: 2, {Open: true}: 2, {Status: "closed"}: 0,
	} {
		list, _, err := s.ListTickets(ctx, o.ID, *q)
		require.NoError(t, err)
		require.Len(t, list, n, "%+v", *q)
	}
	list, _, err = s.ListTickets(ctx, other.ID, domain.TicketQuery{})
	require.NoError(t, err)
	require.Empty(t, list)

	_, err = s.GetTicket(ctx, other.ID, tk.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)

	// update: versioned; satisfaction round-trips
	tk.Status, tk.Satisfaction = "resolved", &domain.Satisfaction{Rating: 4, Comment: "quick"}
	require.NoError(t, s.UpdateTicket(ctx, tk))
	require.Equal(t, 2, tk.Version)
	got, err = s.GetTicket(ctx, o.ID, tk.ID)
	require.NoError(t, err)
	require.Equal(t, &domain.Satisfaction{Rating: 4, Comment: "quick"}, got.Satisfaction)
	stale := *got
	stale.Version = 1
	require.ErrorIs(t, s.UpdateTicket(ctx, &stale), domain.ErrConflict)
	got.AssigneeID = stranger.ID
	require.ErrorIs(t, s.UpdateTicket(ctx, got), domain.ErrNotFound, "another organisation's user")

	// open load per user: resolved tickets do not count
	loads, err := s.OpenTickets(ctx, o.ID, []string{agent.ID, "nobody"})
	require.NoError(t, err)
	require.Equal(t, map[string]int{agent.ID: 0, "nobody": 0}, loads)
	late, err = s.GetTicket(ctx, o.ID, late.ID)
	require.NoError(t, err)
	late.AssigneeID = agent.ID
	require.NoError(t, s.UpdateTicket(ctx, late))
	loads, err = s.OpenTickets(ctx, o.ID, []string{agent.ID})
	require.NoError(t, err)
	require.Equal(t, 1, loads[agent.ID])
	loads, err = s.OpenTickets(ctx, other.ID, []string{agent.ID})
	require.NoError(t, err)
	require.Equal(t, 0, loads[agent.ID])

	// messages: the thread, oldest first, per organisation
	for _, body := range []string{"It stalls at 3000 rpm", "Which model?"} {
		require.NoError(t, s.AddTicketMessage(ctx, o.ID, &domain.TicketMessage{TicketID: tk.ID, Direction: "inbound", Author: "ada@example.com", Body: body}))
	}
	require.ErrorIs(t, s.AddTicketMessage(ctx, other.ID, &domain.TicketMessage{TicketID: tk.ID, Direction: "inbound", Body: "planted"}), domain.ErrNotFound)
	require.ErrorAs(t, s.AddTicketMessage(ctx, o.ID, &domain.TicketMessage{TicketID: tk.ID, Direction: "sideways", Body: ""}), &ve)
	msgs, err := s.ListTicketMessages(ctx, o.ID, tk.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, msgs, 2)
	require.Equal(t, "It stalls at 3000 rpm", msgs[0].Body)
	msgs, err = s.ListTicketMessages(ctx, other.ID, tk.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, msgs)

	// the rotation counter: distinct values under concurrency, per organisation and pool
	var wg sync.WaitGroup
	seen := make(chan int64, 20)
	for range 20 {
		wg.Go(func() {
			var n int64
			require.NoError(t, s.Tx(ctx, func(tx domain.Repo) (err error) {
				n, err = tx.NextInRotation(ctx, o.ID, "role:operator")
				return err
			}))
			seen <- n
		})
	}
	wg.Wait()
	close(seen)
	got20 := map[int64]bool{}
	for n := range seen {
		got20[n] = true
	}
	require.Len(t, got20, 20, "every caller got its own turn")
	for i := int64(1); i <= 20; i++ {
		require.True(t, got20[i], "turn %d", i)
	}
	n, err := s.NextInRotation(ctx, other.ID, "role:operator")
	require.NoError(t, err)
	require.EqualValues(t, 1, n)

	// SLA policies: by name, per organisation
	p := &domain.SLAPolicy{OrgID: o.ID, Name: "gold", Targets: map[string]domain.SLATarget{"critical": {FirstResponse: "15m", Resolution: "2h"}}}
	require.NoError(t, s.PutSLAPolicy(ctx, p))
	gp, err := s.GetSLAPolicy(ctx, o.ID, "gold")
	require.NoError(t, err)
	require.Equal(t, "default", gp.Calendar)
	require.Equal(t, p.Targets, gp.Targets)
	_, err = s.GetSLAPolicy(ctx, other.ID, "gold")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorAs(t, s.PutSLAPolicy(ctx, &domain.SLAPolicy{OrgID: o.ID, Name: "bad", Targets: map[string]domain.SLATarget{"urgent": {}, "low": {Resolution: "soon"}}}), &ve)
	require.Len(t, ve.Fields, 2, "%v", ve)
	ps, err := s.ListSLAPolicies(ctx, other.ID)
	require.NoError(t, err)
	require.Empty(t, ps)
	require.ErrorIs(t, s.DeleteSLAPolicy(ctx, other.ID, "gold"), domain.ErrNotFound)
	require.NoError(t, s.DeleteSLAPolicy(ctx, o.ID, "gold"))

	// search: stemmed word prefixes of the subject and description; operators are text
	theirs := newCustomer(t, s, other.ID, "Eve", "")
	require.NoError(t, s.CreateTicket(ctx, &domain.Ticket{OrgID: other.ID, CustomerID: theirs.ID, Subject: "Engine stalls too"}))
	lateDesc := &domain.Ticket{OrgID: o.ID, CustomerID: cust.ID, Subject: "Invoice question", Description: "The engines were stalling on delivery"}
	require.NoError(t, s.CreateTicket(ctx, lateDesc))
	for search, want := range map[string][]string{
		"stall":           {lateDesc.ID, tk.ID}, // "stalls", "stalling"
		"ENGINE stalls":   {lateDesc.ID, tk.ID},
		"invoice":         {lateDesc.ID},
		"engin deliv":     {lateDesc.ID},
		"late":            {late.ID},
		"zzz":             {},
		`" OR 1=1 -- (*)`: {},
		`stall" (*) -`:    {lateDesc.ID, tk.ID},
	} {
		list, _, err := s.ListTickets(ctx, o.ID, domain.TicketQuery{Search: search})
		require.NoError(t, err)
		ids := []string{}
		for _, x := range list {
			ids = append(ids, x.ID)
		}
		require.Equal(t, want, ids, "search %q", search)
	}
	// sorted by last change: the ticket changed last comes first (descending)
	tk, err = s.GetTicket(ctx, o.ID, tk.ID)
	require.NoError(t, err)
	require.NoError(t, s.UpdateTicket(ctx, tk)) // tk is now the latest change
	list, _, err = s.ListTickets(ctx, o.ID, domain.TicketQuery{Sort: "updated", Desc: true, Limit: 1})
	require.NoError(t, err)
	require.Equal(t, tk.ID, list[0].ID)
	_, _, err = s.ListTickets(ctx, o.ID, domain.TicketQuery{Sort: "priority"})
	require.ErrorAs(t, err, &ve)
	// a customer with tickets is not deleted
	require.ErrorIs(t, s.DeleteCustomer(ctx, o.ID, cust.ID), domain.ErrConflict)
}
