package ai

import (
	"context"
	"encoding/json"
	"slices"

	openai "github.com/sashabaranov/go-openai"

	"switchboard/dsl"
)

// scoreSchema checks a score answer.
var scoreSchema = `{"type": "object", "required": ["score", "reasons"], "properties": {
	"score": {"type": "integer", "minimum": 0, "maximum": 100}, "reasons": {"type": "array", "items": {"type": "string"}}}}`

func scoreAction() dsl.Action {
	return dsl.Action{
		Name:  "ai.score",
		Title: "Score text against criteria with an AI model",
		Description: "Asks the model how well `text` meets `criteria`: `score` is a whole number from 0 (not at all) to 100 " +
			"(fully), `reasons` a few short sentences saying why. An answer that is not such an object is sent back once; then " +
			"the step fails with `AIInvalidOutput`. Once per step.",
		Input: json.RawMessage(`{"type": "object", "required": ["text", "criteria"], "additionalProperties": false, "properties": {
			"text": {"type": "string", "minLength": 1}, "criteria": {"type": "string", "minLength": 1},
			"model": {"type": "string", "minLength": 1, "maxLength": 200}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["score", "reasons", "usage", "model"], "properties": {
			"score": {"type": "integer", "minimum": 0, "maximum": 100}, "reasons": {"type": "array", "items": {"type": "string"}},
			"usage": ` + usageSchema + `, "model": {"type": "string"}}}`),
		Timeout: attemptTimeout,
		Errors:  append(slices.Clone(commonErrors), ErrInvalidOutput),
	}
}

func (o Options) score(ctx context.Context, args map[string]any) (any, error) {
	sch, err := dsl.CompileSchema(json.RawMessage(scoreSchema))
	if err != nil {
		return nil, err
	}
	return o.run(ctx, "ai.score", args, func(ctx context.Context, s *session) (map[string]any, error) {
		text, _ := args["text"].(string)
		criteria, _ := args["criteria"].(string)
		sys := "You score how well the text the user gives meets these criteria:\n" + criteria + "\n\n" + jsonReply +
			` It has two fields: "score", a whole number from 0 (does not meet the criteria at all) to 100 (meets them fully), ` +
			`and "reasons", a list of at most five short sentences, each a reason for the score.`
		r := request{messages: []openai.ChatCompletionMessage{system(sys), user(text)}}
		v, ans, _, err := s.structured(ctx, r, func(v any) (any, string) {
			if _, ok := v.(map[string]any); !ok {
				return nil, "the answer is not a JSON object"
			}
			return v, checkSchema(sch, v)
		})
		if err != nil {
			return nil, err
		}
		m := v.(map[string]any)
		n, _ := numberArg(m, "score")
		reasons := []any{}
		if rs, ok := m["reasons"].([]any); ok {
			reasons = rs
		}
		return map[string]any{"score": int64(n), "reasons": reasons, "usage": s.used.output(), "model": ans.model}, nil
	})
}
