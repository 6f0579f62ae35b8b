package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	commonpb "go.temporal.io/api/common/v1"
	enumspb "go.temporal.io/api/enums/v1"
	workflowpb "go.temporal.io/api/workflow/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/converter"

	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/workflows"
)

// RunSummary is a run as lists show it.
type RunSummary struct {
	ID         string     `json:"id" doc:"The run's id: <definition>:<random or concurrency key>"`
	RunID      string     `json:"runId" doc:"Temporal's run id of the latest execution"`
	Definition string     `json:"definition"`
	Revision   int        `json:"revision"`
	Status     string     `json:"status" enum:"running,completed,failed,cancelled,terminated,timed_out,continued"`
	StartedAt  *time.Time `json:"startedAt,omitempty"`
	ClosedAt   *time.Time `json:"closedAt,omitempty"`
}

// StartedRun answers a start request.
type StartedRun struct {
	RunSummary
	Skipped bool `json:"skipped,omitempty" doc:"Another run holds the concurrency key (onConflict: skip); this is that run"`
	Queued  bool `json:"queued,omitempty" doc:"The input was queued behind the running run (onConflict: queue); this is that run"`
	Replay  bool `json:"replayed,omitempty" doc:"The Idempotency-Key was seen before: this is the run it started"`
}

// RunDetail is one run with its step timeline.
type RunDetail struct {
	RunSummary
	Position       string                 `json:"position,omitempty" doc:"The step that most recently started"`
	Steps          []*workflows.StepState `json:"steps" doc:"The timeline: one record per step execution"`
	Tasks          []*workflows.Task      `json:"tasks" doc:"Open human tasks"`
	Output         any                    `json:"output,omitempty"`
	Error          *workflows.StepError   `json:"error,omitempty"`
	ContinuedAsNew int                    `json:"continuedAsNew,omitempty"`
	TimelineError  string                 `json:"timelineError,omitempty" doc:"Why the timeline could not be read (the run's worker may be down)"`
}

var statusNames = map[enumspb.WorkflowExecutionStatus]string{
	enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING:          "running",
	enumspb.WORKFLOW_EXECUTION_STATUS_COMPLETED:        "completed",
	enumspb.WORKFLOW_EXECUTION_STATUS_FAILED:           "failed",
	enumspb.WORKFLOW_EXECUTION_STATUS_CANCELED:         "cancelled",
	enumspb.WORKFLOW_EXECUTION_STATUS_TERMINATED:       "terminated",
	enumspb.WORKFLOW_EXECUTION_STATUS_TIMED_OUT:        "timed_out",
	enumspb.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW: "continued",
}

// visibility names of the statuses a filter can ask for
var statusQuery = map[string]string{
	"running": "Running", "completed": "Completed", "failed": "Failed", "cancelled": "Canceled",
	"terminated": "Terminated", "timed_out": "TimedOut",
}

func (s *Server) workflowID(ctx context.Context, id string) string {
	return principal(ctx).OrgID + "/" + id
}

func attr[T any](sa *commonpb.SearchAttributes, name string) T {
	var v T
	if p := sa.GetIndexedFields()[name]; p != nil {
		_ = converter.GetDefaultDataConverter().FromPayload(p, &v)
	}
	return v
}

func summaryOf(info *workflowpb.WorkflowExecutionInfo, org string) RunSummary {
	sum := RunSummary{
		ID:         strings.TrimPrefix(info.GetExecution().GetWorkflowId(), org+"/"),
		RunID:      info.GetExecution().GetRunId(),
		Definition: attr[string](info.GetSearchAttributes(), workflows.AttrDefinition.GetName()),
		Revision:   int(attr[int64](info.GetSearchAttributes(), workflows.AttrRevision.GetName())),
		Status:     statusNames[info.GetStatus()],
	}
	if t := info.GetStartTime(); t != nil {
		st := t.AsTime()
		sum.StartedAt = &st
	}
	if t := info.GetCloseTime(); t != nil && info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		ct := t.AsTime()
		sum.ClosedAt = &ct
	}
	return sum
}

// quote makes a visibility-query string literal.
func quote(s string) string {
	return "'" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s) + "'"
}

