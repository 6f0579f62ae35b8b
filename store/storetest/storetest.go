package storetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"switchboard/domain"
)

// Run runs the suite. open must return a new, empty, migrated store and
// close it in t.Cleanup; every subtest opens its own and runs in parallel.
//
// If the store has a method DB() *sql.DB, the suite also checks through it
// that the database refuses to change or delete audit_log rows.
func Run(t *testing.T, open func(t *testing.T) domain.Store) {
	for _, tc := range []struct {
		name string
		test func(t *testing.T, s domain.Store)
	}{
		{"Orgs", testOrgs},
		{"Users", testUsers},
		{"APIKeys", testAPIKeys},
		{"Definitions", testDefinitions},
		{"Revisions", testRevisions},
		{"RevisionsConcurrent", testRevisionsConcurrent},
		{"Deploy", testDeploy},
		{"Audit", testAudit},
		{"AuditAppendOnly", testAuditAppendOnly},
		{"Secrets", testSecrets},
		{"Outbox", testOutbox},
		{"Payments", testPayments},
		{"Idempotency", testIdempotency},
		{"TriggerRoutes", testTriggerRoutes},
		{"Deliveries", testDeliveries},
		{"Events", testEvents},
		{"EventClaims", testEventClaims},
		{"EventClaimsConcurrent", testEventClaimsConcurrent},
		{"Customers", testCustomers},
		{"CustomerQueries", testCustomerQueries},
		{"Opportunities", testOpportunities},
		{"Quotes", testQuotes},
		{"Contracts", testContracts},
		{"Tickets", testTickets},
		{"Campaigns", testCampaigns},
		{"Timeline", testTimeline},
		{"RecordSchemas", testRecordSchemas},
		{"Calendars", testCalendars},
		{"Articles", testArticles},
		{"TenantIsolation", testTenantIsolation},
		{"Pagination", testPagination},
		{"PageSize", testPageSize},
		{"TxCommit", testTxCommit},
		{"TxRollback", testTxRollback},
		{"TxPanic", testTxPanic},
		{"Times", testTimes},
		{"JSON", testJSON},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			tc.test(t, open(t))
		})
	}
}

// Fixtures.

func newOrg(t *testing.T, s domain.Repo) *domain.Org {
	t.Helper()
	o := &domain.Org{Name: "org of " + t.Name()}
	require.NoError(t, s.CreateOrg(t.Context(), o))
	return o
}

func newUser(t *testing.T, s domain.Repo, orgID, email string) *domain.User {
	t.Helper()
	u := &domain.User{OrgID: orgID, Email: email, Name: "User " + email, Role: domain.RoleBuilder}
	require.NoError(t, s.CreateUser(t.Context(), u))
	return u
}

func newAPIKey(t *testing.T, s domain.Repo, orgID, userID, hash string) *domain.APIKey {
	t.Helper()
	k := &domain.APIKey{OrgID: orgID, UserID: userID, Name: "key " + hash, Role: domain.RoleOperator, Prefix: "sb_" + hash, Hash: []byte(hash)}
	require.NoError(t, s.CreateAPIKey(t.Context(), k))
	return k
}

func newDefinition(t *testing.T, s domain.Repo, orgID, name string) *domain.Definition {
	t.Helper()
	d := &domain.Definition{OrgID: orgID, Name: name}
	require.NoError(t, s.CreateDefinition(t.Context(), d))
	return d
}

func revision(orgID, definitionID string) *domain.Revision {
	return &domain.Revision{
		OrgID: orgID, DefinitionID: definitionID,
		Source: "switchboard: v1\nname: onboarding\n", Format: "yaml",
		PlanHash: "sha256:0123", Author: "ada", Message: "first",
	}
}

func newRevision(t *testing.T, s domain.Repo, orgID, definitionID string) *domain.Revision {
	t.Helper()
	r := revision(orgID, definitionID)
	require.NoError(t, s.CreateRevision(t.Context(), r))
	return r
}

func newAudit(t *testing.T, s domain.Repo, orgID, action string) *domain.AuditEntry {
	t.Helper()
	e := &domain.AuditEntry{OrgID: orgID, Actor: "system", Action: action, Target: "definition/x@1"}
	require.NoError(t, s.AppendAudit(t.Context(), e))
	return e
}

func newSecret(t *testing.T, s domain.Repo, orgID, name string) *domain.Secret {
	t.Helper()
	sec := &domain.Secret{OrgID: orgID, Name: name, Value: []byte("sealed " + name), KeyID: "k1"}
	require.NoError(t, s.PutSecret(t.Context(), sec))
	return sec
}

func newOutbox(t *testing.T, s domain.Repo, orgID string) *domain.OutboxMessage {
	t.Helper()
	m := &domain.OutboxMessage{OrgID: orgID, Channel: "email", To: "ada@example.com", Body: json.RawMessage(`{"text":"hi"}`)}
	require.NoError(t, s.AddOutbox(t.Context(), m))
	return m
}

// requireStamped checks a time the store filled in: now, UTC, microseconds.
func requireStamped(t *testing.T, at time.Time) {
	t.Helper()
	require.Equal(t, time.UTC, at.Location())
	require.Zero(t, at.Nanosecond()%1000, "not truncated to microseconds: %v", at)
	require.WithinDuration(t, time.Now(), at, time.Minute)
}

func testOrgs(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := &domain.Org{Name: "Acme"}
	require.NoError(t, s.CreateOrg(ctx, o))
	id, err := uuid.Parse(o.ID)
	require.NoError(t, err)
	require.Equal(t, uuid.Version(7), id.Version())
	requireStamped(t, o.CreatedAt)

	got, err := s.GetOrg(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, o, got)

	_, err = s.GetOrg(ctx, "no-such-org")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.CreateOrg(ctx, &domain.Org{ID: o.ID, Name: "Again"}), domain.ErrConflict)
	require.ErrorIs(t, s.CreateOrg(ctx, &domain.Org{}), domain.ErrInvalid)

	// An id the caller chose is kept.
	chosen := &domain.Org{ID: "org-chosen", Name: "Chosen"}
	require.NoError(t, s.CreateOrg(ctx, chosen))
	require.Equal(t, "org-chosen", chosen.ID)
	got, err = s.GetOrg(ctx, "org-chosen")
	require.NoError(t, err)
	require.Equal(t, chosen, got)
}

