package store

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"time"

	"switchboard/domain"
)

// The methods below (and those in triggers.go) implement domain.Repo.
// Every query but APIKeyByHash's and ClaimEvents's filters by org_id;
// creation fills in empty ids and zero times (see newID and stamp) on the
// record it is given.

var _ domain.Store = (*store)(nil)

func (r *repo) CreateOrg(ctx context.Context, o *domain.Org) error {
	if err := need("org", "name", o.Name); err != nil {
		return err
	}
	o.ID, o.CreatedAt = newID(o.ID), stamp(o.CreatedAt)
	_, err := r.exec(ctx, `INSERT INTO orgs (id, name, created_at) VALUES (?, ?, ?)`, o.ID, o.Name, r.ts(o.CreatedAt))
	return wrap("create org", err)
}

func (r *repo) GetOrg(ctx context.Context, id string) (*domain.Org, error) {
	return get(ctx, r, "org "+id, func(s scanner) (o domain.Org, err error) {
		return o, s.Scan(&o.ID, &o.Name, scanTime(&o.CreatedAt))
	}, `SELECT id, name, created_at FROM orgs WHERE id = ?`, id)
}

const userCols = `org_id, id, email, name, role, created_at`

func scanUser(s scanner) (u domain.User, err error) {
	return u, s.Scan(&u.OrgID, &u.ID, &u.Email, &u.Name, &u.Role, scanTime(&u.CreatedAt))
}

func (r *repo) CreateUser(ctx context.Context, u *domain.User) error {
	if err := need("user", "orgId", u.OrgID, "email", u.Email); err != nil {
		return err
	}
	if !u.Role.Valid() {
		return fmt.Errorf("%w: user: unknown role %q", domain.ErrInvalid, u.Role)
	}
	u.ID, u.CreatedAt = newID(u.ID), stamp(u.CreatedAt)
	_, err := r.exec(ctx, `INSERT INTO users (`+userCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		u.OrgID, u.ID, u.Email, u.Name, string(u.Role), r.ts(u.CreatedAt))
	return wrap("create user "+u.Email, err)
}

func (r *repo) GetUser(ctx context.Context, orgID, id string) (*domain.User, error) {
	return get(ctx, r, "user "+id, scanUser, `SELECT `+userCols+` FROM users WHERE org_id = ? AND id = ?`, orgID, id)
}

