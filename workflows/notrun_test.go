package workflows_test

import (
	"testing"
	"time"

	"switchboard/workers/local"
)

// Steps that have not run are visible as skipped with a null output, so an
// early exit's output and a polling loop's first condition can use them.
func TestStepsNotYetRunAreSkipped(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
switchboard: v1
name: not-run
vars: {polls: 0}
steps:
  - while:
      condition: steps.check.status == "skipped" || steps.check.output.done != true
      steps:
        - id: check
          set: {polls: '${ vars.polls + 1 }', done: '${ vars.polls >= 2 }'}
  - wait: 1h
  - id: late
    set: {never: true}
exitWhen:
  - signal: stop
output: '${ {"polls": vars.polls, "late": steps.late.status, "lateOut": steps.late.output} }'
`, local.Options{Signals: []local.Signal{sig("stop", "", 30*time.Minute)}})
	requireJSON(t, `{"polls": 3, "late": "skipped", "lateOut": null}`, out)
}