func testUsers(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	u := &domain.User{OrgID: o.ID, Email: "Ada@Example.com", Name: "Ada", Role: domain.RoleAdmin}
	require.NoError(t, s.CreateUser(ctx, u))
	require.NotEmpty(t, u.ID)
	requireStamped(t, u.CreatedAt)

	got, err := s.GetUser(ctx, o.ID, u.ID)
	require.NoError(t, err)
	require.Equal(t, u, got)
	users, err := s.ListUsers(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.User{*u}, users)

	// Emails are unique in an organisation, whatever their case…
	err = s.CreateUser(ctx, &domain.User{OrgID: o.ID, Email: "ada@EXAMPLE.com", Role: domain.RoleViewer})
	require.ErrorIs(t, err, domain.ErrConflict)
	// …but not across organisations.
	other := newOrg(t, s)
	require.NoError(t, s.CreateUser(ctx, &domain.User{OrgID: other.ID, Email: u.Email, Role: domain.RoleViewer}))

	_, err = s.GetUser(ctx, o.ID, "no-such-user")
	require.ErrorIs(t, err, domain.ErrNotFound)
	err = s.CreateUser(ctx, &domain.User{OrgID: "no-such-org", Email: "bob@example.com", Role: domain.RoleViewer})
	require.ErrorIs(t, err, domain.ErrNotFound)
	err = s.CreateUser(ctx, &domain.User{OrgID: o.ID, Email: "bob@example.com", Role: "root"})
	require.ErrorIs(t, err, domain.ErrInvalid)
	err = s.CreateUser(ctx, &domain.User{OrgID: o.ID, Role: domain.RoleViewer})
	require.ErrorIs(t, err, domain.ErrInvalid)
}

func testAPIKeys(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	u := newUser(t, s, o.ID, "ci@example.com")
	used := time.Now().Add(-time.Hour)
	k := &domain.APIKey{OrgID: o.ID, UserID: u.ID, Name: "ci", Role: domain.RoleBuilder, Prefix: "sb_live_ab", Hash: []byte("hash-1"), LastUsedAt: &used}
	require.NoError(t, s.CreateAPIKey(ctx, k))
	require.NotEmpty(t, k.ID)
	requireStamped(t, k.CreatedAt)
	require.Equal(t, used.UTC().Truncate(time.Microsecond), *k.LastUsedAt)
	require.Nil(t, k.RevokedAt)

	got, err := s.APIKeyByHash(ctx, []byte("hash-1"))
	require.NoError(t, err)
	require.Equal(t, k, got)
	_, err = s.APIKeyByHash(ctx, []byte("hash-0"))
	require.ErrorIs(t, err, domain.ErrNotFound)

	// The hash is unique across organisations (it is how a request finds its
	// organisation).
	other := newOrg(t, s)
	otherUser := newUser(t, s, other.ID, "ci@example.com")
	err = s.CreateAPIKey(ctx, &domain.APIKey{OrgID: other.ID, UserID: otherUser.ID, Role: domain.RoleViewer, Hash: []byte("hash-1")})
	require.ErrorIs(t, err, domain.ErrConflict)
	// A key belongs to a user of its own organisation.
	err = s.CreateAPIKey(ctx, &domain.APIKey{OrgID: o.ID, UserID: otherUser.ID, Role: domain.RoleViewer, Hash: []byte("hash-2")})
	require.ErrorIs(t, err, domain.ErrNotFound)
	err = s.CreateAPIKey(ctx, &domain.APIKey{OrgID: o.ID, UserID: "no-such-user", Role: domain.RoleViewer, Hash: []byte("hash-2")})
	require.ErrorIs(t, err, domain.ErrNotFound)
	err = s.CreateAPIKey(ctx, &domain.APIKey{OrgID: o.ID, UserID: u.ID, Role: "god", Hash: []byte("hash-2")})
	require.ErrorIs(t, err, domain.ErrInvalid)
	err = s.CreateAPIKey(ctx, &domain.APIKey{OrgID: o.ID, UserID: u.ID, Role: domain.RoleViewer})
	require.ErrorIs(t, err, domain.ErrInvalid)

	k2 := newAPIKey(t, s, o.ID, u.ID, "hash-3")
	keys, err := s.ListAPIKeys(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.APIKey{*k, *k2}, keys)

	require.NoError(t, s.RevokeAPIKey(ctx, o.ID, k.ID))
	_, err = s.APIKeyByHash(ctx, []byte("hash-1"))
	require.ErrorIs(t, err, domain.ErrNotFound)
	keys, err = s.ListAPIKeys(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, keys, 2)
	require.NotNil(t, keys[0].RevokedAt)
	requireStamped(t, *keys[0].RevokedAt)
	require.Nil(t, keys[1].RevokedAt)
	revoked := *keys[0].RevokedAt

	// Revoking again is harmless and keeps the first time.
	time.Sleep(2 * time.Millisecond)
	require.NoError(t, s.RevokeAPIKey(ctx, o.ID, k.ID))
	keys, err = s.ListAPIKeys(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, revoked, *keys[0].RevokedAt)

	require.ErrorIs(t, s.RevokeAPIKey(ctx, o.ID, "no-such-key"), domain.ErrNotFound)
	got, err = s.APIKeyByHash(ctx, []byte("hash-3"))
	require.NoError(t, err)
	require.Equal(t, k2, got)
}

func testDefinitions(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	d := &domain.Definition{OrgID: o.ID, Name: "onboarding", LatestRevision: 7, LiveRevision: 3}
	require.NoError(t, s.CreateDefinition(ctx, d))
	require.NotEmpty(t, d.ID)
	require.Zero(t, d.LatestRevision, "the store numbers revisions")
	require.Zero(t, d.LiveRevision)
	requireStamped(t, d.CreatedAt)
	require.Equal(t, d.CreatedAt, d.UpdatedAt)

	got, err := s.GetDefinition(ctx, o.ID, "onboarding")
	require.NoError(t, err)
	require.Equal(t, d, got)
	defs, err := s.ListDefinitions(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.Definition{*d}, defs)

	_, err = s.GetDefinition(ctx, o.ID, "offboarding")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.CreateDefinition(ctx, &domain.Definition{OrgID: o.ID, Name: "onboarding"}), domain.ErrConflict)
	other := newOrg(t, s)
	require.NoError(t, s.CreateDefinition(ctx, &domain.Definition{OrgID: other.ID, Name: "onboarding"}))
	require.ErrorIs(t, s.CreateDefinition(ctx, &domain.Definition{OrgID: "no-such-org", Name: "x"}), domain.ErrNotFound)
	require.ErrorIs(t, s.CreateDefinition(ctx, &domain.Definition{OrgID: o.ID}), domain.ErrInvalid)
}

