package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sendgrid/sendgrid-go/helpers/eventwebhook"
	"github.com/slack-go/slack"
	stripewebhook "github.com/stripe/stripe-go/v76/webhook"
)

// Tolerance is how far a signed timestamp may be from Request.Now, in either
// direction, for the schemes that sign one.
const Tolerance = 5 * time.Minute

// DefaultHMACHeader is the header the hmac-sha256 scheme reads when
// Config.Header is empty.
const DefaultHMACHeader = "X-Signature"

// Schemes lists the verification schemes, as the DSL spells them.
var Schemes = []string{"standard-webhooks", "hmac-sha256", "stripe", "slack", "sendgrid", "github", "token", "none"}

// Errors returned (wrapped) by Verify; test with errors.Is.
var (
	// ErrUnknownScheme: Config.Scheme is not one of Schemes.
	ErrUnknownScheme = errors.New("unknown verification scheme")
	// ErrSchemeNotAllowed: scheme "none" outside development mode.
	ErrSchemeNotAllowed = errors.New(`scheme "none" is allowed only in development`)
	// ErrNoSecret: no (non-empty) secret is configured for the trigger.
	ErrNoSecret = errors.New("no secret configured")
	// ErrBadSecret: secrets are configured but none can be used (for example
	// a whsec_ secret with broken base64, or a SendGrid key that is not an
	// ECDSA P-256 public key).
	ErrBadSecret = errors.New("configured secret is unusable")
	// ErrMissingSignature: a header (or token) the scheme needs is absent.
	ErrMissingSignature = errors.New("signature missing")
	// ErrMalformed: a signature or timestamp header cannot be parsed.
	ErrMalformed = errors.New("signature header malformed")
	// ErrBadSignature: the signature matches none of the secrets.
	ErrBadSignature = errors.New("signature does not match")
	// ErrStale: the signed timestamp is more than Tolerance away from now.
	ErrStale = errors.New("timestamp outside tolerance")
)

// Request is the part of an incoming HTTP request that verification reads.
// Body must be the raw body exactly as received. Header keys must be in
// canonical form (as net/http gives them). A zero Now means time.Now().
type Request struct {
	Header http.Header
	Query  url.Values
	Body   []byte
	Now    time.Time
}

// Config is a trigger's `verify:` block, minus the secret itself.
type Config struct {
	// Scheme is one of Schemes.
	Scheme string
	// Header names the signature header for hmac-sha256 (default
	// X-Signature) and the token header for token (default: the
	// Authorization bearer token or the `token` query parameter). The other
	// schemes use the headers their provider defines and ignore it. It may be
	// written "Name: prefix" to give Prefix as well, e.g.
	// "X-Signature: sha256=".
	Header string
	// Prefix, when set, must start the header value (compared without
	// regard to case) and is removed before decoding. It overrides a prefix
	// written in Header.
	Prefix string
	// Dev allows the scheme "none".
	Dev bool
}

// Verify checks that r is signed (or authenticated) according to cfg by one
// of secrets. It returns nil when it is, otherwise an error wrapping one of
// the Err* values. Errors name headers but never contain secret material or
// signatures.
func Verify(cfg Config, secrets [][]byte, r Request) error {
	if r.Now.IsZero() {
		r.Now = time.Now()
	}
	var keys [][]byte
	for _, s := range secrets {
		if len(s) > 0 {
			keys = append(keys, s)
		}
	}
	var verify func([][]byte, Request) error
	switch cfg.Scheme {
	case "none":
		if cfg.Dev {
			return nil
		}
		return fail(cfg.Scheme, ErrSchemeNotAllowed, "")
	case "standard-webhooks":
		verify = verifyStandard
	case "hmac-sha256":
		verify = func(k [][]byte, r Request) error { return verifyHMAC(cfg, k, r) }
	case "stripe":
		verify = verifyStripe
	case "slack":
		verify = verifySlack
	case "sendgrid":
		verify = verifySendGrid
	case "github":
		verify = verifyGitHub
	case "token":
		verify = func(k [][]byte, r Request) error { return verifyToken(cfg, k, r) }
	default:
		return fmt.Errorf("webhook: %w %q", ErrUnknownScheme, cfg.Scheme)
	}
	if len(keys) == 0 {
		return fail(cfg.Scheme, ErrNoSecret, "")
	}
	if err := verify(keys, r); err != nil {
		return fmt.Errorf("webhook %s: %w", cfg.Scheme, err)
	}
	return nil
}

// fail builds an error for Verify's early returns.
func fail(scheme string, kind error, detail string) error {
	if detail == "" {
		return fmt.Errorf("webhook %s: %w", scheme, kind)
	}
	return fmt.Errorf("webhook %s: %w: %s", scheme, kind, detail)
}

