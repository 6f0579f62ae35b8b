package local_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"switchboard/activities/catalog"
	"switchboard/dsl"
	"switchboard/workers/local"
)

func compile(t *testing.T, src string) *dsl.Plan {
	t.Helper()
	p, diags := dsl.Compile("t.yaml", []byte("switchboard: v1\nname: t\n"+src), dsl.Options{Registry: catalog.Registry()})
	require.Empty(t, diags)
	return p
}

// A run blocked forever comes back at once with a RunStuck failure naming
// the waiting step, and an error wrapping ErrStuck.
func TestStuckRunIsDescribed(t *testing.T) {
	t.Parallel()
	p := compile(t, `
steps:
  - wait: 1h
  - id: hold
    waitFor: {signal: never}
`)
	start := time.Now()
	// with the signal (buffered at 0, taken after the wait) it finishes
	res, err := local.Run(context.Background(), p, local.Options{
		Signals: []local.Signal{{Name: "never", Payload: []byte(`1`)}},
	})
	require.NoError(t, err)
	require.Nil(t, res.Error)
	require.False(t, res.Stuck)

	res, err = local.Run(context.Background(), p, local.Options{IdleTimeout: 20 * time.Second})
	require.ErrorIs(t, err, local.ErrStuck)
	require.NotNil(t, res)
	require.True(t, res.Stuck)
	require.NotNil(t, res.Error)
	require.Equal(t, local.ErrRunStuck, res.Error.Type)
	require.Equal(t, "hold", res.Error.Step)
	require.Contains(t, res.Error.Message, `signal "never"`)
	require.Equal(t, time.Hour, res.Elapsed, "blocked since the waitFor started")
	require.NotNil(t, res.State)
	require.Less(t, time.Since(start), 5*time.Second)
}

// A null output is a successful run with a nil output, not a runner error.
func TestNullOutput(t *testing.T) {
	t.Parallel()
	p := compile(t, `
steps:
  - set: {a: 1}
output: ${ null }
`)
	res, err := local.Run(context.Background(), p, local.Options{})
	require.NoError(t, err)
	require.Nil(t, res.Error)
	require.Nil(t, res.Output)
}
