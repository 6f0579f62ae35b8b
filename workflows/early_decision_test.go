package workflows_test

import (
	"testing"
	"time"

	"switchboard/workers/local"
)

// A decision signalled before its approval step opens is buffered for it,
// like any signal, and an invalid buffered decision is dropped while a
// later valid one decides.
func TestApprovalDecisionBufferedUntilTaskOpens(t *testing.T) {
	t.Parallel()
	src := `
switchboard: v1
name: early
steps:
  - wait: 1h
  - id: ok
    approval:
      title: Ship it?
      form: {type: object, required: [reason], properties: {reason: {type: string}}}
      timeout: 1d
output: ${ steps.ok.output }
`
	out, _ := succeed(t, src, local.Options{Signals: []local.Signal{
		sig("ok", `{"approved": true, "data": {}}`, 0),                                          // fails the form: dropped
		sig("ok", `{"approved": false, "comment": "no", "data": {"reason": "x"}}`, time.Minute), // decides
	}})
	requireJSON(t, `{"approved": false, "decidedBy": "local", "comment": "no", "data": {"reason": "x"}}`, out)
}

// Under the local runner a decision needs no identity: for a task assigned
// to users it is made as the first of them.
func TestLocalDecisionForUserAssignedTask(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
switchboard: v1
name: users
steps:
  - id: ok
    approval: {title: Ship?, assignees: {users: [alice, bob]}, timeout: 1d}
output: ${ steps.ok.output.decidedBy }
`, local.Options{Signals: []local.Signal{sig("ok", `{"approved": true}`, time.Hour)}})
	requireJSON(t, `"alice"`, out)
}

// A rejection needs no form data.
func TestRejectionNeedsNoFormData(t *testing.T) {
	t.Parallel()
	out, _ := succeed(t, `
switchboard: v1
name: reject
steps:
  - id: ok
    approval:
      title: Ship?
      form: {type: object, required: [reason], properties: {reason: {type: string}}}
      timeout: 1d
output: ${ steps.ok.output.approved }
`, local.Options{Signals: []local.Signal{sig("ok", `false`, time.Hour)}})
	requireJSON(t, `false`, out)
}
