package ai

import (
	"context"
	"encoding/json"
	"slices"

	"github.com/santhosh-tekuri/jsonschema/v6"
	openai "github.com/sashabaranov/go-openai"
	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/dsl"
)

func extractAction() dsl.Action {
	return dsl.Action{
		Name:  "ai.extract",
		Title: "Extract structured data with an AI model",
		Description: "Asks the model for the data in `text` as one JSON object valid against `schema` (a JSON Schema of an object; " +
			"references to other documents are not loaded), following the optional `instructions`, and returns it as `data`. " +
			"An answer that is not valid JSON or breaks the schema is sent back once with the reasons; if the second answer is " +
			"not valid either, the step fails with `AIInvalidOutput` (not retried) naming the violations. `usage` counts both " +
			"requests; `repaired` says the second was needed. Once per step.",
		Input: json.RawMessage(`{"type": "object", "required": ["text", "schema"], "additionalProperties": false, "properties": {
			"text": {"type": "string", "minLength": 1}, "schema": {"type": "object"}, "instructions": {"type": "string"},
			"model": {"type": "string", "minLength": 1, "maxLength": 200},
			"maxTokens": {"type": "integer", "minimum": 1, "maximum": 200000}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["data", "model", "usage", "repaired"], "properties": {
			"data": {"type": "object"}, "model": {"type": "string"}, "usage": ` + usageSchema + `, "repaired": {"type": "boolean"}}}`),
		Timeout: attemptTimeout,
		Errors:  append(slices.Clone(commonErrors), ErrInvalidOutput, activities.InvalidArguments),
	}
}

func (o Options) extract(ctx context.Context, args map[string]any) (any, error) {
	schema, _ := args["schema"].(map[string]any)
	doc, err := dsl.MarshalJSON(schema)
	if err == nil && !describesObject(schema["type"]) {
		return nil, temporal.NewNonRetryableApplicationError(`ai.extract: schema must describe an object ("type": "object"): `+
			"the model answers one JSON object", activities.InvalidArguments, nil)
	}
	var sch *jsonschema.Schema
	if err == nil {
		sch, err = dsl.CompileSchema(doc)
	}
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("ai.extract: schema: "+truncate(err.Error(), 300), activities.InvalidArguments, nil)
	}
	return o.run(ctx, "ai.extract", args, func(ctx context.Context, s *session) (map[string]any, error) {
		text, _ := args["text"].(string)
		sys := "You extract data from the text the user gives. " + jsonReply + " The object must be valid against this JSON Schema:\n" +
			string(doc) + "\nLeave out (or set to null, where the schema allows) what the text does not say; never invent values."
		r := request{messages: []openai.ChatCompletionMessage{system(withInstructions(sys, args)), user(text)}, maxTokens: intArg(args, "maxTokens")}
		v, ans, repaired, err := s.structured(ctx, r, func(v any) (any, string) {
			if _, ok := v.(map[string]any); !ok {
				return nil, "the answer is not a JSON object"
			}
			return v, checkSchema(sch, v)
		})
		if err != nil {
			return nil, err
		}
		return map[string]any{"data": v, "model": ans.model, "usage": s.used.output(), "repaired": repaired}, nil
	})
}

// describesObject says a schema's "type" admits an object (or is absent).
func describesObject(t any) bool {
	switch t := t.(type) {
	case nil:
		return true
	case string:
		return t == "object"
	case []any:
		return slices.Contains(t, any("object"))
	}
	return false
}