func testRevisions(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	d := newDefinition(t, s, o.ID, "onboarding")
	var revs []*domain.Revision
	for i := 1; i <= 3; i++ {
		r := revision(o.ID, d.ID)
		r.Number = 99 // the store's to choose
		r.Source = fmt.Sprintf("switchboard: v1\n# révision %d\n\tsteps: []\n", i)
		r.Message = ""
		require.NoError(t, s.CreateRevision(ctx, r))
		require.Equal(t, i, r.Number)
		requireStamped(t, r.CreatedAt)
		got, err := s.GetRevision(ctx, o.ID, d.ID, i)
		require.NoError(t, err)
		require.Equal(t, r, got)
		revs = append(revs, r)
	}

	got, err := s.GetDefinition(ctx, o.ID, d.Name)
	require.NoError(t, err)
	require.Equal(t, 3, got.LatestRevision)
	require.Zero(t, got.LiveRevision)
	require.Equal(t, d.CreatedAt, got.CreatedAt)
	require.Equal(t, revs[2].CreatedAt, got.UpdatedAt)

	list, err := s.ListRevisions(ctx, o.ID, d.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.Revision{*revs[2], *revs[1], *revs[0]}, list)
	list, err = s.ListRevisions(ctx, o.ID, d.ID, domain.Page{After: "3", Limit: 1})
	require.NoError(t, err)
	require.Equal(t, []domain.Revision{*revs[1]}, list)
	_, err = s.ListRevisions(ctx, o.ID, d.ID, domain.Page{After: "three"})
	require.ErrorIs(t, err, domain.ErrInvalid)

	_, err = s.GetRevision(ctx, o.ID, d.ID, 4)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.CreateRevision(ctx, revision(o.ID, "no-such-definition")), domain.ErrNotFound)
	require.ErrorIs(t, s.CreateRevision(ctx, revision(o.ID, "")), domain.ErrInvalid)
}

// testRevisionsConcurrent creates revisions of one definition from many
// goroutines at once, half of them in transactions that read before they
// write (as a handler checking the definition would): the numbers must be
// 1..n, without gaps or repeats, and no writer may fail for being busy.
func testRevisionsConcurrent(t *testing.T, s domain.Store) {
	const n = 20
	ctx := t.Context()
	o := newOrg(t, s)
	d := newDefinition(t, s, o.ID, "busy")
	numbers, errs := make([]int, n), make([]error, n)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			<-start
			r := revision(o.ID, d.ID)
			defer func() { numbers[i] = r.Number }()
			if i%2 == 0 {
				errs[i] = s.CreateRevision(ctx, r)
				return
			}
			errs[i] = s.Tx(ctx, func(tx domain.Repo) error {
				if _, err := tx.GetDefinition(ctx, o.ID, d.Name); err != nil {
					return err
				}
				if err := tx.CreateRevision(ctx, r); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: o.ID, Action: "definition.revision.create"})
			})
		})
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	slices.Sort(numbers)
	want := make([]int, n)
	for i := range want {
		want[i] = i + 1
	}
	require.Equal(t, want, numbers)

	got, err := s.GetDefinition(ctx, o.ID, d.Name)
	require.NoError(t, err)
	require.Equal(t, n, got.LatestRevision)
	list, err := s.ListRevisions(ctx, o.ID, d.ID, domain.Page{Limit: 2 * n})
	require.NoError(t, err)
	require.Len(t, list, n)
	for i, r := range list {
		require.Equal(t, n-i, r.Number)
	}
	audit, err := s.ListAudit(ctx, o.ID, domain.Page{Limit: 2 * n})
	require.NoError(t, err)
	require.Len(t, audit, n/2)
}

func testDeploy(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	d := newDefinition(t, s, o.ID, "onboarding")
	newRevision(t, s, o.ID, d.ID)
	newRevision(t, s, o.ID, d.ID)

	deploy := func(revision int) *domain.Deployment {
		t.Helper()
		dep := &domain.Deployment{OrgID: o.ID, DefinitionID: d.ID, Revision: revision, DeployedBy: "ada"}
		require.NoError(t, s.Deploy(ctx, dep))
		return dep
	}
	live := func() int {
		t.Helper()
		got, err := s.GetDefinition(ctx, o.ID, d.Name)
		require.NoError(t, err)
		return got.LiveRevision
	}

	first := deploy(1)
	require.NotEmpty(t, first.ID)
	requireStamped(t, first.DeployedAt)
	got, err := s.GetDefinition(ctx, o.ID, d.Name)
	require.NoError(t, err)
	require.Equal(t, 1, got.LiveRevision)
	require.Equal(t, first.DeployedAt, got.UpdatedAt)

	// A revision that does not exist: nothing changes, nothing is recorded.
	err = s.Deploy(ctx, &domain.Deployment{OrgID: o.ID, DefinitionID: d.ID, Revision: 3, DeployedBy: "ada"})
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.Equal(t, 1, live())
	err = s.Deploy(ctx, &domain.Deployment{OrgID: o.ID, DefinitionID: "no-such-definition", Revision: 0})
	require.ErrorIs(t, err, domain.ErrNotFound)
	err = s.Deploy(ctx, &domain.Deployment{OrgID: o.ID, DefinitionID: d.ID, Revision: -1})
	require.ErrorIs(t, err, domain.ErrInvalid)

	second := deploy(2)
	require.Equal(t, 2, live())
	undeploy := deploy(0)
	require.Zero(t, live())

	list, err := s.ListDeployments(ctx, o.ID, d.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.Deployment{*undeploy, *second, *first}, list)
}

func testAudit(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	e1 := &domain.AuditEntry{OrgID: o.ID, Actor: "user-1", Action: "definition.create", Target: "definition/onboarding", Details: json.RawMessage(`{"name":"onboarding"}`)}
	require.NoError(t, s.AppendAudit(ctx, e1))
	require.NotEmpty(t, e1.ID)
	requireStamped(t, e1.At)
	e2 := newAudit(t, s, o.ID, "definition.revision.create")
	e3 := newAudit(t, s, o.ID, "definition.deploy")

	list, err := s.ListAudit(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.AuditEntry{*e3, *e2, *e1}, list)

	require.ErrorIs(t, s.AppendAudit(ctx, &domain.AuditEntry{OrgID: "no-such-org", Action: "x"}), domain.ErrNotFound)
	require.ErrorIs(t, s.AppendAudit(ctx, &domain.AuditEntry{OrgID: o.ID}), domain.ErrInvalid)
	require.ErrorIs(t, s.AppendAudit(ctx, &domain.AuditEntry{OrgID: o.ID, Action: "x", Details: json.RawMessage(`{`)}), domain.ErrInvalid)
}

// testAuditAppendOnly checks that the database itself refuses to change or
// delete audit rows.
func testAuditAppendOnly(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	e := newAudit(t, s, o.ID, "secret.put")
	require.ErrorContains(t, rawExec(t, s, `UPDATE audit_log SET action = 'forged'`), "append-only")
	require.ErrorContains(t, rawExec(t, s, `DELETE FROM audit_log`), "append-only")
	list, err := s.ListAudit(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.AuditEntry{*e}, list)
}

