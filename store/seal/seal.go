package seal

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// KeySize is the size in bytes of a master key and of a data key.
const KeySize = 32

const (
	formatV1    byte = 1
	idSize           = 4 // key id: first 4 bytes (8 hex characters) of SHA-256(key)
	nonceSize        = 12
	tagSize          = 16
	headerSize       = 1 + idSize
	wrappedSize      = KeySize + tagSize
	// overhead is what Seal adds to the plaintext.
	overhead = headerSize + nonceSize + wrappedSize + nonceSize + tagSize

	// maxPlaintext is AES-GCM's limit for one message.
	maxPlaintext = (1<<32 - 2) * aes.BlockSize

	labelDataKey = "switchboard/seal/v1/data-key"
	labelData    = "switchboard/seal/v1/data"
)

var (
	// ErrUnknownKey means the value was sealed under a master key the
	// keyring does not hold (it was removed, or belongs to another
	// installation).
	ErrUnknownKey = errors.New("seal: sealed under a master key that is not in the keyring")

	// ErrCorrupt means the value does not authenticate: it was altered or
	// truncated, is not a sealed value, or is being opened under another
	// organisation or name than it was sealed for. The cases are
	// deliberately indistinguishable.
	ErrCorrupt = errors.New("seal: sealed value is corrupt or belongs to another organisation or name")
)

// masterKey is a master key ready for use. The raw key bytes are not kept.
type masterKey struct {
	id   [idSize]byte
	aead cipher.AEAD
}

func (m masterKey) ID() string { return hex.EncodeToString(m.id[:]) }

// A Keyring holds the master keys. The first is the current key, used by
// Seal; all of them can open. A Keyring is safe for concurrent use and never
// prints its keys.
type Keyring struct {
	keys []masterKey
}

// NewKeyring returns a keyring of the given 32-byte keys, the first being
// the current one. It does not keep the slices.
func NewKeyring(keys ...[]byte) (*Keyring, error) {
	k, err := newKeyring(keys)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k, nil
}

func newKeyring(keys [][]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("no master key")
	}
	k := &Keyring{keys: make([]masterKey, 0, len(keys))}
	for i, key := range keys {
		if err := checkKey(key); err != nil {
			return nil, fmt.Errorf("%s %w", keyName(i, len(keys)), err)
		}
		sum := sha256.Sum256(key)
		mk := masterKey{aead: mustGCM(key)}
		copy(mk.id[:], sum[:idSize])
		for j, prev := range k.keys {
			if prev.id == mk.id {
				return nil, fmt.Errorf("%s has the same key id (%s) as %s: each key may appear once",
					keyName(i, len(keys)), mk.ID(), keyName(j, len(keys)))
			}
		}
		k.keys = append(k.keys, mk)
	}
	return k, nil
}

func checkKey(key []byte) error {
	if len(key) != KeySize {
		return fmt.Errorf("is %d bytes long, want %d (make one with `openssl rand -base64 32`)", len(key), KeySize)
	}
	var zero [KeySize]byte
	if [KeySize]byte(key) == zero {
		return errors.New("is all zero bytes")
	}
	return nil
}

func keyName(i, n int) string {
	if n == 1 {
		return "master key"
	}
	return fmt.Sprintf("master key %d of %d", i+1, n)
}

// mustGCM returns AES-256-GCM under key, which must be KeySize bytes.
func mustGCM(key []byte) cipher.AEAD {
	block, err := aes.NewCipher(key)
	if err != nil {
		panic("seal: " + err.Error()) // only on a wrong key size, which callers rule out
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		panic("seal: " + err.Error())
	}
	return aead
}

// ParseKeyring parses one or more base64 master keys separated by commas,
// the format of SWITCHBOARD_MASTER_KEY. Standard and URL alphabets, with or
// without padding, are accepted; spaces around keys are ignored. Errors say
// which key is wrong and why, never what it is.
func ParseKeyring(s string) (*Keyring, error) {
	k, err := parseKeyring(s)
	if err != nil {
		return nil, fmt.Errorf("seal: %w", err)
	}
	return k, nil
}

func parseKeyring(s string) (*Keyring, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errors.New("no master key given")
	}
	parts := strings.Split(s, ",")
	keys := make([][]byte, len(parts))
	defer func() {
		for _, key := range keys {
			clear(key)
		}
	}()
	for i, p := range parts {
		p = strings.TrimSpace(p)
		if p == "" {
			return nil, fmt.Errorf("%s is empty", keyName(i, len(parts)))
		}
		key, ok := decodeBase64(p)
		if !ok {
			return nil, fmt.Errorf("%s is not valid base64", keyName(i, len(parts)))
		}
		keys[i] = key
	}
	return newKeyring(keys)
}

