package workflows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"go.temporal.io/api/enums/v1"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"switchboard/dsl"
)

// StartOptions describe a run to start. The zero value (plus a plan and a
// task queue) starts a run with a generated id.
type StartOptions struct {
	TaskQueue string
	Input     json.RawMessage
	Meta      RunMeta
	Options   Options
	// ID overrides the workflow id of workflows without `concurrency`.
	ID string
	// IDPrefix is put before every workflow id (the platform uses
	// `<org>/`, so that organisations never share an id).
	IDPrefix string
	// Attributes are the run's search attributes.
	Attributes temporal.SearchAttributes
	// Existing makes a start with an explicit ID that is already taken
	// return that run instead of failing (a retried request).
	Existing bool
	// Timeout bounds each call to Temporal; 0 means 10s.
	Timeout time.Duration
}

// Started reports how a start request was handled.
type Started struct {
	WorkflowID string `json:"workflowId"`
	RunID      string `json:"runId"`
	// Skipped: another run holds the concurrency key (onConflict: skip); RunID is that run's.
	Skipped bool `json:"skipped,omitempty"`
	// Queued: the input was queued behind the running run (onConflict: queue); RunID is that run's.
	Queued bool `json:"queued,omitempty"`
}

// ConcurrencyKey evaluates the plan's `concurrency.key` over an input. ok
// is false when the plan has no concurrency.
func ConcurrencyKey(plan *dsl.Plan, input json.RawMessage) (key string, ok bool, err error) {
	if plan.Concurrency == nil {
		return "", false, nil
	}
	var in any = map[string]any{}
	if len(input) > 0 {
		if in, err = dsl.DecodeJSON(input); err != nil {
			return "", true, err
		}
	}
	v, err := dsl.EvalExpr(plan.Concurrency.Key, dsl.Activation{Values: map[string]any{
		"input": in, "vars": map[string]any{}, "steps": map[string]any{}, "now": time.Now().UTC(),
		"run": map[string]any{"workflow": plan.Name},
	}})
	if err != nil {
		return "", true, err
	}
	key = dsl.Stringify(v)
	if key == "" {
		return "", true, fmt.Errorf("the concurrency key is empty for this input")
	}
	return key, true, nil
}

// WorkflowID is the id a run of plan with this concurrency key gets:
// `<workflow>:<key>`, so that at most one run per key is open, and webhooks
// can target it by key.
func WorkflowID(plan *dsl.Plan, key string) string { return plan.Name + ":" + key }

// Start starts a run, applying the plan's concurrency rule: with a key,
// the workflow id is `<name>:<key>` and a conflict is skipped (the running
// run's id is returned), replaced (the running run is terminated) or queued
// (the running run receives the input and continues as new with it when it
// finishes).
func Start(ctx context.Context, c client.Client, plan *dsl.Plan, o StartOptions) (*Started, error) {
	in := RunInput{Plan: plan, Input: o.Input, Meta: o.Meta, Options: o.Options}
	key, keyed, err := ConcurrencyKey(plan, o.Input)
	if err != nil {
		return nil, fmt.Errorf("concurrency key: %w", err)
	}
	if o.Timeout <= 0 {
		o.Timeout = 10 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, o.Timeout)
	defer cancel()
	swo := client.StartWorkflowOptions{TaskQueue: o.TaskQueue, ID: o.ID,
		WorkflowIDReusePolicy:                    enums.WORKFLOW_ID_REUSE_POLICY_ALLOW_DUPLICATE,
		WorkflowIDConflictPolicy:                 enums.WORKFLOW_ID_CONFLICT_POLICY_FAIL,
		WorkflowExecutionErrorWhenAlreadyStarted: true,
		TypedSearchAttributes:                    o.Attributes}
	if !keyed {
		if swo.ID == "" {
			swo.ID = plan.Name + ":" + randomID()
		}
		swo.ID = o.IDPrefix + swo.ID
		in.Meta.ID = publicID(swo.ID, o.IDPrefix)
		if o.Existing {
			// a retry: the run this id names, whether running or closed
			swo.WorkflowIDReusePolicy = enums.WORKFLOW_ID_REUSE_POLICY_REJECT_DUPLICATE
			swo.WorkflowIDConflictPolicy = enums.WORKFLOW_ID_CONFLICT_POLICY_USE_EXISTING
		}
		run, err := c.ExecuteWorkflow(ctx, swo, WorkflowName, in)
		if err != nil {
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if o.Existing && errors.As(err, &started) {
				return &Started{WorkflowID: swo.ID, RunID: started.RunId}, nil
			}
			return nil, err
		}
		return &Started{WorkflowID: run.GetID(), RunID: run.GetRunID()}, nil
	}
	swo.ID = o.IDPrefix + WorkflowID(plan, key)
	in.Meta.ID = publicID(swo.ID, o.IDPrefix)
	switch plan.Concurrency.OnConflict {
	case "replace":
		swo.WorkflowIDConflictPolicy = enums.WORKFLOW_ID_CONFLICT_POLICY_TERMINATE_EXISTING
	case "queue":
		for range 10 {
			run, err := c.ExecuteWorkflow(ctx, swo, WorkflowName, in)
			if err == nil {
				return &Started{WorkflowID: run.GetID(), RunID: run.GetRunID()}, nil
			}
			var started *serviceerror.WorkflowExecutionAlreadyStarted
			if !errors.As(err, &started) {
				return nil, err
			}
			payload := o.Input
			if len(payload) == 0 {
				payload = json.RawMessage(`{}`)
			}
			err = c.SignalWorkflow(ctx, swo.ID, "", EnqueueSignal, payload)
			if err == nil {
				return &Started{WorkflowID: swo.ID, RunID: started.RunId, Queued: true}, nil
			}
			var nf *serviceerror.NotFound
			if !errors.As(err, &nf) {
				return nil, err
			}
			// the running run finished between the two calls: start again
		}
		return nil, fmt.Errorf("could not start or queue run %s: the key is contended", swo.ID)
	}
	run, err := c.ExecuteWorkflow(ctx, swo, WorkflowName, in)
	if err != nil {
		var started *serviceerror.WorkflowExecutionAlreadyStarted
		if errors.As(err, &started) {
			return &Started{WorkflowID: swo.ID, RunID: started.RunId, Skipped: true}, nil
		}
		return nil, err
	}
	return &Started{WorkflowID: run.GetID(), RunID: run.GetRunID()}, nil
}

// publicID is the id of a run as its organisation sees it (`run.id`).
func publicID(workflowID, prefix string) string {
	if prefix == "" {
		return ""
	}
	return strings.TrimPrefix(workflowID, prefix)
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
