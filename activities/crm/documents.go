package crm

import (
	"context"
	"encoding/json"

	"switchboard/dsl"
)

// docs.render and esign.request: documents from the organisation's
// templates, and signing requests for contracts (the platform's own
// e-signature: a public signing page, append-only signatures).

func documentActions() []dsl.Action {
	errs := []string{ErrNotFound, ErrConflict, ErrValidation, ErrInvalidTransition, ErrNoRecords}
	return []dsl.Action{{
		Name:  "docs.render",
		Title: "Render a document",
		Description: "Renders one of the organisation's templates (PUT /v1/contract-templates/<name>) with `data` (`.Data` in the template; " +
			"`.Customer` too with `customerId`) into HTML, stored with its SHA-256 (GET /v1/documents/<id>). The output names the document " +
			"and its hash, not the HTML. Lists in `data` hold at most 1,000 items. Once per step. Emits `document.rendered`.",
		Input: json.RawMessage(`{"type": "object", "required": ["template"], "additionalProperties": false, "properties": {
			"template": {"type": "string", "minLength": 1}, "title": {"type": "string", "maxLength": 200}, "customerId": {"type": "string"},
			"data": {"type": "object"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["documentId", "sha256", "bytes"], "properties": {
			"documentId": {"type": "string"}, "sha256": {"type": "string"}, "bytes": {"type": "integer"}, "title": {"type": "string"}}}`),
		Errors: errs,
	}, {
		Name:  "esign.request",
		Title: "Request a signature",
		Description: "Sends a contract (made by crm.contract.create) for signature and returns its public signing link (`url`, valid 30 days; " +
			"earlier links stop working). The signer reads the document and its SHA-256 and signs by typing their name; the signature " +
			"emits `contract.signed`, which an `event` trigger turns into a signal to this run. Emits `contract.sent`.",
		Input: json.RawMessage(`{"type": "object", "required": ["contractId"], "additionalProperties": false, "properties": {
			"contractId": {"type": "string", "minLength": 1}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["contractId", "url", "status", "documentHash"], "properties": {
			"contractId": {"type": "string"}, "url": {"type": "string"}, "status": {"type": "string"}, "documentHash": {"type": "string"},
			"signerName": {"type": "string"}, "signerEmail": {"type": "string"}}}`),
		Errors: errs,
	}}
}

func (a *actions) renderDocument(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	tpl, _ := args["template"].(string)
	title, _ := args["title"].(string)
	cust, _ := args["customerId"].(string)
	data, _ := args["data"].(map[string]any)
	d, err := a.svc.RenderDocument(changing(ctx), k.actor, k.org, tpl, title, cust, data)
	if err != nil {
		return nil, err
	}
	out := map[string]any{"documentId": d.ID, "sha256": d.SHA256, "bytes": len(d.HTML)}
	if d.Title != "" {
		out["title"] = d.Title
	}
	return out, nil
}

func (a *actions) requestSignature(ctx context.Context, args map[string]any) (any, error) {
	k := callOf(ctx)
	sent, err := a.svc.SendContract(changing(ctx), k.actor, k.org, args["contractId"].(string))
	if err != nil {
		return nil, err
	}
	c := sent.Contract
	out := map[string]any{"contractId": c.ID, "url": a.link("contracts", sent.Token), "status": c.Status, "documentHash": c.DocumentHash}
	if c.SignerName != "" {
		out["signerName"] = c.SignerName
	}
	if c.SignerEmail != "" {
		out["signerEmail"] = c.SignerEmail
	}
	return out, nil
}
