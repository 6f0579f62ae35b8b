package api

import (
	"sync"
	"time"
)

// authCacheTTL is how long an authenticated key is trusted without asking
// the store again. A revocation applies at once on the API instance that
// revoked the key, and within this long on the others.
const authCacheTTL = 5 * time.Second

// authCache remembers recently authenticated keys (by the hash of their
// secret), saving the two store reads of each request. Unknown and revoked
// keys are never cached.
type authCache struct {
	mu      sync.Mutex
	entries map[string]authEntry
	now     func() time.Time
}

type authEntry struct {
	p     Principal
	until time.Time
}

const authCacheMax = 10_000

func newAuthCache() *authCache {
	return &authCache{entries: map[string]authEntry{}, now: time.Now}
}

func (c *authCache) get(hash []byte) (Principal, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.entries[string(hash)]
	if !ok || c.now().After(e.until) {
		return Principal{}, false
	}
	return e.p, true
}

func (c *authCache) put(hash []byte, p Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.entries) >= authCacheMax {
		now := c.now()
		for k, e := range c.entries {
			if now.After(e.until) {
				delete(c.entries, k)
			}
		}
		if len(c.entries) >= authCacheMax {
			c.entries = map[string]authEntry{}
		}
	}
	c.entries[string(hash)] = authEntry{p: p, until: c.now().Add(authCacheTTL)}
}

// forgetKey drops a key (by its id) at once: it was revoked here.
func (c *authCache) forgetKey(keyID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for k, e := range c.entries {
		if e.p.KeyID == keyID {
			delete(c.entries, k)
		}
	}
}