var encodings = []*base64.Encoding{
	base64.StdEncoding.Strict(),
	base64.RawStdEncoding.Strict(),
	base64.URLEncoding.Strict(),
	base64.RawURLEncoding.Strict(),
}

func decodeBase64(s string) ([]byte, bool) {
	for _, enc := range encodings {
		if b, err := enc.DecodeString(s); err == nil {
			return b, true
		}
	}
	return nil, false
}

// GenerateKey returns a new random master key, base64-encoded (standard
// alphabet, padded): a valid SWITCHBOARD_MASTER_KEY.
func GenerateKey() string {
	key := make([]byte, KeySize)
	_, _ = rand.Read(key) // crypto/rand.Read never fails (Go 1.24+)
	defer clear(key)
	return base64.StdEncoding.EncodeToString(key)
}

// LoadOrCreateKeyFile reads the keyring from the key file at path (the
// ParseKeyring format; surrounding whitespace is ignored). If the file does
// not exist, it generates a random key and writes it there first, with mode
// 0600, creating the parent directory with mode 0700 if needed; created
// reports that. The file is written to a temporary name and then linked into
// place, so it never appears half-written, and two processes racing to
// create it end up with the same key.
func LoadOrCreateKeyFile(path string) (k *Keyring, created bool, err error) {
	k, err = loadKeyFile(path)
	if err == nil || !errors.Is(err, fs.ErrNotExist) {
		return k, false, err
	}
	created, err = createKeyFile(path)
	if err != nil {
		return nil, false, fmt.Errorf("seal: creating key file: %w", err)
	}
	// Read back what is on disk: if another process created the file
	// first, its key is the one to use.
	k, err = loadKeyFile(path)
	if err != nil {
		return nil, false, err
	}
	return k, created, nil
}

func loadKeyFile(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("seal: reading key file: %w", err)
	}
	defer clear(b)
	k, err := parseKeyring(string(b))
	if err != nil {
		return nil, fmt.Errorf("seal: key file %s: %w", path, err)
	}
	return k, nil
}

// createKeyFile writes a new key to path unless the file exists by then.
// It reports whether it was this call that created the file.
func createKeyFile(path string) (bool, error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return false, err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return false, err
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) // after a link or a failure; a no-op after a rename

	key := []byte(GenerateKey() + "\n")
	defer clear(key)
	err = tmp.Chmod(0o600)
	if err == nil {
		_, err = tmp.Write(key)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return false, err
	}

	// A hard link fails if path exists, where a rename would replace it.
	created := true
	if err := os.Link(tmpName, path); err != nil {
		switch {
		case errors.Is(err, fs.ErrExist):
			created = false
		default: // the file system has no hard links
			if err := os.Rename(tmpName, path); err != nil {
				return false, err
			}
		}
	}
	if d, err := os.Open(dir); err == nil { // persist the directory entry; best effort
		_ = d.Sync()
		_ = d.Close()
	}
	return created, nil
}

// CurrentKeyID is the id of the key Seal uses.
func (k *Keyring) CurrentKeyID() string {
	if k == nil || len(k.keys) == 0 {
		return ""
	}
	return k.keys[0].ID()
}

// KeyIDs lists the ids of the keys, current first.
func (k *Keyring) KeyIDs() []string {
	if k == nil {
		return nil
	}
	ids := make([]string, len(k.keys))
	for i, mk := range k.keys {
		ids[i] = mk.ID()
	}
	return ids
}

// String describes the keyring by key ids only.
func (k *Keyring) String() string {
	if k == nil {
		return "seal.Keyring(nil)"
	}
	return fmt.Sprintf("seal.Keyring{current: %s, keys: %s}", k.CurrentKeyID(), strings.Join(k.KeyIDs(), ","))
}

// GoString is String, so that %#v does not print the struct either.
func (k *Keyring) GoString() string { return k.String() }

func (k *Keyring) lookup(id []byte) (masterKey, bool) {
	for _, mk := range k.keys {
		if string(mk.id[:]) == string(id) {
			return mk, true
		}
	}
	return masterKey{}, false
}

