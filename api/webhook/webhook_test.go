package webhook

import (
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
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
	"testing"
	"time"
)

// The signers below follow each provider's documented algorithm and share
// no code with the verifier, so a verifier bug cannot cancel itself out.

func mac(key []byte, msg string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(msg))
	return m.Sum(nil)
}

// Standard Webhooks: key = base64-decoded part after "whsec_"; signature =
// base64(HMAC-SHA256(key, "{id}.{timestamp}.{body}")), sent as "v1,<sig>".
func signStandard(secret, id string, ts int64, body []byte) string {
	key := []byte(secret)
	if rest, ok := strings.CutPrefix(secret, "whsec_"); ok {
		var err error
		if key, err = base64.StdEncoding.DecodeString(rest); err != nil {
			panic(err)
		}
	}
	return "v1," + base64.StdEncoding.EncodeToString(mac(key, fmt.Sprintf("%s.%d.%s", id, ts, body)))
}

// Stripe: "t=<ts>,v1=<hex HMAC-SHA256(secret, "<ts>.<body>")>"; the whsec_
// secret is used verbatim as the key. Test-mode deliveries also carry a v0.
func signStripe(secret string, ts int64, body []byte) string {
	sig := hex.EncodeToString(mac([]byte(secret), fmt.Sprintf("%d.%s", ts, body)))
	return fmt.Sprintf("t=%d,v1=%s,v0=%s", ts, sig, strings.Repeat("ab", 32))
}

// Slack: "v0=" + hex(HMAC-SHA256(signing secret, "v0:<ts>:<body>")).
func signSlack(secret string, ts int64, body []byte) string {
	return "v0=" + hex.EncodeToString(mac([]byte(secret), fmt.Sprintf("v0:%d:%s", ts, body)))
}