// errf wraps kind with a detail (the scheme is added by Verify).
func errf(kind error, format string, args ...any) error {
	return fmt.Errorf("%w: %s", kind, fmt.Sprintf(format, args...))
}

// checkTime holds a signed timestamp to Tolerance around now.
func checkTime(ts, now time.Time) error {
	d := now.Sub(ts)
	switch {
	case d > Tolerance:
		return errf(ErrStale, "timestamp is %s old (tolerance %s)", d.Round(time.Second), Tolerance)
	case d < -Tolerance:
		return errf(ErrStale, "timestamp is %s in the future (tolerance %s)", (-d).Round(time.Second), Tolerance)
	}
	return nil
}

// unixSeconds parses a decimal Unix-seconds timestamp.
func unixSeconds(s string) (time.Time, bool) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(n, 0), true
}

func hmacSHA256(key []byte, parts ...[]byte) []byte {
	m := hmac.New(sha256.New, key)
	for _, p := range parts {
		m.Write(p)
	}
	return m.Sum(nil)
}

// cutPrefixFold removes prefix from s, ignoring case.
func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) >= len(prefix) && strings.EqualFold(s[:len(prefix)], prefix) {
		return s[len(prefix):], true
	}
	return s, false
}

// headerSpec returns the header name and prefix of cfg ("Name: prefix").
func headerSpec(cfg Config, def string) (name, prefix string) {
	name = strings.TrimSpace(cfg.Header)
	if n, p, ok := strings.Cut(name, ":"); ok {
		name, prefix = strings.TrimSpace(n), strings.TrimSpace(p)
	}
	if cfg.Prefix != "" {
		prefix = cfg.Prefix
	}
	if name == "" {
		name = def
	}
	return name, prefix
}

// ---- standard-webhooks ----

const (
	hdrSWID        = "Webhook-Id"
	hdrSWTimestamp = "Webhook-Timestamp"
	hdrSWSignature = "Webhook-Signature"
)

func verifyStandard(secrets [][]byte, r Request) error {
	id := r.Header.Get(hdrSWID)
	ts := r.Header.Get(hdrSWTimestamp)
	sigHeader := r.Header.Get(hdrSWSignature)
	if id == "" || ts == "" || sigHeader == "" {
		return errf(ErrMissingSignature, "needs headers webhook-id, webhook-timestamp and webhook-signature")
	}
	t, ok := unixSeconds(ts)
	if !ok {
		return errf(ErrMalformed, "webhook-timestamp is not Unix seconds")
	}
	var sigs [][]byte
	for _, entry := range strings.Fields(sigHeader) {
		version, sig, ok := strings.Cut(entry, ",")
		if !ok || version != "v1" {
			continue // other versions (e.g. asymmetric v1a) are not ours
		}
		b, err := base64.StdEncoding.DecodeString(sig)
		if err != nil || len(b) != sha256.Size {
			continue
		}
		sigs = append(sigs, b)
	}
	if len(sigs) == 0 {
		return errf(ErrMalformed, "webhook-signature has no valid v1 entry")
	}
	if err := checkTime(t, r.Now); err != nil {
		return err
	}
	usable := false
	for _, s := range secrets {
		key, ok := standardKey(s)
		if !ok {
			continue
		}
		usable = true
		want := hmacSHA256(key, []byte(id), []byte("."), []byte(ts), []byte("."), r.Body)
		for _, sig := range sigs {
			if hmac.Equal(want, sig) {
				return nil
			}
		}
	}
	if !usable {
		return errf(ErrBadSecret, "whsec_ secret is not valid base64")
	}
	return ErrBadSignature
}

// standardKey turns a Standard Webhooks secret into the HMAC key:
// "whsec_<base64>" is decoded, anything else is used as raw bytes.
func standardKey(secret []byte) ([]byte, bool) {
	s := strings.TrimSpace(string(secret))
	rest, ok := strings.CutPrefix(s, "whsec_")
	if !ok {
		return secret, true
	}
	key, err := base64.StdEncoding.DecodeString(rest)
	if err != nil || len(key) == 0 {
		return nil, false
	}
	return key, true
}

// ---- hmac-sha256 ----

func verifyHMAC(cfg Config, secrets [][]byte, r Request) error {
	name, prefix := headerSpec(cfg, DefaultHMACHeader)
	v := strings.TrimSpace(r.Header.Get(name))
	if v == "" {
		return errf(ErrMissingSignature, "header %s is missing", name)
	}
	if prefix != "" {
		rest, ok := cutPrefixFold(v, prefix)
		if !ok {
			return errf(ErrMalformed, "header %s does not start with the expected prefix", name)
		}
		v = strings.TrimSpace(rest)
	} else {
		v, _ = cutPrefixFold(v, "sha256=")
	}
	sig, ok := decodeMAC(v)
	if !ok {
		return errf(ErrMalformed, "header %s is neither hex nor base64 of a SHA-256 MAC", name)
	}
	for _, s := range secrets {
		if hmac.Equal(hmacSHA256(s, r.Body), sig) {
			return nil
		}
	}
	return ErrBadSignature
}

