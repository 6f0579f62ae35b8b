package storetest

import (
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

func hexHash(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

func testContracts(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o, other := newOrg(t, s), newOrg(t, s)
	cust := newCustomer(t, s, o.ID, "Ada", "")
	deal := &domain.Opportunity{OrgID: o.ID, CustomerID: cust.ID, Name: "Engines", Amount: domain.Money{Currency: "EUR"}}
	require.NoError(t, s.CreateOpportunity(ctx, deal))
	q := &domain.Quote{OrgID: o.ID, OpportunityID: deal.ID, Currency: "EUR", ValidUntil: "2999-12-31",
		LineItems: []domain.LineItem{{Product: "Engine", Quantity: 1, UnitPrice: 100}}}
	require.NoError(t, s.CreateQuote(ctx, q))

	doc := "<p>Engines</p>"
	c := &domain.Contract{OrgID: o.ID, QuoteID: q.ID, Title: " Engines ", Template: "default", Document: doc, DocumentHash: hexHash(doc),
		SignerName: "Ada", SignerEmail: "ADA@example.com"}
	require.NoError(t, s.CreateContract(ctx, c))
	require.Equal(t, deal.ID, c.OpportunityID, "the quote's deal")
	require.Equal(t, cust.ID, c.CustomerID, "the quote's customer")
	require.Equal(t, "Engines", c.Title)
	require.Equal(t, "ada@example.com", c.SignerEmail)
	require.Equal(t, "draft", c.Status)
	got, err := s.GetContract(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Empty(t, got.Signatures)
	got.Signatures = nil
	require.Equal(t, c, got)

	// one live contract per quote; another organisation's quote is not found
	dup := &domain.Contract{OrgID: o.ID, QuoteID: q.ID, Title: "Again", Template: "default", Document: doc, DocumentHash: hexHash(doc)}
	require.ErrorIs(t, s.CreateContract(ctx, dup), domain.ErrConflict)
	require.ErrorIs(t, s.CreateContract(ctx, &domain.Contract{OrgID: other.ID, QuoteID: q.ID, Title: "x", Template: "default",
		Document: doc, DocumentHash: hexHash(doc)}), domain.ErrNotFound)
	var ve *domain.ValidationError
	require.ErrorAs(t, s.CreateContract(ctx, &domain.Contract{OrgID: o.ID, QuoteID: q.ID, Template: "no spaces", DocumentHash: "abc"}), &ve)
	require.Len(t, ve.Fields, 3, "%v", ve) // title, template, documentHash

	// update changes the status fields, never the document
	now := stamp(time.Now())
	got.Status, got.SentAt, got.Document, got.DocumentHash = "sent", &now, "<p>changed</p>", hexHash("<p>changed</p>")
	require.NoError(t, s.UpdateContract(ctx, got))
	require.Equal(t, 2, got.Version)
	again, err := s.GetContract(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Equal(t, doc, again.Document)
	require.Equal(t, hexHash(doc), again.DocumentHash)
	require.Equal(t, "sent", again.Status)
	stale := *c
	stale.Status = "void"
	require.ErrorIs(t, s.UpdateContract(ctx, &stale), domain.ErrConflict, "version 1 is stale")

	// signatures: appended, read back in order, never changed
	sig := &domain.Signature{ContractID: c.ID, Name: "Ada Lovelace", Email: "ada@example.com", Typed: "Ada Lovelace",
		DocumentHash: hexHash(doc), IP: "203.0.113.9", UserAgent: "test", Via: "public-link", SignedAt: now}
	require.NoError(t, s.AddSignature(ctx, o.ID, sig))
	require.ErrorIs(t, s.AddSignature(ctx, other.ID, &domain.Signature{ContractID: c.ID, Name: "Eve", Email: "eve@example.com",
		Typed: "Eve", DocumentHash: hexHash(doc), Via: "public-link"}), domain.ErrNotFound, "another organisation's contract")
	require.ErrorAs(t, s.AddSignature(ctx, o.ID, &domain.Signature{ContractID: c.ID, Name: "", Email: "x", DocumentHash: "nope"}), &ve)
	again, err = s.GetContract(ctx, o.ID, c.ID)
	require.NoError(t, err)
	require.Len(t, again.Signatures, 1)
	require.Equal(t, *sig, again.Signatures[0])
	for _, stmt := range []string{`UPDATE contract_signatures SET name = 'Eve'`, `DELETE FROM contract_signatures`} {
		require.Error(t, rawExec(t, s, stmt), stmt)
	}

	// lists: without documents, filtered, newest first, isolated
	list, _, err := s.ListContracts(ctx, o.ID, domain.ContractQuery{QuoteID: q.ID})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.Empty(t, list[0].Document)
	require.Equal(t, hexHash(doc), list[0].DocumentHash)
	for status, n := range map[string]int{"sent": 1, "draft": 0, "": 1} {
		list, _, err := s.ListContracts(ctx, o.ID, domain.ContractQuery{Status: status, CustomerID: cust.ID})
		require.NoError(t, err)
		require.Len(t, list, n, "status %q", status)
	}
	list, _, err = s.ListContracts(ctx, other.ID, domain.ContractQuery{})
	require.NoError(t, err)
	require.Empty(t, list)
	_, err = s.GetContract(ctx, other.ID, c.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)

	// a void contract frees its quote for a new one
	again.Status, again.VoidedAt, again.VoidReason = "void", &now, "wrong terms"
	require.NoError(t, s.UpdateContract(ctx, again))
	require.NoError(t, s.CreateContract(ctx, dup))

	// templates: by name, per organisation
	tpl := &domain.ContractTemplate{OrgID: o.ID, Name: "msa", Body: "<h1>{{.Title}}</h1>"}
	require.NoError(t, s.PutContractTemplate(ctx, tpl))
	tpl.Body = "<h1>{{.Title}}</h1><p>v2</p>"
	require.NoError(t, s.PutContractTemplate(ctx, tpl))
	gt, err := s.GetContractTemplate(ctx, o.ID, "msa")
	require.NoError(t, err)
	require.Equal(t, tpl.Body, gt.Body)
	_, err = s.GetContractTemplate(ctx, other.ID, "msa")
	require.ErrorIs(t, err, domain.ErrNotFound)
	ts, err := s.ListContractTemplates(ctx, other.ID)
	require.NoError(t, err)
	require.Empty(t, ts)
	require.ErrorIs(t, s.DeleteContractTemplate(ctx, other.ID, "msa"), domain.ErrNotFound)
	require.ErrorAs(t, s.PutContractTemplate(ctx, &domain.ContractTemplate{OrgID: o.ID, Name: "../x", Body: ""}), &ve)
	require.NoError(t, s.DeleteContractTemplate(ctx, o.ID, "msa"))
	ts, err = s.ListContractTemplates(ctx, o.ID)
	require.NoError(t, err)
	require.Empty(t, ts)
}

// rawExec runs a statement on the store's database, bypassing the repo.
func rawExec(t *testing.T, s domain.Store, stmt string) error {
	dber, ok := s.(interface{ DB() *sql.DB })
	require.True(t, ok, "the store has no DB() *sql.DB")
	_, err := dber.DB().ExecContext(t.Context(), stmt)
	return err
}