func testSecrets(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	first := &domain.Secret{OrgID: o.ID, Name: "SLACK_TOKEN", Value: []byte{0, 1, 2, 0xff, 'x', 0}, KeyID: "k1"}
	require.NoError(t, s.PutSecret(ctx, first))
	requireStamped(t, first.CreatedAt)
	require.Equal(t, first.CreatedAt, first.UpdatedAt)
	got, err := s.GetSecret(ctx, o.ID, "SLACK_TOKEN")
	require.NoError(t, err)
	require.Equal(t, first, got)

	// Putting it again replaces the value, keeps the creation time and
	// moves the update time.
	time.Sleep(2 * time.Millisecond)
	second := &domain.Secret{OrgID: o.ID, Name: "SLACK_TOKEN", Value: []byte("sealed-2"), KeyID: "k2"}
	require.NoError(t, s.PutSecret(ctx, second))
	require.Equal(t, first.CreatedAt, second.CreatedAt)
	require.True(t, second.UpdatedAt.After(first.UpdatedAt), "updated %v, then %v", first.UpdatedAt, second.UpdatedAt)
	got, err = s.GetSecret(ctx, o.ID, "SLACK_TOKEN")
	require.NoError(t, err)
	require.Equal(t, second, got)

	api := newSecret(t, s, o.ID, "API_KEY")
	list, err := s.ListSecrets(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	api.Value, second.Value = nil, nil // lists carry no values
	require.Equal(t, []domain.Secret{*api, *second}, list)

	require.NoError(t, s.DeleteSecret(ctx, o.ID, "SLACK_TOKEN"))
	_, err = s.GetSecret(ctx, o.ID, "SLACK_TOKEN")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.DeleteSecret(ctx, o.ID, "SLACK_TOKEN"), domain.ErrNotFound)

	require.ErrorIs(t, s.PutSecret(ctx, &domain.Secret{OrgID: o.ID, Name: "EMPTY"}), domain.ErrInvalid)
	require.ErrorIs(t, s.PutSecret(ctx, &domain.Secret{OrgID: "no-such-org", Name: "X", Value: []byte("v")}), domain.ErrNotFound)
}

func testOutbox(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	m1 := &domain.OutboxMessage{OrgID: o.ID, Channel: "email", To: "ada@example.com", Subject: "Welcome",
		Body: json.RawMessage(`{"text":"hello","html":"<p>hello</p>"}`), RunID: "run-1", StepID: "notify"}
	require.NoError(t, s.AddOutbox(ctx, m1))
	require.NotEmpty(t, m1.ID)
	requireStamped(t, m1.CreatedAt)
	m2 := &domain.OutboxMessage{OrgID: o.ID, Channel: "slack", To: "#ops", Body: json.RawMessage(`"deployed"`)}
	require.NoError(t, s.AddOutbox(ctx, m2))

	list, err := s.ListOutbox(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.OutboxMessage{*m2, *m1}, list)

	require.ErrorIs(t, s.AddOutbox(ctx, &domain.OutboxMessage{OrgID: o.ID, Channel: "email", Body: json.RawMessage(`{"a":}`)}), domain.ErrInvalid)
	require.ErrorIs(t, s.AddOutbox(ctx, &domain.OutboxMessage{OrgID: o.ID}), domain.ErrInvalid)
	require.ErrorIs(t, s.AddOutbox(ctx, &domain.OutboxMessage{OrgID: "no-such-org", Channel: "email"}), domain.ErrNotFound)
	require.Equal(t, "outbox", m1.Provider)
	require.Equal(t, "queued", m1.Status)

	// a provider send: recorded as sending, moved on only from the statuses given
	m3 := &domain.OutboxMessage{OrgID: o.ID, Channel: "email", To: "bob@example.com", Provider: "sendgrid", Status: "sending", Body: json.RawMessage(`{}`)}
	require.NoError(t, s.AddOutbox(ctx, m3))
	require.NoError(t, s.SetOutboxStatus(ctx, o.ID, m3.ID, []string{"sending"}, "sent", "sg-123", ""))
	require.ErrorIs(t, s.SetOutboxStatus(ctx, o.ID, m3.ID, []string{"sending", "retrying"}, "unconfirmed", "", ""), domain.ErrConflict)
	require.NoError(t, s.SetOutboxStatus(ctx, o.ID, m3.ID, []string{"sent"}, "delivered", "", ""))
	got, err := s.GetOutbox(ctx, o.ID, m3.ID)
	require.NoError(t, err)
	require.Equal(t, "delivered", got.Status)
	require.Equal(t, "sg-123", got.ProviderID, "an empty provider id keeps the recorded one")
	require.False(t, got.UpdatedAt.Before(got.CreatedAt))
	require.ErrorIs(t, s.SetOutboxStatus(ctx, o.ID, m3.ID, []string{"delivered"}, "nonsense", "", ""), domain.ErrInvalid)
	require.ErrorIs(t, s.AddOutbox(ctx, &domain.OutboxMessage{OrgID: o.ID, Channel: "email", Status: "nonsense"}), domain.ErrInvalid)
	// other organisations see nothing
	other := newOrg(t, s)
	_, err = s.GetOutbox(ctx, other.ID, m3.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.SetOutboxStatus(ctx, other.ID, m3.ID, []string{"delivered"}, "opened", "", ""), domain.ErrNotFound)
}

func testIdempotency(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	k := &domain.IdempotencyKey{OrgID: o.ID, Key: "req-1", RequestHash: "h1", WorkflowID: "wf-1"}
	require.NoError(t, s.PutIdempotencyKey(ctx, k))
	requireStamped(t, k.CreatedAt)
	got, err := s.GetIdempotencyKey(ctx, o.ID, "req-1")
	require.NoError(t, err)
	require.Equal(t, k, got)

	err = s.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: o.ID, Key: "req-1", RequestHash: "h2", WorkflowID: "wf-2"})
	require.ErrorIs(t, err, domain.ErrConflict)
	got, err = s.GetIdempotencyKey(ctx, o.ID, "req-1")
	require.NoError(t, err)
	require.Equal(t, k, got, "a conflicting put changes nothing")

	require.NoError(t, s.SetIdempotencyRun(ctx, o.ID, "req-1", "wf-1b", "run-1"))
	got, err = s.GetIdempotencyKey(ctx, o.ID, "req-1")
	require.NoError(t, err)
	k.WorkflowID, k.RunID = "wf-1b", "run-1"
	require.Equal(t, k, got)
	require.ErrorIs(t, s.SetIdempotencyRun(ctx, o.ID, "req-0", "wf", "run"), domain.ErrNotFound)

	require.NoError(t, s.DeleteIdempotencyKey(ctx, o.ID, "req-1"))
	_, err = s.GetIdempotencyKey(ctx, o.ID, "req-1")
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.DeleteIdempotencyKey(ctx, o.ID, "req-1"), domain.ErrNotFound)
	require.NoError(t, s.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: o.ID, Key: "req-1", RequestHash: "h3"}), "a deleted key can be used again")

	require.ErrorIs(t, s.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: "no-such-org", Key: "k"}), domain.ErrNotFound)
	require.ErrorIs(t, s.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: o.ID}), domain.ErrInvalid)
}