func (r *repo) ListUsers(ctx context.Context, orgID string, p domain.Page) ([]domain.User, error) {
	return list(ctx, r, "list users", scanUser,
		`SELECT `+userCols+` FROM users WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, p.After, p.Size())
}

const apiKeyCols = `org_id, id, user_id, name, role, prefix, hash, created_at, revoked_at, last_used_at`

func scanAPIKey(s scanner) (k domain.APIKey, err error) {
	return k, s.Scan(&k.OrgID, &k.ID, &k.UserID, &k.Name, &k.Role, &k.Prefix, &k.Hash,
		scanTime(&k.CreatedAt), scanNullTime(&k.RevokedAt), scanNullTime(&k.LastUsedAt))
}

func (r *repo) CreateAPIKey(ctx context.Context, k *domain.APIKey) error {
	if err := need("api key", "orgId", k.OrgID, "userId", k.UserID, "hash", string(k.Hash)); err != nil {
		return err
	}
	if !k.Role.Valid() {
		return fmt.Errorf("%w: api key: unknown role %q", domain.ErrInvalid, k.Role)
	}
	k.ID, k.CreatedAt = newID(k.ID), stamp(k.CreatedAt)
	k.RevokedAt, k.LastUsedAt = stampp(k.RevokedAt), stampp(k.LastUsedAt)
	_, err := r.exec(ctx, `INSERT INTO api_keys (`+apiKeyCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		k.OrgID, k.ID, k.UserID, k.Name, string(k.Role), k.Prefix, k.Hash,
		r.ts(k.CreatedAt), r.tsp(k.RevokedAt), r.tsp(k.LastUsedAt))
	return wrap("create api key", err) // ErrNotFound: no such user in the org
}

func (r *repo) APIKeyByHash(ctx context.Context, hash []byte) (*domain.APIKey, error) {
	// The one query across organisations: hash is unique over all of them.
	return get(ctx, r, "api key", scanAPIKey,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE hash = ? AND revoked_at IS NULL`, hash)
}

func (r *repo) ListAPIKeys(ctx context.Context, orgID string, p domain.Page) ([]domain.APIKey, error) {
	return list(ctx, r, "list api keys", scanAPIKey,
		`SELECT `+apiKeyCols+` FROM api_keys WHERE org_id = ? AND id > ? ORDER BY id LIMIT ?`, orgID, p.After, p.Size())
}

// RevokeAPIKey revokes a key; revoking it again keeps the first time.
func (r *repo) RevokeAPIKey(ctx context.Context, orgID, id string) error {
	return r.execOne(ctx, "revoke api key "+id,
		`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE org_id = ? AND id = ?`,
		r.ts(stamp(time.Time{})), orgID, id)
}

const definitionCols = `org_id, id, name, latest_revision, live_revision, created_at, updated_at`

func scanDefinition(s scanner) (d domain.Definition, err error) {
	return d, s.Scan(&d.OrgID, &d.ID, &d.Name, &d.LatestRevision, &d.LiveRevision,
		scanTime(&d.CreatedAt), scanTime(&d.UpdatedAt))
}

// CreateDefinition creates d with no revisions (LatestRevision and
// LiveRevision are the store's to set: they start at 0).
func (r *repo) CreateDefinition(ctx context.Context, d *domain.Definition) error {
	if err := need("definition", "orgId", d.OrgID, "name", d.Name); err != nil {
		return err
	}
	d.ID, d.CreatedAt, d.LatestRevision, d.LiveRevision = newID(d.ID), stamp(d.CreatedAt), 0, 0
	d.UpdatedAt = stamp(cmp.Or(d.UpdatedAt, d.CreatedAt))
	_, err := r.exec(ctx, `INSERT INTO definitions (`+definitionCols+`) VALUES (?, ?, ?, 0, 0, ?, ?)`,
		d.OrgID, d.ID, d.Name, r.ts(d.CreatedAt), r.ts(d.UpdatedAt))
	return wrap("create definition "+d.Name, err)
}

func (r *repo) GetDefinition(ctx context.Context, orgID, name string) (*domain.Definition, error) {
	return get(ctx, r, "definition "+name, scanDefinition,
		`SELECT `+definitionCols+` FROM definitions WHERE org_id = ? AND name = ?`, orgID, name)
}

// ListDefinitions lists definitions by name; Page.After is a name.
func (r *repo) ListDefinitions(ctx context.Context, orgID string, p domain.Page) ([]domain.Definition, error) {
	return list(ctx, r, "list definitions", scanDefinition,
		`SELECT `+definitionCols+` FROM definitions WHERE org_id = ? AND name > ? ORDER BY name LIMIT ?`, orgID, p.After, p.Size())
}

const revisionCols = `org_id, definition_id, number, source, format, plan_hash, author, message, created_at`

func scanRevision(s scanner) (v domain.Revision, err error) {
	return v, s.Scan(&v.OrgID, &v.DefinitionID, &v.Number, &v.Source, &v.Format, &v.PlanHash,
		&v.Author, &v.Message, scanTime(&v.CreatedAt))
}

func (r *repo) CreateRevision(ctx context.Context, v *domain.Revision) error {
	if err := need("revision", "orgId", v.OrgID, "definitionId", v.DefinitionID); err != nil {
		return err
	}
	v.CreatedAt = stamp(v.CreatedAt)
	return r.atomic(ctx, func(r *repo) error {
		// The row lock this UPDATE takes (Postgres), or the write lock the
		// transaction holds (SQLite), serialises concurrent creators: each
		// gets the next number, with no gaps and no duplicates.
		err := r.queryRow(ctx, `UPDATE definitions SET latest_revision = latest_revision + 1, updated_at = ?
			WHERE org_id = ? AND id = ? RETURNING latest_revision`,
			r.ts(v.CreatedAt), v.OrgID, v.DefinitionID).Scan(&v.Number)
		if err != nil {
			return wrap("create revision: definition "+v.DefinitionID, translate(err))
		}
		_, err = r.exec(ctx, `INSERT INTO revisions (`+revisionCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
			v.OrgID, v.DefinitionID, v.Number, v.Source, v.Format, v.PlanHash, v.Author, v.Message, r.ts(v.CreatedAt))
		return wrap("create revision", err)
	})
}

func (r *repo) GetRevision(ctx context.Context, orgID, definitionID string, number int) (*domain.Revision, error) {
	return get(ctx, r, fmt.Sprintf("revision %s@%d", definitionID, number), scanRevision,
		`SELECT `+revisionCols+` FROM revisions WHERE org_id = ? AND definition_id = ? AND number = ?`, orgID, definitionID, number)
}

func (r *repo) ListRevisions(ctx context.Context, orgID, definitionID string, p domain.Page) ([]domain.Revision, error) {
	q, args := `SELECT `+revisionCols+` FROM revisions WHERE org_id = ? AND definition_id = ?`, []any{orgID, definitionID}
	if p.After != "" {
		n, err := strconv.Atoi(p.After)
		if err != nil {
			return nil, fmt.Errorf("%w: list revisions: cursor %q is not a revision number", domain.ErrInvalid, p.After)
		}
		q, args = q+` AND number < ?`, append(args, n)
	}
	return list(ctx, r, "list revisions", scanRevision, q+` ORDER BY number DESC LIMIT ?`, append(args, p.Size())...)
}

// newestFirst appends the keyset condition and order of a list by id,
// newest first, to q.
func newestFirst(q string, args []any, p domain.Page) (string, []any) {
	if p.After != "" {
		q, args = q+` AND id < ?`, append(args, p.After)
	}
	return q + ` ORDER BY id DESC LIMIT ?`, append(args, p.Size())
}

const deploymentCols = `org_id, id, definition_id, revision, deployed_by, deployed_at`

func scanDeployment(s scanner) (d domain.Deployment, err error) {
	return d, s.Scan(&d.OrgID, &d.ID, &d.DefinitionID, &d.Revision, &d.DeployedBy, scanTime(&d.DeployedAt))
}

func (r *repo) Deploy(ctx context.Context, d *domain.Deployment) error {
	if err := need("deployment", "orgId", d.OrgID, "definitionId", d.DefinitionID); err != nil {
		return err
	}
	if d.Revision < 0 {
		return fmt.Errorf("%w: deployment: revision %d", domain.ErrInvalid, d.Revision)
	}
	d.ID, d.DeployedAt = newID(d.ID), stamp(d.DeployedAt)
	return r.atomic(ctx, func(r *repo) error {
		if d.Revision > 0 {
			var one int
			err := r.queryRow(ctx, `SELECT 1 FROM revisions WHERE org_id = ? AND definition_id = ? AND number = ?`,
				d.OrgID, d.DefinitionID, d.Revision).Scan(&one)
			if err != nil {
				return wrap(fmt.Sprintf("deploy: revision %s@%d", d.DefinitionID, d.Revision), translate(err))
			}
		}
		err := r.execOne(ctx, "deploy: definition "+d.DefinitionID,
			`UPDATE definitions SET live_revision = ?, updated_at = ? WHERE org_id = ? AND id = ?`,
			d.Revision, r.ts(d.DeployedAt), d.OrgID, d.DefinitionID)
		if err != nil {
			return err
		}
		_, err = r.exec(ctx, `INSERT INTO deployments (`+deploymentCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
			d.OrgID, d.ID, d.DefinitionID, d.Revision, d.DeployedBy, r.ts(d.DeployedAt))
		return wrap("deploy", err)
	})
}

// ListDeployments lists a definition's deployments newest first.
func (r *repo) ListDeployments(ctx context.Context, orgID, definitionID string, p domain.Page) ([]domain.Deployment, error) {
	q, args := newestFirst(`SELECT `+deploymentCols+` FROM deployments WHERE org_id = ? AND definition_id = ?`,
		[]any{orgID, definitionID}, p)
	return list(ctx, r, "list deployments", scanDeployment, q, args...)
}

// validJSON checks a JSON field before it is written.
func validJSON(what string, j json.RawMessage) error {
	if len(j) > 0 && !json.Valid(j) {
		return fmt.Errorf("%w: %s is not valid JSON", domain.ErrInvalid, what)
	}
	return nil
}

const auditCols = `org_id, id, actor, action, target, details, at`

func scanAudit(s scanner) (e domain.AuditEntry, err error) {
	return e, s.Scan(&e.OrgID, &e.ID, &e.Actor, &e.Action, &e.Target, jsonDest{&e.Details}, scanTime(&e.At))
}

func (r *repo) AppendAudit(ctx context.Context, e *domain.AuditEntry) error {
	if err := need("audit entry", "orgId", e.OrgID, "action", e.Action); err != nil {
		return err
	}
	if err := validJSON("audit entry details", e.Details); err != nil {
		return err
	}
	e.ID, e.At = newID(e.ID), stamp(e.At)
	_, err := r.exec(ctx, `INSERT INTO audit_log (`+auditCols+`) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		e.OrgID, e.ID, e.Actor, e.Action, e.Target, jsonArg(e.Details), r.ts(e.At))
	return wrap("append audit", err)
}

func (r *repo) ListAudit(ctx context.Context, orgID string, p domain.Page) ([]domain.AuditEntry, error) {
	q, args := newestFirst(`SELECT `+auditCols+` FROM audit_log WHERE org_id = ?`, []any{orgID}, p)
	return list(ctx, r, "list audit", scanAudit, q, args...)
}

// PutSecret creates or replaces a secret. UpdatedAt is always now;
// CreatedAt is kept from the secret it replaces.
func (r *repo) PutSecret(ctx context.Context, s *domain.Secret) error {
	if err := need("secret", "orgId", s.OrgID, "name", s.Name, "value", string(s.Value)); err != nil {
		return err
	}
	s.UpdatedAt = stamp(time.Time{})
	s.CreatedAt = stamp(cmp.Or(s.CreatedAt, s.UpdatedAt))
	err := r.queryRow(ctx, `INSERT INTO secrets (org_id, name, value, key_id, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (org_id, name) DO UPDATE SET value = excluded.value, key_id = excluded.key_id, updated_at = excluded.updated_at
		RETURNING created_at`,
		s.OrgID, s.Name, s.Value, s.KeyID, r.ts(s.CreatedAt), r.ts(s.UpdatedAt)).Scan(scanTime(&s.CreatedAt))
	return wrap("put secret "+s.Name, translate(err))
}

func (r *repo) GetSecret(ctx context.Context, orgID, name string) (*domain.Secret, error) {
	return get(ctx, r, "secret "+name, func(sc scanner) (s domain.Secret, err error) {
		return s, sc.Scan(&s.OrgID, &s.Name, &s.Value, &s.KeyID, scanTime(&s.CreatedAt), scanTime(&s.UpdatedAt))
	}, `SELECT org_id, name, value, key_id, created_at, updated_at FROM secrets WHERE org_id = ? AND name = ?`, orgID, name)
}

// ListSecrets lists secrets by name, without values; Page.After is a name.
func (r *repo) ListSecrets(ctx context.Context, orgID string, p domain.Page) ([]domain.Secret, error) {
	return list(ctx, r, "list secrets", func(sc scanner) (s domain.Secret, err error) {
		return s, sc.Scan(&s.OrgID, &s.Name, &s.KeyID, scanTime(&s.CreatedAt), scanTime(&s.UpdatedAt))
	}, `SELECT org_id, name, key_id, created_at, updated_at FROM secrets WHERE org_id = ? AND name > ? ORDER BY name LIMIT ?`,
		orgID, p.After, p.Size())
}

func (r *repo) DeleteSecret(ctx context.Context, orgID, name string) error {
	return r.execOne(ctx, "delete secret "+name, `DELETE FROM secrets WHERE org_id = ? AND name = ?`, orgID, name)
}

const outboxCols = `org_id, id, channel, recipient, subject, body, run_id, step_id, provider, status, provider_id, error, created_at, updated_at`

func (r *repo) AddOutbox(ctx context.Context, m *domain.OutboxMessage) error {
	if err := need("outbox message", "orgId", m.OrgID, "channel", m.Channel); err != nil {
		return err
	}
	if err := validJSON("outbox message body", m.Body); err != nil {
		return err
	}
	if m.Provider == "" {
		m.Provider = "outbox"
	}
	if m.Status == "" {
		m.Status = "queued"
	}
	if !slices.Contains(domain.MessageStatuses, m.Status) {
		return fmt.Errorf("add outbox message: %w: status %q", domain.ErrInvalid, m.Status)
	}
	m.ID, m.CreatedAt = newID(m.ID), stamp(m.CreatedAt)
	m.UpdatedAt = m.CreatedAt
	_, err := r.exec(ctx, `INSERT INTO outbox_messages (`+outboxCols+`) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.OrgID, m.ID, m.Channel, m.To, m.Subject, jsonArg(m.Body), m.RunID, m.StepID, m.Provider, m.Status, m.ProviderID, m.Error,
		r.ts(m.CreatedAt), r.ts(m.UpdatedAt))
	return wrap("add outbox message", err)
}

func scanOutbox(s scanner) (m domain.OutboxMessage, err error) {
	return m, s.Scan(&m.OrgID, &m.ID, &m.Channel, &m.To, &m.Subject, jsonDest{&m.Body}, &m.RunID, &m.StepID,
		&m.Provider, &m.Status, &m.ProviderID, &m.Error, scanTime(&m.CreatedAt), scanTime(&m.UpdatedAt))
}

func (r *repo) GetOutbox(ctx context.Context, orgID, id string) (*domain.OutboxMessage, error) {
	return get(ctx, r, "message "+id, scanOutbox, `SELECT `+outboxCols+` FROM outbox_messages WHERE org_id = ? AND id = ?`, orgID, id)
}

func (r *repo) SetOutboxStatus(ctx context.Context, orgID, id string, from []string, status, providerID, errText string) error {
	if !slices.Contains(domain.MessageStatuses, status) || len(from) == 0 {
		return fmt.Errorf("set message status: %w: status %q", domain.ErrInvalid, status)
	}
	args := []any{status, providerID, providerID, errText, r.ts(time.Now()), orgID, id}
	for _, f := range from {
		args = append(args, f)
	}
	n, err := r.exec(ctx, `UPDATE outbox_messages SET status = ?, provider_id = CASE WHEN ? = '' THEN provider_id ELSE ? END,
		error = ?, updated_at = ? WHERE org_id = ? AND id = ? AND status IN (`+placeholders(len(from))+`)`, args...)
	if err != nil {
		return wrap("set message status", err)
	}
	if n == 0 {
		if _, err := r.GetOutbox(ctx, orgID, id); err != nil {
			return err
		}
		return fmt.Errorf("message %s: %w: its status is not one of %v", id, domain.ErrConflict, from)
	}
	return nil
}

func (r *repo) ListOutbox(ctx context.Context, orgID string, p domain.Page) ([]domain.OutboxMessage, error) {
	q, args := newestFirst(`SELECT `+outboxCols+` FROM outbox_messages WHERE org_id = ?`, []any{orgID}, p)
	return list(ctx, r, "list outbox", scanOutbox, q, args...)
}

const idempotencyCols = `org_id, idem_key, request_hash, workflow_id, run_id, created_at`

func (r *repo) PutIdempotencyKey(ctx context.Context, k *domain.IdempotencyKey) error {
	if err := need("idempotency key", "orgId", k.OrgID, "key", k.Key); err != nil {
		return err
	}
	k.CreatedAt = stamp(k.CreatedAt)
	_, err := r.exec(ctx, `INSERT INTO idempotency_keys (`+idempotencyCols+`) VALUES (?, ?, ?, ?, ?, ?)`,
		k.OrgID, k.Key, k.RequestHash, k.WorkflowID, k.RunID, r.ts(k.CreatedAt))
	return wrap("put idempotency key "+k.Key, err)
}

func (r *repo) GetIdempotencyKey(ctx context.Context, orgID, key string) (*domain.IdempotencyKey, error) {
	return get(ctx, r, "idempotency key "+key, func(s scanner) (k domain.IdempotencyKey, err error) {
		return k, s.Scan(&k.OrgID, &k.Key, &k.RequestHash, &k.WorkflowID, &k.RunID, scanTime(&k.CreatedAt))
	}, `SELECT `+idempotencyCols+` FROM idempotency_keys WHERE org_id = ? AND idem_key = ?`, orgID, key)
}

func (r *repo) SetIdempotencyRun(ctx context.Context, orgID, key, workflowID, runID string) error {
	return r.execOne(ctx, "set idempotency run "+key,
		`UPDATE idempotency_keys SET workflow_id = ?, run_id = ? WHERE org_id = ? AND idem_key = ?`, workflowID, runID, orgID, key)
}

func (r *repo) DeleteIdempotencyKey(ctx context.Context, orgID, key string) error {
	return r.execOne(ctx, "delete idempotency key "+key, `DELETE FROM idempotency_keys WHERE org_id = ? AND idem_key = ?`, orgID, key)
}
