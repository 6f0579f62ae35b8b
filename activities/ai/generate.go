package ai

import (
	"context"
	"encoding/json"

	openai "github.com/sashabaranov/go-openai"

	"switchboard/dsl"
)

func generateAction() dsl.Action {
	return dsl.Action{
		Name:  "ai.generate",
		Title: "Generate text with an AI model",
		Description: "Sends `prompt` (after an optional `system` message) to the organisation's OpenAI-compatible endpoint and returns " +
			"the model's `text`, the `model` that answered, the tokens it cost (`usage`) and why it stopped (`finishReason`: `stop`, " +
			"or `length` when `maxTokens`, default 1024, cut it). Settings: the secrets ai_api_key, ai_base_url, ai_model, " +
			"ai_token_budget. Once per step: a retry after a finished attempt returns its output without calling the model again.",
		Input: json.RawMessage(`{"type": "object", "required": ["prompt"], "additionalProperties": false, "properties": {
			"prompt": {"type": "string", "minLength": 1}, "system": {"type": "string"},
			"model": {"type": "string", "minLength": 1, "maxLength": 200},
			"maxTokens": {"type": "integer", "minimum": 1, "maximum": 200000},
			"temperature": {"type": "number", "minimum": 0, "maximum": 2}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["text", "model", "usage", "finishReason"], "properties": {
			"text": {"type": "string"}, "model": {"type": "string"}, "usage": ` + usageSchema + `, "finishReason": {"type": "string"}}}`),
		Timeout: attemptTimeout,
		Errors:  commonErrors,
	}
}

func (o Options) generate(ctx context.Context, args map[string]any) (any, error) {
	return o.run(ctx, "ai.generate", args, func(ctx context.Context, s *session) (map[string]any, error) {
		var msgs []openai.ChatCompletionMessage
		if sys, _ := args["system"].(string); sys != "" {
			msgs = append(msgs, system(sys))
		}
		prompt, _ := args["prompt"].(string)
		r := request{messages: append(msgs, user(prompt)), maxTokens: intArg(args, "maxTokens")}
		if t, ok := numberArg(args, "temperature"); ok {
			r.temperature = &t
		}
		ans, err := s.chat(ctx, r)
		if err != nil {
			return nil, err
		}
		return map[string]any{"text": ans.text, "model": ans.model, "usage": s.used.output(), "finishReason": ans.finish}, nil
	})
}

// intArg is an integer argument; 0 when absent.
func intArg(args map[string]any, name string) int {
	switch v := args[name].(type) {
	case int64:
		return int(v)
	case float64:
		return int(v)
	}
	return 0
}

// numberArg is a number argument.
func numberArg(args map[string]any, name string) (float64, bool) {
	switch v := args[name].(type) {
	case int64:
		return float64(v), true
	case float64:
		return v, true
	}
	return 0, false
}
