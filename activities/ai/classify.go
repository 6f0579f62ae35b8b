package ai

import (
	"cmp"
	"context"
	"encoding/json"
	"slices"
	"strings"

	openai "github.com/sashabaranov/go-openai"
	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/dsl"
)

func classifyAction() dsl.Action {
	return dsl.Action{
		Name:  "ai.classify",
		Title: "Classify text with an AI model",
		Description: "Asks the model which one of `labels` fits `text` (following the optional `instructions`) and how sure it is: " +
			"`label` is always one of `labels`, as written there (an answer differing only in case or surrounding spaces is " +
			"mapped to it), `confidence` a number from 0 to 1, the model's own estimate. An answer with another label or no " +
			"confidence is sent back once; then the step fails with `AIInvalidOutput`. Once per step.",
		Input: json.RawMessage(`{"type": "object", "required": ["text", "labels"], "additionalProperties": false, "properties": {
			"text": {"type": "string", "minLength": 1},
			"labels": {"type": "array", "minItems": 2, "maxItems": 200, "uniqueItems": true, "items": {"type": "string", "minLength": 1, "maxLength": 200}},
			"instructions": {"type": "string"}, "model": {"type": "string", "minLength": 1, "maxLength": 200}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["label", "confidence", "usage", "model"], "properties": {
			"label": {"type": "string"}, "confidence": {"type": "number", "minimum": 0, "maximum": 1},
			"usage": ` + usageSchema + `, "model": {"type": "string"}}}`),
		Timeout: attemptTimeout,
		Errors:  append(slices.Clone(commonErrors), ErrInvalidOutput),
	}
}

func (o Options) classify(ctx context.Context, args map[string]any) (any, error) {
	var labels []any
	if l, ok := args["labels"].([]any); ok {
		labels = l
	}
	sch, err := compile(map[string]any{"type": "object", "required": []any{"label", "confidence"}, "properties": map[string]any{
		"label":      map[string]any{"enum": labels},
		"confidence": map[string]any{"type": "number", "minimum": 0, "maximum": 1},
	}})
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError("ai.classify: labels: "+truncate(err.Error(), 300), activities.InvalidArguments, nil)
	}
	return o.run(ctx, "ai.classify", args, func(ctx context.Context, s *session) (map[string]any, error) {
		list, _ := dsl.MarshalJSON(labels)
		text, _ := args["text"].(string)
		sys := "You classify the text the user gives into exactly one of these labels: " + string(list) + ". " + jsonReply +
			` It has two fields: "label", one of the labels written exactly as given, and "confidence", how likely it is that ` +
			"the label is right, a number from 0 to 1."
		r := request{messages: []openai.ChatCompletionMessage{system(withInstructions(sys, args)), user(text)}}
		v, ans, _, err := s.structured(ctx, r, func(v any) (any, string) {
			m, ok := v.(map[string]any)
			if !ok {
				return nil, "the answer is not a JSON object"
			}
			if l, ok := m["label"].(string); ok {
				m["label"] = canonicalLabel(l, labels)
			}
			return m, checkSchema(sch, m)
		})
		if err != nil {
			return nil, err
		}
		m := v.(map[string]any)
		conf, _ := numberArg(m, "confidence")
		return map[string]any{"label": m["label"], "confidence": conf, "usage": s.used.output(), "model": ans.model}, nil
	})
}

// canonicalLabel is the label l stands for: itself, or the one label equal
// to it but for case and surrounding spaces.
func canonicalLabel(l string, labels []any) string {
	if slices.Contains(labels, any(l)) {
		return l
	}
	found := ""
	for _, x := range labels {
		if s, _ := x.(string); strings.EqualFold(strings.TrimSpace(l), strings.TrimSpace(s)) {
			if found != "" {
				return l // ambiguous
			}
			found = s
		}
	}
	return cmp.Or(found, l)
}
