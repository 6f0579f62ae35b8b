package seal_test

import (
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/store/seal"
)

const secret = "sk-live-0123456789abcdef-TOP-SECRET"

func newKey(t *testing.T) []byte {
	t.Helper()
	key := make([]byte, seal.KeySize)
	_, err := rand.Read(key)
	require.NoError(t, err)
	return key
}

func newRing(t *testing.T, keys ...[]byte) *seal.Keyring {
	t.Helper()
	k, err := seal.NewKeyring(keys...)
	require.NoError(t, err)
	return k
}

// requireClean checks that an error says nothing about the secret or keys.
func requireClean(t *testing.T, err error, keys ...[]byte) {
	t.Helper()
	require.Error(t, err)
	msg := err.Error()
	require.NotContains(t, msg, secret)
	for _, key := range keys {
		for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawURLEncoding} {
			require.NotContains(t, msg, enc.EncodeToString(key))
		}
		require.NotContains(t, msg, fmt.Sprintf("%x", key))
		require.NotContains(t, msg, string(key))
	}
}

func TestRoundTrip(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	k := newRing(t, key)
	for _, pt := range [][]byte{[]byte(secret), {}, bytes.Repeat([]byte{0xAB}, 1<<16)} {
		sealed, id, err := k.Seal("org_1", "OPENAI_API_KEY", pt)
		require.NoError(t, err)
		require.Equal(t, k.CurrentKeyID(), id)
		require.Len(t, id, 8)
		require.NotContains(t, string(sealed), secret)
		got, err := k.Open("org_1", "OPENAI_API_KEY", sealed)
		require.NoError(t, err)
		require.NotNil(t, got)
		require.True(t, bytes.Equal(pt, got))

		sid, err := seal.SealedKeyID(sealed)
		require.NoError(t, err)
		require.Equal(t, id, sid)
	}
}

func TestKeyIDIsSHA256Prefix(t *testing.T) {
	t.Parallel()
	// SHA-256 of 32 bytes 0x01.
	k := newRing(t, bytes.Repeat([]byte{1}, 32))
	require.Equal(t, "72cd6e84", k.CurrentKeyID())
}

func TestSealIsRandomized(t *testing.T) {
	t.Parallel()
	k := newRing(t, newKey(t))
	a, _, err := k.Seal("org", "name", []byte(secret))
	require.NoError(t, err)
	b, _, err := k.Seal("org", "name", []byte(secret))
	require.NoError(t, err)
	require.NotEqual(t, a, b)
	require.Len(t, a, len(b))
	// Not even the nonces or the wrapped data key repeat: only the header does.
	require.Equal(t, a[:5], b[:5])
	for i := 5; i+8 <= len(a); i += 8 {
		require.NotEqual(t, a[i:i+8], b[i:i+8], "bytes %d..%d", i, i+8)
	}
}

func TestBoundToOrgAndName(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	k := newRing(t, key)
	sealed, _, err := k.Seal("ab", "c", []byte(secret))
	require.NoError(t, err)
	_, err = k.Open("ab", "c", sealed)
	require.NoError(t, err)

	for _, tc := range []struct{ org, name string }{
		{"ab", "d"}, // other name
		{"xy", "c"}, // other org
		{"c", "ab"}, // swapped
		{"a", "bc"}, // ambiguous split
		{"abc", ""}, // everything in the org
		{"", "abc"}, // everything in the name
		{"ab", "c\x00"},
		{"AB", "c"},
	} {
		_, err := k.Open(tc.org, tc.name, sealed)
		require.ErrorIs(t, err, seal.ErrCorrupt, "%q/%q", tc.org, tc.name)
		requireClean(t, err, key)
	}

	// And the other way round: a value sealed for ("a", "bc") does not open as ("ab", "c").
	other, _, err := k.Seal("a", "bc", []byte(secret))
	require.NoError(t, err)
	_, err = k.Open("ab", "c", other)
	require.ErrorIs(t, err, seal.ErrCorrupt)
}

