// Package webhook verifies incoming webhook requests against the `verify:
// {scheme, secret, header}` block of a DSL webhook trigger.
//
// Everything here is a pure function over the raw request (headers, query,
// the body exactly as received, and the current time): the HTTP layer reads
// the body once, calls Verify, and only then parses it. Verify never logs and
// its errors never contain secret material or an expected signature.
//
// # Secrets and rotation
//
// Verify takes every active secret of the trigger (several while a secret
// is being rotated); the request passes when any one of them matches. Empty
// secrets are skipped; with none left Verify returns ErrNoSecret. A secret
// that cannot be used at all (a `whsec_` secret whose base64 is broken, a
// SendGrid key that is not an ECDSA P-256 public key) is skipped too, and
// when no usable secret remains the error is ErrBadSecret.
//
// # Timestamps
//
// Schemes whose signature covers a timestamp (standard-webhooks, stripe,
// slack, sendgrid) accept it only within Tolerance (5 minutes) of
// Request.Now in both directions: older is a replay, newer is a clock that
// cannot be trusted. Both answer ErrStale. A zero Request.Now means
// time.Now(). The stripe and slack libraries also read the wall clock
// themselves (see below), so Now should be the real current time there.
//
// # Schemes
//
// standard-webhooks: the Standard Webhooks specification
// (https://www.standardwebhooks.com). Headers webhook-id,
// webhook-timestamp (Unix seconds) and webhook-signature, a space-separated
// list of `v1,<base64 signature>` entries (other versions, such as the
// asymmetric `v1a`, are ignored). The signature is
// base64(HMAC-SHA256(key, id + "." + timestamp + "." + body)). A secret
// `whsec_<base64>` is base64-decoded after the prefix to get the key; a
// secret without the prefix is used as raw bytes.
//
// hmac-sha256: the HMAC-SHA256 of the raw body, in the header named by
// Config.Header (default X-Signature). The header may carry a prefix:
// Config.Prefix, or the DSL form `header: "Name: prefix"` (e.g.
// `"X-Signature: sha256="`), makes the prefix required (compared without
// regard to case); without one, a leading `sha256=` is still stripped if
// present. The value is accepted as hex in either case (64 characters) or,
// when it is not hex, as base64 (standard or URL alphabet, padded or not,
// 43 or 44 characters) — some senders (Typeform, Shopify) send base64. The
// two forms cannot be confused: a 32-byte MAC is 64 hex characters but at
// most 44 base64 characters. There is no timestamp, so a captured request
// can be replayed: rely on the trigger's idempotency key.
//
// stripe: header `Stripe-Signature: t=<unix>,v1=<hex>[,v1=...][,v0=...]`,
// verified by github.com/stripe/stripe-go/v76/webhook (ValidatePayload: the
// body is not decoded, so the event's API version does not matter). The
// secret (`whsec_...`) is the HMAC key exactly as Stripe shows it — unlike
// Standard Webhooks, it is not base64-decoded. Stripe-go's own tolerance
// check only rejects old timestamps (time.Since(t) > tolerance) and accepts
// any timestamp in the future, so this package first checks t against Now
// in both directions itself, then calls
// ValidatePayloadWithTolerance(body, header, secret, Tolerance), which
// checks the signature and, once more, the age against the wall clock.
//
// slack: headers `X-Slack-Signature: v0=<hex>` and
// `X-Slack-Request-Timestamp`, the signature being HMAC-SHA256 over
// "v0:" + timestamp + ":" + body with the app's signing secret, verified by
// github.com/slack-go/slack (NewSecretsVerifier, Write, Ensure).
// NewSecretsVerifier compares the timestamp with the wall clock (5 minutes,
// both directions, in slack-go v0.35; older releases differ); this package
// checks the timestamp against Now itself as well, so a stale request is
// rejected whatever the library version does.
//
// sendgrid: the SendGrid (Twilio) signed Event Webhook. Headers
// X-Twilio-Email-Event-Webhook-Signature (base64 of an ASN.1 ECDSA
// signature) and X-Twilio-Email-Event-Webhook-Timestamp; the signed message
// is timestamp + body, hashed with SHA-256 and signed with ECDSA P-256. The
// "secret" is the verification public key as SendGrid shows it (base64 of
// the DER SubjectPublicKeyInfo; PEM is accepted too). Verified with
// github.com/sendgrid/sendgrid-go/helpers/eventwebhook
// (ConvertPublicKeyBase64ToECDSA, VerifySignature); the key is checked to be
// an ECDSA P-256 key first, because that helper panics on other key types.
// The timestamp is held to Tolerance when it is Unix seconds (as SendGrid
// sends it); it is covered by the signature either way.
//
// github: header `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of body>`.
// The legacy SHA-1 X-Hub-Signature header is never used, even as a
// fallback.
//
// token: a shared token, either `Authorization: Bearer <token>` or the
// `token` query parameter (the header wins when both are present). With
// Config.Header set, the token is instead the whole value of that header
// (e.g. X-Gitlab-Token). Tokens are compared in constant time over their
// SHA-256 digests, so neither content nor length leaks through timing.
//
// none: no verification. Allowed only when Config.Dev is set; otherwise
// ErrSchemeNotAllowed.
//
// All MACs are compared with hmac.Equal (or inside the provider library,
// which also uses hmac.Equal).
//
// # Errors
//
// Errors wrap one of the sentinel errors below; test them with errors.Is.
// A suggested HTTP mapping: ErrMissingSignature, ErrMalformed,
// ErrBadSignature and ErrStale → 401; ErrSchemeNotAllowed → 403;
// ErrUnknownScheme, ErrNoSecret and ErrBadSecret are configuration
// problems → 500 (and an alert), never the sender's fault.
package webhook
