package workflows_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/workflows"
)

// The concurrency key is computed from the input alone, whole-expression
// or interpolated, and names the run's workflow id.
func TestConcurrencyKeyFromInput(t *testing.T) {
	t.Parallel()
	for src, want := range map[string]string{
		`'${ input.customer }'`:             "ada",
		`'org-${ input.org }-${ input.n }'`: "org-acme-7",
	} {
		p := compile(t, "switchboard: v1\nname: keyed\nconcurrency: {key: "+src+"}\nsteps:\n  - set: {a: 1}\n")
		key, ok, err := workflows.ConcurrencyKey(p, json.RawMessage(`{"customer": "ada", "org": "acme", "n": 7}`))
		require.NoError(t, err)
		require.True(t, ok)
		require.Equal(t, want, key)
		require.Equal(t, "keyed:"+want, workflows.WorkflowID(p, key))
	}
	p := compile(t, "switchboard: v1\nname: plain\nsteps:\n  - set: {a: 1}\n")
	_, ok, err := workflows.ConcurrencyKey(p, nil)
	require.NoError(t, err)
	require.False(t, ok)
}
