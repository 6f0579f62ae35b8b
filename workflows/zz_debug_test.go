package workflows_test

import (
	"fmt"
	"testing"
	"time"

	"switchboard/workers/local"
	"switchboard/workflows"
)

func TestZZDebug(t *testing.T) {
	res := run(t, `
vars: {i: 0}
exitWhen: [{signal: stop}]
steps:
  - while:
      condition: ${ true }
      maxIterations: 20
      steps:
        - wait: 1m
        - set: {i: '${ vars.i + 1 }'}
`, local.Options{Signals: []local.Signal{sig("stop", "", 2*time.Minute)},
		Interpreter: workflows.Options{ContinueAsNewAfter: 5}})
	fmt.Println(js(res.Output), js(res.Error), res.Generations, res.Elapsed)
}
