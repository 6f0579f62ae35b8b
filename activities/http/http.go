package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"mime"
	"net"
	nethttp "net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/dsl"
)

const (
	// actionName is the name `call` steps use and the activity type.
	actionName = "http.request"
	// attemptTimeout is the action's per-attempt limit when the step sets
	// none. It is above the default request timeout so the `timeout`
	// argument normally governs; a request timeout above it also needs the
	// step's own timeout, or the attempt ends first (also as a Timeout).
	attemptTimeout = 2 * time.Minute
	// defaultTimeout and maxTimeout bound the `timeout` argument.
	defaultTimeout = 30 * time.Second
	maxTimeout     = 5 * time.Minute
	// maxRedirects is how many redirects a GET or HEAD follows.
	maxRedirects = 5
	// defaultMaxResponseBytes is Options.MaxResponseBytes when zero.
	defaultMaxResponseBytes = 10 << 20
	// maxErrorBodyBytes bounds the body kept in an HTTPError's details, so a
	// large error page cannot blow up the failure payload.
	maxErrorBodyBytes = 64 << 10
	// maxRetryAfter caps the retry delay a Retry-After header can ask for.
	maxRetryAfter = 10 * time.Minute
	// userAgent is sent unless the request sets its own User-Agent.
	userAgent = "Switchboard/1 (http.request)"
)

// Error types of http.request.
const (
	errHTTP         = "HTTPError"
	errTimeout      = "Timeout"
	errPolicyDenied = "PolicyDenied"
	errInvalidArgs  = activities.InvalidArguments
)

// methods are the HTTP methods the action accepts.
var methods = []string{"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"}

const inputSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["url"],
  "properties": {
    "method": {
      "type": "string",
      "enum": ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
      "default": "GET",
      "description": "HTTP method."
    },
    "url": {
      "type": "string",
      "pattern": "^[Hh][Tt][Tt][Pp][Ss]?://",
      "description": "Absolute http:// or https:// URL."
    },
    "headers": {
      "type": "object",
      "additionalProperties": {"type": "string"},
      "description": "Request headers."
    },
    "query": {
      "type": "object",
      "additionalProperties": {
        "anyOf": [
          {"type": ["string", "number", "boolean"]},
          {"type": "array", "items": {"type": ["string", "number", "boolean"]}}
        ]
      },
      "description": "Query parameters added to the URL's own; a list is sent as a repeated parameter."
    },
    "body": {
      "description": "Request body: a string is sent as is (text/plain unless a Content-Type header is given); any other value is sent as JSON (application/json unless a Content-Type header is given); null sends no body."
    },
    "timeout": {
      "type": "string",
      "pattern": "^((\\d+(\\.\\d+)?(ms|w|d|h|m|s))+|P.+)$",
      "default": "30s",
      "description": "Time allowed for the whole request, redirects and response body included; at most 5m."
    }
  }
}`

const outputSchema = `{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "additionalProperties": false,
  "required": ["status", "headers", "body"],
  "properties": {
    "status": {"type": "integer", "description": "HTTP status code (2xx)."},
    "headers": {
      "type": "object",
      "additionalProperties": {"type": "string"},
      "description": "Response headers: lower-cased names, first value of each."
    },
    "body": {"description": "Parsed JSON when the response is JSON (application/json or +json), else the body as a string."}
  }
}`

const description = "Sends an HTTP request and returns `{status, headers, body}`, where `body` is parsed JSON " +
	"when the response is JSON and a string otherwise.\n\n" +
	"2xx succeeds. 5xx, 408 and 429 fail with a retryable `HTTPError` (honouring `Retry-After` for 429 and 503); " +
	"other statuses fail with a non-retryable `HTTPError`. `details.status`, `details.headers` and `details.body` " +
	"carry the response. Connection failures are retryable `HTTPError`s without a status; an expired `timeout` " +
	"is a retryable `Timeout`.\n\n" +
	"Redirects are followed for GET and HEAD only (at most 5). Targets are checked against the outbound " +
	"policy when connecting: private, link-local and other internal addresses are denied in server mode " +
	"(`PolicyDenied`); the local runner and dev mode allow loopback."

// Action returns the declaration of http.request for a dsl.Registry.
func Action() dsl.Action {
	return dsl.Action{
		Name:        actionName,
		Title:       "Send an HTTP request",
		Description: description,
		Input:       json.RawMessage(inputSchema),
		Output:      json.RawMessage(outputSchema),
		Timeout:     attemptTimeout,
		Errors:      []string{errHTTP, errTimeout, errPolicyDenied, errInvalidArgs},
	}
}

// Options configure the activity. The zero value is server mode: requests
// to loopback, private (RFC 1918, RFC 4193 ULA), link-local, unspecified,
// CGNAT (100.64.0.0/10), reserved and multicast addresses are denied.
type Options struct {
	// AllowLoopback allows loopback addresses; true for `switchboard run`
	// and `switchboard dev`.
	AllowLoopback bool
	// AllowPrivate allows the private ranges (RFC 1918, RFC 4193) and CGNAT
	// too. Link-local addresses stay denied unless listed in Allow.
	AllowPrivate bool
	// Allow lists extra allowed prefixes; they are checked before any
	// denial, Deny included.
	Allow []netip.Prefix
	// Deny lists extra denied prefixes.
	Deny []netip.Prefix
	// MaxResponseBytes bounds a successful response's body; zero means
	// 10 MiB. A bigger body fails with a non-retryable HTTPError.
	MaxResponseBytes int64
	// Transport replaces the network layer, for tests. An *http.Transport is
	// cloned and made to dial through the policy; any other RoundTripper is
	// wrapped so that each request's host is resolved and checked before it
	// is passed on. Nil means a transport that dials through the policy.
	Transport nethttp.RoundTripper
}

// Activity implements http.request. It is safe for concurrent use and
// shares one connection pool between requests.
type Activity struct {
	client   *nethttp.Client
	maxBytes int64
}

// New returns the http.request implementation configured by opts.
func New(opts Options) *Activity {
	maxBytes := opts.MaxResponseBytes
	if maxBytes <= 0 {
		maxBytes = defaultMaxResponseBytes
	}
	return &Activity{
		client: &nethttp.Client{
			Transport:     newPolicy(opts).transport(opts.Transport),
			CheckRedirect: checkRedirect,
		},
		maxBytes: maxBytes,
	}
}

// Client is an HTTP client that reaches only what opts allow, for the
// connectors that call an address an organisation configured (such as an
// AI endpoint's base URL): the same network policy as http.request.
func Client(opts Options) *nethttp.Client {
	return &nethttp.Client{Transport: newPolicy(opts).transport(opts.Transport), CheckRedirect: checkRedirect}
}

// Denied says err is the network policy refusing an address (not
// retryable: the address will not become allowed).
func Denied(err error) bool {
	_, ok := asDenied(err)
	return ok
}

// checkRedirect follows redirects only for GET and HEAD, at most
// maxRedirects of them and only to http and https URLs. Otherwise the 3xx
// response itself is returned (and then fails as a non-retryable HTTPError).
// Each hop connects through the same policy-checking transport.
func checkRedirect(req *nethttp.Request, via []*nethttp.Request) error {
	if m := via[0].Method; m != nethttp.MethodGet && m != nethttp.MethodHead {
		return nethttp.ErrUseLastResponse
	}
	if len(via) > maxRedirects || (req.URL.Scheme != "http" && req.URL.Scheme != "https") {
		return nethttp.ErrUseLastResponse
	}
	return nil
}

// request is a checked set of arguments.
type request struct {
	method  string
	url     *url.URL
	header  nethttp.Header
	body    []byte // nil: no body
	timeout time.Duration
}

// Request is the activities.Func of http.request: it sends the request
// described by args and returns {status, headers, body}, or fails with an
// HTTPError, Timeout, PolicyDenied or InvalidArguments application error.
func (a *Activity) Request(ctx context.Context, args map[string]any) (any, error) {
	r, err := parseArgs(args)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("http.request: "+err.Error(), errInvalidArgs, nil)
	}
	rctx, cancel := context.WithTimeout(ctx, r.timeout)
	defer cancel()

	var body io.Reader = nethttp.NoBody
	if r.body != nil {
		body = bytes.NewReader(r.body)
	}
	req, err := nethttp.NewRequestWithContext(rctx, r.method, r.url.String(), body)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("http.request: cannot build the request: "+causeOf(err).Error(), errInvalidArgs, nil)
	}
	req.Header = r.header
	if h := r.header.Get("Host"); h != "" {
		req.Host = h // Go sends req.Host, never a Host entry of the header map
	}

	resp, err := a.client.Do(req)
	if err != nil {
		return nil, failure(ctx, rctx, r, r.url, "failed", err)
	}
	defer resp.Body.Close()
	return a.response(ctx, rctx, r, resp)
}

// response turns a received response into the result or an HTTPError.
func (a *Activity) response(ctx, rctx context.Context, r *request, resp *nethttp.Response) (any, error) {
	code := resp.StatusCode
	ok := code >= 200 && code < 300
	limit := a.maxBytes
	if !ok {
		limit = min(limit, maxErrorBodyBytes)
	}
	raw, truncated, err := readLimited(resp.Body, resp.ContentLength, limit)
	final := r.url
	if resp.Request != nil && resp.Request.URL != nil {
		final = resp.Request.URL
	}
	if err != nil {
		return nil, failure(ctx, rctx, r, final, "failed while reading the response", err)
	}
	headers := lowerHeaders(resp.Header)
	where := r.method + " " + displayURL(final)

	if ok {
		if truncated {
			msg := fmt.Sprintf("%s returned a body larger than %d bytes (the limit)", where, a.maxBytes)
			return nil, temporal.NewApplicationErrorWithOptions(msg, errHTTP, temporal.ApplicationErrorOptions{
				NonRetryable: true,
				Details:      []any{map[string]any{"status": int64(code), "headers": headers}},
			})
		}
		return map[string]any{"status": int64(code), "headers": headers, "body": decodeBody(resp.Header, raw)}, nil
	}

	details := map[string]any{"status": int64(code), "headers": headers}
	if truncated {
		// Only the start of the body is kept, so it is not parsed.
		details["body"] = strings.ToValidUTF8(string(raw), "\uFFFD")
		details["truncated"] = true
	} else {
		details["body"] = decodeBody(resp.Header, raw)
	}
	retryable := code >= 500 || code == nethttp.StatusRequestTimeout || code == nethttp.StatusTooManyRequests
	msg := fmt.Sprintf("%s returned %s", where, statusText(code))
	if code >= 300 && code < 400 && resp.Header.Get("Location") != "" {
		msg += fmt.Sprintf(" (redirects are followed only for GET and HEAD, at most %d, to http and https URLs)", maxRedirects)
	}
	opts := temporal.ApplicationErrorOptions{NonRetryable: !retryable, Details: []any{details}}
	if code == nethttp.StatusTooManyRequests || code == nethttp.StatusServiceUnavailable {
		opts.NextRetryDelay = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	}
	return nil, temporal.NewApplicationErrorWithOptions(msg, errHTTP, opts)
}

// failure classifies an error from sending the request or reading the
// response: a policy denial, a timeout, a cancellation, or a network error.
// ctx is the caller's context, rctx the request's (with its timeout).
func failure(ctx, rctx context.Context, r *request, u *url.URL, what string, err error) error {
	where := r.method + " " + displayURL(u)
	if d, ok := asDenied(err); ok {
		details := map[string]any{"address": d.ip.String()}
		if d.host != "" {
			details["host"] = d.host
		}
		return temporal.NewApplicationErrorWithOptions(where+": "+d.Error(), errPolicyDenied, temporal.ApplicationErrorOptions{
			NonRetryable: true,
			Details:      []any{details},
		})
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return ctx.Err() // the activity was cancelled: not a failure of the request
	}
	cause := causeOf(err)
	var ne net.Error
	if rctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
		msg := fmt.Sprintf("%s timed out", where)
		if ctx.Err() == nil && rctx.Err() != nil {
			msg += " after " + r.timeout.String()
		} else if ctx.Err() != nil {
			msg += " (the attempt's deadline passed)"
		} else {
			msg += ": " + cause.Error()
		}
		return temporal.NewApplicationError(msg, errTimeout)
	}
	return temporal.NewApplicationErrorWithOptions(where+" "+what+": "+cause.Error(), errHTTP, temporal.ApplicationErrorOptions{
		Details: []any{map[string]any{"error": cause.Error()}},
	})
}

// causeOf strips the *url.Error wrapper, whose text repeats the whole URL
// (query included, which may carry credentials).
func causeOf(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// parseArgs checks the arguments and builds the request to send.
func parseArgs(args map[string]any) (*request, error) {
	known := map[string]bool{"method": true, "url": true, "headers": true, "query": true, "body": true, "timeout": true}
	for k := range args {
		if !known[k] {
			return nil, fmt.Errorf("unknown argument `%s`", k)
		}
	}
	r := &request{method: nethttp.MethodGet, header: nethttp.Header{}, timeout: defaultTimeout}

	if v, ok := args["method"]; ok && v != nil {
		m, ok := v.(string)
		if !ok || !slices.Contains(methods, m) {
			return nil, fmt.Errorf("method must be one of %s", strings.Join(methods, ", "))
		}
		r.method = m
	}

	s, ok := args["url"].(string)
	if !ok || s == "" {
		return nil, errors.New("url is required and must be a string")
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("url is not valid: %v", causeOf(err))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		if u.Scheme == "" {
			return nil, errors.New("url must be absolute, starting with http:// or https://")
		}
		return nil, fmt.Errorf("url must use http or https, not %s", u.Scheme)
	}
	if u.Host == "" {
		return nil, errors.New("url has no host")
	}
	r.url = u

	if v, ok := args["headers"]; ok && v != nil {
		hs, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("headers must be a map of strings")
		}
		for _, k := range slices.Sorted(maps.Keys(hs)) {
			val, ok := hs[k].(string)
			if !ok {
				return nil, fmt.Errorf("header `%s` must be a string", k)
			}
			if !validHeaderName(k) {
				return nil, fmt.Errorf("`%s` is not a valid header name", k)
			}
			if !validHeaderValue(val) {
				// The value itself is not echoed: headers often hold credentials.
				return nil, fmt.Errorf("header `%s` has control characters in its value", k)
			}
			r.header.Set(k, val)
		}
	}

	if v, ok := args["query"]; ok && v != nil {
		q, ok := v.(map[string]any)
		if !ok {
			return nil, errors.New("query must be a map")
		}
		vals := url.Values{}
		for _, k := range slices.Sorted(maps.Keys(q)) {
			items, isList := q[k].([]any)
			if !isList {
				items = []any{q[k]}
			}
			for _, it := range items {
				text, err := queryText(it)
				if err != nil {
					return nil, fmt.Errorf("query parameter `%s`: %v", k, err)
				}
				vals.Add(k, text)
			}
		}
		if enc := vals.Encode(); enc != "" {
			// Append, so the URL's own query is kept exactly as written.
			if u.RawQuery != "" {
				u.RawQuery += "&" + enc
			} else {
				u.RawQuery = enc
			}
		}
	}

	switch b := args["body"].(type) {
	case nil:
	case string:
		r.body = []byte(b)
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", "text/plain; charset=utf-8")
		}
	default:
		data, err := dsl.MarshalJSON(b)
		if err != nil {
			return nil, fmt.Errorf("body cannot be sent as JSON: %v", err)
		}
		r.body = data
		if r.header.Get("Content-Type") == "" {
			r.header.Set("Content-Type", "application/json")
		}
	}
	if r.header.Get("User-Agent") == "" {
		r.header.Set("User-Agent", userAgent)
	}

	if v, ok := args["timeout"]; ok && v != nil {
		s, ok := v.(string)
		if !ok {
			return nil, errors.New("timeout must be a duration such as `30s`")
		}
		d, err := dsl.ParseDuration(s)
		if err != nil {
			return nil, fmt.Errorf("timeout: %v", err)
		}
		if d > maxTimeout {
			return nil, fmt.Errorf("timeout must be at most %s, not %s", maxTimeout, s)
		}
		r.timeout = d
	}
	return r, nil
}

// queryText formats a scalar query parameter value.
func queryText(v any) (string, error) {
	switch x := v.(type) {
	case string:
		return x, nil
	case int64:
		return strconv.FormatInt(x, 10), nil
	case int:
		return strconv.Itoa(x), nil
	case float64:
		return strconv.FormatFloat(x, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(x), nil
	}
	return "", fmt.Errorf("must be a string, number or boolean (or a list of them), not %T", v)
}

// validHeaderName reports whether s is an RFC 9110 token.
func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9':
		case strings.IndexByte("!#$%&'*+-.^_`|~", c) >= 0:
		default:
			return false
		}
	}
	return true
}

