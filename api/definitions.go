package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/pmezard/go-difflib/difflib"

	"switchboard/domain"
	"switchboard/dsl"
)

type SourceParams struct {
	ContentType string `header:"Content-Type" doc:"application/yaml or application/json (sniffed when absent)"`
	File        string `query:"file" maxLength:"300" doc:"The file name diagnostics report (default <name>.yaml)"`
	RawBody     []byte `contentType:"application/yaml" doc:"The workflow source, YAML or JSON, as in a flows/ file"`
}

// format is "json" or "yaml": from the content type, else sniffed.
func (in *SourceParams) format() string {
	ct := strings.ToLower(in.ContentType)
	switch {
	case strings.Contains(ct, "json"):
		return "json"
	case strings.Contains(ct, "yaml"):
		return "yaml"
	}
	if t := bytes.TrimLeft(in.RawBody, " \t\r\n\ufeff"); len(t) > 0 && t[0] == '{' {
		return "json"
	}
	return "yaml"
}

func (in *SourceParams) file(format string) string {
	if in.File != "" {
		return in.File
	}
	if format == "json" {
		return "workflow.json"
	}
	return "workflow.yaml"
}

// ValidateResult is the outcome of compiling a source without saving it.
type ValidateResult struct {
	Valid       bool             `json:"valid"`
	Name        string           `json:"name,omitempty" doc:"The workflow's name, when it compiled"`
	PlanHash    string           `json:"planHash,omitempty"`
	Diagnostics []dsl.Diagnostic `json:"diagnostics" doc:"Problems, each with file, line and column; empty when valid"`
}

// DefinitionView is a definition with its revisions' summary.
type DefinitionView struct {
	Name           string    `json:"name"`
	LatestRevision int       `json:"latestRevision"`
	LiveRevision   int       `json:"liveRevision,omitempty" doc:"The deployed revision; absent when not deployed"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

func definitionView(d *domain.Definition) DefinitionView {
	return DefinitionView{Name: d.Name, LatestRevision: d.LatestRevision, LiveRevision: d.LiveRevision,
		CreatedAt: d.CreatedAt, UpdatedAt: d.UpdatedAt}
}

// RevisionView is a revision; Source is set when asked for one revision.
type RevisionView struct {
	Definition string    `json:"definition"`
	Number     int       `json:"number"`
	PlanHash   string    `json:"planHash"`
	Format     string    `json:"format" enum:"yaml,json"`
	Author     string    `json:"author"`
	Message    string    `json:"message,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	Live       bool      `json:"live"`
	Source     string    `json:"source,omitempty"`
}

func revisionView(name string, r *domain.Revision, live int, withSource bool) RevisionView {
	v := RevisionView{Definition: name, Number: r.Number, PlanHash: r.PlanHash, Format: r.Format, Author: r.Author,
		Message: r.Message, CreatedAt: r.CreatedAt, Live: r.Number == live}
	if withSource {
		v.Source = r.Source
	}
	return v
}

type NameParam struct {
	Name string `path:"name" pattern:"^[a-z][a-z0-9-]{0,62}$" doc:"The workflow's name"`
}

type RevisionParam struct {
	NameParam
	Revision int `path:"revision" minimum:"1"`
}

type bodyOut[T any] struct {
	Body T
}

// Page is one page of a list; NextCursor is absent on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"nextCursor,omitempty" doc:"Pass as ?cursor= for the next page"`
}

type PageParams struct {
	Limit  int    `query:"limit" minimum:"0" maximum:"500" doc:"Page size (default 50)"`
	Cursor string `query:"cursor" maxLength:"2000"`
}

func (p PageParams) page() domain.Page { return domain.Page{Limit: p.Limit, After: p.Cursor} }

// nextCursor is the cursor after a full page.
func nextCursor[T any](items []T, p domain.Page, key func(T) string) string {
	if len(items) < p.Size() || len(items) == 0 {
		return ""
	}
	return key(items[len(items)-1])
}

