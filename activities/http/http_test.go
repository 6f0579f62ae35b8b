package http

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	nethttp "net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/dsl"
)

// newServer starts a loopback test server closed at the end of the test.
func newServer(t *testing.T, h nethttp.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// local is the activity as the local runner configures it.
func local() *Activity { return New(Options{AllowLoopback: true}) }

// appError asserts err is an application error of the given type.
func appError(t *testing.T, err error, typ string) *temporal.ApplicationError {
	t.Helper()
	require.Error(t, err)
	var ae *temporal.ApplicationError
	require.True(t, errors.As(err, &ae), "not an application error: %v", err)
	require.Equal(t, typ, ae.Type(), "message: %s", ae.Message())
	return ae
}

func details(t *testing.T, ae *temporal.ApplicationError) map[string]any {
	t.Helper()
	var d map[string]any
	require.NoError(t, ae.Details(&d))
	return d
}

func writeJSON(w nethttp.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = io.WriteString(w, body)
}

func TestActionRegisters(t *testing.T) {
	t.Parallel()
	var reg dsl.Registry
	require.NoError(t, reg.Register(Action()))
	a, ok := reg.Lookup("http.request")
	require.True(t, ok)
	require.Equal(t, 2*time.Minute, a.AttemptTimeout())
	require.Equal(t, []string{"HTTPError", "Timeout", "PolicyDenied", "InvalidArguments"}, a.Errors)
	require.NoError(t, reg.ValidateInput("http.request", map[string]any{
		"method": "POST", "url": "https://example.com/x", "headers": map[string]any{"a": "b"},
		"query": map[string]any{"n": int64(1), "l": []any{"a", true, 1.5}}, "body": []any{int64(1)}, "timeout": "10s",
	}))
	require.Error(t, reg.ValidateInput("http.request", map[string]any{"url": "ftp://example.com"}))
	require.Error(t, reg.ValidateInput("http.request", map[string]any{"url": "https://x", "timeout": "soon"}))
}

func TestGetJSON(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		require.Equal(t, "GET", r.Method)
		require.Equal(t, "/leads/7", r.URL.Path)
		require.Equal(t, userAgent, r.Header.Get("User-Agent"))
		writeJSON(w, 200, `{"id": 7, "score": 1.5, "tags": ["a", 2], "big": 9007199254740993}`)
	})
	out, err := local().Request(context.Background(), map[string]any{"url": srv.URL + "/leads/7"})
	require.NoError(t, err)
	res := out.(map[string]any)
	require.Equal(t, int64(200), res["status"])
	require.Equal(t, "application/json", res["headers"].(map[string]any)["content-type"])
	require.Equal(t, map[string]any{
		"id": int64(7), "score": 1.5, "tags": []any{"a", int64(2)}, "big": int64(9007199254740993),
	}, res["body"])
}

func TestJSONContentTypes(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", r.URL.Query().Get("ct"))
		_, _ = io.WriteString(w, r.URL.Query().Get("body"))
	})
	cases := []struct {
		ct, body string
		want     any
	}{
		{"application/problem+json", `{"n":1}`, map[string]any{"n": int64(1)}},
		{"application/json; charset=utf-8", `[1,2]`, []any{int64(1), int64(2)}},
		{"application/json", `not json`, "not json"},
		{"application/json", ``, ""},
		{"text/plain; charset=utf-8", `{"n":1}`, `{"n":1}`},
		{"", `hello`, "hello"},
	}
	for _, c := range cases {
		out, err := local().Request(context.Background(), map[string]any{
			"url": srv.URL, "query": map[string]any{"ct": c.ct, "body": c.body},
		})
		require.NoError(t, err)
		require.Equal(t, c.want, out.(map[string]any)["body"], "content type %q", c.ct)
	}
}

func TestTextBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "hello there")
	})
	out, err := local().Request(context.Background(), map[string]any{"url": srv.URL})
	require.NoError(t, err)
	require.Equal(t, "hello there", out.(map[string]any)["body"])
}

