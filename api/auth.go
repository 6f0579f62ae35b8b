package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"switchboard/domain"
)

// KeyPrefix starts every API key, so that leaked keys are easy to find.
const KeyPrefix = "sb_"

// Principal is who a request acts as.
type Principal struct {
	OrgID  string
	UserID string
	Email  string
	KeyID  string
	Role   domain.Role
}

// Actor is how the audit log names a principal.
func (p *Principal) Actor() string { return "user:" + p.UserID + " key:" + p.KeyID }

type principalKey struct{}

func principal(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// NewKey makes an API key: the secret to hand out once, and the record to
// store (with only the SHA-256 of the secret; keys carry 160 random bits,
// so a fast hash is enough).
func NewKey(orgID, userID, name string, role domain.Role) (secret string, k *domain.APIKey) {
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	secret = KeyPrefix + strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]))
	return secret, &domain.APIKey{OrgID: orgID, UserID: userID, Name: name, Role: role,
		Prefix: secret[:len(KeyPrefix)+6], Hash: HashKey(secret)}
}

// HashKey is the stored form of an API key.
func HashKey(secret string) []byte {
	h := sha256.Sum256([]byte(secret))
	return h[:]
}

// roleMeta keys the minimum role an operation needs in its huma metadata.
const roleMeta = "switchboard.role"

// authenticate resolves the Bearer key and checks the operation's role.
func (s *Server) authenticate(ctx huma.Context, next func(huma.Context)) {
	need, ok := ctx.Operation().Metadata[roleMeta].(domain.Role)
	if !ok { // public operation
		next(ctx)
		return
	}
	auth := ctx.Header("Authorization")
	scheme, secret, _ := strings.Cut(auth, " ")
	if auth == "" || !strings.EqualFold(scheme, "Bearer") || !strings.HasPrefix(secret, KeyPrefix) {
		ctx.SetHeader("WWW-Authenticate", `Bearer realm="switchboard"`)
		s.writeProblem(ctx, problem(http.StatusUnauthorized, ProbUnauthorized, "send an API key: Authorization: Bearer sb_..."))
		return
	}
	hash := HashKey(strings.TrimSpace(secret))
	p, cached := s.auth.get(hash)
	if !cached {
		sctx, cancel := context.WithTimeout(ctx.Context(), 5*time.Second)
		defer cancel()
		k, err := s.store.APIKeyByHash(sctx, hash)
		if err != nil {
			if errors.Is(err, domain.ErrNotFound) {
				ctx.SetHeader("WWW-Authenticate", `Bearer realm="switchboard", error="invalid_token"`)
				s.writeProblem(ctx, problem(http.StatusUnauthorized, ProbUnauthorized, "the API key is unknown or revoked"))
				return
			}
			s.writeProblem(ctx, storeErr(err, "api key"))
			return
		}
		p = Principal{OrgID: k.OrgID, UserID: k.UserID, KeyID: k.ID, Role: k.Role}
		if u, err := s.store.GetUser(sctx, k.OrgID, k.UserID); err == nil {
			p.Email = u.Email
		}
		s.auth.put(hash, p)
	}
	if !p.Role.AtLeast(need) {
		s.writeProblem(ctx, problem(http.StatusForbidden, ProbForbidden,
			"this needs the %s role or higher; the API key has %s", need, p.Role))
		return
	}
	next(huma.WithValue(ctx, principalKey{}, &p))
}

// writeProblem answers from a middleware (handlers just return errors).
func (s *Server) writeProblem(ctx huma.Context, err error) {
	var p *Problem
	if !errors.As(err, &p) {
		p = internal(err).(*Problem)
	}
	p.Instance = ctx.URL().Path
	ctx.SetHeader("Content-Type", "application/problem+json")
	ctx.SetStatus(p.Status)
	_ = json.NewEncoder(ctx.BodyWriter()).Encode(p)
}

// Bootstrap creates an organisation with an owner and an owner API key,
// in one transaction, and returns the key's secret (shown once).
func Bootstrap(ctx context.Context, st domain.Store, orgName, email string) (*domain.Org, string, error) {
	if orgName == "" || email == "" {
		return nil, "", fmt.Errorf("%w: an organisation needs a name and an owner email", domain.ErrInvalid)
	}
	org := &domain.Org{Name: orgName}
	var secret string
	err := st.Tx(ctx, func(tx domain.Repo) error {
		if err := tx.CreateOrg(ctx, org); err != nil {
			return err
		}
		u := &domain.User{OrgID: org.ID, Email: email, Name: email, Role: domain.RoleOwner}
		if err := tx.CreateUser(ctx, u); err != nil {
			return err
		}
		var k *domain.APIKey
		secret, k = NewKey(org.ID, u.ID, "bootstrap", domain.RoleOwner)
		if err := tx.CreateAPIKey(ctx, k); err != nil {
			return err
		}
		return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: org.ID, Actor: "system", Action: "org.create",
			Target: "org/" + org.ID, Details: mustJSON(map[string]any{"name": orgName, "owner": email, "key": k.ID})})
	})
	if err != nil {
		return nil, "", err
	}
	return org, secret, nil
}