// SendGrid: base64(ECDSA-P256-ASN.1(SHA-256(timestamp + body))).
func signSendGrid(priv *ecdsa.PrivateKey, ts string, body []byte) string {
	digest := sha256.Sum256(append([]byte(ts), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, priv, digest[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}

// sendGridPublicKey is the key as SendGrid shows it: base64 of the DER
// SubjectPublicKeyInfo.
func sendGridPublicKey(t testing.TB, pub any) string {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

func newP256(t testing.TB) *ecdsa.PrivateKey {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// fixture describes one scheme for the shared table of cases. sign builds a
// request signed by identity 0 (the right one) or 1 (another one) at time
// ts; secrets[i] is what the verifier is given for identity i.
type fixture struct {
	name     string
	cfg      Config
	secrets  [2][]byte
	sign     func(id int, body []byte, ts time.Time) Request
	missing  func(*Request) // removes a required header/token
	malform  func(*Request) // makes a header unparseable
	timed    bool           // the timestamp is signed and held to Tolerance
	bodyFree bool           // the body is not covered (token)
}

func header(kv ...string) http.Header {
	h := http.Header{}
	for i := 0; i < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func fixtures(t testing.TB) []fixture {
	swSecrets := [2]string{
		"whsec_" + base64.StdEncoding.EncodeToString([]byte("0123456789abcdef0123456789abcdef")),
		"whsec_" + base64.StdEncoding.EncodeToString([]byte("another secret, also 32 bytes!!!")),
	}
	plain := [2]string{"s3cr3t-one", "s3cr3t-two"}
	stripeSecrets := [2]string{"whsec_stripeTestSecretOne", "whsec_stripeTestSecretTwo"}
	sgKeys := [2]*ecdsa.PrivateKey{newP256(t), newP256(t)}
	sgPub := [2]string{sendGridPublicKey(t, &sgKeys[0].PublicKey), sendGridPublicKey(t, &sgKeys[1].PublicKey)}

	bs := func(a [2]string) [2][]byte { return [2][]byte{[]byte(a[0]), []byte(a[1])} }
	return []fixture{
		{
			name:    "standard-webhooks",
			cfg:     Config{Scheme: "standard-webhooks"},
			secrets: bs(swSecrets),
			timed:   true,
			sign: func(id int, body []byte, ts time.Time) Request {
				return Request{Body: body, Header: header(
					"webhook-id", "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W",
					"webhook-timestamp", strconv.FormatInt(ts.Unix(), 10),
					"webhook-signature", signStandard(swSecrets[id], "msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", ts.Unix(), body),
				)}
			},
			missing: func(r *Request) { r.Header.Del("webhook-signature") },
			malform: func(r *Request) { r.Header.Set("webhook-signature", "v1,not base64!") },
		},
		{
			name:    "hmac-sha256",
			cfg:     Config{Scheme: "hmac-sha256", Header: "X-Hook-Signature: sha256="},
			secrets: bs(plain),
			sign: func(id int, body []byte, _ time.Time) Request {
				return Request{Body: body, Header: header("X-Hook-Signature", "sha256="+hex.EncodeToString(mac([]byte(plain[id]), string(body))))}
			},
			missing: func(r *Request) { r.Header.Del("X-Hook-Signature") },
			malform: func(r *Request) { r.Header.Set("X-Hook-Signature", "sha256=xyz") },
		},
		{
			name:    "stripe",
			cfg:     Config{Scheme: "stripe"},
			secrets: bs(stripeSecrets),
			timed:   true,
			sign: func(id int, body []byte, ts time.Time) Request {
				return Request{Body: body, Header: header("Stripe-Signature", signStripe(stripeSecrets[id], ts.Unix(), body))}
			},
			missing: func(r *Request) { r.Header.Del("Stripe-Signature") },
			malform: func(r *Request) { r.Header.Set("Stripe-Signature", "t=notanumber,v1=abcd") },
		},
		{
			name:    "slack",
			cfg:     Config{Scheme: "slack"},
			secrets: bs(plain),
			timed:   true,
			sign: func(id int, body []byte, ts time.Time) Request {
				return Request{Body: body, Header: header(
					"X-Slack-Request-Timestamp", strconv.FormatInt(ts.Unix(), 10),
					"X-Slack-Signature", signSlack(plain[id], ts.Unix(), body),
				)}
			},
			missing: func(r *Request) { r.Header.Del("X-Slack-Signature") },
			malform: func(r *Request) { r.Header.Set("X-Slack-Signature", "v1=deadbeef") },
		},
		{
			name:    "sendgrid",
			cfg:     Config{Scheme: "sendgrid"},
			secrets: bs(sgPub),
			timed:   true,
			sign: func(id int, body []byte, ts time.Time) Request {
				s := strconv.FormatInt(ts.Unix(), 10)
				return Request{Body: body, Header: header(
					"X-Twilio-Email-Event-Webhook-Timestamp", s,
					"X-Twilio-Email-Event-Webhook-Signature", signSendGrid(sgKeys[id], s, body),
				)}
			},
			missing: func(r *Request) { r.Header.Del("X-Twilio-Email-Event-Webhook-Signature") },
			malform: func(r *Request) {
				// valid base64, but not an ASN.1 signature
				r.Header.Set("X-Twilio-Email-Event-Webhook-Signature", base64.StdEncoding.EncodeToString([]byte("not asn.1")))
			},
		},
		{
			name:    "github",
			cfg:     Config{Scheme: "github"},
			secrets: bs(plain),
			sign: func(id int, body []byte, _ time.Time) Request {
				return Request{Body: body, Header: header("X-Hub-Signature-256", "sha256="+hex.EncodeToString(mac([]byte(plain[id]), string(body))))}
			},
			missing: func(r *Request) { r.Header.Del("X-Hub-Signature-256") },
			malform: func(r *Request) {
				r.Header.Set("X-Hub-Signature-256", hex.EncodeToString(mac([]byte(plain[0]), string(r.Body)))) // no sha256=
			},
		},
		{
			name:     "token/header",
			cfg:      Config{Scheme: "token"},
			secrets:  bs(plain),
			bodyFree: true,
			sign: func(id int, body []byte, _ time.Time) Request {
				return Request{Body: body, Header: header("Authorization", "Bearer "+plain[id])}
			},
			missing: func(r *Request) { r.Header.Del("Authorization") },
			malform: func(r *Request) { r.Header.Set("Authorization", "Basic "+plain[0]) },
		},
		{
			name:     "token/query",
			cfg:      Config{Scheme: "token"},
			secrets:  bs(plain),
			bodyFree: true,
			sign: func(id int, body []byte, _ time.Time) Request {
				return Request{Body: body, Header: http.Header{}, Query: url.Values{"token": {plain[id]}, "other": {"x"}}}
			},
			missing: func(r *Request) { r.Query.Del("token") },
			malform: func(r *Request) { r.Header.Set("Authorization", "Digest whatever"); r.Query.Del("token") },
		},
		{
			name:     "token/custom-header",
			cfg:      Config{Scheme: "token", Header: "X-Gitlab-Token"},
			secrets:  bs(plain),
			bodyFree: true,
			sign: func(id int, body []byte, _ time.Time) Request {
				return Request{Body: body, Header: header("X-Gitlab-Token", plain[id])}
			},
			missing: func(r *Request) { r.Header.Del("X-Gitlab-Token") },
			malform: nil, // any non-empty value is a token
		},
	}
}

var body = []byte(`{"event_id":"evt_1","email":"ada@example.com","amount":4200}`)

func TestSchemes(t *testing.T) {
	now := time.Now() // stripe-go and slack-go read the wall clock themselves
	for _, f := range fixtures(t) {
		t.Run(f.name, func(t *testing.T) {
			right, wrong := f.secrets[0], f.secrets[1]
			type tc struct {
				name    string
				req     func() Request
				secrets [][]byte
				want    error // nil: must pass
			}
			cases := []tc{
				{"valid", func() Request { return f.sign(0, body, now) }, [][]byte{right}, nil},
				{"forged (other secret)", func() Request { return f.sign(1, body, now) }, [][]byte{right}, ErrBadSignature},
				{"rotation: second secret matches", func() Request { return f.sign(0, body, now) }, [][]byte{wrong, right}, nil},
				{"rotation: first secret matches", func() Request { return f.sign(0, body, now) }, [][]byte{right, wrong}, nil},
				{"no matching secret among several", func() Request { return f.sign(0, body, now) }, [][]byte{wrong, []byte("third")}, ErrBadSignature},
				{"no secret", func() Request { return f.sign(0, body, now) }, nil, ErrNoSecret},
				{"only empty secrets", func() Request { return f.sign(0, body, now) }, [][]byte{{}, nil}, ErrNoSecret},
				{"missing header", func() Request { r := f.sign(0, body, now); f.missing(&r); return r }, [][]byte{right}, ErrMissingSignature},
			}
			if !f.bodyFree {
				cases = append(cases, tc{"tampered body", func() Request {
					r := f.sign(0, body, now)
					r.Body = []byte(strings.Replace(string(r.Body), "4200", "1", 1))
					return r
				}, [][]byte{right}, ErrBadSignature})
				cases = append(cases, tc{"body with trailing newline", func() Request {
					r := f.sign(0, body, now)
					r.Body = append(append([]byte{}, r.Body...), '\n')
					return r
				}, [][]byte{right}, ErrBadSignature})
			} else {
				// The token does not cover the body: a changed body still
				// passes (documented); this pins that down.
				cases = append(cases, tc{"token ignores body", func() Request {
					r := f.sign(0, body, now)
					r.Body = []byte("anything")
					return r
				}, [][]byte{right}, nil})
			}
			if f.malform != nil {
				cases = append(cases, tc{"malformed header", func() Request { r := f.sign(0, body, now); f.malform(&r); return r }, [][]byte{right}, ErrMalformed})
			}
			if f.timed {
				cases = append(cases,
					tc{"stale (6 minutes old)", func() Request { return f.sign(0, body, now.Add(-6*time.Minute)) }, [][]byte{right}, ErrStale},
					tc{"future (6 minutes ahead)", func() Request { return f.sign(0, body, now.Add(6*time.Minute)) }, [][]byte{right}, ErrStale},
					tc{"4 minutes old is fine", func() Request { return f.sign(0, body, now.Add(-4*time.Minute)) }, [][]byte{right}, nil},
					tc{"4 minutes ahead is fine", func() Request { return f.sign(0, body, now.Add(4*time.Minute)) }, [][]byte{right}, nil},
					tc{"stale even with a wrong secret", func() Request { return f.sign(1, body, now.Add(-6*time.Minute)) }, [][]byte{right}, ErrStale},
				)
			}
			for _, c := range cases {
				t.Run(c.name, func(t *testing.T) {
					r := c.req()
					r.Now = now
					err := Verify(f.cfg, c.secrets, r)
					if c.want == nil {
						if err != nil {
							t.Fatalf("Verify: %v, want success", err)
						}
						return
					}
					if !errors.Is(err, c.want) {
						t.Fatalf("Verify: %v, want %v", err, c.want)
					}
					// No secret material or expected signature in the text.
					valid := f.sign(0, r.Body, now)
					for _, s := range c.secrets {
						if len(s) > 0 && strings.Contains(err.Error(), string(s)) {
							t.Errorf("error %q contains a secret", err)
						}
					}
					for _, vs := range valid.Header {
						for _, v := range vs {
							if len(v) > 8 && strings.Contains(err.Error(), v) {
								t.Errorf("error %q contains a signature header value", err)
							}
						}
					}
				})
			}
		})
	}
}

func TestSchemesAreKnown(t *testing.T) {
	for _, s := range Schemes {
		err := Verify(Config{Scheme: s}, nil, Request{})
		if errors.Is(err, ErrUnknownScheme) {
			t.Errorf("scheme %q in Schemes is unknown to Verify", s)
		}
	}
	for _, s := range []string{"", "HMAC-SHA256", "hmac", "svix", "basic"} {
		if err := Verify(Config{Scheme: s}, [][]byte{[]byte("k")}, Request{}); !errors.Is(err, ErrUnknownScheme) {
			t.Errorf("scheme %q: %v, want ErrUnknownScheme", s, err)
		}
	}
}

func TestNone(t *testing.T) {
	r := Request{Header: http.Header{}, Body: body}
	if err := Verify(Config{Scheme: "none", Dev: true}, nil, r); err != nil {
		t.Errorf("none in dev: %v", err)
	}
	if err := Verify(Config{Scheme: "none"}, nil, r); !errors.Is(err, ErrSchemeNotAllowed) {
		t.Errorf("none outside dev: %v, want ErrSchemeNotAllowed", err)
	}
	if err := Verify(Config{Scheme: "none"}, [][]byte{[]byte("x")}, r); !errors.Is(err, ErrSchemeNotAllowed) {
		t.Errorf("none outside dev with a secret: %v, want ErrSchemeNotAllowed", err)
	}
	// Dev does not weaken the other schemes.
	if err := Verify(Config{Scheme: "github", Dev: true}, [][]byte{[]byte("x")}, r); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("github in dev without signature: %v", err)
	}
}

func TestHMACEncodings(t *testing.T) {
	secret := []byte("typeform-secret")
	sum := mac(secret, string(body))
	hexLower := hex.EncodeToString(sum)
	cases := []struct {
		name string
		cfg  Config
		hdr  string // header name
		val  string
		want error
	}{
		{"default header, bare hex", Config{Scheme: "hmac-sha256"}, "X-Signature", hexLower, nil},
		{"default header, upper hex", Config{Scheme: "hmac-sha256"}, "X-Signature", strings.ToUpper(hexLower), nil},
		{"default header, sha256= stripped without config", Config{Scheme: "hmac-sha256"}, "X-Signature", "sha256=" + hexLower, nil},
		{"base64 std (Typeform style)", Config{Scheme: "hmac-sha256", Header: "Typeform-Signature: sha256="}, "Typeform-Signature", "sha256=" + base64.StdEncoding.EncodeToString(sum), nil},
		{"base64 raw url", Config{Scheme: "hmac-sha256"}, "X-Signature", base64.RawURLEncoding.EncodeToString(sum), nil},
		{"Prefix field", Config{Scheme: "hmac-sha256", Header: "X-Sig", Prefix: "v1="}, "X-Sig", "v1=" + hexLower, nil},
		{"prefix compared without case", Config{Scheme: "hmac-sha256", Header: "X-Sig: SHA256="}, "X-Sig", "sha256=" + hexLower, nil},
		{"required prefix missing", Config{Scheme: "hmac-sha256", Header: "X-Sig", Prefix: "v1="}, "X-Sig", hexLower, ErrMalformed},
		{"wrong header name", Config{Scheme: "hmac-sha256", Header: "X-Sig"}, "X-Signature", hexLower, ErrMissingSignature},
		{"truncated hex", Config{Scheme: "hmac-sha256"}, "X-Signature", hexLower[:62], ErrMalformed},
		{"hex of another length", Config{Scheme: "hmac-sha256"}, "X-Signature", hexLower + "00", ErrMalformed},
		{"flipped hex digit", Config{Scheme: "hmac-sha256"}, "X-Signature", flip(hexLower), ErrBadSignature},
		{"base64 of wrong mac", Config{Scheme: "hmac-sha256"}, "X-Signature", base64.StdEncoding.EncodeToString(mac([]byte("x"), string(body))), ErrBadSignature},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := Request{Header: header(c.hdr, c.val), Body: body}
			err := Verify(c.cfg, [][]byte{secret}, r)
			if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("Verify: %v, want %v", err, c.want)
			}
		})
	}
}

func flip(s string) string {
	b := []byte(s)
	if b[0] == '0' {
		b[0] = '1'
	} else {
		b[0] = '0'
	}
	return string(b)
}

func TestStandardWebhooksDetails(t *testing.T) {
	now := time.Date(2020, 1, 2, 3, 4, 5, 0, time.UTC) // Now is injected: no wall clock involved
	raw := "plain-secret-without-prefix"
	good := "whsec_" + base64.StdEncoding.EncodeToString([]byte("key bytes"))
	req := func(secret string, extra string) Request {
		sig := signStandard(secret, "msg_1", now.Unix(), body)
		if extra != "" {
			sig = extra + " " + sig
		}
		return Request{Now: now, Body: body, Header: header(
			"Webhook-Id", "msg_1", "Webhook-Timestamp", strconv.FormatInt(now.Unix(), 10), "Webhook-Signature", sig)}
	}
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(raw)}, req(raw, "")); err != nil {
		t.Errorf("raw secret: %v", err)
	}
	// The whsec_ secret must be decoded: using the literal string as key fails.
	lit := Request{Now: now, Body: body, Header: header("Webhook-Id", "msg_1", "Webhook-Timestamp", strconv.FormatInt(now.Unix(), 10),
		"Webhook-Signature", "v1,"+base64.StdEncoding.EncodeToString(mac([]byte(good), fmt.Sprintf("msg_1.%d.%s", now.Unix(), body))))}
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(good)}, lit); !errors.Is(err, ErrBadSignature) {
		t.Errorf("whsec_ used literally: %v, want ErrBadSignature", err)
	}
	// Several entries, other versions ignored.
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(good)}, req(good, "v1a,AAAA v1,"+base64.StdEncoding.EncodeToString(make([]byte, 32)))); err != nil {
		t.Errorf("several signatures: %v", err)
	}
	// The id is signed.
	r := req(good, "")
	r.Header.Set("Webhook-Id", "msg_2")
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(good)}, r); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed id: %v, want ErrBadSignature", err)
	}
	// Broken secret alone → ErrBadSecret; next to a good one it is skipped.
	bad := []byte("whsec_!!!not-base64")
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{bad}, req(good, "")); !errors.Is(err, ErrBadSecret) {
		t.Errorf("bad secret: %v, want ErrBadSecret", err)
	}
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{bad, []byte(good)}, req(good, "")); err != nil {
		t.Errorf("bad then good secret: %v", err)
	}
	// Malformed timestamp; only non-v1 entries.
	r = req(good, "")
	r.Header.Set("Webhook-Timestamp", "2020-01-02T03:04:05Z")
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(good)}, r); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad timestamp: %v, want ErrMalformed", err)
	}
	r = req(good, "")
	r.Header.Set("Webhook-Signature", "v1a,"+base64.StdEncoding.EncodeToString(make([]byte, 64)))
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(good)}, r); !errors.Is(err, ErrMalformed) {
		t.Errorf("only v1a: %v, want ErrMalformed", err)
	}
	// Exactly at the edge of the tolerance passes, one second past fails.
	r = req(good, "")
	r.Now = now.Add(Tolerance)
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(good)}, r); err != nil {
		t.Errorf("at tolerance: %v", err)
	}
	r.Now = now.Add(Tolerance + time.Second)
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte(good)}, r); !errors.Is(err, ErrStale) {
		t.Errorf("past tolerance: %v, want ErrStale", err)
	}
}