func TestHead(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		require.Equal(t, "HEAD", r.Method)
		w.Header().Set("X-Count", "3")
	})
	out, err := local().Request(context.Background(), map[string]any{"method": "HEAD", "url": srv.URL})
	require.NoError(t, err)
	res := out.(map[string]any)
	require.Equal(t, "", res["body"])
	require.Equal(t, "3", res["headers"].(map[string]any)["x-count"])
}

// echo replies with what it received, as JSON.
func echo(w nethttp.ResponseWriter, r *nethttp.Request) {
	b, _ := io.ReadAll(r.Body)
	out, _ := json.Marshal(map[string]any{
		"method": r.Method, "contentType": r.Header.Get("Content-Type"), "body": string(b),
		"query": r.URL.RawQuery, "token": r.Header.Get("X-Token"), "host": r.Host,
	})
	writeJSON(w, 200, string(out))
}

func TestPostJSONBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t, echo)
	out, err := local().Request(context.Background(), map[string]any{
		"method": "POST", "url": srv.URL,
		"body": map[string]any{"email": "a@b.c", "n": int64(3), "tags": []any{"x", true}, "html": "<b>"},
	})
	require.NoError(t, err)
	got := out.(map[string]any)["body"].(map[string]any)
	require.Equal(t, "POST", got["method"])
	require.Equal(t, "application/json", got["contentType"])
	require.JSONEq(t, `{"email":"a@b.c","n":3,"tags":["x",true],"html":"<b>"}`, got["body"].(string))
	require.NotContains(t, got["body"], `\u003c`, "HTML is not escaped")

	// A list body is JSON too, and a given Content-Type wins.
	out, err = local().Request(context.Background(), map[string]any{
		"method": "PUT", "url": srv.URL, "body": []any{int64(1), int64(2)},
		"headers": map[string]any{"content-type": "application/vnd.api+json"},
	})
	require.NoError(t, err)
	got = out.(map[string]any)["body"].(map[string]any)
	require.Equal(t, "application/vnd.api+json", got["contentType"])
	require.Equal(t, "[1,2]", got["body"])
}

func TestStringBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t, echo)
	out, err := local().Request(context.Background(), map[string]any{
		"method": "PATCH", "url": srv.URL, "body": "a=1&b=2",
	})
	require.NoError(t, err)
	got := out.(map[string]any)["body"].(map[string]any)
	require.Equal(t, "PATCH", got["method"])
	require.Equal(t, "text/plain; charset=utf-8", got["contentType"])
	require.Equal(t, "a=1&b=2", got["body"])

	out, err = local().Request(context.Background(), map[string]any{
		"method": "POST", "url": srv.URL, "body": "a=1&b=2",
		"headers": map[string]any{"Content-Type": "application/x-www-form-urlencoded"},
	})
	require.NoError(t, err)
	got = out.(map[string]any)["body"].(map[string]any)
	require.Equal(t, "application/x-www-form-urlencoded", got["contentType"])

	// No body at all: null is the same as absent.
	out, err = local().Request(context.Background(), map[string]any{"method": "POST", "url": srv.URL, "body": nil})
	require.NoError(t, err)
	got = out.(map[string]any)["body"].(map[string]any)
	require.Equal(t, "", got["body"])
	require.Equal(t, "", got["contentType"])
}

