// Package seal encrypts secrets at rest with AES-256-GCM envelope
// encryption.
//
// Every secret gets a fresh random 32-byte data key. The data key encrypts
// the plaintext, and is itself encrypted ("wrapped") under a master key from
// a [Keyring]. The organisation id and the secret's name are bound to both
// encryptions as associated data, so a sealed value copied to another
// organisation or another name does not open.
//
// # Keys
//
// A keyring holds one or more 32-byte master keys. The first is the current
// key: [Keyring.Seal] always uses it. The others can still open what they
// sealed, which is how a key is rotated: put the new key first, keep the old
// one after it, re-seal (see [Keyring.Reseal] and [SealedKeyID]), then drop
// the old key. Each key is named by a key id, the first 8 hex characters of
// the SHA-256 of the key; the id is stored in every sealed value and is not
// secret.
//
// Keys are written as base64 (standard or URL alphabet, padded or not),
// several separated by commas. That is the format of the
// SWITCHBOARD_MASTER_KEY environment variable ([ParseKeyring]) and of the
// key file `switchboard dev` keeps in its data directory
// ([LoadOrCreateKeyFile]). [GenerateKey] makes a new one.
//
// # Format
//
// A sealed value (version 1) is
//
//	version (1 byte, = 1)
//	key id  (4 bytes, the SHA-256 prefix of the master key)
//	nonce   (12 bytes) and wrapped data key (32 + 16 bytes): AES-256-GCM under the master key
//	nonce   (12 bytes) and ciphertext (len(plaintext) + 16 bytes): AES-256-GCM under the data key
//
// Both encryptions authenticate the header (version and key id) together
// with the length-prefixed organisation id and name, each under its own
// label, so ("ab", "c") and ("a", "bc") are different contexts. Nonces come
// from crypto/rand.
//
// Errors never contain the plaintext or key material. A value that was
// tampered with, truncated, or is opened under the wrong organisation or
// name fails with [ErrCorrupt]; one sealed under a key the keyring does not
// hold fails with [ErrUnknownKey].
package seal
