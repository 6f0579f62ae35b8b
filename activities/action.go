package activities

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"switchboard/dsl"
)

// Func is an action implementation: plain arguments in, plain result out.
// Failures should be *temporal.ApplicationError with a type (HTTPError,
// NotFound, ...) and NonRetryable set for errors a retry cannot fix.
type Func func(ctx context.Context, args map[string]any) (any, error)

// Result is what every wrapped action returns to the workflow.
type Result struct {
	Output  json.RawMessage `json:"output"`
	Attempt int32           `json:"attempt"`
}

// Failure details carried by every wrapped action error: the action's own
// details and the attempt that failed.
type FailureDetails struct {
	Details json.RawMessage `json:"details,omitempty"`
	Attempt int32           `json:"attempt"`
}

// Error types used by the wrapper.
const (
	InvalidArguments = "InvalidArguments"
	ActionError      = "ActionError"
)

// Wrap turns an action implementation into the activity function registered
// under the action's activity name.
func Wrap(reg *dsl.Registry, action string, fn Func) func(ctx context.Context, args json.RawMessage) (*Result, error) {
	return func(ctx context.Context, raw json.RawMessage) (*Result, error) {
		attempt := int32(1)
		if activity.IsActivity(ctx) {
			attempt = activity.GetInfo(ctx).Attempt
		}
		var args map[string]any
		if len(raw) > 0 && string(raw) != "null" {
			v, err := dsl.DecodeJSON(raw)
			if err != nil {
				return nil, fail(attempt, temporal.NewNonRetryableApplicationError("arguments are not JSON: "+err.Error(), InvalidArguments, nil))
			}
			m, ok := v.(map[string]any)
			if !ok {
				return nil, fail(attempt, temporal.NewNonRetryableApplicationError(fmt.Sprintf("arguments of %s must be a map", action), InvalidArguments, nil))
			}
			args = m
		} else {
			args = map[string]any{}
		}
		if err := reg.ValidateInput(action, args); err != nil {
			return nil, fail(attempt, temporal.NewNonRetryableApplicationError(fmt.Sprintf("bad arguments for %s: %v", action, err), InvalidArguments, nil))
		}
		out, err := fn(ctx, args)
		if err != nil {
			return nil, fail(attempt, err)
		}
		b, err := dsl.MarshalJSON(out)
		if err != nil {
			return nil, fail(attempt, temporal.NewNonRetryableApplicationError("result is not JSON: "+err.Error(), ActionError, nil))
		}
		return &Result{Output: b, Attempt: attempt}, nil
	}
}

// fail re-wraps an error as an application error whose details carry the
// original details and the attempt number, keeping type and retryability.
func fail(attempt int32, err error) error {
	var ae *temporal.ApplicationError
	if !errors.As(err, &ae) {
		if errors.Is(err, context.Canceled) {
			return err
		}
		if errors.Is(err, context.DeadlineExceeded) {
			return temporal.NewApplicationError(err.Error(), "Timeout", FailureDetails{Attempt: attempt})
		}
		return temporal.NewApplicationError(err.Error(), ActionError, FailureDetails{Attempt: attempt})
	}
	fd := FailureDetails{Attempt: attempt}
	if ae.HasDetails() {
		var d any
		if derr := ae.Details(&d); derr == nil {
			fd.Details, _ = dsl.MarshalJSON(d)
		}
	}
	return temporal.NewApplicationErrorWithOptions(ae.Message(), ae.Type(), temporal.ApplicationErrorOptions{
		NonRetryable: ae.NonRetryable(),
		Details:      []any{fd},
		// a provider's Retry-After, as the connector read it
		NextRetryDelay: ae.NextRetryDelay(),
	})
}