func mustJSON(v any) json.RawMessage {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

func (s *Server) definitionRoutes() {
	op(s, domain.RoleViewer, huma.Operation{OperationID: "validate-definition", Method: http.MethodPost,
		Path: "/v1/definitions/validate", Summary: "Compile a workflow source without saving it", Tags: []string{"definitions"}},
		func(ctx context.Context, in *SourceParams) (*bodyOut[ValidateResult], error) {
			f := in.format()
			p, diags := s.compile(in.file(f), in.RawBody)
			res := ValidateResult{Valid: len(diags) == 0, Diagnostics: []dsl.Diagnostic(diags)}
			if res.Diagnostics == nil {
				res.Diagnostics = []dsl.Diagnostic{}
			}
			if p != nil {
				res.Name, res.PlanHash = p.Name, p.Hash
			}
			return &bodyOut[ValidateResult]{res}, nil
		})

	type createOut struct {
		Location string `header:"Location"`
		Body     struct {
			Definition DefinitionView `json:"definition"`
			Revision   RevisionView   `json:"revision"`
		}
	}
	type CreateParams struct {
		SourceParams
		Message string `query:"message" maxLength:"1000" doc:"Why this revision (like a commit message)"`
	}
	create := func(ctx context.Context, in *CreateParams, want string) (*createOut, error) {
		pr := principal(ctx)
		f := in.format()
		file := in.File
		if file == "" && want != "" {
			file = fileName(want, f)
		}
		if file == "" {
			file = in.file(f)
		}
		p, diags := s.compile(file, in.RawBody)
		if len(diags) > 0 {
			prob := problem(http.StatusUnprocessableEntity, ProbInvalidDSL, "the workflow does not compile: %d problem(s)", len(diags))
			prob.Diagnostics = diags
			return nil, prob
		}
		if want != "" && p.Name != want {
			return nil, problem(http.StatusUnprocessableEntity, ProbInvalidDSL,
				"the source names workflow %q but was sent to %q", p.Name, want)
		}
		var d *domain.Definition
		var r *domain.Revision
		write := func(tx domain.Repo) error {
			var err error
			d, err = tx.GetDefinition(ctx, pr.OrgID, p.Name)
			if isNotFound(err) {
				d = &domain.Definition{OrgID: pr.OrgID, Name: p.Name}
				err = tx.CreateDefinition(ctx, d)
			}
			if err != nil {
				return err
			}
			r = &domain.Revision{OrgID: pr.OrgID, DefinitionID: d.ID, Source: string(in.RawBody), Format: f,
				PlanHash: p.Hash, Author: authorOf(pr), Message: in.Message}
			if err := tx.CreateRevision(ctx, r); err != nil {
				return err
			}
			d.LatestRevision = r.Number
			return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: "definition.revision.create",
				Target: fmt.Sprintf("definition/%s@%d", p.Name, r.Number), Details: mustJSON(map[string]any{"planHash": p.Hash, "message": in.Message})})
		}
		err := s.store.Tx(ctx, write)
		if errors.Is(err, domain.ErrConflict) { // created concurrently by another request: it exists now
			err = s.store.Tx(ctx, write)
		}
		if err != nil {
			return nil, storeErr(err, "definition "+p.Name)
		}
		out := &createOut{Location: fmt.Sprintf("/v1/definitions/%s/revisions/%d", p.Name, r.Number)}
		out.Body.Definition = definitionView(d)
		out.Body.Revision = revisionView(p.Name, r, d.LiveRevision, false)
		return out, nil
	}
	op(s, domain.RoleBuilder, huma.Operation{OperationID: "create-revision", Method: http.MethodPost,
		Path: "/v1/definitions", DefaultStatus: http.StatusCreated, Tags: []string{"definitions"},
		Summary:     "Save a workflow source as a new revision",
		Description: "Compiles the source (YAML or JSON); a source that does not compile is rejected with its diagnostics and nothing is saved. The definition is created on its first revision."},
		func(ctx context.Context, in *CreateParams) (*createOut, error) { return create(ctx, in, "") })
	type createNamedInput struct {
		NameParam
		CreateParams
	}
	op(s, domain.RoleBuilder, huma.Operation{OperationID: "create-named-revision", Method: http.MethodPost,
		Path: "/v1/definitions/{name}/revisions", DefaultStatus: http.StatusCreated, Tags: []string{"definitions"},
		Summary: "Save a new revision of a named workflow (the source must carry the same name)"},
		func(ctx context.Context, in *createNamedInput) (*createOut, error) {
			return create(ctx, &in.CreateParams, in.Name)
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-definitions", Method: http.MethodGet,
		Path: "/v1/definitions", Summary: "List definitions with their live revision", Tags: []string{"definitions"}},
		func(ctx context.Context, in *PageParams) (*bodyOut[Page[DefinitionView]], error) {
			pg := in.page()
			ds, err := s.store.ListDefinitions(ctx, principal(ctx).OrgID, pg)
			if err != nil {
				return nil, storeErr(err, "definitions")
			}
			out := Page[DefinitionView]{Items: make([]DefinitionView, len(ds))}
			for i := range ds {
				out.Items[i] = definitionView(&ds[i])
			}
			out.NextCursor = nextCursor(ds, pg, func(d domain.Definition) string { return d.Name })
			return &bodyOut[Page[DefinitionView]]{out}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-definition", Method: http.MethodGet,
		Path: "/v1/definitions/{name}", Summary: "Get a definition", Tags: []string{"definitions"}},
		func(ctx context.Context, in *NameParam) (*bodyOut[DefinitionView], error) {
			d, err := s.definition(ctx, in.Name)
			if err != nil {
				return nil, err
			}
			return &bodyOut[DefinitionView]{definitionView(d)}, nil
		})

	type listRevInput struct {
		NameParam
		PageParams
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-revisions", Method: http.MethodGet,
		Path: "/v1/definitions/{name}/revisions", Summary: "List a definition's revisions, newest first", Tags: []string{"definitions"}},
		func(ctx context.Context, in *listRevInput) (*bodyOut[Page[RevisionView]], error) {
			d, err := s.definition(ctx, in.Name)
			if err != nil {
				return nil, err
			}
			pg := in.page()
			rs, err := s.store.ListRevisions(ctx, d.OrgID, d.ID, pg)
			if err != nil {
				return nil, storeErr(err, "revisions")
			}
			out := Page[RevisionView]{Items: make([]RevisionView, len(rs))}
			for i := range rs {
				out.Items[i] = revisionView(d.Name, &rs[i], d.LiveRevision, false)
			}
			out.NextCursor = nextCursor(rs, pg, func(r domain.Revision) string { return strconv.Itoa(r.Number) })
			return &bodyOut[Page[RevisionView]]{out}, nil
		})

	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-revision", Method: http.MethodGet,
		Path: "/v1/definitions/{name}/revisions/{revision}", Summary: "Get a revision with its source", Tags: []string{"definitions"}},
		func(ctx context.Context, in *RevisionParam) (*bodyOut[RevisionView], error) {
			d, r, err := s.revision(ctx, in.Name, in.Revision)
			if err != nil {
				return nil, err
			}
			return &bodyOut[RevisionView]{revisionView(d.Name, r, d.LiveRevision, true)}, nil
		})

	type sourceOut struct {
		ContentType string `header:"Content-Type"`
		Body        []byte
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "get-revision-source", Method: http.MethodGet,
		Path: "/v1/definitions/{name}/revisions/{revision}/source", Summary: "Get a revision's source text, as saved", Tags: []string{"definitions"}},
		func(ctx context.Context, in *RevisionParam) (*sourceOut, error) {
			_, r, err := s.revision(ctx, in.Name, in.Revision)
			if err != nil {
				return nil, err
			}
			ct := "application/yaml"
			if r.Format == "json" {
				ct = "application/json"
			}
			return &sourceOut{ContentType: ct, Body: []byte(r.Source)}, nil
		})

	type diffInput struct {
		NameParam
		From int `query:"from" minimum:"1" required:"true"`
		To   int `query:"to" minimum:"1" required:"true"`
	}
	type diffBody struct {
		From int    `json:"from"`
		To   int    `json:"to"`
		Diff string `json:"diff" doc:"A unified diff of the two sources; empty when they are equal"`
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "diff-revisions", Method: http.MethodGet,
		Path: "/v1/definitions/{name}/diff", Summary: "Diff two revisions' sources", Tags: []string{"definitions"}},
		func(ctx context.Context, in *diffInput) (*bodyOut[diffBody], error) {
			_, a, err := s.revision(ctx, in.Name, in.From)
			if err != nil {
				return nil, err
			}
			_, b, err := s.revision(ctx, in.Name, in.To)
			if err != nil {
				return nil, err
			}
			text, err := difflib.GetUnifiedDiffString(difflib.UnifiedDiff{
				A: difflib.SplitLines(a.Source), B: difflib.SplitLines(b.Source),
				FromFile: fmt.Sprintf("%s@%d", in.Name, in.From), ToFile: fmt.Sprintf("%s@%d", in.Name, in.To), Context: 3})
			if err != nil {
				return nil, internal(err)
			}
			return &bodyOut[diffBody]{diffBody{From: in.From, To: in.To, Diff: text}}, nil
		})

	type deployInput struct {
		NameParam
		Body struct {
			Revision int `json:"revision" minimum:"1" doc:"The revision to make live"`
		}
	}
	op(s, domain.RoleBuilder, huma.Operation{OperationID: "deploy-revision", Method: http.MethodPost,
		Path: "/v1/definitions/{name}/deployment", Summary: "Deploy a revision (make it live)", Tags: []string{"definitions"},
		Description: "New runs start on the live revision; runs in flight keep the revision they started on."},
		func(ctx context.Context, in *deployInput) (*bodyOut[DefinitionView], error) {
			return s.deploy(ctx, in.Name, in.Body.Revision)
		})
	op(s, domain.RoleBuilder, huma.Operation{OperationID: "undeploy", Method: http.MethodDelete,
		Path: "/v1/definitions/{name}/deployment", Summary: "Undeploy: no revision is live, new runs are refused", Tags: []string{"definitions"}},
		func(ctx context.Context, in *NameParam) (*bodyOut[DefinitionView], error) {
			return s.deploy(ctx, in.Name, 0)
		})
	type deploymentsInput struct {
		NameParam
		PageParams
	}
	op(s, domain.RoleViewer, huma.Operation{OperationID: "list-deployments", Method: http.MethodGet,
		Path: "/v1/definitions/{name}/deployments", Summary: "The deployment history, newest first", Tags: []string{"definitions"}},
		func(ctx context.Context, in *deploymentsInput) (*bodyOut[Page[domain.Deployment]], error) {
			d, err := s.definition(ctx, in.Name)
			if err != nil {
				return nil, err
			}
			pg := in.page()
			ds, err := s.store.ListDeployments(ctx, d.OrgID, d.ID, pg)
			if err != nil {
				return nil, storeErr(err, "deployments")
			}
			if ds == nil {
				ds = []domain.Deployment{}
			}
			return &bodyOut[Page[domain.Deployment]]{Page[domain.Deployment]{Items: ds,
				NextCursor: nextCursor(ds, pg, func(d domain.Deployment) string { return d.ID })}}, nil
		})
}