// Seal encrypts plaintext as the secret name of organisation orgID, under a
// fresh data key wrapped by the current master key. It returns the sealed
// value and the id of the master key used. Sealing the same plaintext twice
// gives different values.
func (k *Keyring) Seal(orgID, name string, plaintext []byte) (sealed []byte, keyID string, err error) {
	if k == nil || len(k.keys) == 0 {
		return nil, "", errors.New("seal: no keyring")
	}
	if uint64(len(plaintext)) > maxPlaintext {
		return nil, "", errors.New("seal: plaintext too large")
	}
	mk := k.keys[0]

	dataKey := make([]byte, KeySize)
	defer clear(dataKey)
	var wrapNonce, dataNonce [nonceSize]byte
	_, _ = rand.Read(dataKey) // crypto/rand.Read never fails (Go 1.24+)
	_, _ = rand.Read(wrapNonce[:])
	_, _ = rand.Read(dataNonce[:])

	out := make([]byte, 0, overhead+len(plaintext))
	out = append(out, formatV1)
	out = append(out, mk.id[:]...)
	header := out[:headerSize:headerSize]

	out = append(out, wrapNonce[:]...)
	out = mk.aead.Seal(out, wrapNonce[:], dataKey, additionalData(labelDataKey, header, orgID, name))
	out = append(out, dataNonce[:]...)
	out = mustGCM(dataKey).Seal(out, dataNonce[:], plaintext, additionalData(labelData, header, orgID, name))
	return out, mk.ID(), nil
}

// Open decrypts a value Seal returned for the same organisation and name,
// with whichever key of the keyring sealed it. It fails with ErrUnknownKey
// or ErrCorrupt (see errors.Is); the error never includes the plaintext.
func (k *Keyring) Open(orgID, name string, sealed []byte) ([]byte, error) {
	if k == nil || len(k.keys) == 0 {
		return nil, errors.New("seal: no keyring")
	}
	if len(sealed) < overhead {
		return nil, fmt.Errorf("%w (too short)", ErrCorrupt)
	}
	if sealed[0] != formatV1 {
		return nil, fmt.Errorf("%w (unknown format version %d)", ErrCorrupt, sealed[0])
	}
	header := sealed[:headerSize:headerSize]
	mk, ok := k.lookup(header[1:])
	if !ok {
		return nil, fmt.Errorf("%w (key id %x)", ErrUnknownKey, header[1:])
	}
	rest := sealed[headerSize:]
	wrapNonce, rest := rest[:nonceSize], rest[nonceSize:]
	wrapped, rest := rest[:wrappedSize], rest[wrappedSize:]
	dataNonce, ciphertext := rest[:nonceSize], rest[nonceSize:]

	dataKey, err := mk.aead.Open(nil, wrapNonce, wrapped, additionalData(labelDataKey, header, orgID, name))
	if err != nil {
		return nil, fmt.Errorf("%w (data key does not authenticate)", ErrCorrupt)
	}
	defer clear(dataKey)
	plaintext, err := mustGCM(dataKey).Open(nil, dataNonce, ciphertext, additionalData(labelData, header, orgID, name))
	if err != nil {
		return nil, fmt.Errorf("%w (ciphertext does not authenticate)", ErrCorrupt)
	}
	if plaintext == nil {
		plaintext = []byte{}
	}
	return plaintext, nil
}

// Reseal opens a sealed value and seals it again under the current key, for
// rotation. Use SealedKeyID first to skip values already under the current
// key.
func (k *Keyring) Reseal(orgID, name string, sealed []byte) (resealed []byte, keyID string, err error) {
	plaintext, err := k.Open(orgID, name, sealed)
	if err != nil {
		return nil, "", err
	}
	defer clear(plaintext)
	return k.Seal(orgID, name, plaintext)
}

// SealedKeyID returns the id of the master key a sealed value was sealed
// under, without opening it.
func SealedKeyID(sealed []byte) (string, error) {
	if len(sealed) < overhead {
		return "", fmt.Errorf("%w (too short)", ErrCorrupt)
	}
	if sealed[0] != formatV1 {
		return "", fmt.Errorf("%w (unknown format version %d)", ErrCorrupt, sealed[0])
	}
	return hex.EncodeToString(sealed[1:headerSize]), nil
}

// additionalData is what each encryption authenticates besides its
// plaintext: a label naming the encryption, the header, the organisation id
// and the name, each prefixed by its length so that no two different
// (orgID, name) pairs encode alike.
func additionalData(label string, header []byte, orgID, name string) []byte {
	b := make([]byte, 0, 4*binary.MaxVarintLen64+len(label)+len(header)+len(orgID)+len(name))
	for _, field := range []string{label, string(header), orgID, name} {
		b = binary.AppendUvarint(b, uint64(len(field)))
		b = append(b, field...)
	}
	return b
}
