// Package http implements the built-in `http.request` action that every
// Switchboard install has.
//
//	steps:
//	  - id: fetch
//	    call: http.request
//	    with: {method: POST, url: "https://api.example.com/leads", body: {email: "${ input.email }"}}
//
// Action returns its declaration (name, JSON Schemas, error types) for a
// dsl.Registry and New returns the implementation; Activity.Request is an
// activities.Func, so an install registers it as
//
//	reg.MustRegister(http.Action())
//	a := http.New(http.Options{AllowLoopback: local})
//	w.RegisterActivityWithOptions(activities.Wrap(reg, "http.request", a.Request),
//		activity.RegisterOptions{Name: "http.request"})
//
// # Arguments and result
//
// `with:` takes method (GET by default), url (http or https), headers,
// query (values may be lists, sent as repeated parameters), body and timeout
// (a DSL duration, 30s by default, at most 5m). A string body is sent as is
// (text/plain unless a Content-Type header is given); any other non-null
// body is sent as JSON (application/json unless a Content-Type header is
// given).
//
// The result is {status, headers, body}: header names are lower-cased and
// map to their first value; body is the parsed JSON when the response's
// Content-Type is application/json or *+json and the body parses (integers
// stay integers), otherwise the body as a string.
//
// # Errors
//
// Every failure is a *temporal.ApplicationError of one of these types:
//
//   - HTTPError: a non-2xx response. 5xx, 408 and 429 are retryable, every
//     other status (4xx, and 3xx that were not followed) is not. Details
//     are {status, headers, body}. For 429 and 503 a Retry-After header
//     (capped at 10 minutes) becomes the next retry delay. A connection
//     failure (refused, reset, DNS, TLS) is a retryable HTTPError whose
//     details carry no status; a 2xx response larger than
//     Options.MaxResponseBytes is a non-retryable HTTPError.
//   - Timeout: the request's timeout (or the attempt's deadline) passed
//     before the response was read. Retryable.
//   - PolicyDenied: the outbound policy forbids the target address.
//     Not retryable.
//   - InvalidArguments: bad arguments. Not retryable.
//
// Error messages name the method and the URL without its user info, query
// and fragment (they often carry credentials), and never echo request
// headers.
//
// # Redirects
//
// Redirects are followed for GET and HEAD only, at most 5 of them, and only
// to http and https URLs; otherwise the 3xx response is returned as a
// non-retryable HTTPError. Go's client drops Authorization and Cookie
// headers when a redirect leaves the original domain.
//
// # Outbound policy
//
// Targets are checked when connecting, after DNS resolution, so a name that
// resolves (or is rebound) to a forbidden address is caught, and so is every
// redirect hop. Every resolved address must pass. In server mode (the zero
// Options) loopback, private (RFC 1918 and RFC 4193), link-local (including
// cloud metadata endpoints), unspecified, CGNAT (100.64.0.0/10), reserved
// and multicast addresses are denied; IPv4-mapped and NAT64 (64:ff9b::/96)
// IPv6 addresses are judged by the IPv4 address they carry. The local CLI
// and dev mode set AllowLoopback. Environment proxy settings are ignored,
// since a proxy would connect on our behalf past the policy.
package http