// testTenantIsolation fills one organisation and checks that another sees
// and touches none of it, through every method that takes an org.
func testTenantIsolation(t *testing.T, s domain.Store) {
	ctx := t.Context()
	a, b := newOrg(t, s), newOrg(t, s)
	u := newUser(t, s, a.ID, "ada@example.com")
	k := newAPIKey(t, s, a.ID, u.ID, "hash-a")
	d := newDefinition(t, s, a.ID, "onboarding")
	newRevision(t, s, a.ID, d.ID)
	require.NoError(t, s.Deploy(ctx, &domain.Deployment{OrgID: a.ID, DefinitionID: d.ID, Revision: 1}))
	newAudit(t, s, a.ID, "definition.deploy")
	sec := newSecret(t, s, a.ID, "TOKEN")
	newOutbox(t, s, a.ID)
	require.NoError(t, s.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: a.ID, Key: "req-1", RequestHash: "h"}))
	// b has a user of its own, so its lists are not empty by accident.
	bu := newUser(t, s, b.ID, "bob@example.com")

	notFound := func(err error) {
		t.Helper()
		require.ErrorIs(t, err, domain.ErrNotFound)
	}
	_, err := s.GetUser(ctx, b.ID, u.ID)
	notFound(err)
	users, err := s.ListUsers(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.User{*bu}, users)

	notFound(s.CreateAPIKey(ctx, &domain.APIKey{OrgID: b.ID, UserID: u.ID, Role: domain.RoleOwner, Hash: []byte("hash-b")}))
	keys, err := s.ListAPIKeys(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, keys)
	notFound(s.RevokeAPIKey(ctx, b.ID, k.ID))
	_, err = s.APIKeyByHash(ctx, k.Hash)
	require.NoError(t, err, "b could not revoke a's key")

	_, err = s.GetDefinition(ctx, b.ID, d.Name)
	notFound(err)
	defs, err := s.ListDefinitions(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, defs)
	notFound(s.CreateRevision(ctx, revision(b.ID, d.ID)))
	_, err = s.GetRevision(ctx, b.ID, d.ID, 1)
	notFound(err)
	revs, err := s.ListRevisions(ctx, b.ID, d.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, revs)
	notFound(s.Deploy(ctx, &domain.Deployment{OrgID: b.ID, DefinitionID: d.ID, Revision: 1}))
	notFound(s.Deploy(ctx, &domain.Deployment{OrgID: b.ID, DefinitionID: d.ID, Revision: 0}))
	deps, err := s.ListDeployments(ctx, b.ID, d.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, deps)
	got, err := s.GetDefinition(ctx, a.ID, d.Name)
	require.NoError(t, err)
	require.Equal(t, 1, got.LatestRevision)
	require.Equal(t, 1, got.LiveRevision)

	audit, err := s.ListAudit(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, audit)
	outbox, err := s.ListOutbox(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, outbox)

	_, err = s.GetSecret(ctx, b.ID, sec.Name)
	notFound(err)
	secrets, err := s.ListSecrets(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, secrets)
	notFound(s.DeleteSecret(ctx, b.ID, sec.Name))
	// The same name in b is b's own secret.
	require.NoError(t, s.PutSecret(ctx, &domain.Secret{OrgID: b.ID, Name: sec.Name, Value: []byte("b's"), KeyID: "k1"}))
	gotSec, err := s.GetSecret(ctx, a.ID, sec.Name)
	require.NoError(t, err)
	require.Equal(t, sec, gotSec)

	_, err = s.GetIdempotencyKey(ctx, b.ID, "req-1")
	notFound(err)
	notFound(s.SetIdempotencyRun(ctx, b.ID, "req-1", "wf", "run"))
	notFound(s.DeleteIdempotencyKey(ctx, b.ID, "req-1"))
	require.NoError(t, s.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: b.ID, Key: "req-1", RequestHash: "other"}))
	gotKey, err := s.GetIdempotencyKey(ctx, a.ID, "req-1")
	require.NoError(t, err)
	require.Equal(t, "h", gotKey.RequestHash)

	// Trigger routes, webhook deliveries and events.
	aRoutes := []domain.TriggerRoute{
		{Kind: domain.TriggerWebhook, Key: "hooks/in", Revision: 1},
		{Kind: domain.TriggerEvent, Key: "ticket.created", Revision: 1, Index: 1},
	}
	require.NoError(t, s.SetTriggerRoutes(ctx, a.ID, d.ID, aRoutes))
	newDelivery(t, s, a.ID, "hooks/in")
	ev := newEvent(t, s, a.ID, "ticket.created")

	_, err = s.WebhookRoute(ctx, b.ID, "hooks/in")
	notFound(err)
	evRoutes, err := s.EventRoutes(ctx, b.ID, "ticket.created")
	require.NoError(t, err)
	require.Empty(t, evRoutes)
	routes, err := s.ListTriggerRoutes(ctx, b.ID)
	require.NoError(t, err)
	require.Empty(t, routes)
	notFound(s.SetTriggerRoutes(ctx, b.ID, d.ID, nil))
	notFound(s.SetTriggerRoutes(ctx, b.ID, d.ID, []domain.TriggerRoute{{Kind: domain.TriggerEvent, Key: "x", Revision: 1}}))
	deliveries, err := s.ListDeliveries(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, deliveries)
	_, err = s.GetEvent(ctx, b.ID, ev.ID)
	notFound(err)
	events, err := s.ListEvents(ctx, b.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, events)
	notFound(s.MarkEventDelivered(ctx, b.ID, ev.ID, []string{"forged"}))
	notFound(s.MarkEventFailed(ctx, b.ID, ev.ID, 0, "forged", time.Now().Add(time.Hour)))
	gotEv, err := s.GetEvent(ctx, a.ID, ev.ID)
	require.NoError(t, err)
	require.Equal(t, ev, gotEv, "b could not mark a's event")

	// The same webhook path in b routes to b's definition.
	bd := newDefinition(t, s, b.ID, "onboarding")
	newRevision(t, s, b.ID, bd.ID)
	require.NoError(t, s.SetTriggerRoutes(ctx, b.ID, bd.ID, []domain.TriggerRoute{{Kind: domain.TriggerWebhook, Key: "hooks/in", Revision: 1}}))
	wh, err := s.WebhookRoute(ctx, b.ID, "hooks/in")
	require.NoError(t, err)
	require.Equal(t, bd.ID, wh.DefinitionID)
	wh, err = s.WebhookRoute(ctx, a.ID, "hooks/in")
	require.NoError(t, err)
	require.Equal(t, aRoutes[0], *wh)
	// A definition of b cannot be routed by a.
	notFound(s.SetTriggerRoutes(ctx, a.ID, bd.ID, nil))

	// Customers: b cannot read, find, change or delete a's, and may use the same email.
	cust := newCustomer(t, s, a.ID, "Ada", "ada@example.com")
	_, err = s.GetCustomer(ctx, b.ID, cust.ID)
	notFound(err)
	_, err = s.CustomerByEmail(ctx, b.ID, "ada@example.com")
	notFound(err)
	stolen := *cust
	stolen.OrgID, stolen.Name = b.ID, "Stolen"
	notFound(s.UpdateCustomer(ctx, &stolen))
	notFound(s.DeleteCustomer(ctx, b.ID, cust.ID))
	for _, q := range []domain.CustomerQuery{{}, {Search: "ada"}, {EmailPrefix: "ada"}} {
		cs, _, err := s.ListCustomers(ctx, b.ID, q)
		require.NoError(t, err)
		require.Empty(t, cs)
	}
	newCustomer(t, s, b.ID, "Ada of b", "ada@example.com")
	still, err := s.GetCustomer(ctx, a.ID, cust.ID)
	require.NoError(t, err)
	require.Equal(t, cust, still)
}

