package activities

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"switchboard/domain"
	"switchboard/store/seal"
)

// Secrets reads an organisation's secrets for the connectors. A secret's
// value never leaves the activity that asked for it: not in its output,
// its errors, the run's history or the logs.
type Secrets interface {
	// Secret is the plaintext of the named secret, trimmed of surrounding
	// white space; domain.ErrNotFound when the organisation has none.
	Secret(ctx context.Context, org, name string) (string, error)
}

// StoreSecrets opens the sealed secrets of the platform's store with the
// installation's master keys.
type StoreSecrets struct {
	Store domain.Store
	Keys  *seal.Keyring
}

// Secret implements Secrets. Without a keyring every secret reads as
// missing: an installation without a master key has no secrets.
func (s StoreSecrets) Secret(ctx context.Context, org, name string) (string, error) {
	if s.Store == nil || s.Keys == nil {
		return "", domain.ErrNotFound
	}
	sec, err := s.Store.GetSecret(ctx, org, name)
	if err != nil {
		return "", err
	}
	plain, err := s.Keys.Open(org, name, sec.Value)
	if err != nil {
		// never the value: the reason only
		return "", fmt.Errorf("secret %s cannot be opened: %w", name, err)
	}
	return strings.TrimSpace(string(plain)), nil
}

// Setting reads an optional secret: "" when the organisation has none
// (or no secrets can be read at all); other errors are the store's.
func Setting(ctx context.Context, s Secrets, org, name string) (string, error) {
	if s == nil {
		return "", nil
	}
	v, err := s.Secret(ctx, org, name)
	if errors.Is(err, domain.ErrNotFound) {
		return "", nil
	}
	return v, err
}

// MapSecrets holds secrets in memory, by "<org>/<name>": for tests and for
// runs outside the platform.
type MapSecrets map[string]string

// Secret implements Secrets.
func (m MapSecrets) Secret(_ context.Context, org, name string) (string, error) {
	if v, ok := m[org+"/"+name]; ok {
		return v, nil
	}
	return "", domain.ErrNotFound
}
