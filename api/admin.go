package api

import (
	"context"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
)

// SecretView is a secret's metadata; values are never returned.
type SecretView struct {
	Name      string    `json:"name"`
	KeyID     string    `json:"keyId" doc:"The master key that sealed it"`
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// CreatedKey is a new API key; Secret is shown only in this answer.
type CreatedKey struct {
	domain.APIKey
	Secret string `json:"secret" doc:"The API key. It is shown once: store it now"`
}

func (s *Server) adminRoutes() {
	type createUserInput struct {
		Body struct {
			Email string      `json:"email" format:"email" maxLength:"320"`
			Name  string      `json:"name,omitempty" maxLength:"200"`
			Role  domain.Role `json:"role" enum:"owner,admin,builder,operator,viewer"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "create-user", Method: http.MethodPost, Path: "/v1/users",
		DefaultStatus: http.StatusCreated, Summary: "Add a user to the organisation", Tags: []string{"admin"}},
		func(ctx context.Context, in *createUserInput) (*bodyOut[domain.User], error) {
			pr := principal(ctx)
			if in.Body.Role == domain.RoleOwner && pr.Role != domain.RoleOwner {
				return nil, problem(http.StatusForbidden, ProbForbidden, "only an owner can add an owner")
			}
			u := &domain.User{OrgID: pr.OrgID, Email: strings.ToLower(strings.TrimSpace(in.Body.Email)), Name: in.Body.Name, Role: in.Body.Role}
			err := s.store.Tx(ctx, func(tx domain.Repo) error {
				if err := tx.CreateUser(ctx, u); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: "user.create",
					Target: "user/" + u.ID, Details: mustJSON(map[string]any{"email": u.Email, "role": u.Role})})
			})
			if err != nil {
				return nil, storeErr(err, "user "+u.Email)
			}
			return &bodyOut[domain.User]{*u}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "list-users", Method: http.MethodGet, Path: "/v1/users",
		Summary: "List the organisation's users", Tags: []string{"admin"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[domain.User]], error) {
			pg := in.page()
			us, err := s.store.ListUsers(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "users")
			}
			if us == nil {
				us = []domain.User{}
			}
			return &bodyOut[Page[domain.User]]{Page[domain.User]{Items: us, NextCursor: nextCursor(us, pg, func(u domain.User) string { return u.ID })}}, nil
		})

	type createKeyInput struct {
		Body struct {
			User string      `json:"user" doc:"The user the key acts as (id)"`
			Name string      `json:"name" maxLength:"200"`
			Role domain.Role `json:"role" enum:"owner,admin,builder,operator,viewer" doc:"At most the user's role"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "create-api-key", Method: http.MethodPost, Path: "/v1/api-keys",
		DefaultStatus: http.StatusCreated, Summary: "Create an API key (its secret is shown once)", Tags: []string{"admin"}},
		func(ctx context.Context, in *createKeyInput) (*bodyOut[CreatedKey], error) {
			pr := principal(ctx)
			u, err := s.store.GetUser(ctx, pr.OrgID, in.Body.User)
			if err != nil {
				return nil, storeErr(err, "user "+in.Body.User)
			}
			if !u.Role.AtLeast(in.Body.Role) {
				return nil, problem(http.StatusUnprocessableEntity, ProbBadRequest, "the user's role is %s: a key for them can have at most that role", u.Role)
			}
			if !pr.Role.AtLeast(in.Body.Role) {
				return nil, problem(http.StatusForbidden, ProbForbidden, "you cannot create a key with a role above your own (%s)", pr.Role)
			}
			secret, k := NewKey(pr.OrgID, u.ID, in.Body.Name, in.Body.Role)
			err = s.store.Tx(ctx, func(tx domain.Repo) error {
				if err := tx.CreateAPIKey(ctx, k); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: "apikey.create",
					Target: "apikey/" + k.ID, Details: mustJSON(map[string]any{"user": u.ID, "role": k.Role, "name": k.Name})})
			})
			if err != nil {
				return nil, storeErr(err, "api key")
			}
			return &bodyOut[CreatedKey]{CreatedKey{APIKey: *k, Secret: secret}}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "list-api-keys", Method: http.MethodGet, Path: "/v1/api-keys",
		Summary: "List API keys (without their secrets)", Tags: []string{"admin"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[domain.APIKey]], error) {
			pg := in.page()
			ks, err := s.store.ListAPIKeys(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "api keys")
			}
			if ks == nil {
				ks = []domain.APIKey{}
			}
			return &bodyOut[Page[domain.APIKey]]{Page[domain.APIKey]{Items: ks, NextCursor: nextCursor(ks, pg, func(k domain.APIKey) string { return k.ID })}}, nil
		})
	type keyInput struct {
		ID string `path:"id" maxLength:"100"`
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "revoke-api-key", Method: http.MethodDelete, Path: "/v1/api-keys/{id}",
		DefaultStatus: http.StatusNoContent, Summary: "Revoke an API key", Tags: []string{"admin"}},
		func(ctx context.Context, in *keyInput) (*struct{}, error) {
			pr := principal(ctx)
			err := s.store.Tx(ctx, func(tx domain.Repo) error {
				if err := tx.RevokeAPIKey(ctx, pr.OrgID, in.ID); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: "apikey.revoke", Target: "apikey/" + in.ID})
			})
			if err == nil {
				s.auth.forgetKey(in.ID)
			}
			return nil, storeErr(err, "api key "+in.ID)
		})

	type SecretParam struct {
		Name string `path:"name" pattern:"^[A-Za-z][A-Za-z0-9_.-]{0,127}$"`
	}
	type putSecretInput struct {
		SecretParam
		Body struct {
			Value string `json:"value" minLength:"1" maxLength:"65536" doc:"The secret value; it can never be read back"`
		}
	}
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "put-secret", Method: http.MethodPut, Path: "/v1/secrets/{name}",
		DefaultStatus: http.StatusNoContent, Summary: "Create or replace a secret (write-only)", Tags: []string{"secrets"},
		Description: "The value is sealed with AES-256-GCM (envelope encryption; the organisation and name are bound as associated data). The API never returns it."},
		func(ctx context.Context, in *putSecretInput) (*struct{}, error) {
			if s.opts.Keyring == nil {
				return nil, problem(http.StatusServiceUnavailable, ProbUnavailable, "no master key is configured (SWITCHBOARD_MASTER_KEY)")
			}
			pr := principal(ctx)
			sealed, keyID, err := s.opts.Keyring.Seal(pr.OrgID, in.Name, []byte(in.Body.Value))
			if err != nil {
				return nil, internal(err)
			}
			err = s.store.Tx(ctx, func(tx domain.Repo) error {
				if err := tx.PutSecret(ctx, &domain.Secret{OrgID: pr.OrgID, Name: in.Name, Value: sealed, KeyID: keyID}); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: "secret.put", Target: "secret/" + in.Name})
			})
			return nil, storeErr(err, "secret "+in.Name)
		})
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-secrets", Method: http.MethodGet, Path: "/v1/secrets",
		Summary: "List secret names (never values)", Tags: []string{"secrets"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[SecretView]], error) {
			pg := in.page()
			ss, err := s.store.ListSecrets(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "secrets")
			}
			out := Page[SecretView]{Items: make([]SecretView, len(ss))}
			for i, x := range ss {
				out.Items[i] = SecretView{Name: x.Name, KeyID: x.KeyID, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
			}
			out.NextCursor = nextCursor(ss, pg, func(x domain.Secret) string { return x.Name })
			return &bodyOut[Page[SecretView]]{out}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "delete-secret", Method: http.MethodDelete, Path: "/v1/secrets/{name}",
		DefaultStatus: http.StatusNoContent, Summary: "Delete a secret", Tags: []string{"secrets"}},
		func(ctx context.Context, in *SecretParam) (*struct{}, error) {
			pr := principal(ctx)
			err := s.store.Tx(ctx, func(tx domain.Repo) error {
				if err := tx.DeleteSecret(ctx, pr.OrgID, in.Name); err != nil {
					return err
				}
				return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: "secret.delete", Target: "secret/" + in.Name})
			})
			return nil, storeErr(err, "secret "+in.Name)
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-outbox", Method: http.MethodGet, Path: "/v1/outbox",
		Summary: "Messages the email/Slack actions sent, newest first: to the outbox (no provider key configured) or through SendGrid/Slack, with their status", Tags: []string{"outbox"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[domain.OutboxMessage]], error) {
			pg := in.page()
			ms, err := s.store.ListOutbox(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "outbox")
			}
			if ms == nil {
				ms = []domain.OutboxMessage{}
			}
			return &bodyOut[Page[domain.OutboxMessage]]{Page[domain.OutboxMessage]{Items: ms, NextCursor: nextCursor(ms, pg, func(m domain.OutboxMessage) string { return m.ID })}}, nil
		})
	op(s, domain.RoleAdmin, huma.Operation{OperationID: "list-audit", Method: http.MethodGet, Path: "/v1/audit",
		Summary: "The audit log, newest first", Tags: []string{"admin"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[domain.AuditEntry]], error) {
			pg := in.page()
			es, err := s.store.ListAudit(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "audit log")
			}
			if es == nil {
				es = []domain.AuditEntry{}
			}
			return &bodyOut[Page[domain.AuditEntry]]{Page[domain.AuditEntry]{Items: es, NextCursor: nextCursor(es, pg, func(e domain.AuditEntry) string { return e.ID })}}, nil
		})
}
