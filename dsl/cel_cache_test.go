package dsl

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/require"
)

// The expression cache is bounded: a worker that evaluates ever new
// expressions does not grow without limit.
func TestProgramCacheIsBounded(t *testing.T) {
	var c boundedCache
	for i := range maxCached + 10 {
		c.Store(fmt.Sprint(i), i)
	}
	require.LessOrEqual(t, c.n.Load(), int64(maxCached))
	n := 0
	c.m.Range(func(any, any) bool { n++; return true })
	require.LessOrEqual(t, n, maxCached)
	v, err := EvalExpr("1 + 2", Activation{})
	require.NoError(t, err)
	require.Equal(t, int64(3), v)
}