// decodeMAC decodes a 32-byte MAC given as hex (64 characters, either case)
// or, failing that, as base64 (standard or URL alphabet, padded or not).
// The lengths differ (64 against 43–44), so the two never overlap.
func decodeMAC(v string) ([]byte, bool) {
	if len(v) == 2*sha256.Size {
		if b, err := hex.DecodeString(v); err == nil {
			return b, true
		}
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.RawStdEncoding, base64.URLEncoding, base64.RawURLEncoding} {
		if b, err := enc.DecodeString(v); err == nil && len(b) == sha256.Size {
			return b, true
		}
	}
	return nil, false
}

// ---- github ----

const hdrGitHub = "X-Hub-Signature-256"

func verifyGitHub(secrets [][]byte, r Request) error {
	v := strings.TrimSpace(r.Header.Get(hdrGitHub))
	if v == "" {
		return errf(ErrMissingSignature, "header %s is missing", hdrGitHub)
	}
	hexSig, ok := cutPrefixFold(v, "sha256=")
	if !ok {
		return errf(ErrMalformed, "header %s does not start with sha256=", hdrGitHub)
	}
	sig, err := hex.DecodeString(hexSig)
	if err != nil || len(sig) != sha256.Size {
		return errf(ErrMalformed, "header %s is not a hex SHA-256 MAC", hdrGitHub)
	}
	for _, s := range secrets {
		if hmac.Equal(hmacSHA256(s, r.Body), sig) {
			return nil
		}
	}
	return ErrBadSignature
}

// ---- stripe ----

const hdrStripe = "Stripe-Signature"

func verifyStripe(secrets [][]byte, r Request) error {
	v := r.Header.Get(hdrStripe)
	if v == "" {
		return errf(ErrMissingSignature, "header %s is missing", hdrStripe)
	}
	// Parse as stripe-go does (comma-separated key=value pairs, v1 in hex),
	// but strictly, to classify errors and to check the timestamp ourselves
	// in both directions: stripe-go rejects only old timestamps.
	var (
		t     time.Time
		nT    int
		nSigs int
	)
	for pair := range strings.SplitSeq(v, ",") {
		parts := strings.Split(pair, "=")
		if len(parts) != 2 {
			return errf(ErrMalformed, "header %s is not a list of key=value pairs", hdrStripe)
		}
		switch parts[0] {
		case "t":
			var ok bool
			if t, ok = unixSeconds(parts[1]); !ok {
				return errf(ErrMalformed, "header %s has a bad timestamp", hdrStripe)
			}
			nT++
		case "v1":
			if b, err := hex.DecodeString(parts[1]); err == nil && len(b) == sha256.Size {
				nSigs++
			}
		}
	}
	if nT != 1 {
		return errf(ErrMalformed, "header %s needs exactly one t=", hdrStripe)
	}
	if nSigs == 0 {
		return errf(ErrMalformed, "header %s has no valid v1 signature", hdrStripe)
	}
	if err := checkTime(t, r.Now); err != nil {
		return err
	}
	for _, s := range secrets {
		err := stripewebhook.ValidatePayloadWithTolerance(r.Body, v, string(s), Tolerance)
		switch {
		case err == nil:
			return nil
		case errors.Is(err, stripewebhook.ErrNoValidSignature):
			continue
		case errors.Is(err, stripewebhook.ErrTooOld):
			return errf(ErrStale, "timestamp is older than %s", Tolerance)
		case errors.Is(err, stripewebhook.ErrNotSigned):
			return errf(ErrMissingSignature, "header %s is missing", hdrStripe)
		default:
			return errf(ErrMalformed, "header %s: %v", hdrStripe, err)
		}
	}
	return ErrBadSignature
}

// ---- slack ----

const (
	hdrSlackSignature = "X-Slack-Signature"
	hdrSlackTimestamp = "X-Slack-Request-Timestamp"
)