// requirePages lists with every page size in turn, following the cursor
// (cursor of the last item), and checks that the pages hold exactly want's
// keys, in order.
func requirePages[T any](t *testing.T, want []string, list func(domain.Page) ([]T, error), cursor func(T) string) {
	t.Helper()
	all, err := list(domain.Page{})
	require.NoError(t, err)
	require.Equal(t, want, keys(all, cursor), "one default page")
	for _, limit := range []int{1, 3, len(want), len(want) + 1} {
		var got []string
		after := ""
		for range len(want) + 2 {
			page, err := list(domain.Page{Limit: limit, After: after})
			require.NoError(t, err)
			require.LessOrEqual(t, len(page), limit)
			got = append(got, keys(page, cursor)...)
			if len(page) < limit {
				break
			}
			after = cursor(page[len(page)-1])
		}
		require.Equal(t, want, got, "pages of %d", limit)
	}
}

func keys[T any](items []T, key func(T) string) []string {
	out := []string{}
	for _, it := range items {
		out = append(out, key(it))
	}
	return out
}

func testPagination(t *testing.T, s domain.Store) {
	const n = 7
	ctx := t.Context()
	// Names in no order, with upper and lower case: lists by name sort them
	// bytewise on every backend.
	names := []string{"m", "Zeta", "alpha", "b-2", "b_1", "Alpha", "0start"}
	sorted := slices.Clone(names)
	sort.Strings(sorted)
	reversed := func(ids []string) []string {
		r := slices.Clone(ids)
		slices.Reverse(r)
		return r
	}

	t.Run("Users", func(t *testing.T) {
		o := newOrg(t, s)
		var want []string
		for i := range n {
			want = append(want, newUser(t, s, o.ID, fmt.Sprintf("u%d@example.com", i)).ID)
		}
		requirePages(t, want, func(p domain.Page) ([]domain.User, error) { return s.ListUsers(ctx, o.ID, p) },
			func(u domain.User) string { return u.ID })
	})
	t.Run("APIKeys", func(t *testing.T) {
		o := newOrg(t, s)
		u := newUser(t, s, o.ID, "ci@example.com")
		var want []string
		for i := range n {
			want = append(want, newAPIKey(t, s, o.ID, u.ID, fmt.Sprintf("%s-%d", o.ID, i)).ID)
		}
		requirePages(t, want, func(p domain.Page) ([]domain.APIKey, error) { return s.ListAPIKeys(ctx, o.ID, p) },
			func(k domain.APIKey) string { return k.ID })
	})
	t.Run("Definitions", func(t *testing.T) {
		o := newOrg(t, s)
		for _, name := range names {
			newDefinition(t, s, o.ID, name)
		}
		requirePages(t, sorted, func(p domain.Page) ([]domain.Definition, error) { return s.ListDefinitions(ctx, o.ID, p) },
			func(d domain.Definition) string { return d.Name })
	})
	t.Run("Revisions", func(t *testing.T) {
		o := newOrg(t, s)
		d := newDefinition(t, s, o.ID, "onboarding")
		var want []string
		for range n {
			want = append(want, strconv.Itoa(newRevision(t, s, o.ID, d.ID).Number))
		}
		requirePages(t, reversed(want), func(p domain.Page) ([]domain.Revision, error) { return s.ListRevisions(ctx, o.ID, d.ID, p) },
			func(r domain.Revision) string { return strconv.Itoa(r.Number) })
	})
	t.Run("Deployments", func(t *testing.T) {
		o := newOrg(t, s)
		d := newDefinition(t, s, o.ID, "onboarding")
		newRevision(t, s, o.ID, d.ID)
		var want []string
		for i := range n {
			dep := &domain.Deployment{OrgID: o.ID, DefinitionID: d.ID, Revision: i % 2}
			require.NoError(t, s.Deploy(ctx, dep))
			want = append(want, dep.ID)
		}
		requirePages(t, reversed(want), func(p domain.Page) ([]domain.Deployment, error) { return s.ListDeployments(ctx, o.ID, d.ID, p) },
			func(d domain.Deployment) string { return d.ID })
	})
	t.Run("Audit", func(t *testing.T) {
		o := newOrg(t, s)
		var want []string
		for i := range n {
			want = append(want, newAudit(t, s, o.ID, fmt.Sprintf("action.%d", i)).ID)
		}
		requirePages(t, reversed(want), func(p domain.Page) ([]domain.AuditEntry, error) { return s.ListAudit(ctx, o.ID, p) },
			func(e domain.AuditEntry) string { return e.ID })
	})
	t.Run("Secrets", func(t *testing.T) {
		o := newOrg(t, s)
		for _, name := range names {
			newSecret(t, s, o.ID, name)
		}
		requirePages(t, sorted, func(p domain.Page) ([]domain.Secret, error) { return s.ListSecrets(ctx, o.ID, p) },
			func(s domain.Secret) string { return s.Name })
	})
	t.Run("Deliveries", func(t *testing.T) {
		o := newOrg(t, s)
		var want []string
		for range n {
			want = append(want, newDelivery(t, s, o.ID, "hooks/in").ID)
		}
		requirePages(t, reversed(want), func(p domain.Page) ([]domain.WebhookDelivery, error) { return s.ListDeliveries(ctx, o.ID, p) },
			func(d domain.WebhookDelivery) string { return d.ID })
	})
	t.Run("Events", func(t *testing.T) {
		o := newOrg(t, s)
		var want []string
		for range n {
			want = append(want, newEvent(t, s, o.ID, "ticket.created").ID)
		}
		requirePages(t, reversed(want), func(p domain.Page) ([]domain.Event, error) { return s.ListEvents(ctx, o.ID, p) },
			func(e domain.Event) string { return e.ID })
	})
	t.Run("Outbox", func(t *testing.T) {
		o := newOrg(t, s)
		var want []string
		for range n {
			want = append(want, newOutbox(t, s, o.ID).ID)
		}
		requirePages(t, reversed(want), func(p domain.Page) ([]domain.OutboxMessage, error) { return s.ListOutbox(ctx, o.ID, p) },
			func(m domain.OutboxMessage) string { return m.ID })
	})
}