func TestQuery(t *testing.T) {
	t.Parallel()
	srv := newServer(t, echo)
	out, err := local().Request(context.Background(), map[string]any{
		"url": srv.URL + "/search?z=first",
		"query": map[string]any{
			"q": "a b&c", "n": int64(3), "f": 1.5, "ok": true, "tag": []any{"x", "y", int64(9)},
		},
	})
	require.NoError(t, err)
	raw := out.(map[string]any)["body"].(map[string]any)["query"].(string)
	require.True(t, strings.HasPrefix(raw, "z=first&"), "the URL's own query is kept first: %s", raw)
	q, err := url.ParseQuery(raw)
	require.NoError(t, err)
	require.Equal(t, url.Values{
		"z": {"first"}, "q": {"a b&c"}, "n": {"3"}, "f": {"1.5"}, "ok": {"true"}, "tag": {"x", "y", "9"},
	}, q)
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("X-Request-Id", "abc")
		w.Header().Add("Set-Cookie", "a=1")
		w.Header().Add("Set-Cookie", "b=2")
		echo(w, r)
	})
	out, err := local().Request(context.Background(), map[string]any{
		"url":     srv.URL,
		"headers": map[string]any{"x-token": "s3cret", "User-Agent": "custom/1", "Host": "api.example.com"},
	})
	require.NoError(t, err)
	res := out.(map[string]any)
	h := res["headers"].(map[string]any)
	require.Equal(t, "abc", h["x-request-id"])
	require.Equal(t, "a=1", h["set-cookie"], "first value only")
	for k := range h {
		require.Equal(t, strings.ToLower(k), k)
	}
	got := res["body"].(map[string]any)
	require.Equal(t, "s3cret", got["token"])
	require.Equal(t, "api.example.com", got["host"])
}

func TestErrorStatuses(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		var status int
		_, _ = fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &status)
		if ra := r.URL.Query().Get("retryAfter"); ra != "" {
			w.Header().Set("Retry-After", ra)
		}
		writeJSON(w, status, fmt.Sprintf(`{"error": "status %d", "code": %d}`, status, status))
	})
	cases := []struct {
		status       int
		retryAfter   string
		nonRetryable bool
		delay        time.Duration
	}{
		{400, "", true, 0},
		{401, "", true, 0},
		{404, "", true, 0},
		{422, "", true, 0},
		{408, "", false, 0},
		{429, "", false, 0},
		{429, "7", false, 7 * time.Second},
		{500, "", false, 0},
		{502, "", false, 0},
		{503, "", false, 0},
		{503, "86400", false, 10 * time.Minute},
		{500, "7", false, 0}, // Retry-After is honoured for 429 and 503 only
	}
	for _, c := range cases {
		u := fmt.Sprintf("%s/%d?api_key=hush", srv.URL, c.status)
		if c.retryAfter != "" {
			u += "&retryAfter=" + c.retryAfter
		}
		_, err := local().Request(context.Background(), map[string]any{"method": "POST", "url": u, "body": "x"})
		ae := appError(t, err, "HTTPError")
		require.Equal(t, c.nonRetryable, ae.NonRetryable(), "status %d", c.status)
		require.Equal(t, c.delay, ae.NextRetryDelay(), "status %d", c.status)
		require.Contains(t, ae.Message(), fmt.Sprintf("POST %s/%d returned %d %s", srv.URL, c.status, c.status, nethttp.StatusText(c.status)))
		require.NotContains(t, ae.Message(), "hush", "the query is not echoed")
		d := details(t, ae)
		require.Equal(t, int64(c.status), d["status"])
		require.Equal(t, map[string]any{"error": fmt.Sprintf("status %d", c.status), "code": int64(c.status)}, d["body"])
		require.Equal(t, "application/json", d["headers"].(map[string]any)["content-type"])
	}
}

func TestErrorBodyTruncated(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.WriteHeader(500)
		_, _ = io.WriteString(w, strings.Repeat("x", maxErrorBodyBytes+10))
	})
	_, err := local().Request(context.Background(), map[string]any{"url": srv.URL})
	ae := appError(t, err, "HTTPError")
	require.False(t, ae.NonRetryable())
	d := details(t, ae)
	require.Equal(t, true, d["truncated"])
	require.Len(t, d["body"], maxErrorBodyBytes)
}

func TestTimeout(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	start := time.Now()
	_, err := local().Request(context.Background(), map[string]any{"url": srv.URL, "timeout": "200ms"})
	ae := appError(t, err, "Timeout")
	require.False(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "timed out after 200ms")
	require.Less(t, time.Since(start), 3*time.Second)
}