func authorOf(p *Principal) string {
	if p.Email != "" {
		return p.Email
	}
	return p.UserID
}

func (s *Server) definition(ctx context.Context, name string) (*domain.Definition, error) {
	d, err := s.store.GetDefinition(ctx, principal(ctx).OrgID, name)
	if err != nil {
		return nil, storeErr(err, "definition "+name)
	}
	return d, nil
}

func (s *Server) revision(ctx context.Context, name string, n int) (*domain.Definition, *domain.Revision, error) {
	d, err := s.definition(ctx, name)
	if err != nil {
		return nil, nil, err
	}
	r, err := s.store.GetRevision(ctx, d.OrgID, d.ID, n)
	if err != nil {
		return nil, nil, storeErr(err, fmt.Sprintf("revision %d of %s", n, name))
	}
	return d, r, nil
}

func (s *Server) deploy(ctx context.Context, name string, rev int) (*bodyOut[DefinitionView], error) {
	pr := principal(ctx)
	var d *domain.Definition
	var plan *dsl.Plan
	var had []string // the schedules of the revision live before
	err := s.store.Tx(ctx, func(tx domain.Repo) error {
		var err error
		if d, err = tx.GetDefinition(ctx, pr.OrgID, name); err != nil {
			return err
		}
		old, err := tx.ListTriggerRoutes(ctx, pr.OrgID)
		if err != nil {
			return err
		}
		for _, r := range old {
			if r.DefinitionID == d.ID && r.Kind == domain.TriggerSchedule {
				had = append(had, r.Key)
			}
		}
		var routes []domain.TriggerRoute
		if rev > 0 {
			r, err := tx.GetRevision(ctx, pr.OrgID, d.ID, rev)
			if err != nil {
				return err
			}
			if plan, err = s.revisionPlan(r, name); err != nil {
				return err
			}
			if routes, err = s.triggerRoutes(d, rev, plan); err != nil {
				return err
			}
		}
		if err := tx.Deploy(ctx, &domain.Deployment{OrgID: pr.OrgID, DefinitionID: d.ID, Revision: rev, DeployedBy: authorOf(pr)}); err != nil {
			return err
		}
		if err := tx.SetTriggerRoutes(ctx, pr.OrgID, d.ID, routes); err != nil {
			if errors.Is(err, domain.ErrConflict) {
				return problem(http.StatusConflict, ProbConflict, "a webhook path of %s is already used by another deployed workflow", name)
			}
			return err
		}
		action := "definition.deploy"
		if rev == 0 {
			action = "definition.undeploy"
		}
		d.LiveRevision = rev
		return tx.AppendAudit(ctx, &domain.AuditEntry{OrgID: pr.OrgID, Actor: pr.Actor(), Action: action,
			Target: fmt.Sprintf("definition/%s@%d", name, rev), Details: mustJSON(map[string]any{"revision": rev})})
	})
	if err != nil {
		var p *Problem
		if errors.As(err, &p) {
			return nil, p
		}
		what := "definition " + name
		if rev > 0 {
			what = fmt.Sprintf("revision %d of %s", rev, name)
		}
		return nil, storeErr(err, what)
	}
	// Temporal is not in the transaction: schedules are reconciled after
	// it, and again by the next deploy if this fails.
	if err := s.syncSchedules(ctx, d, rev, plan, had); err != nil {
		return nil, err
	}
	return &bodyOut[DefinitionView]{definitionView(d)}, nil
}
