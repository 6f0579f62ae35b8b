package workflows

import (
	"context"
	"fmt"
	"slices"

	enumspb "go.temporal.io/api/enums/v1"
	"go.temporal.io/api/operatorservice/v1"
	"go.temporal.io/sdk/client"
	"go.temporal.io/sdk/temporal"
	"go.temporal.io/sdk/workflow"
)

// Search attributes of platform runs. They let the API list an
// organisation's runs (and its open tasks) from Temporal's visibility
// store, which is the one source of truth for run status.
var (
	AttrOrg        = temporal.NewSearchAttributeKeyKeyword("SwitchboardOrg")
	AttrDefinition = temporal.NewSearchAttributeKeyKeyword("SwitchboardDefinition")
	AttrRevision   = temporal.NewSearchAttributeKeyInt64("SwitchboardRevision")
	// AttrAssignees lists who may decide the run's open tasks:
	// `role:<role>`, `user:<user>`, or `any`. Unset when none is open.
	AttrAssignees = temporal.NewSearchAttributeKeyKeywordList("SwitchboardAssignees")
)

var searchAttributes = map[string]enumspb.IndexedValueType{
	AttrOrg.GetName():        enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrDefinition.GetName(): enumspb.INDEXED_VALUE_TYPE_KEYWORD,
	AttrRevision.GetName():   enumspb.INDEXED_VALUE_TYPE_INT,
	AttrAssignees.GetName():  enumspb.INDEXED_VALUE_TYPE_KEYWORD_LIST,
}

// RunAttributes are the search attributes a platform run starts with.
func RunAttributes(org, definition string, revision int) temporal.SearchAttributes {
	return temporal.NewSearchAttributes(AttrOrg.ValueSet(org), AttrDefinition.ValueSet(definition),
		AttrRevision.ValueSet(int64(revision)))
}

// EnsureSearchAttributes registers the platform's search attributes in a
// namespace (those missing); API and worker call it at start.
func EnsureSearchAttributes(ctx context.Context, c client.Client, namespace string) error {
	have, err := c.OperatorService().ListSearchAttributes(ctx, &operatorservice.ListSearchAttributesRequest{Namespace: namespace})
	if err != nil {
		return fmt.Errorf("list search attributes: %w", err)
	}
	missing := map[string]enumspb.IndexedValueType{}
	for name, typ := range searchAttributes {
		got, ok := have.GetCustomAttributes()[name]
		switch {
		case !ok:
			missing[name] = typ
		case got != typ:
			return fmt.Errorf("search attribute %s is registered as %s, want %s", name, got, typ)
		}
	}
	if len(missing) == 0 {
		return nil
	}
	_, err = c.OperatorService().AddSearchAttributes(ctx, &operatorservice.AddSearchAttributesRequest{
		Namespace: namespace, SearchAttributes: missing})
	if err != nil {
		return fmt.Errorf("add search attributes: %w", err)
	}
	return nil
}

// AssigneeTokens are the SwitchboardAssignees values a task is indexed
// under.
func AssigneeTokens(t *Task) []string {
	var out []string
	if t.Role != "" {
		out = append(out, "role:"+t.Role)
	}
	for _, u := range t.Users {
		out = append(out, "user:"+u)
	}
	if len(out) == 0 {
		out = append(out, "any")
	}
	return out
}

// indexTasks upserts SwitchboardAssignees to match the open tasks, for
// platform runs only (runs without an organisation record no commands,
// so histories recorded without it replay unchanged).
func (r *runner) indexTasks(ctx workflow.Context) {
	if r.in.Meta.Org == "" {
		return
	}
	var tokens []string
	for _, t := range r.openTasks() {
		for _, tok := range AssigneeTokens(t) {
			if !slices.Contains(tokens, tok) {
				tokens = append(tokens, tok)
			}
		}
	}
	upd := AttrAssignees.ValueUnset()
	if len(tokens) > 0 {
		upd = AttrAssignees.ValueSet(tokens)
	}
	if err := workflow.UpsertTypedSearchAttributes(ctx, upd); err != nil {
		workflow.GetLogger(ctx).Warn("index open tasks", "error", err)
	}
}