func TestTimeoutWhileReadingBody(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		w.Header().Set("Content-Type", "text/plain")
		_, _ = io.WriteString(w, "partial")
		w.(nethttp.Flusher).Flush()
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	_, err := local().Request(context.Background(), map[string]any{"url": srv.URL, "timeout": "200ms"})
	appError(t, err, "Timeout")
}

func TestCancelled(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		select {
		case <-r.Context().Done():
		case <-time.After(5 * time.Second):
		}
	})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(100*time.Millisecond, cancel)
	_, err := local().Request(ctx, map[string]any{"url": srv.URL})
	require.ErrorIs(t, err, context.Canceled)
}

func TestConnectionRefused(t *testing.T) {
	t.Parallel()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := l.Addr().String()
	require.NoError(t, l.Close())
	_, err = local().Request(context.Background(), map[string]any{"url": "http://" + addr + "/x"})
	ae := appError(t, err, "HTTPError")
	require.False(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "GET http://"+addr+"/x failed")
	d := details(t, ae)
	require.NotContains(t, d, "status")
	require.NotEmpty(t, d["error"])
}

func TestPolicyDeniesLoopbackInServerMode(t *testing.T) {
	t.Parallel()
	var hits atomic.Int32
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) { hits.Add(1) })
	port := srv.Listener.Addr().(*net.TCPAddr).Port
	for _, u := range []string{
		srv.URL,
		fmt.Sprintf("http://localhost:%d/", port), // a name resolving to loopback
		fmt.Sprintf("http://[::ffff:127.0.0.1]:%d/", port),
		fmt.Sprintf("http://0.0.0.0:%d/", port),
	} {
		_, err := New(Options{}).Request(context.Background(), map[string]any{"url": u})
		ae := appError(t, err, "PolicyDenied")
		require.True(t, ae.NonRetryable())
		require.Contains(t, ae.Message(), "outbound policy denies")
		d := details(t, ae)
		require.NotEmpty(t, d["address"])
	}
	_, err := New(Options{}).Request(context.Background(), map[string]any{"url": srv.URL})
	ae := appError(t, err, "PolicyDenied")
	require.Contains(t, ae.Message(), "127.0.0.1")
	require.Contains(t, ae.Message(), "loopback")
	require.Zero(t, hits.Load(), "no request reached the server")

	// An explicit Deny prefix wins over AllowLoopback; an Allow prefix wins over everything.
	_, err = New(Options{AllowLoopback: true, Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}).
		Request(context.Background(), map[string]any{"url": srv.URL})
	ae = appError(t, err, "PolicyDenied")
	require.Contains(t, ae.Message(), "deny list")
	_, err = New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}, Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}}).
		Request(context.Background(), map[string]any{"url": srv.URL})
	require.NoError(t, err)
}