func TestEveryByteIsAuthenticated(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	k := newRing(t, key)
	sealed, _, err := k.Seal("org", "name", []byte(secret))
	require.NoError(t, err)
	for i := range sealed {
		for _, mask := range []byte{0x01, 0x80, 0xFF} {
			bad := bytes.Clone(sealed)
			bad[i] ^= mask
			got, err := k.Open("org", "name", bad)
			require.Error(t, err, "byte %d ^ %#x opened", i, mask)
			require.Nil(t, got)
			require.True(t, errors.Is(err, seal.ErrCorrupt) || errors.Is(err, seal.ErrUnknownKey), "byte %d: %v", i, err)
			requireClean(t, err, key)
		}
	}
	// Truncated, extended, empty.
	for _, bad := range [][]byte{nil, {}, sealed[:1], sealed[:len(sealed)-1], append(bytes.Clone(sealed), 0)} {
		_, err := k.Open("org", "name", bad)
		require.ErrorIs(t, err, seal.ErrCorrupt)
		requireClean(t, err, key)
	}
	// Still opens untouched.
	got, err := k.Open("org", "name", sealed)
	require.NoError(t, err)
	require.Equal(t, secret, string(got))
}

func TestRotation(t *testing.T) {
	t.Parallel()
	oldKey, newKeyBytes, strayKey := newKey(t), newKey(t), newKey(t)
	old := newRing(t, oldKey)
	sealedOld, oldID, err := old.Seal("org", "name", []byte(secret))
	require.NoError(t, err)

	// A new current key, the old one kept to open.
	rotated := newRing(t, newKeyBytes, oldKey)
	require.Equal(t, []string{rotated.CurrentKeyID(), oldID}, rotated.KeyIDs())
	require.NotEqual(t, oldID, rotated.CurrentKeyID())
	got, err := rotated.Open("org", "name", sealedOld)
	require.NoError(t, err)
	require.Equal(t, secret, string(got))

	// New values use the new key; the old ring cannot open them.
	sealedNew, newID, err := rotated.Seal("org", "name", []byte(secret))
	require.NoError(t, err)
	require.Equal(t, rotated.CurrentKeyID(), newID)
	_, err = old.Open("org", "name", sealedNew)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	requireClean(t, err, oldKey, newKeyBytes)

	// Reseal moves a value to the current key.
	resealed, id, err := rotated.Reseal("org", "name", sealedOld)
	require.NoError(t, err)
	require.Equal(t, newID, id)
	sid, err := seal.SealedKeyID(resealed)
	require.NoError(t, err)
	require.Equal(t, newID, sid)
	onlyNew := newRing(t, newKeyBytes)
	got, err = onlyNew.Open("org", "name", resealed)
	require.NoError(t, err)
	require.Equal(t, secret, string(got))
	_, err = onlyNew.Open("org", "name", sealedOld)
	require.ErrorIs(t, err, seal.ErrUnknownKey)

	// A key that was never in the ring.
	stray := newRing(t, strayKey)
	_, err = stray.Open("org", "name", sealedOld)
	require.ErrorIs(t, err, seal.ErrUnknownKey)
	require.NotErrorIs(t, err, seal.ErrCorrupt)
	requireClean(t, err, oldKey, strayKey)
}

func TestParseKeyring(t *testing.T) {
	t.Parallel()
	key1, key2 := newKey(t), newKey(t)
	want := newRing(t, key1, key2).KeyIDs()

	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		s := " " + enc.EncodeToString(key1) + " ,\t" + enc.EncodeToString(key2) + "\n"
		k, err := seal.ParseKeyring(s)
		require.NoError(t, err, "%q", s)
		require.Equal(t, want, k.KeyIDs())
	}
	k, err := seal.ParseKeyring(seal.GenerateKey())
	require.NoError(t, err)
	require.Len(t, k.KeyIDs(), 1)

	good := base64.StdEncoding.EncodeToString(key1)
	short := base64.StdEncoding.EncodeToString(key1[:16])
	hexKey := fmt.Sprintf("%x", key1) // a common mistake: 64 hex digits decode to 48 bytes
	for _, tc := range []struct{ in, want string }{
		{"", "no master key"},
		{"  \n", "no master key"},
		{short, "master key is 16 bytes long, want 32"},
		{hexKey, "master key is 48 bytes long, want 32"},
		{"not*base64!" + good, "master key is not valid base64"},
		{good[:len(good)-2] + "=", "master key is not valid base64"}, // bad padding
		{good + "," + short, "master key 2 of 2 is 16 bytes long"},
		{good + ",", "master key 2 of 2 is empty"},
		{good + ",," + good, "master key 2 of 3 is empty"},
		{good + "," + good, "master key 2 of 2 has the same key id"},
		{base64.StdEncoding.EncodeToString(make([]byte, 32)), "all zero"},
		{strings.Replace(good, good[:1], "-", 1) + "+", "not valid base64"}, // mixed alphabets
	} {
		k, err := seal.ParseKeyring(tc.in)
		require.Nil(t, k, "%q", tc.in)
		require.ErrorContains(t, err, tc.want, "%q", tc.in)
		require.True(t, strings.HasPrefix(err.Error(), "seal: "), err.Error())
		requireClean(t, err, key1)
		if tc.in != "" && strings.TrimSpace(tc.in) != "" {
			require.NotContains(t, err.Error(), strings.Split(strings.TrimSpace(tc.in), ",")[0])
		}
	}

	_, err = seal.NewKeyring()
	require.ErrorContains(t, err, "no master key")
}

