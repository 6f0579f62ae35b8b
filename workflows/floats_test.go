package workflows_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/dsl"
	"switchboard/workers/local"
	"switchboard/workflows"
)

// A double with no fraction stays a double across continue-as-new, child
// workflow input and output, and the run's output.
func TestDoublesStayDoubles(t *testing.T) {
	t.Parallel()
	child := compile(t, `
switchboard: v1
name: halve
steps:
  - set: {half: '${ input.x / 2 }'}
output: ${ vars.half }
`)
	p := compile(t, `
switchboard: v1
name: floats
vars: {x: '${ 3.0 }', i: 0}
steps:
  - while:
      condition: vars.i < 50
      steps:
        - wait: 1m
        - set: {i: '${ vars.i + 1 }'}
  - id: kid
    workflow: halve
    with: {x: '${ 1.5 * 2.0 }'}
output: '${ {"half": vars.x / 2, "kid": steps.kid.output, "whole": vars.x} }'
`)
	res := runPlan(t, t.Context(), p, local.Options{
		Children:    map[string]*dsl.Plan{"halve": child},
		Interpreter: workflows.Options{ContinueAsNewAfter: 40},
	})
	require.Nil(t, res.Error)
	require.Greater(t, res.Generations, 0)
	b, err := dsl.MarshalJSON(res.Output)
	require.NoError(t, err)
	require.JSONEq(t, `{"half": 1.5, "kid": 1.5, "whole": 3.0}`, string(b))
	require.Contains(t, string(b), `"whole":3.0`)
}