// testPageSize checks the default and the largest page.
func testPageSize(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	require.NoError(t, s.Tx(ctx, func(tx domain.Repo) error {
		for range 501 {
			if err := tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: o.ID, Action: "bulk"}); err != nil {
				return err
			}
		}
		return nil
	}))
	for limit, want := range map[int]int{0: 50, -1: 50, 10: 10, 500: 500, 1000: 500} {
		list, err := s.ListAudit(ctx, o.ID, domain.Page{Limit: limit})
		require.NoError(t, err)
		require.Len(t, list, want, "limit %d", limit)
	}
}

func testTxCommit(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	d := newDefinition(t, s, o.ID, "onboarding")
	rev := revision(o.ID, d.ID)
	entry := &domain.AuditEntry{OrgID: o.ID, Actor: "ada", Action: "definition.revision.create"}
	err := s.Tx(ctx, func(tx domain.Repo) error {
		if err := tx.CreateRevision(ctx, rev); err != nil {
			return err
		}
		// The transaction reads its own writes.
		if got, err := tx.GetRevision(ctx, o.ID, d.ID, rev.Number); err != nil || got.Source != rev.Source {
			return fmt.Errorf("read own revision: %v, %w", got, err)
		}
		if err := tx.Deploy(ctx, &domain.Deployment{OrgID: o.ID, DefinitionID: d.ID, Revision: rev.Number}); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, entry)
	})
	require.NoError(t, err)

	got, err := s.GetRevision(ctx, o.ID, d.ID, 1)
	require.NoError(t, err)
	require.Equal(t, rev, got)
	def, err := s.GetDefinition(ctx, o.ID, d.Name)
	require.NoError(t, err)
	require.Equal(t, 1, def.LatestRevision)
	require.Equal(t, 1, def.LiveRevision)
	audit, err := s.ListAudit(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, []domain.AuditEntry{*entry}, audit)

	// A domain error from inside is returned as is.
	err = s.Tx(ctx, func(tx domain.Repo) error {
		return tx.CreateDefinition(ctx, &domain.Definition{OrgID: o.ID, Name: d.Name})
	})
	require.ErrorIs(t, err, domain.ErrConflict)
}

func testTxRollback(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	d := newDefinition(t, s, o.ID, "onboarding")
	newRevision(t, s, o.ID, d.ID)
	boom := errors.New("boom")
	rev := revision(o.ID, d.ID)
	err := s.Tx(ctx, func(tx domain.Repo) error {
		if err := tx.CreateRevision(ctx, rev); err != nil {
			return err
		}
		if err := tx.Deploy(ctx, &domain.Deployment{OrgID: o.ID, DefinitionID: d.ID, Revision: rev.Number}); err != nil {
			return err
		}
		if err := tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: o.ID, Action: "definition.revision.create"}); err != nil {
			return err
		}
		return boom
	})
	require.ErrorIs(t, err, boom)
	require.Equal(t, 2, rev.Number)

	_, err = s.GetRevision(ctx, o.ID, d.ID, 2)
	require.ErrorIs(t, err, domain.ErrNotFound)
	def, err := s.GetDefinition(ctx, o.ID, d.Name)
	require.NoError(t, err)
	require.Equal(t, 1, def.LatestRevision)
	require.Zero(t, def.LiveRevision)
	audit, err := s.ListAudit(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, audit)
	deps, err := s.ListDeployments(ctx, o.ID, d.ID, domain.Page{})
	require.NoError(t, err)
	require.Empty(t, deps)
	// The number was not used up.
	require.Equal(t, 2, newRevision(t, s, o.ID, d.ID).Number)
}

func testTxPanic(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	require.PanicsWithValue(t, "boom", func() {
		_ = s.Tx(ctx, func(tx domain.Repo) error {
			if err := tx.CreateDefinition(ctx, &domain.Definition{OrgID: o.ID, Name: "doomed"}); err != nil {
				return err
			}
			panic("boom")
		})
	})
	_, err := s.GetDefinition(ctx, o.ID, "doomed")
	require.ErrorIs(t, err, domain.ErrNotFound)
	// The store still works: the transaction's connection went back.
	newDefinition(t, s, o.ID, "after")
}

// testTimes checks that times the caller sets come back equal: in UTC,
// truncated to microseconds, on every record with a time.
func testTimes(t *testing.T, s domain.Store) {
	ctx := t.Context()
	at := time.Date(2024, 2, 29, 23, 59, 59, 123456789, time.FixedZone("IST", 5*3600+1800))
	want := time.Date(2024, 2, 29, 18, 29, 59, 123456000, time.UTC)

	o := &domain.Org{Name: "Times", CreatedAt: at}
	require.NoError(t, s.CreateOrg(ctx, o))
	require.Equal(t, want, o.CreatedAt)
	gotOrg, err := s.GetOrg(ctx, o.ID)
	require.NoError(t, err)
	require.Equal(t, want, gotOrg.CreatedAt)

	for _, edge := range []time.Time{
		time.Date(1970, 1, 1, 0, 0, 0, 1000, time.UTC),
		time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC),
		time.Date(2199, 12, 31, 23, 59, 59, 999999999, time.Local),
	} {
		e := &domain.Org{Name: "edge", CreatedAt: edge}
		require.NoError(t, s.CreateOrg(ctx, e))
		got, err := s.GetOrg(ctx, e.ID)
		require.NoError(t, err)
		require.Equal(t, edge.UTC().Truncate(time.Microsecond), got.CreatedAt)
	}

	u := &domain.User{OrgID: o.ID, Email: "t@example.com", Role: domain.RoleViewer, CreatedAt: at}
	require.NoError(t, s.CreateUser(ctx, u))
	gotUser, err := s.GetUser(ctx, o.ID, u.ID)
	require.NoError(t, err)
	require.Equal(t, want, gotUser.CreatedAt)

	k := &domain.APIKey{OrgID: o.ID, UserID: u.ID, Role: domain.RoleViewer, Hash: []byte(o.ID), CreatedAt: at, LastUsedAt: &at}
	require.NoError(t, s.CreateAPIKey(ctx, k))
	gotKey, err := s.APIKeyByHash(ctx, k.Hash)
	require.NoError(t, err)
	require.Equal(t, want, gotKey.CreatedAt)
	require.Equal(t, want, *gotKey.LastUsedAt)
	require.Equal(t, 123456789, at.Nanosecond(), "the caller's time is left alone")

	d := &domain.Definition{OrgID: o.ID, Name: "times", CreatedAt: at}
	require.NoError(t, s.CreateDefinition(ctx, d))
	r := revision(o.ID, d.ID)
	r.CreatedAt = at
	require.NoError(t, s.CreateRevision(ctx, r))
	gotRev, err := s.GetRevision(ctx, o.ID, d.ID, 1)
	require.NoError(t, err)
	require.Equal(t, want, gotRev.CreatedAt)
	gotDef, err := s.GetDefinition(ctx, o.ID, d.Name)
	require.NoError(t, err)
	require.Equal(t, want, gotDef.CreatedAt)
	require.Equal(t, want, gotDef.UpdatedAt)

	require.NoError(t, s.Deploy(ctx, &domain.Deployment{OrgID: o.ID, DefinitionID: d.ID, Revision: 1, DeployedAt: at}))
	deps, err := s.ListDeployments(ctx, o.ID, d.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, want, deps[0].DeployedAt)

	require.NoError(t, s.AppendAudit(ctx, &domain.AuditEntry{OrgID: o.ID, Action: "x", At: at}))
	audit, err := s.ListAudit(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, want, audit[0].At)

	require.NoError(t, s.AddOutbox(ctx, &domain.OutboxMessage{OrgID: o.ID, Channel: "email", CreatedAt: at}))
	outbox, err := s.ListOutbox(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, want, outbox[0].CreatedAt)

	require.NoError(t, s.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: o.ID, Key: "k", CreatedAt: at}))
	gotIdem, err := s.GetIdempotencyKey(ctx, o.ID, "k")
	require.NoError(t, err)
	require.Equal(t, want, gotIdem.CreatedAt)

	require.NoError(t, s.AddDelivery(ctx, &domain.WebhookDelivery{OrgID: o.ID, Status: "started", ReceivedAt: at}))
	deliveries, err := s.ListDeliveries(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Equal(t, want, deliveries[0].ReceivedAt)

	ev := &domain.Event{OrgID: o.ID, Type: "t", Data: json.RawMessage(`{}`), CreatedAt: at}
	require.NoError(t, s.PublishEvent(ctx, ev))
	require.Equal(t, want, ev.CreatedAt)
	gotEv, err := s.GetEvent(ctx, o.ID, ev.ID)
	require.NoError(t, err)
	require.Equal(t, want, gotEv.CreatedAt)

	// A secret keeps the creation time it was given; its update time is
	// the time of the put.
	require.NoError(t, s.PutSecret(ctx, &domain.Secret{OrgID: o.ID, Name: "S", Value: []byte("v"), CreatedAt: at}))
	gotSec, err := s.GetSecret(ctx, o.ID, "S")
	require.NoError(t, err)
	require.Equal(t, want, gotSec.CreatedAt)
	requireStamped(t, gotSec.UpdatedAt)
}

