package activities

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.temporal.io/sdk/temporal"
)

// Error types of the connectors that call providers (SendGrid, Slack,
// Stripe). Retryable: RateLimited (429, after the provider's Retry-After)
// and ProviderUnavailable (5xx, timeouts, no connection). Not retryable:
// ProviderAuth (401/403: the key is wrong or lacks a permission) and
// ProviderRejected (any other 4xx: the request itself is wrong).
const (
	ErrRateLimited         = "RateLimited"
	ErrProviderUnavailable = "ProviderUnavailable"
	ErrProviderAuth        = "ProviderAuth"
	ErrProviderRejected    = "ProviderRejected"
	// ErrNotConfigured: a setting the action needs is missing.
	ErrNotConfigured = "NotConfigured"
)

// HTTPFailure is the typed error of a provider's non-2xx answer. detail is
// the provider's own message (never a credential); a 429's Retry-After
// (or X-RateLimit-Reset) becomes the delay before the next attempt.
func HTTPFailure(action, provider string, status int, h http.Header, detail string) error {
	msg := fmt.Sprintf("%s: %s answered %d %s", action, provider, status, http.StatusText(status))
	if detail = strings.TrimSpace(detail); detail != "" {
		msg += ": " + truncate(detail, 300)
	}
	switch {
	case status == http.StatusTooManyRequests:
		return temporal.NewApplicationErrorWithOptions(msg, ErrRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: RetryAfter(h, time.Now())})
	case status >= 500 || status == http.StatusRequestTimeout:
		return temporal.NewApplicationError(msg, ErrProviderUnavailable)
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return temporal.NewNonRetryableApplicationError(msg, ErrProviderAuth, nil)
	default:
		return temporal.NewNonRetryableApplicationError(msg, ErrProviderRejected, nil)
	}
}

// Retryable says whether a provider failure may be retried.
func Retryable(err error) bool {
	var ae *temporal.ApplicationError
	return !errors.As(err, &ae) || !ae.NonRetryable()
}

// RetryAfter reads a 429's wait: Retry-After in seconds or as an HTTP
// date, else X-RateLimit-Reset as a Unix time (SendGrid); 0 when neither
// (Temporal's backoff then applies). It is capped at an hour.
func RetryAfter(h http.Header, now time.Time) time.Duration {
	var d time.Duration
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.Atoi(v); err == nil {
			d = time.Duration(n) * time.Second
		} else if t, err := http.ParseTime(v); err == nil {
			d = t.Sub(now)
		}
	} else if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		if n, err := strconv.ParseInt(v, 10, 64); err == nil {
			d = time.Unix(n, 0).Sub(now)
		}
	}
	return min(max(d, 0), time.Hour)
}

// NeverSent says a transport error happened before the request could
// reach the provider (no connection could be made), so sending again
// cannot duplicate anything. A timeout or a connection lost later may
// have delivered the request.
func NeverSent(err error) bool {
	var op *net.OpError
	if errors.As(err, &op) && op.Op == "dial" {
		return true
	}
	var dns *net.DNSError
	return errors.As(err, &dns)
}

// NetworkFailure is the retryable error of a provider that could not be
// reached or did not answer in time.
func NetworkFailure(ctx context.Context, action, provider string, err error) error {
	what := "could not be reached"
	if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
		what = "did not answer in time"
	}
	return temporal.NewApplicationError(fmt.Sprintf("%s: %s %s", action, provider, what), ErrProviderUnavailable)
}

// FailureText is how a ledger records a provider failure: "<type>: <message>".
func FailureText(err error) string {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		return ae.Type() + ": " + ae.Message()
	}
	return err.Error()
}

// RecordedFailure is the error of a failure FailureText recorded, for a
// retried attempt that finds it: same type and message, not retryable.
func RecordedFailure(text string) error {
	typ, msg, ok := strings.Cut(text, ": ")
	if !ok || strings.ContainsAny(typ, " .") {
		typ, msg = ErrProviderRejected, text
	}
	return temporal.NewNonRetryableApplicationError(msg, typ, nil)
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