func TestRedirects(t *testing.T) {
	t.Parallel()
	target := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		writeJSON(w, 200, `{"reached": true}`)
	})
	targetPort := target.Listener.Addr().(*net.TCPAddr).Port
	//lint:ignore S1021 the handler refers to srv, so it must be declared first
	var srv *httptest.Server
	srv = newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		switch r.URL.Path {
		case "/same":
			nethttp.Redirect(w, r, "/final", nethttp.StatusFound)
		case "/final":
			writeJSON(w, 200, `{"final": true}`)
		case "/denied":
			// 127.0.0.2 is loopback too; the tests deny it by policy.
			nethttp.Redirect(w, r, fmt.Sprintf("http://127.0.0.2:%d/", targetPort), nethttp.StatusFound)
		case "/loop":
			nethttp.Redirect(w, r, "/loop", nethttp.StatusFound)
		case "/ftp":
			nethttp.Redirect(w, r, "ftp://example.com/", nethttp.StatusFound)
		}
	})

	out, err := local().Request(context.Background(), map[string]any{"url": srv.URL + "/same"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"final": true}, out.(map[string]any)["body"])

	// Every hop is checked: here by an extra Deny prefix...
	a := New(Options{AllowLoopback: true, Deny: []netip.Prefix{netip.MustParsePrefix("127.0.0.2/32")}})
	_, err = a.Request(context.Background(), map[string]any{"url": srv.URL + "/denied"})
	ae := appError(t, err, "PolicyDenied")
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "127.0.0.2")
	// ...and here in server mode, where only the first server is allowed.
	a = New(Options{Allow: []netip.Prefix{netip.MustParsePrefix("127.0.0.1/32")}})
	_, err = a.Request(context.Background(), map[string]any{"url": srv.URL + "/denied"})
	ae = appError(t, err, "PolicyDenied")
	require.Contains(t, ae.Message(), "loopback")

	// Only GET and HEAD follow redirects.
	_, err = local().Request(context.Background(), map[string]any{"method": "POST", "url": srv.URL + "/same", "body": "x"})
	ae = appError(t, err, "HTTPError")
	require.True(t, ae.NonRetryable())
	require.Contains(t, ae.Message(), "returned 302 Found")
	require.Equal(t, int64(302), details(t, ae)["status"])
	require.Equal(t, "/final", details(t, ae)["headers"].(map[string]any)["location"])

	// At most 5 redirects, and only to http(s).
	for _, path := range []string{"/loop", "/ftp"} {
		_, err = local().Request(context.Background(), map[string]any{"url": srv.URL + path})
		ae = appError(t, err, "HTTPError")
		require.True(t, ae.NonRetryable(), path)
		require.Equal(t, int64(302), details(t, ae)["status"], path)
	}
}

func TestRedirectCount(t *testing.T) {
	t.Parallel()
	// /n redirects to /n-1 until /0, which succeeds.
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		var n int
		_, _ = fmt.Sscan(strings.TrimPrefix(r.URL.Path, "/"), &n)
		if n == 0 {
			writeJSON(w, 200, `{}`)
			return
		}
		nethttp.Redirect(w, r, fmt.Sprintf("/%d", n-1), nethttp.StatusTemporaryRedirect)
	})
	_, err := local().Request(context.Background(), map[string]any{"url": srv.URL + "/5"})
	require.NoError(t, err)
	_, err = local().Request(context.Background(), map[string]any{"url": srv.URL + "/6"})
	require.Equal(t, int64(307), details(t, appError(t, err, "HTTPError"))["status"])
}

func TestInvalidArguments(t *testing.T) {
	t.Parallel()
	cases := []struct {
		args map[string]any
		want string
	}{
		{map[string]any{"url": "ftp://example.com/file"}, "http or https"},
		{map[string]any{"url": "file:///etc/passwd"}, "http or https"},
		{map[string]any{"url": "/relative"}, "absolute"},
		{map[string]any{"url": "http://"}, "no host"},
		{map[string]any{}, "url is required"},
		{map[string]any{"url": int64(3)}, "url is required"},
		{map[string]any{"url": "https://example.com", "method": "FETCH"}, "method must be one of"},
		{map[string]any{"url": "https://example.com", "verb": "GET"}, "unknown argument `verb`"},
		{map[string]any{"url": "https://example.com", "timeout": "soon"}, "bad duration"},
		{map[string]any{"url": "https://example.com", "timeout": "6m"}, "at most 5m"},
		{map[string]any{"url": "https://example.com", "timeout": int64(5)}, "timeout must be a duration"},
		{map[string]any{"url": "https://example.com", "headers": map[string]any{"X-A": int64(1)}}, "must be a string"},
		{map[string]any{"url": "https://example.com", "headers": map[string]any{"Bad Name": "x"}}, "not a valid header name"},
		{map[string]any{"url": "https://example.com", "headers": map[string]any{"X-Key": "secret\r\nX-Evil: 1"}}, "control characters"},
		{map[string]any{"url": "https://example.com", "query": map[string]any{"a": map[string]any{}}}, "query parameter `a`"},
		{map[string]any{"url": "https://example.com", "query": map[string]any{"a": []any{nil}}}, "query parameter `a`"},
	}
	for _, c := range cases {
		_, err := New(Options{}).Request(context.Background(), c.args)
		ae := appError(t, err, "InvalidArguments")
		require.True(t, ae.NonRetryable())
		require.Contains(t, ae.Message(), c.want, "args %v", c.args)
		require.NotContains(t, ae.Message(), "secret")
	}
}

