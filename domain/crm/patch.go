package crm

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"switchboard/domain"
)

// readOnly are the customer fields a patch cannot set.
var readOnly = map[string]bool{"id": true, "version": true, "createdAt": true, "updatedAt": true}

// PatchCustomer applies a JSON merge patch (RFC 7396) of the customer's
// writable fields to c: members set fields, null clears them, objects merge.
// Read-only, unknown and mistyped members are a *domain.ValidationError
// naming them; c is unchanged then.
func PatchCustomer(c *domain.Customer, patch map[string]any) error {
	return patchRecord(c, "customer", patch)
}

// PatchOpportunity is PatchCustomer for deals; the stage and the close
// date change only by moving the deal (MoveOpportunity).
func PatchOpportunity(o *domain.Opportunity, patch map[string]any) error {
	return patchRecord(o, "opportunity", patch, "stage", "actualClose", "lostReason")
}

// PatchQuote is PatchCustomer for a draft quote: its lines, currency,
// validity and notes; the rest is the server's.
func PatchQuote(q *domain.Quote, patch map[string]any) error {
	return patchRecord(q, "quote", patch, "opportunityId", "customerId", "totals", "status", "runId", "sentAt", "decidedAt", "decision")
}

// PatchTicket is PatchCustomer for a ticket's subject, description,
// priority, category and SLA policy; the rest changes through the
// ticket's own actions (status, assignment, messages, rating).
func PatchTicket(t *domain.Ticket, patch map[string]any) error {
	return patchRecord(t, "ticket", patch, "customerId", "status", "assigneeId", "firstResponseDue", "resolutionDue", "firstResponseAt",
		"resolvedAt", "closedAt", "firstResponseBreached", "resolutionBreached", "satisfaction", "runId")
}

// PatchCampaign is PatchCustomer for a campaign's name, type, audience,
// content and schedule; the status changes by MoveCampaign.
func PatchCampaign(c *domain.Campaign, patch map[string]any) error {
	return patchRecord(c, "campaign", patch, "status", "metrics")
}

func patchRecord[T any](rec *T, record string, patch map[string]any, alsoReadOnly ...string) error {
	var fields []domain.FieldError
	for k := range patch {
		if readOnly[k] || slices.Contains(alsoReadOnly, k) {
			fields = append(fields, domain.FieldError{Field: k, Message: "is read-only"})
		}
	}
	if len(fields) > 0 {
		return &domain.ValidationError{Record: record, Fields: fields}
	}
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		return err
	}
	mergePatch(doc, patch)
	b, _ = json.Marshal(doc)
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	var out T
	if err := dec.Decode(&out); err != nil {
		f := domain.FieldError{Field: "", Message: err.Error()}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			f = domain.FieldError{Field: te.Field, Message: fmt.Sprintf("expected %s, got %s", jsonType(te.Type.Kind().String()), te.Value)}
		} else if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			f = domain.FieldError{Field: strings.Trim(name, `"`), Message: "is not a field of a " + record}
		}
		return &domain.ValidationError{Record: record, Fields: []domain.FieldError{f}}
	}
	setOrg(&out, orgOf(rec))
	*rec = out
	return nil
}

func jsonType(kind string) string {
	switch {
	case strings.HasPrefix(kind, "int"), strings.HasPrefix(kind, "uint"):
		return "an integer"
	case strings.HasPrefix(kind, "float"):
		return "a number"
	case kind == "slice":
		return "an array"
	case kind == "struct", kind == "map", kind == "ptr":
		return "an object"
	}
	return "a " + kind
}

// mergePatch applies patch to doc in place (RFC 7396).
func mergePatch(doc, patch map[string]any) {
	for k, v := range patch {
		switch pv := v.(type) {
		case nil:
			delete(doc, k)
		case map[string]any:
			sub, _ := doc[k].(map[string]any)
			if sub == nil {
				sub = map[string]any{}
			}
			mergePatch(sub, pv)
			doc[k] = sub
		default:
			doc[k] = pv
		}
	}
}