func TestStripeDetails(t *testing.T) {
	now := time.Now()
	secret := "whsec_abc"
	ts := now.Unix()
	sig := hex.EncodeToString(mac([]byte(secret), fmt.Sprintf("%d.%s", ts, body)))
	other := hex.EncodeToString(mac([]byte("whsec_old"), fmt.Sprintf("%d.%s", ts, body)))
	cases := []struct {
		name, hdr string
		want      error
	}{
		// During a secret roll Stripe sends one v1 per active secret.
		{"several v1", fmt.Sprintf("t=%d,v1=%s,v1=%s", ts, other, sig), nil},
		{"unknown keys ignored", fmt.Sprintf("t=%d,v1=%s,foo=bar", ts, sig), nil},
		{"no t", "v1=" + sig, ErrMalformed},
		{"two t", fmt.Sprintf("t=%d,t=%d,v1=%s", ts, ts, sig), ErrMalformed},
		{"no v1", fmt.Sprintf("t=%d,v0=%s", ts, sig), ErrMalformed},
		{"not pairs", "garbage", ErrMalformed},
		{"t changed", fmt.Sprintf("t=%d,v1=%s", ts-1, sig), ErrBadSignature},
	}
	for _, c := range cases {
		err := Verify(Config{Scheme: "stripe"}, [][]byte{[]byte(secret)}, Request{Now: now, Body: body, Header: header("Stripe-Signature", c.hdr)})
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
	// stripe-go also checks the age against the wall clock: a caller whose
	// Now lags behind does not let an old request through.
	old := now.Add(-6 * time.Minute)
	r := Request{Now: old, Body: body, Header: header("Stripe-Signature", signStripe(secret, old.Unix(), body))}
	if err := Verify(Config{Scheme: "stripe"}, [][]byte{[]byte(secret)}, r); !errors.Is(err, ErrStale) {
		t.Errorf("old by the wall clock: %v, want ErrStale", err)
	}
}

func TestSlackWallClock(t *testing.T) {
	// slack-go's NewSecretsVerifier compares with the wall clock; a request
	// that is stale by the wall clock fails even if Now says otherwise.
	old := time.Now().Add(-6 * time.Minute)
	r := Request{Now: old, Body: body, Header: header(
		"X-Slack-Request-Timestamp", strconv.FormatInt(old.Unix(), 10),
		"X-Slack-Signature", signSlack("s", old.Unix(), body))}
	if err := Verify(Config{Scheme: "slack"}, [][]byte{[]byte("s")}, r); !errors.Is(err, ErrStale) {
		t.Errorf("stale by wall clock: %v, want ErrStale", err)
	}
	// Timestamp not a number.
	now := time.Now()
	r = Request{Now: now, Body: body, Header: header(
		"X-Slack-Request-Timestamp", "yesterday",
		"X-Slack-Signature", signSlack("s", now.Unix(), body))}
	if err := Verify(Config{Scheme: "slack"}, [][]byte{[]byte("s")}, r); !errors.Is(err, ErrMalformed) {
		t.Errorf("bad timestamp: %v, want ErrMalformed", err)
	}
	// The timestamp is signed.
	r = Request{Now: now, Body: body, Header: header(
		"X-Slack-Request-Timestamp", strconv.FormatInt(now.Unix()-1, 10),
		"X-Slack-Signature", signSlack("s", now.Unix(), body))}
	if err := Verify(Config{Scheme: "slack"}, [][]byte{[]byte("s")}, r); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed timestamp: %v, want ErrBadSignature", err)
	}
}