func TestMaxResponseBytes(t *testing.T) {
	t.Parallel()
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) {
		n := 1000
		if r.URL.Path == "/small" {
			n = 100
		}
		if r.URL.Query().Has("chunked") {
			w.(nethttp.Flusher).Flush() // no Content-Length
		}
		_, _ = io.WriteString(w, strings.Repeat("x", n))
	})
	a := New(Options{AllowLoopback: true, MaxResponseBytes: 100})
	for _, u := range []string{srv.URL, srv.URL + "?chunked=1"} {
		_, err := a.Request(context.Background(), map[string]any{"url": u})
		ae := appError(t, err, "HTTPError")
		require.True(t, ae.NonRetryable())
		require.Contains(t, ae.Message(), "larger than 100 bytes")
		require.Equal(t, int64(200), details(t, ae)["status"])
	}
	out, err := a.Request(context.Background(), map[string]any{"url": srv.URL + "/small"})
	require.NoError(t, err)
	require.Len(t, out.(map[string]any)["body"], 100)
}

func TestThroughWrap(t *testing.T) {
	t.Parallel()
	var reg dsl.Registry
	reg.MustRegister(Action())
	srv := newServer(t, func(w nethttp.ResponseWriter, r *nethttp.Request) { writeJSON(w, 200, `{"n": 1}`) })
	fn := activities.Wrap(&reg, "http.request", local().Request)

	_, err := fn(context.Background(), json.RawMessage(`{"method":"FETCH","url":"x"}`))
	ae := appError(t, err, "InvalidArguments")
	require.True(t, ae.NonRetryable())

	_, err = fn(context.Background(), json.RawMessage(`{"url":"`+srv.URL+`","retries":3}`))
	appError(t, err, "InvalidArguments")

	res, err := fn(context.Background(), json.RawMessage(`{"url":"`+srv.URL+`","timeout":"5s","query":{"a":[1,2]}}`))
	require.NoError(t, err)
	out, err := dsl.DecodeJSON(res.Output)
	require.NoError(t, err)
	require.Equal(t, int64(200), out.(map[string]any)["status"])
	require.Equal(t, map[string]any{"n": int64(1)}, out.(map[string]any)["body"])
}

// roundTripFunc is a RoundTripper that is not an *http.Transport.
type roundTripFunc func(*nethttp.Request) (*nethttp.Response, error)

func (f roundTripFunc) RoundTrip(r *nethttp.Request) (*nethttp.Response, error) { return f(r) }

func TestCustomTransport(t *testing.T) {
	t.Parallel()
	var calls atomic.Int32
	rt := roundTripFunc(func(r *nethttp.Request) (*nethttp.Response, error) {
		calls.Add(1)
		return &nethttp.Response{
			StatusCode: 200, Header: nethttp.Header{"Content-Type": {"application/json"}},
			Body: io.NopCloser(strings.NewReader(`{"fake": true}`)), Request: r,
		}, nil
	})
	a := New(Options{Transport: rt})
	out, err := a.Request(context.Background(), map[string]any{"url": "https://203.0.113.7/x"})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"fake": true}, out.(map[string]any)["body"])

	_, err = a.Request(context.Background(), map[string]any{"url": "http://10.0.0.8/x"})
	require.Contains(t, appError(t, err, "PolicyDenied").Message(), "private")
	require.Equal(t, int32(1), calls.Load(), "the denied request never reached the transport")
}