// describe finds a run of the caller's organisation.
func (s *Server) describe(ctx context.Context, id string) (*workflowpb.WorkflowExecutionInfo, error) {
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	d, err := s.temporal.DescribeWorkflowExecution(tctx, s.workflowID(ctx, id), "")
	if err != nil {
		return nil, temporalErr(err, "run "+id)
	}
	info := d.GetWorkflowExecutionInfo()
	if attr[string](info.GetSearchAttributes(), workflows.AttrOrg.GetName()) != principal(ctx).OrgID {
		return nil, problem(http.StatusNotFound, ProbNotFound, "run %s not found", id)
	}
	return info, nil
}

func (s *Server) runRoutes() {
	type startInput struct {
		IdempotencyKey string `header:"Idempotency-Key" maxLength:"255" doc:"Retrying with the same key returns the run the first request started"`
		Body           struct {
			Definition string          `json:"definition" pattern:"^[a-z][a-z0-9-]{0,62}$" doc:"The workflow to run (its live revision)"`
			Input      json.RawMessage `json:"input,omitempty" doc:"The run's input, validated against the workflow's input schema"`
		}
	}
	type startOut struct {
		Status   int
		Location string `header:"Location"`
		Body     StartedRun
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "start-run", Method: http.MethodPost, Path: "/v1/runs",
		DefaultStatus: http.StatusCreated, Summary: "Start a run of a deployed workflow", Tags: []string{"runs"},
		Description: "Starts a run on the definition's live revision. With an `Idempotency-Key`, a retried request returns the same run (200) instead of starting another."},
		func(ctx context.Context, in *startInput) (*startOut, error) {
			res, status, err := s.startRun(ctx, in.Body.Definition, in.Body.Input, in.IdempotencyKey)
			if err != nil {
				return nil, err
			}
			return &startOut{Status: status, Location: "/v1/runs/" + res.ID, Body: *res}, nil
		})

	type listInput struct {
		Definition    string    `query:"definition" pattern:"^[a-z][a-z0-9-]{0,62}$"`
		Status        string    `query:"status" enum:"running,completed,failed,cancelled,terminated,timed_out"`
		StartedAfter  time.Time `query:"startedAfter" doc:"RFC 3339 time"`
		StartedBefore time.Time `query:"startedBefore" doc:"RFC 3339 time"`
		Limit         int       `query:"limit" minimum:"0" maximum:"500"`
		Cursor        string    `query:"cursor" maxLength:"4000"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-runs", Method: http.MethodGet, Path: "/v1/runs",
		Summary: "List runs, newest first", Tags: []string{"runs"}},
		func(ctx context.Context, in *listInput) (*bodyOut[Page[RunSummary]], error) {
			org := principal(ctx).OrgID
			q := []string{workflows.AttrOrg.GetName() + " = " + quote(org), "WorkflowType = " + quote(workflows.WorkflowName)}
			if in.Definition != "" {
				q = append(q, workflows.AttrDefinition.GetName()+" = "+quote(in.Definition))
			}
			if in.Status != "" {
				q = append(q, "ExecutionStatus = "+quote(statusQuery[in.Status]))
			} else {
				q = append(q, "ExecutionStatus != 'ContinuedAsNew'")
			}
			if !in.StartedAfter.IsZero() {
				q = append(q, "StartTime >= "+quote(in.StartedAfter.UTC().Format(time.RFC3339Nano)))
			}
			if !in.StartedBefore.IsZero() {
				q = append(q, "StartTime < "+quote(in.StartedBefore.UTC().Format(time.RFC3339Nano)))
			}
			var token []byte
			if in.Cursor != "" {
				var err error
				if token, err = base64.RawURLEncoding.DecodeString(in.Cursor); err != nil {
					return nil, problem(http.StatusBadRequest, ProbBadRequest, "the cursor is not one this API returned")
				}
			}
			size := domain.Page{Limit: in.Limit}.Size()
			tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			defer cancel()
			resp, err := s.temporal.ListWorkflow(tctx, &workflowservice.ListWorkflowExecutionsRequest{
				Namespace: s.opts.Namespace, PageSize: int32(size), NextPageToken: token, Query: strings.Join(q, " AND ")})
			if err != nil {
				return nil, temporalErr(err, "runs")
			}
			out := Page[RunSummary]{Items: []RunSummary{}}
			for _, info := range resp.GetExecutions() {
				out.Items = append(out.Items, summaryOf(info, org))
			}
			if len(resp.GetNextPageToken()) > 0 {
				out.NextCursor = base64.RawURLEncoding.EncodeToString(resp.GetNextPageToken())
			}
			return &bodyOut[Page[RunSummary]]{out}, nil
		})

	type RunParam struct {
		ID string `path:"id" maxLength:"400" doc:"The run's id"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-run", Method: http.MethodGet, Path: "/v1/runs/{id}",
		Summary: "Get a run with its step timeline, output or error", Tags: []string{"runs"}},
		func(ctx context.Context, in *RunParam) (*bodyOut[RunDetail], error) {
			info, err := s.describe(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			d := RunDetail{RunSummary: summaryOf(info, principal(ctx).OrgID), Steps: []*workflows.StepState{}, Tasks: []*workflows.Task{}}
			tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			defer cancel()
			v, err := s.temporal.QueryWorkflow(tctx, s.workflowID(ctx, in.ID), "", workflows.QueryState)
			var st workflows.RunState
			if err == nil {
				err = v.Get(&st)
			}
			if err != nil {
				d.TimelineError = "the run's timeline is unavailable: " + err.Error()
				return &bodyOut[RunDetail]{d}, nil
			}
			if st.Steps != nil {
				d.Steps = st.Steps
			}
			if st.Tasks != nil {
				d.Tasks = st.Tasks
			}
			d.Position, d.Output, d.Error, d.ContinuedAsNew = st.Position, st.Output, st.Error, st.ContinuedAsNew
			return &bodyOut[RunDetail]{d}, nil
		})

	type signalInput struct {
		RunParam
		Signal string `path:"signal" maxLength:"128"`
		// a pointer: huma requires every non-pointer body
		Body *json.RawMessage `required:"false" doc:"The signal's payload (any JSON; none means null)"`
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "signal-run", Method: http.MethodPost, Path: "/v1/runs/{id}/signals/{signal}",
		DefaultStatus: http.StatusAccepted, Summary: "Send a signal to a running run", Tags: []string{"runs"},
		Description: "The signal must be one the workflow listens to (`waitFor`, `exitWhen`). Signals that arrive before the run reaches its `waitFor` are buffered. Approval steps are decided through the task decision endpoint, which checks the decider, not by signal."},
		func(ctx context.Context, in *signalInput) (*struct{}, error) {
			payload := json.RawMessage("null")
			if in.Body != nil && len(*in.Body) > 0 {
				payload = *in.Body
			}
			info, err := s.describe(ctx, in.ID)
			if err != nil {
				return nil, err
			}
			if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
				return nil, problem(http.StatusConflict, ProbConflict, "run %s has finished (%s)", in.ID, statusNames[info.GetStatus()])
			}
			plan, err := s.runPlan(ctx, info)
			if err != nil {
				return nil, err
			}
			// A signal named after an approval step decides it as the run's
			// owner, on behalf of whoever the payload names: through the API,
			// decisions go through the decide update, which checks the decider.
			known := plan.Signals
			if !contains(known, in.Signal) && contains(plan.Approvals, in.Signal) {
				return nil, problem(http.StatusUnprocessableEntity, ProbBadRequest,
					"%q is an approval step: send the decision to POST /v1/runs/%s/tasks/%s/decision", in.Signal, in.ID, in.Signal)
			}
			if !contains(known, in.Signal) {
				if len(known) == 0 {
					return nil, problem(http.StatusUnprocessableEntity, ProbBadRequest, "workflow %s listens to no signals", plan.Name)
				}
				return nil, problem(http.StatusUnprocessableEntity, ProbBadRequest, "workflow %s does not listen to signal %q; it listens to %s",
					plan.Name, in.Signal, strings.Join(known, ", "))
			}
			tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			defer cancel()
			if err := s.temporal.SignalWorkflow(tctx, s.workflowID(ctx, in.ID), "", in.Signal, payload); err != nil {
				return nil, temporalErr(err, "run "+in.ID)
			}
			s.audit(ctx, "run.signal", "run/"+in.ID, map[string]any{"signal": in.Signal})
			return nil, nil
		})

	op(s, domain.RoleOperator, huma.Operation{OperationID: "cancel-run", Method: http.MethodPost, Path: "/v1/runs/{id}/cancel",
		DefaultStatus: http.StatusAccepted, Summary: "Ask a run to cancel (it runs its cleanup)", Tags: []string{"runs"}},
		func(ctx context.Context, in *RunParam) (*struct{}, error) {
			if err := s.closeRun(ctx, in.ID, ""); err != nil {
				return nil, err
			}
			s.audit(ctx, "run.cancel", "run/"+in.ID, nil)
			return nil, nil
		})
	type terminateInput struct {
		RunParam
		Body *struct { // optional: a pointer, else huma requires a body
			Reason string `json:"reason,omitempty" maxLength:"1000"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "terminate-run", Method: http.MethodPost, Path: "/v1/runs/{id}/terminate",
		Summary: "Terminate a run at once (no cleanup runs)", Tags: []string{"runs"}},
		func(ctx context.Context, in *terminateInput) (*struct{}, error) {
			reason := ""
			if in.Body != nil {
				reason = in.Body.Reason
			}
			if reason == "" {
				reason = "terminated through the API by " + authorOf(principal(ctx))
			}
			if err := s.closeRun(ctx, in.ID, reason); err != nil {
				return nil, err
			}
			s.audit(ctx, "run.terminate", "run/"+in.ID, map[string]any{"reason": reason})
			return nil, nil
		})
}

func contains(l []string, s string) bool {
	for _, x := range l {
		if x == s {
			return true
		}
	}
	return false
}

// closeRun cancels (reason empty) or terminates a running run.
func (s *Server) closeRun(ctx context.Context, id, reason string) error {
	info, err := s.describe(ctx, id)
	if err != nil {
		return err
	}
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return problem(http.StatusConflict, ProbConflict, "run %s has finished (%s)", id, statusNames[info.GetStatus()])
	}
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	wid := s.workflowID(ctx, id)
	if reason == "" {
		err = s.temporal.CancelWorkflow(tctx, wid, "")
	} else {
		err = s.temporal.TerminateWorkflow(tctx, wid, "", reason)
	}
	return temporalErr(err, "run "+id)
}

// runPlan is the plan of the revision a run started on.
func (s *Server) runPlan(ctx context.Context, info *workflowpb.WorkflowExecutionInfo) (*dsl.Plan, error) {
	name := attr[string](info.GetSearchAttributes(), workflows.AttrDefinition.GetName())
	rev := int(attr[int64](info.GetSearchAttributes(), workflows.AttrRevision.GetName()))
	_, r, err := s.revision(ctx, name, rev)
	if err != nil {
		return nil, err
	}
	return s.revisionPlan(r, name)
}

// audit writes an audit row for a change that lives in Temporal (its own
// transaction: there is no store change to commit with).
func (s *Server) audit(ctx context.Context, action, target string, details any) {
	pr := principal(ctx)
	e := &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: action, Target: target}
	if details != nil {
		e.Details = mustJSON(details)
	}
	if err := s.store.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		s.opts.Logger.Error("api: audit", "action", action, "error", err)
	}
}

// startRun starts a run of a definition's live revision. status is 201
// for a new run, 200 for an idempotent replay.
func (s *Server) startRun(ctx context.Context, name string, input json.RawMessage, idemKey string) (*StartedRun, int, error) {
	return s.startRunDedup(ctx, name, input, idemKey, false)
}

// startRunDedup is startRun; with keyOnly, a repeated idemKey returns the
// first run whatever the input (a webhook's dedupe key names an event,
// not a request).
func (s *Server) startRunDedup(ctx context.Context, name string, input json.RawMessage, idemKey string, keyOnly bool) (*StartedRun, int, error) {
	pr := principal(ctx)
	d, err := s.definition(ctx, name)
	if err != nil {
		return nil, 0, err
	}
	if d.LiveRevision == 0 {
		return nil, 0, problem(http.StatusConflict, ProbNotDeployed, "workflow %s has no deployed revision; deploy one first", name)
	}
	r, err := s.store.GetRevision(ctx, d.OrgID, d.ID, d.LiveRevision)
	if err != nil {
		return nil, 0, storeErr(err, "live revision of "+name)
	}
	plan, err := s.revisionPlan(r, name)
	if err != nil {
		return nil, 0, err
	}
	if len(input) == 0 || string(input) == "null" {
		input = json.RawMessage(`{}`)
	}
	if err := validateInput(plan, input); err != nil {
		return nil, 0, err
	}
	prefix := pr.OrgID + "/"
	opts := workflows.StartOptions{TaskQueue: s.opts.TaskQueue, Input: input, IDPrefix: prefix, Timeout: s.opts.Timeout,
		Meta: workflows.RunMeta{Revision: r.Number, Org: pr.OrgID}, Attributes: workflows.RunAttributes(pr.OrgID, name, r.Number)}
	key, keyed, err := workflows.ConcurrencyKey(plan, input)
	if err != nil {
		return nil, 0, problem(http.StatusUnprocessableEntity, ProbInvalidInput, "the concurrency key cannot be computed from this input: %v", err)
	}
	var wid string
	if keyed {
		wid = prefix + workflows.WorkflowID(plan, key)
	} else {
		opts.ID = name + ":" + newRunID()
		wid = prefix + opts.ID
	}
	replay := false
	if idemKey != "" {
		h := sha256.Sum256(append([]byte(name+"\x00"), input...))
		if keyOnly {
			h = sha256.Sum256([]byte(name + "\x00" + idemKey))
		}
		k := &domain.IdempotencyKey{OrgID: pr.OrgID, Key: idemKey, RequestHash: hex.EncodeToString(h[:]), WorkflowID: wid}
		err := s.store.PutIdempotencyKey(ctx, k)
		if errors.Is(err, domain.ErrConflict) {
			prev, gerr := s.store.GetIdempotencyKey(ctx, pr.OrgID, idemKey)
			if gerr != nil {
				return nil, 0, storeErr(gerr, "idempotency key")
			}
			if prev.RequestHash != k.RequestHash {
				return nil, 0, problem(http.StatusUnprocessableEntity, ProbIdempotency,
					"the Idempotency-Key was used for a different request; use a new key for a new request")
			}
			if prev.RunID != "" {
				return s.startedView(prev.WorkflowID, prev.RunID, prefix, name, r.Number, false, false, true), http.StatusOK, nil
			}
			if keyed {
				p := problem(http.StatusConflict, ProbConflict, "a request with this Idempotency-Key is still being processed; retry")
				p.Retryable = true
				return nil, 0, p
			}
			// the first request chose the id but may not have finished: starting
			// again with that id returns the run it started, if it did
			opts.ID, opts.Existing, replay = strings.TrimPrefix(prev.WorkflowID, prefix), true, true
		} else if err != nil {
			return nil, 0, storeErr(err, "idempotency key")
		}
	}
	started, err := workflows.Start(ctx, s.temporal, plan, opts)
	if err != nil {
		if idemKey != "" && !replay {
			_ = s.store.DeleteIdempotencyKey(context.WithoutCancel(ctx), pr.OrgID, idemKey)
		}
		return nil, 0, temporalErr(err, "run of "+name)
	}
	if idemKey != "" {
		if err := s.store.SetIdempotencyRun(context.WithoutCancel(ctx), pr.OrgID, idemKey, started.WorkflowID, started.RunID); err != nil {
			s.opts.Logger.Error("api: record idempotency key", "error", err)
		}
	}
	if !replay && !started.Skipped && !started.Queued {
		s.metrics.started.WithLabelValues(name).Inc()
	}
	status := http.StatusCreated
	if replay {
		status = http.StatusOK
	}
	return s.startedView(started.WorkflowID, started.RunID, prefix, name, r.Number, started.Skipped, started.Queued, replay), status, nil
}

func (s *Server) startedView(wid, runID, prefix, name string, rev int, skipped, queued, replay bool) *StartedRun {
	return &StartedRun{RunSummary: RunSummary{ID: strings.TrimPrefix(wid, prefix), RunID: runID, Definition: name,
		Revision: rev, Status: "running"}, Skipped: skipped, Queued: queued, Replay: replay}
}

func validateInput(plan *dsl.Plan, input json.RawMessage) error {
	v, err := dsl.DecodeJSON(input)
	if err != nil {
		return problem(http.StatusBadRequest, ProbBadRequest, "the input is not JSON: %v", err)
	}
	if err := plan.ValidateInput(v); err != nil {
		return problem(http.StatusUnprocessableEntity, ProbInvalidInput, "the input does not match the workflow's input schema: %v", err)
	}
	return nil
}

func newRunID() string {
	var b [12]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}
