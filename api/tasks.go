package api

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/workflowservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"

	"switchboard/domain"
	"switchboard/workflows"
)

// TaskView is an open human task with the run it belongs to.
type TaskView struct {
	workflows.Task
	Run        string `json:"run" doc:"The run's id"`
	Definition string `json:"definition"`
}

// Decision is a caller's decision on a task.
type Decision struct {
	Approved bool            `json:"approved"`
	Comment  string          `json:"comment,omitempty" maxLength:"4000"`
	Data     json.RawMessage `json:"data,omitempty" doc:"Form data, validated against the task's form schema"`
}

// mayDecide reports whether a caller may decide t (the interpreter checks
// it again).
func mayDecide(p *Principal, t *workflows.Task) bool {
	if len(t.Users) > 0 && !slices.Contains(t.Users, p.Email) && !slices.Contains(t.Users, p.UserID) {
		return false
	}
	return t.Role == "" || p.Role.AtLeast(domain.Role(t.Role))
}

// callerTokens are the SwitchboardAssignees values whose tasks a caller may see.
func callerTokens(p *Principal) []string {
	out := []string{"any"}
	for _, r := range domain.Roles {
		if p.Role.AtLeast(r) {
			out = append(out, "role:"+string(r))
		}
	}
	if p.Email != "" {
		out = append(out, "user:"+p.Email)
	}
	return append(out, "user:"+p.UserID)
}

