package storetest

import (
	"bytes"
	"crypto/sha256"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func testQuotes(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	c := newCustomer(t, s, o.ID, "Ada", "")
	deal := &domain.Opportunity{OrgID: o.ID, CustomerID: c.ID, Name: "Engines", Amount: domain.Money{Currency: "EUR"}}
	require.NoError(t, s.CreateOpportunity(ctx, deal))
	today := time.Now().UTC().Format(time.DateOnly)

	q := &domain.Quote{OrgID: o.ID, OpportunityID: deal.ID, Currency: "eur", ValidUntil: "2999-12-31",
		LineItems: []domain.LineItem{{Product: "Engine", Quantity: 3, UnitPrice: 333, DiscountBps: 1000, TaxRateBps: 1900}}}
	require.NoError(t, s.CreateQuote(ctx, q))
	require.Equal(t, c.ID, q.CustomerID, "the opportunity's customer")
	require.Equal(t, "draft", q.Status)
	require.Equal(t, domain.Totals{Subtotal: 999, Discount: 100, Tax: 171, Total: 1070}, q.Totals)
	got, err := s.GetQuote(ctx, o.ID, q.ID)
	require.NoError(t, err)
	require.Equal(t, q, got)

	// another organisation's opportunity is not found
	require.ErrorIs(t, s.CreateQuote(ctx, &domain.Quote{OrgID: other.ID, OpportunityID: deal.ID, Currency: "EUR", ValidUntil: "2999-01-01",
		LineItems: []domain.LineItem{{Product: "x", Quantity: 1}}}), domain.ErrNotFound)
	err = s.CreateQuote(ctx, &domain.Quote{OrgID: o.ID, OpportunityID: deal.ID, Currency: "euro", ValidUntil: "tomorrow"})
	var ve *domain.ValidationError
	require.ErrorAs(t, err, &ve)
	require.Len(t, ve.Fields, 3, "%v", ve) // currency, lineItems, validUntil

	// sent and past its last day: reads as expired, and lists so
	now := stamp(time.Now())
	got.Status, got.SentAt, got.ValidUntil = "sent", &now, "2020-01-01"
	require.NoError(t, s.UpdateQuote(ctx, got))
	again, err := s.GetQuote(ctx, o.ID, q.ID)
	require.NoError(t, err)
	require.Equal(t, "expired", again.Status)
	require.Equal(t, now, *again.SentAt)
	for status, n := range map[string]int{"expired": 1, "sent": 0, "draft": 0, "": 1} {
		qs, _, err := s.ListQuotes(ctx, o.ID, domain.QuoteQuery{Status: status, Today: today})
		require.NoError(t, err)
		require.Len(t, qs, n, "status %q", status)
	}
	qs, _, err := s.ListQuotes(ctx, other.ID, domain.QuoteQuery{})
	require.NoError(t, err)
	require.Empty(t, qs)
	_, err = s.GetQuote(ctx, other.ID, q.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)

	// a deal with quotes is not deleted
	require.ErrorIs(t, s.DeleteOpportunity(ctx, o.ID, deal.ID), domain.ErrConflict)

	// public tokens: by hash, live only, across organisations (the token is the credential)
	secret := []byte("0123456789abcdef0123456789abcdef")
	h := sha256.Sum256(secret)
	tok := &domain.PublicToken{Hash: h[:], OrgID: o.ID, Kind: "quote", RecordID: q.ID, ExpiresAt: time.Now().Add(time.Hour)}
	require.NoError(t, s.CreatePublicToken(ctx, tok))
	found, err := s.PublicTokenByHash(ctx, h[:], time.Now())
	require.NoError(t, err)
	require.Equal(t, o.ID, found.OrgID)
	require.Equal(t, q.ID, found.RecordID)
	require.True(t, bytes.Equal(h[:], found.Hash))
	_, err = s.PublicTokenByHash(ctx, h[:], time.Now().Add(2*time.Hour))
	require.ErrorIs(t, err, domain.ErrNotFound, "expired")
	wrong := sha256.Sum256([]byte("other"))
	_, err = s.PublicTokenByHash(ctx, wrong[:], time.Now())
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.NoError(t, s.RevokePublicTokens(ctx, other.ID, "quote", q.ID))
	_, err = s.PublicTokenByHash(ctx, h[:], time.Now())
	require.NoError(t, err, "another organisation cannot revoke it")
	require.NoError(t, s.RevokePublicTokens(ctx, o.ID, "quote", q.ID))
	_, err = s.PublicTokenByHash(ctx, h[:], time.Now())
	require.ErrorIs(t, err, domain.ErrNotFound, "revoked")
	require.ErrorIs(t, s.CreatePublicToken(ctx, &domain.PublicToken{Hash: h[:], OrgID: o.ID, Kind: "quote", RecordID: q.ID, ExpiresAt: time.Now()}), domain.ErrConflict)
}

func stamp(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }
