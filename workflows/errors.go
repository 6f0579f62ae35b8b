package workflows

import (
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"

	"switchboard/activities"
	"switchboard/dsl"
)

// Error types raised by the interpreter itself.
const (
	ErrTimeout          = "Timeout"
	ErrCancelled        = "Cancelled"
	ErrLoopLimit        = "LoopLimitExceeded"
	ErrInputInvalid     = "InputInvalid"
	ErrExpression       = "ExpressionError"
	ErrChildFailed      = "ChildWorkflowFailed"
	ErrWorkflowNotFound = "WorkflowNotFound"
	ErrInternal         = "InternalError"
)

// StepError is a failure as the DSL sees it: `{type, message, step, details}`.
type StepError struct {
	Type    string `json:"type"`
	Message string `json:"message"`
	Step    string `json:"step,omitempty"`
	Details any    `json:"details,omitempty"`
	// attempts is the attempt that failed (calls only).
	attempts int
}

func (e *StepError) Error() string {
	if e.Step != "" {
		return fmt.Sprintf("%s: %s (step %s)", e.Type, e.Message, e.Step)
	}
	return e.Type + ": " + e.Message
}

// asMap is the value bound to a catch variable and to onFailure's `error`.
func (e *StepError) asMap() map[string]any {
	return map[string]any{"type": e.Type, "message": e.Message, "step": e.Step, "details": e.Details}
}

func newErr(typ, step, format string, args ...any) *StepError {
	return &StepError{Type: typ, Step: step, Message: fmt.Sprintf(format, args...)}
}

// toStepError turns any error from the SDK or the evaluator into a StepError.
func toStepError(err error, step string) *StepError {
	var se *StepError
	if errors.As(err, &se) {
		if se.Step == "" {
			se.Step = step
		}
		return se
	}
	var xe *dsl.ExprError
	if errors.As(err, &xe) {
		return &StepError{Type: ErrExpression, Message: xe.Error(), Step: step}
	}
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		out := &StepError{Type: ae.Type(), Message: ae.Message(), Step: step}
		if ae.HasDetails() {
			var re runFailure
			var fd activities.FailureDetails
			if derr := ae.Details(&re); derr == nil && re.Type != "" {
				// a child run's failure: keep its type, message and details
				out.Type, out.Message, out.Details = re.Type, re.Message, re.details()
			} else if derr := ae.Details(&fd); derr == nil {
				out.attempts = int(fd.Attempt)
				if len(fd.Details) > 0 {
					out.Details, _ = dsl.DecodeJSON(fd.Details)
				}
			}
		}
		if out.Type == "" {
			out.Type = activities.ActionError
		}
		return out
	}
	var te *temporal.TimeoutError
	if errors.As(err, &te) {
		return &StepError{Type: ErrTimeout, Message: "timed out (" + te.TimeoutType().String() + ")", Step: step}
	}
	var ce *temporal.CanceledError
	if errors.As(err, &ce) || errors.Is(err, workflow.ErrCanceled) {
		return &StepError{Type: ErrCancelled, Message: "cancelled", Step: step}
	}
	var te2 *temporal.TerminatedError
	if errors.As(err, &te2) {
		return &StepError{Type: ErrCancelled, Message: "terminated", Step: step}
	}
	return &StepError{Type: ErrInternal, Message: err.Error(), Step: step}
}

// runFailure is the detail attached to a failed run's application error.
type runFailure struct {
	Type    string          `json:"type"`
	Message string          `json:"message"`
	Step    string          `json:"step,omitempty"`
	Details json.RawMessage `json:"details,omitempty"`
}

func (rf runFailure) details() any {
	if len(rf.Details) == 0 {
		return nil
	}
	v, _ := dsl.DecodeJSON(rf.Details)
	return v
}

// RunFailure extracts `{type, message, step, details}` from a failed run's error.
func RunFailure(err error) (typ, message, step string, details any, ok bool) {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		return "", "", "", nil, false
	}
	var rf runFailure
	if ae.HasDetails() {
		if derr := ae.Details(&rf); derr == nil && rf.Type != "" {
			return rf.Type, rf.Message, rf.Step, rf.details(), true
		}
	}
	return ae.Type(), ae.Message(), "", nil, true
}

func (e *StepError) toRunError() error {
	var details json.RawMessage
	if e.Details != nil {
		if b, err := dsl.MarshalJSON(e.Details); err == nil && len(b) <= 1<<20 {
			details = b
		}
	}
	return temporal.NewApplicationErrorWithOptions(e.Message, e.Type, temporal.ApplicationErrorOptions{
		NonRetryable: true,
		Details:      []any{runFailure{Type: e.Type, Message: e.Message, Step: e.Step, Details: details}},
	})
}

// returnSignal carries a `return` step's output up to the run.
type returnSignal struct{ value any }

func (*returnSignal) Error() string { return "return" }

// canUnwind carries the resume frames up to the run when a loop decides
// to continue as new.
type canUnwind struct{ frames []Frame }

func (*canUnwind) Error() string { return "continue-as-new" }

func (u *canUnwind) push(f Frame) { u.frames = append([]Frame{f}, u.frames...) }