// testJSON checks that JSON fields come back byte for byte.
func testJSON(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	for _, doc := range []string{
		`{"z": [1, 2.50, {"ü": "\u00fc"}],  "a":null , "n": 1e3}`,
		`[]`, `"text"`, `null`, `0`, "{\n\t\"nested\": {\"deep\": [true, false]}\n}",
	} {
		e := &domain.AuditEntry{OrgID: o.ID, Action: "json", Details: json.RawMessage(doc)}
		require.NoError(t, s.AppendAudit(ctx, e))
		m := &domain.OutboxMessage{OrgID: o.ID, Channel: "slack", Body: json.RawMessage(doc)}
		require.NoError(t, s.AddOutbox(ctx, m))
		audit, err := s.ListAudit(ctx, o.ID, domain.Page{Limit: 1})
		require.NoError(t, err)
		require.Equal(t, doc, string(audit[0].Details))
		outbox, err := s.ListOutbox(ctx, o.ID, domain.Page{Limit: 1})
		require.NoError(t, err)
		require.Equal(t, doc, string(outbox[0].Body))
		ev := &domain.Event{OrgID: o.ID, Type: "json", Data: json.RawMessage(doc)}
		require.NoError(t, s.PublishEvent(ctx, ev))
		gotEv, err := s.GetEvent(ctx, o.ID, ev.ID)
		require.NoError(t, err)
		require.Equal(t, doc, string(gotEv.Data))
		events, err := s.ListEvents(ctx, o.ID, domain.Page{Limit: 1})
		require.NoError(t, err)
		require.Equal(t, doc, string(events[0].Data))
	}
	// No JSON at all comes back as none.
	require.NoError(t, s.AppendAudit(ctx, &domain.AuditEntry{OrgID: o.ID, Action: "none"}))
	audit, err := s.ListAudit(ctx, o.ID, domain.Page{Limit: 1})
	require.NoError(t, err)
	require.Nil(t, audit[0].Details)
}

func testPayments(t *testing.T, s domain.Store) {
	ctx := t.Context()
	o := newOrg(t, s)
	p := &domain.Payment{OrgID: o.ID, Provider: "sandbox", Kind: "checkout", Amount: 178500, Currency: "EUR", Description: "Quote Q-1",
		LineItems: []domain.LineItem{{Product: "Engine", Quantity: 1, UnitPrice: 150000, TaxRateBps: 1900}}, QuoteID: "q1", RunID: "flow:1", StepID: "pay"}
	require.NoError(t, s.CreatePayment(ctx, p))
	require.Equal(t, "creating", p.Status)
	require.NoError(t, s.OpenPayment(ctx, o.ID, p.ID, "cs_test_1", "https://pay.example/cs_test_1"))
	require.ErrorIs(t, s.OpenPayment(ctx, o.ID, p.ID, "cs_test_2", "x"), domain.ErrConflict, "opened once")
	require.NoError(t, s.SetPaymentStatus(ctx, o.ID, p.ID, []string{"open", "failed"}, "paid", ""))
	require.ErrorIs(t, s.SetPaymentStatus(ctx, o.ID, p.ID, []string{"open", "failed"}, "paid", ""), domain.ErrConflict, "paid once")
	got, err := s.GetPayment(ctx, o.ID, p.ID)
	require.NoError(t, err)
	require.Equal(t, "paid", got.Status)
	require.Equal(t, "cs_test_1", got.ProviderID)
	require.Equal(t, "https://pay.example/cs_test_1", got.URL)
	require.NotNil(t, got.PaidAt)
	require.Equal(t, p.LineItems, got.LineItems)
	list, err := s.ListPayments(ctx, o.ID, domain.Page{})
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.ErrorIs(t, s.SetPaymentStatus(ctx, o.ID, p.ID, []string{"paid"}, "nonsense", ""), domain.ErrInvalid)
	require.ErrorIs(t, s.CreatePayment(ctx, &domain.Payment{OrgID: o.ID, Provider: "paypal", Kind: "checkout", Currency: "EUR"}), domain.ErrInvalid)
	// other organisations see nothing
	other := newOrg(t, s)
	_, err = s.GetPayment(ctx, other.ID, p.ID)
	require.ErrorIs(t, err, domain.ErrNotFound)
	require.ErrorIs(t, s.SetPaymentStatus(ctx, other.ID, p.ID, []string{"paid"}, "failed", ""), domain.ErrNotFound)
	// a public token may name a payment
	require.NoError(t, s.CreatePublicToken(ctx, &domain.PublicToken{Hash: []byte("payment-token-hash-0123456789abc"), OrgID: o.ID, Kind: "payment",
		RecordID: p.ID, ExpiresAt: time.Now().Add(time.Hour)}))
}
