package workflows_test

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/workers/local"
)

// A 429 with Retry-After: 120 delays the next attempt by 120s of workflow
// time, instead of the default 1s backoff.
func TestRetryAfterIsHonoured(t *testing.T) {
	t.Parallel()
	srv := newServer(t, []string{"/limited"}, func(w http.ResponseWriter, r *http.Request, n int64) {
		if n == 1 {
			w.Header().Set("Retry-After", "120")
			writeJSON(w, 429, `{"error": "slow down"}`)
			return
		}
		writeJSON(w, 200, `{"ok": true}`)
	})
	out, _ := succeed(t, sub(`
switchboard: v1
name: retry-after
steps:
  - id: call
    call: http.request
    with: {url: "{{URL}}/limited"}
output: '${ {"ok": steps.call.output.body.ok, "waited": now - run.startedAt >= duration("120s")} }'
`, srv.URL), local.Options{})
	requireJSON(t, `{"ok": true, "waited": true}`, out)
	require.EqualValues(t, 2, srv.count("/limited"))
}