func verifySlack(secrets [][]byte, r Request) error {
	sig := r.Header.Get(hdrSlackSignature)
	ts := r.Header.Get(hdrSlackTimestamp)
	if sig == "" || ts == "" {
		return errf(ErrMissingSignature, "needs headers %s and %s", hdrSlackSignature, hdrSlackTimestamp)
	}
	hexSig, ok := strings.CutPrefix(sig, "v0=")
	if b, err := hex.DecodeString(hexSig); !ok || err != nil || len(b) != sha256.Size {
		return errf(ErrMalformed, "header %s is not v0=<hex SHA-256 MAC>", hdrSlackSignature)
	}
	t, ok := unixSeconds(ts)
	if !ok {
		return errf(ErrMalformed, "header %s is not Unix seconds", hdrSlackTimestamp)
	}
	// slack-go checks the timestamp too, but against the wall clock and with
	// a window that has varied between releases: check it here as well.
	if err := checkTime(t, r.Now); err != nil {
		return err
	}
	for _, s := range secrets {
		sv, err := slack.NewSecretsVerifier(r.Header, string(s))
		switch {
		case err == nil:
		case errors.Is(err, slack.ErrExpiredTimestamp):
			return errf(ErrStale, "timestamp outside slack's window")
		case errors.Is(err, slack.ErrMissingHeaders):
			return errf(ErrMissingSignature, "needs headers %s and %s", hdrSlackSignature, hdrSlackTimestamp)
		default:
			return errf(ErrMalformed, "slack headers: %v", err)
		}
		if _, err := sv.Write(r.Body); err != nil {
			return errf(ErrMalformed, "hashing body: %v", err)
		}
		if sv.Ensure() == nil {
			return nil
		}
	}
	return ErrBadSignature
}

// ---- sendgrid ----

func verifySendGrid(secrets [][]byte, r Request) error {
	sig := r.Header.Get(eventwebhook.VerificationHTTPHeader)
	ts := r.Header.Get(eventwebhook.TimestampHTTPHeader)
	if sig == "" || ts == "" {
		return errf(ErrMissingSignature, "needs headers %s and %s", eventwebhook.VerificationHTTPHeader, eventwebhook.TimestampHTTPHeader)
	}
	if t, ok := unixSeconds(ts); ok {
		if err := checkTime(t, r.Now); err != nil {
			return err
		}
	}
	usable := false
	for _, s := range secrets {
		key, ok := sendGridKey(s)
		if !ok {
			continue
		}
		usable = true
		valid, err := eventwebhook.VerifySignature(key, r.Body, sig, ts)
		if err != nil {
			return errf(ErrMalformed, "header %s is not a base64 ASN.1 ECDSA signature", eventwebhook.VerificationHTTPHeader)
		}
		if valid {
			return nil
		}
	}
	if !usable {
		return errf(ErrBadSecret, "the SendGrid verification key is not a base64 DER ECDSA P-256 public key")
	}
	return ErrBadSignature
}

// sendGridKey parses a SendGrid verification key (base64 DER, or PEM). It
// checks the key type before calling the helper, which panics on non-ECDSA
// keys.
func sendGridKey(secret []byte) (*ecdsa.PublicKey, bool) {
	s := strings.TrimSpace(string(secret))
	if strings.HasPrefix(s, "-----BEGIN") {
		block, _ := pem.Decode([]byte(s))
		if block == nil {
			return nil, false
		}
		s = base64.StdEncoding.EncodeToString(block.Bytes)
	}
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, false
	}
	pub, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, false
	}
	if ec, ok := pub.(*ecdsa.PublicKey); !ok || ec.Curve != elliptic.P256() {
		return nil, false
	}
	key, err := eventwebhook.ConvertPublicKeyBase64ToECDSA(s)
	if err != nil {
		return nil, false
	}
	return key, true
}

// ---- token ----

func verifyToken(cfg Config, secrets [][]byte, r Request) error {
	var got string
	if strings.TrimSpace(cfg.Header) != "" {
		name, prefix := headerSpec(cfg, "")
		v := strings.TrimSpace(r.Header.Get(name))
		if v == "" {
			return errf(ErrMissingSignature, "header %s is missing", name)
		}
		if prefix != "" {
			rest, ok := cutPrefixFold(v, prefix)
			if !ok {
				return errf(ErrMalformed, "header %s does not start with the expected prefix", name)
			}
			v = rest
		}
		got = strings.TrimSpace(v)
	} else {
		auth := strings.TrimSpace(r.Header.Get("Authorization"))
		scheme, rest, _ := strings.Cut(auth, " ")
		switch {
		case auth != "" && strings.EqualFold(scheme, "Bearer"):
			got = strings.TrimSpace(rest)
		case r.Query.Has("token"):
			got = r.Query.Get("token")
		case auth != "":
			return errf(ErrMalformed, "Authorization is not a Bearer token")
		}
	}
	if got == "" {
		return errf(ErrMissingSignature, "no Bearer token and no token query parameter")
	}
	// Compare digests: constant time in the content and independent of the
	// lengths of the token and the secrets.
	g := sha256.Sum256([]byte(got))
	match := 0
	for _, s := range secrets {
		w := sha256.Sum256(s)
		match |= subtle.ConstantTimeCompare(g[:], w[:])
	}
	if match == 1 {
		return nil
	}
	return ErrBadSignature
}
