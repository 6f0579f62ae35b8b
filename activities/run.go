package activities

import (
	"context"
	"errors"
	"strings"

	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"
)

// NoRecords is the error type of an action that needs the platform (an
// organisation's records, outbox or secrets) called where there is none:
// `switchboard run` without --mock, or a run started outside the platform.
const NoRecords = "NoRecords"

// Call is what an action knows about the platform run that called it.
type Call struct {
	// Org is the run's organisation (its workflow id is <org>/<run id>).
	Org string
	// Run is the run's public id ("<workflow>:<id>").
	Run string
	// Step is the activity id: the step's attempt-independent identity.
	Step string
	// Key identifies this activity of this run, the same across retries:
	// the idempotency key of the effect it has.
	Key string
}

// CallOf resolves the platform run of an activity; an activity outside an
// organisation's run fails with a non-retryable NoRecords error naming action.
func CallOf(ctx context.Context, action string) (Call, error) {
	if !activity.IsActivity(ctx) {
		return Call{}, errors.New(action + ": not called as an activity")
	}
	info := activity.GetInfo(ctx)
	wid := info.WorkflowExecution.ID
	org, run, ok := strings.Cut(wid, "/")
	if !ok || org == "" {
		return Call{}, temporal.NewNonRetryableApplicationError(action+": the run belongs to no organisation (start it through the platform)", NoRecords, nil)
	}
	return Call{Org: org, Run: run, Step: info.ActivityID,
		Key: "run:" + wid + "/" + info.WorkflowExecution.RunID + "/" + info.ActivityID}, nil
}

// PlatformCall is CallOf for an action that needs the platform's store
// (hasStore): without one — `switchboard run` — it fails with NoRecords
// saying how to mock the action.
func PlatformCall(ctx context.Context, action string, hasStore bool) (Call, error) {
	if !hasStore {
		return Call{}, temporal.NewNonRetryableApplicationError(action+": the platform's records are not available here; in `switchboard run`, "+
			"mock the action (--mock "+action+"=JSON)", NoRecords, nil)
	}
	return CallOf(ctx, action)
}
