// Package workflows holds the interpreter: one generic Temporal workflow
// (Run, registered as WorkflowName) that executes a compiled dsl.Plan
// deterministically.
//
// A run carries its plan in its input, so it is pinned to the revision it
// started on. The interpreter keeps its live state (each step's status,
// attempts, input, output, error and timing, the current position, open
// human tasks) answerable by the `state` and `tasks` queries; approvals are
// decided through the `decide` update, whose validator rejects bad
// decisions. Long loops continue-as-new between iterations, carrying the
// interpreter's state (variables, step results, buffered signals, pending
// compensations and the resume position).
//
// Replay tests in this package run committed histories (testdata/) through
// worker.NewWorkflowReplayer so no change to the interpreter can silently
// break runs in flight. When a change makes the interpreter issue different
// commands for the same plan (the replay test fails), it must be guarded
// with workflow.GetVersion so that old runs keep the old behaviour; then
// record a new history next to the old ones (make histories writes all of
// them: keep the old files that still replay).
package workflows