func (s *Server) taskRoutes() {
	type listInput struct {
		Definition string `query:"definition" pattern:"^[a-z][a-z0-9-]{0,62}$"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-tasks", Method: http.MethodGet, Path: "/v1/tasks",
		Summary: "List the open approval tasks the caller may decide", Tags: []string{"tasks"},
		Description: "A task assigned to a role is listed for callers with that role or a higher one; a task assigned to users, for those users (by email or user id)."},
		func(ctx context.Context, in *listInput) (*bodyOut[Page[TaskView]], error) {
			pr := principal(ctx)
			toks := callerTokens(pr)
			quoted := make([]string, len(toks))
			for i, t := range toks {
				quoted[i] = quote(t)
			}
			q := workflows.AttrOrg.GetName() + " = " + quote(pr.OrgID) + " AND ExecutionStatus = 'Running' AND " +
				workflows.AttrAssignees.GetName() + " IN (" + strings.Join(quoted, ", ") + ")"
			if in.Definition != "" {
				q += " AND " + workflows.AttrDefinition.GetName() + " = " + quote(in.Definition)
			}
			tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
			defer cancel()
			var runs []RunSummary
			var token []byte
			for {
				resp, err := s.temporal.ListWorkflow(tctx, &workflowservice.ListWorkflowExecutionsRequest{
					Namespace: s.opts.Namespace, PageSize: 500, NextPageToken: token, Query: q})
				if err != nil {
					return nil, temporalErr(err, "tasks")
				}
				for _, info := range resp.GetExecutions() {
					runs = append(runs, summaryOf(info, pr.OrgID))
				}
				if token = resp.GetNextPageToken(); len(token) == 0 || len(runs) >= 2000 {
					break
				}
			}
			// ask each run for its open tasks, a few at a time
			results := make([][]TaskView, len(runs))
			sem := make(chan struct{}, 16)
			var wg sync.WaitGroup
			for i, r := range runs {
				wg.Add(1)
				sem <- struct{}{}
				go func() {
					defer func() { <-sem; wg.Done() }()
					v, err := s.temporal.QueryWorkflow(tctx, pr.OrgID+"/"+r.ID, "", workflows.QueryTasks)
					var ts []*workflows.Task
					if err != nil || v.Get(&ts) != nil {
						return // finished meanwhile, or its worker is down: not listed
					}
					for _, t := range ts {
						if mayDecide(pr, t) {
							results[i] = append(results[i], TaskView{Task: *t, Run: r.ID, Definition: r.Definition})
						}
					}
				}()
			}
			wg.Wait()
			out := Page[TaskView]{Items: []TaskView{}}
			for _, r := range results {
				out.Items = append(out.Items, r...)
			}
			slices.SortStableFunc(out.Items, func(a, b TaskView) int { return a.CreatedAt.Compare(b.CreatedAt) })
			return &bodyOut[Page[TaskView]]{out}, nil
		})

	type decideInput struct {
		Run  string `path:"id" maxLength:"400"`
		Task string `path:"task" maxLength:"400" doc:"The task id, or the approval step's id"`
		Body Decision
	}
	type decideOut struct {
		Body struct {
			Task     string `json:"task"`
			Approved bool   `json:"approved"`
		}
	}
	op(s, domain.RoleOperator, huma.Operation{OperationID: "decide-task", Method: http.MethodPost, Path: "/v1/runs/{id}/tasks/{task}/decision",
		Summary: "Approve or reject an open task", Tags: []string{"tasks"},
		Description: "The decision is checked by the run itself (assignee, role, form data) before it is accepted. A task already decided answers 409."},
		func(ctx context.Context, in *decideInput) (*decideOut, error) {
			res, err := s.decide(ctx, in.Run, in.Task, in.Body)
			if err != nil {
				return nil, err
			}
			out := &decideOut{}
			out.Body.Task, _ = res["task"].(string)
			out.Body.Approved = in.Body.Approved
			return out, nil
		})
}

// decide decides a task of a run of the principal's organisation as the
// principal (the API, or a Slack button resolved to a platform user): the
// run's update validator checks the assignee, role and form; the decision
// is audited.
func (s *Server) decide(ctx context.Context, run, task string, in Decision) (map[string]any, error) {
	pr := principal(ctx)
	if !pr.Role.AtLeast(domain.RoleOperator) {
		// the API route asks the same; a Slack click must too
		return nil, problem(http.StatusForbidden, ProbForbidden, "deciding tasks needs the operator role or above (%s has %s)", pr.Email, pr.Role)
	}
	info, err := s.describe(ctx, run)
	if err != nil {
		return nil, err
	}
	if info.GetStatus() != enumspb.WORKFLOW_EXECUTION_STATUS_RUNNING {
		return nil, problem(http.StatusConflict, ProbConflict, "run %s has finished (%s): its tasks are closed", run, statusNames[info.GetStatus()])
	}
	by := pr.Email
	if by == "" {
		by = pr.UserID
	}
	d := workflows.Decision{Task: task, Approved: in.Approved, Comment: in.Comment, Data: in.Data, By: by, Roles: []string{string(pr.Role)}}
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	h, err := s.temporal.UpdateWorkflow(tctx, client.UpdateWorkflowOptions{WorkflowID: s.workflowID(ctx, run),
		UpdateName: workflows.UpdateDecide, Args: []any{d}, WaitForStage: client.WorkflowUpdateStageCompleted})
	var res map[string]any
	if err == nil {
		err = h.Get(tctx, &res)
	}
	if err != nil {
		return nil, decisionErr(err, run, task)
	}
	s.audit(ctx, "task.decide", "run/"+run+"/task/"+task, map[string]any{"approved": d.Approved, "comment": d.Comment})
	return res, nil
}

// decisionErr maps the interpreter's typed rejections to problems.
func decisionErr(err error, run, task string) error {
	var ae *temporal.ApplicationError
	if errors.As(err, &ae) {
		switch ae.Type() {
		case workflows.ErrTaskDecided:
			return problem(http.StatusConflict, ProbConflict, "%s", ae.Message())
		case workflows.ErrTaskNotFound:
			return problem(http.StatusNotFound, ProbNotFound, "%s", ae.Message())
		case workflows.ErrNotAssignee:
			return problem(http.StatusForbidden, ProbForbidden, "%s", ae.Message())
		case workflows.ErrFormInvalid:
			return problem(http.StatusUnprocessableEntity, ProbInvalidInput, "%s", ae.Message())
		}
		return problem(http.StatusBadRequest, ProbBadRequest, "%s", ae.Message())
	}
	return temporalErr(err, "run "+run)
}