// validHeaderValue rejects control characters (other than tab), which could
// split the header.
func validHeaderValue(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; (c < ' ' && c != '\t') || c == 0x7f {
			return false
		}
	}
	return true
}

// readLimited reads at most limit bytes of body and reports whether there
// was more. A declared length above the limit is refused without reading.
func readLimited(body io.Reader, declared, limit int64) ([]byte, bool, error) {
	if declared > limit {
		b, err := io.ReadAll(io.LimitReader(body, min(limit, maxErrorBodyBytes)))
		return b, true, err
	}
	b, err := io.ReadAll(io.LimitReader(body, limit+1))
	if err != nil {
		return nil, false, err
	}
	if int64(len(b)) > limit {
		return b[:limit], true, nil
	}
	return b, false, nil
}

// decodeBody returns the parsed JSON when the Content-Type says JSON and the
// body parses (integers as int64), else the body as a string.
func decodeBody(h nethttp.Header, raw []byte) any {
	if isJSON(h.Get("Content-Type")) && len(bytes.TrimSpace(raw)) > 0 {
		if v, err := dsl.DecodeJSON(raw); err == nil {
			return v
		}
	}
	return strings.ToValidUTF8(string(raw), "\uFFFD")
}

// isJSON reports whether a Content-Type is application/json or a +json type.
func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// lowerHeaders maps lower-cased header names to their first value.
func lowerHeaders(h nethttp.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, vs := range h {
		if len(vs) > 0 {
			out[strings.ToLower(k)] = vs[0]
		}
	}
	return out
}

// retryAfter reads a Retry-After header (seconds or an HTTP date) as a
// delay capped at maxRetryAfter; zero when absent, invalid or not positive.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs > int64(maxRetryAfter/time.Second) {
			return maxRetryAfter
		}
		d = time.Duration(secs) * time.Second
	} else if t, err := nethttp.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	if d <= 0 {
		return 0
	}
	return min(d, maxRetryAfter)
}

// statusText is "503 Service Unavailable", or just the code when unknown.
func statusText(code int) string {
	if t := nethttp.StatusText(code); t != "" {
		return fmt.Sprintf("%d %s", code, t)
	}
	return strconv.Itoa(code)
}

// displayURL is the URL for messages: without user info, query and
// fragment, which often carry credentials.
func displayURL(u *url.URL) string {
	c := *u
	c.User = nil
	c.RawQuery = ""
	c.ForceQuery = false
	c.Fragment = ""
	c.RawFragment = ""
	return c.String()
}