func TestNoKeyMaterialInFormatting(t *testing.T) {
	t.Parallel()
	key := newKey(t)
	k := newRing(t, key)
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%x", "%q"} {
		for _, v := range []any{k, *k} {
			out := fmt.Sprintf(f, v)
			require.NotContains(t, out, base64.StdEncoding.EncodeToString(key), f)
			require.NotContains(t, out, fmt.Sprintf("%x", key), f)
			require.NotContains(t, out, string(key), f)
		}
	}
	require.Contains(t, k.String(), k.CurrentKeyID())
}

func TestLoadOrCreateKeyFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "master.key")

	k1, created, err := seal.LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	require.True(t, created)
	if runtime.GOOS != "windows" {
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o600), fi.Mode().Perm())
		di, err := os.Stat(filepath.Dir(path))
		require.NoError(t, err)
		require.Equal(t, os.FileMode(0o700), di.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	_, err = seal.ParseKeyring(string(b))
	require.NoError(t, err)

	sealed, _, err := k1.Seal("org", "name", []byte(secret))
	require.NoError(t, err)

	k2, created, err := seal.LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, k1.KeyIDs(), k2.KeyIDs())
	got, err := k2.Open("org", "name", sealed)
	require.NoError(t, err)
	require.Equal(t, secret, string(got))

	// No temporary files are left behind.
	entries, err := os.ReadDir(filepath.Dir(path))
	require.NoError(t, err)
	require.Len(t, entries, 1)
}

func TestLoadOrCreateKeyFileRace(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "master.key")
	const n = 8
	ids := make([]string, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			k, c, err := seal.LoadOrCreateKeyFile(path)
			if err == nil {
				ids[i], created[i] = k.CurrentKeyID(), c
			}
		})
	}
	wg.Wait()
	nCreated := 0
	for i := range n {
		require.Equal(t, ids[0], ids[i])
		require.NotEmpty(t, ids[i])
		if created[i] {
			nCreated++
		}
	}
	require.Equal(t, 1, nCreated)
}

func TestLoadKeyFileErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	key := newKey(t)

	// Existing file, whitespace around the key, two keys.
	path := filepath.Join(dir, "ok.key")
	require.NoError(t, os.WriteFile(path, []byte("\n  "+base64.StdEncoding.EncodeToString(key)+","+seal.GenerateKey()+"  \n\n"), 0o600))
	k, created, err := seal.LoadOrCreateKeyFile(path)
	require.NoError(t, err)
	require.False(t, created)
	require.Equal(t, newRing(t, key).CurrentKeyID(), k.CurrentKeyID())
	require.Len(t, k.KeyIDs(), 2)

	// A broken key file is an error, never silently replaced.
	bad := filepath.Join(dir, "bad.key")
	short := base64.StdEncoding.EncodeToString(key[:20])
	require.NoError(t, os.WriteFile(bad, []byte(short+"\n"), 0o600))
	_, _, err = seal.LoadOrCreateKeyFile(bad)
	require.ErrorContains(t, err, "20 bytes long")
	require.ErrorContains(t, err, bad)
	require.NotContains(t, err.Error(), short)
	b, err := os.ReadFile(bad)
	require.NoError(t, err)
	require.Equal(t, short+"\n", string(b))

	empty := filepath.Join(dir, "empty.key")
	require.NoError(t, os.WriteFile(empty, nil, 0o600))
	_, _, err = seal.LoadOrCreateKeyFile(empty)
	require.ErrorContains(t, err, "no master key")

	// A directory where the file should be.
	_, _, err = seal.LoadOrCreateKeyFile(dir)
	require.Error(t, err)
}

func TestNilKeyring(t *testing.T) {
	t.Parallel()
	var k *seal.Keyring
	_, _, err := k.Seal("o", "n", []byte(secret))
	require.Error(t, err)
	_, err = k.Open("o", "n", []byte(secret))
	require.Error(t, err)
	requireClean(t, err)
	require.Equal(t, "", k.CurrentKeyID())
	require.NotPanics(t, func() { _ = fmt.Sprint(k) })
}