func TestSendGridKeys(t *testing.T) {
	now := time.Now()
	priv := newP256(t)
	ts := strconv.FormatInt(now.Unix(), 10)
	req := func(ts string) Request {
		return Request{Now: now, Body: body, Header: header(
			"X-Twilio-Email-Event-Webhook-Timestamp", ts,
			"X-Twilio-Email-Event-Webhook-Signature", signSendGrid(priv, ts, body))}
	}
	pub := sendGridPublicKey(t, &priv.PublicKey)
	// PEM and surrounding whitespace are accepted.
	der, _ := base64.StdEncoding.DecodeString(pub)
	pemKey := pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der})
	for name, k := range map[string][]byte{"base64": []byte(pub), "base64+newline": []byte(pub + "\n"), "pem": pemKey} {
		if err := Verify(Config{Scheme: "sendgrid"}, [][]byte{k}, req(ts)); err != nil {
			t.Errorf("%s key: %v", name, err)
		}
	}
	// Keys of another type make the helper panic; they must be refused.
	edPub, _, _ := ed25519.GenerateKey(rand.Reader)
	p384, _ := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	for name, k := range map[string]string{
		"ed25519":    sendGridPublicKey(t, edPub),
		"p384":       sendGridPublicKey(t, &p384.PublicKey),
		"not base64": "%%%",
		"not der":    base64.StdEncoding.EncodeToString([]byte("hello")),
	} {
		if err := Verify(Config{Scheme: "sendgrid"}, [][]byte{[]byte(k)}, req(ts)); !errors.Is(err, ErrBadSecret) {
			t.Errorf("%s key: %v, want ErrBadSecret", name, err)
		}
		if err := Verify(Config{Scheme: "sendgrid"}, [][]byte{[]byte(k), []byte(pub)}, req(ts)); err != nil {
			t.Errorf("%s key then good key: %v", name, err)
		}
	}
	// A timestamp that is not Unix seconds is not held to the tolerance,
	// but it is still signed.
	if err := Verify(Config{Scheme: "sendgrid"}, [][]byte{[]byte(pub)}, req("Tue, 02 Jan 2024")); err != nil {
		t.Errorf("non-numeric timestamp: %v", err)
	}
	r := req(ts)
	r.Header.Set("X-Twilio-Email-Event-Webhook-Timestamp", strconv.FormatInt(now.Unix()-1, 10))
	if err := Verify(Config{Scheme: "sendgrid"}, [][]byte{[]byte(pub)}, r); !errors.Is(err, ErrBadSignature) {
		t.Errorf("changed timestamp: %v, want ErrBadSignature", err)
	}
	r = req(ts)
	r.Header.Set("X-Twilio-Email-Event-Webhook-Signature", "***")
	if err := Verify(Config{Scheme: "sendgrid"}, [][]byte{[]byte(pub)}, r); !errors.Is(err, ErrMalformed) {
		t.Errorf("signature not base64: %v, want ErrMalformed", err)
	}
}

