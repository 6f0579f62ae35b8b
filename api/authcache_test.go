package api

import (
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestAuthCache(t *testing.T) {
	c := newAuthCache()
	now := time.Unix(1000, 0)
	c.now = func() time.Time { return now }
	p := Principal{OrgID: "o", KeyID: "k1", Role: "viewer"}
	_, ok := c.get([]byte("h1"))
	require.False(t, ok)
	c.put([]byte("h1"), p)
	got, ok := c.get([]byte("h1"))
	require.True(t, ok)
	require.Equal(t, p, got)

	now = now.Add(authCacheTTL + time.Millisecond)
	_, ok = c.get([]byte("h1"))
	require.False(t, ok, "trusted for authCacheTTL only")

	c.put([]byte("h1"), p)
	c.put([]byte("h2"), Principal{KeyID: "k2"})
	c.forgetKey("k1")
	_, ok = c.get([]byte("h1"))
	require.False(t, ok, "a key revoked here is forgotten at once")
	_, ok = c.get([]byte("h2"))
	require.True(t, ok)

	// bounded: a full cache drops what expired, then everything
	for i := range authCacheMax + 10 {
		c.put([]byte{byte(i), byte(i >> 8), byte(i >> 16)}, p)
	}
	require.LessOrEqual(t, len(c.entries), authCacheMax)
}