func TestTLSTransport(t *testing.T) {
	t.Parallel()
	srv := httptest.NewTLSServer(nethttp.HandlerFunc(func(w nethttp.ResponseWriter, r *nethttp.Request) {
		writeJSON(w, 200, `{"tls": true}`)
	}))
	t.Cleanup(srv.Close)
	out, err := New(Options{AllowLoopback: true, Transport: srv.Client().Transport}).
		Request(context.Background(), map[string]any{"url": srv.URL})
	require.NoError(t, err)
	require.Equal(t, map[string]any{"tls": true}, out.(map[string]any)["body"])

	// The given *http.Transport still dials through the policy.
	_, err = New(Options{Transport: srv.Client().Transport}).
		Request(context.Background(), map[string]any{"url": srv.URL})
	appError(t, err, "PolicyDenied")
}

func TestPolicyCheck(t *testing.T) {
	t.Parallel()
	cases := []struct {
		ip      string
		opts    Options
		allowed bool
		reason  string
	}{
		{"8.8.8.8", Options{}, true, ""},
		{"2606:4700::1111", Options{}, true, ""},
		{"127.0.0.1", Options{}, false, "loopback"},
		{"127.0.0.1", Options{AllowLoopback: true}, true, ""},
		{"::1", Options{}, false, "loopback"},
		{"::ffff:127.0.0.1", Options{}, false, "loopback"},
		{"64:ff9b::7f00:1", Options{}, false, "loopback"},
		{"64:ff9b::808:808", Options{}, true, ""},
		{"10.1.2.3", Options{}, false, "private"},
		{"172.16.0.1", Options{}, false, "private"},
		{"192.168.1.1", Options{}, false, "private"},
		{"fd00::1", Options{}, false, "private"},
		{"10.1.2.3", Options{AllowPrivate: true}, true, ""},
		{"100.64.0.1", Options{}, false, "CGNAT"},
		{"100.64.0.1", Options{AllowPrivate: true}, true, ""},
		{"169.254.169.254", Options{}, false, "link-local"},
		{"169.254.169.254", Options{AllowPrivate: true, AllowLoopback: true}, false, "link-local"},
		{"fe80::1%eth0", Options{}, false, "link-local"},
		{"0.0.0.0", Options{AllowLoopback: true}, false, "unspecified"},
		{"::", Options{}, false, "unspecified"},
		{"224.0.0.1", Options{}, false, "multicast"},
		{"ff02::1", Options{}, false, "multicast"},
		{"255.255.255.255", Options{}, false, "reserved"},
		{"8.8.8.8", Options{Deny: []netip.Prefix{netip.MustParsePrefix("8.8.0.0/16")}}, false, "deny list"},
		{"169.254.169.254", Options{Allow: []netip.Prefix{netip.MustParsePrefix("169.254.0.0/16")}}, true, ""},
	}
	for _, c := range cases {
		err := newPolicy(c.opts).check("", netip.MustParseAddr(c.ip))
		if c.allowed {
			require.NoError(t, err, c.ip)
			continue
		}
		require.Error(t, err, c.ip)
		require.Contains(t, err.Error(), c.reason, c.ip)
	}
}

func TestRetryAfter(t *testing.T) {
	t.Parallel()
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.Equal(t, 30*time.Second, retryAfter("30", now))
	require.Equal(t, time.Duration(0), retryAfter("0", now))
	require.Equal(t, time.Duration(0), retryAfter("soon", now))
	require.Equal(t, 10*time.Minute, retryAfter("99999999999999999", now))
	require.Equal(t, 2*time.Minute, retryAfter(now.Add(2*time.Minute).Format(nethttp.TimeFormat), now))
	require.Equal(t, 10*time.Minute, retryAfter(now.Add(time.Hour).Format(nethttp.TimeFormat), now))
	require.Equal(t, time.Duration(0), retryAfter(now.Add(-time.Hour).Format(nethttp.TimeFormat), now))
}