func TestToken(t *testing.T) {
	sec := [][]byte{[]byte("tok-123")}
	cases := []struct {
		name string
		cfg  Config
		h    http.Header
		q    url.Values
		want error
	}{
		{"bearer", Config{Scheme: "token"}, header("Authorization", "Bearer tok-123"), nil, nil},
		{"bearer lower case", Config{Scheme: "token"}, header("Authorization", "bearer tok-123"), nil, nil},
		{"query", Config{Scheme: "token"}, nil, url.Values{"token": {"tok-123"}}, nil},
		{"header wins over query", Config{Scheme: "token"}, header("Authorization", "Bearer nope"), url.Values{"token": {"tok-123"}}, ErrBadSignature},
		{"basic auth falls back to query", Config{Scheme: "token"}, header("Authorization", "Basic Zm9v"), url.Values{"token": {"tok-123"}}, nil},
		{"prefix of the token", Config{Scheme: "token"}, header("Authorization", "Bearer tok-12"), nil, ErrBadSignature},
		{"token plus suffix", Config{Scheme: "token"}, header("Authorization", "Bearer tok-1234"), nil, ErrBadSignature},
		{"empty bearer", Config{Scheme: "token"}, header("Authorization", "Bearer "), nil, ErrMissingSignature},
		{"empty query", Config{Scheme: "token"}, nil, url.Values{"token": {""}}, ErrMissingSignature},
		{"nothing", Config{Scheme: "token"}, nil, nil, ErrMissingSignature},
		{"custom header with prefix", Config{Scheme: "token", Header: "X-Auth: Token"}, header("X-Auth", "Token tok-123"), nil, nil},
		{"custom header ignores query", Config{Scheme: "token", Header: "X-Auth"}, nil, url.Values{"token": {"tok-123"}}, ErrMissingSignature},
	}
	for _, c := range cases {
		err := Verify(c.cfg, sec, Request{Header: c.h, Query: c.q})
		if c.want == nil && err != nil || c.want != nil && !errors.Is(err, c.want) {
			t.Errorf("%s: %v, want %v", c.name, err, c.want)
		}
	}
}

func TestGitHubIgnoresLegacySHA1(t *testing.T) {
	r := Request{Body: body, Header: header("X-Hub-Signature", "sha1=0123456789012345678901234567890123456789")}
	if err := Verify(Config{Scheme: "github"}, [][]byte{[]byte("s")}, r); !errors.Is(err, ErrMissingSignature) {
		t.Errorf("sha1 only: %v, want ErrMissingSignature", err)
	}
}

// Published test vectors, independent of the signers above.
func TestPublishedVectors(t *testing.T) {
	// Standard Webhooks / Svix reference example.
	r := Request{
		Now:  time.Unix(1614265330, 0),
		Body: []byte(`{"test": 2432232314}`),
		Header: header(
			"webhook-id", "msg_p5jXN8AQM9LWM0D4loKWxJek",
			"webhook-timestamp", "1614265330",
			"webhook-signature", "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="),
	}
	if err := Verify(Config{Scheme: "standard-webhooks"}, [][]byte{[]byte("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")}, r); err != nil {
		t.Errorf("standard-webhooks vector: %v", err)
	}
	// GitHub's documented example.
	r = Request{
		Body:   []byte("Hello, World!"),
		Header: header("X-Hub-Signature-256", "sha256=757107ea0eb2509fc211221cce984b8a37570b6d7586c22c46f4379c8b043e17"),
	}
	if err := Verify(Config{Scheme: "github"}, [][]byte{[]byte("It's a Secret to Everybody")}, r); err != nil {
		t.Errorf("github vector: %v", err)
	}
}
