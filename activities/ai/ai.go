package ai

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/santhosh-tekuri/jsonschema/v6"
	openai "github.com/sashabaranov/go-openai"
	"go.temporal.io/sdk/activity"
	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	httpact "switchboard/activities/http"
	"switchboard/domain"
	"switchboard/dsl"
)

// Error types of the ai.* actions.
const (
	// ErrNotConfigured: no endpoint (neither key nor base URL), or a setting
	// that cannot be used. Not retried.
	ErrNotConfigured = "AINotConfigured"
	// ErrAuth: the endpoint refused the key (HTTP 401/403). Not retried.
	ErrAuth = "AIAuth"
	// ErrRateLimited: HTTP 429; retried, after the provider's Retry-After
	// when it sends one (not retried when the account's quota is used up).
	ErrRateLimited = "AIRateLimited"
	// ErrUnavailable: the endpoint cannot be reached, times out, fails
	// (5xx, 408) or answers something that is not a chat completion. Retried.
	ErrUnavailable = "AIUnavailable"
	// ErrRequestRejected: any other 4xx (unknown model, bad parameter, a
	// request too long for the model, ...). Not retried.
	ErrRequestRejected = "AIRequestRejected"
	// ErrInvalidOutput: a structured answer still invalid after the repair
	// request. Not retried.
	ErrInvalidOutput = "AIInvalidOutput"
	// ErrBudgetExceeded: the organisation's tokens for the month are used
	// up. Not retried.
	ErrBudgetExceeded = "AIBudgetExceeded"
)

// The organisation's secrets the actions read (PUT /v1/secrets/{name}).
const (
	SecretAPIKey  = "ai_api_key"
	SecretBaseURL = "ai_base_url"
	SecretModel   = "ai_model"
	SecretBudget  = "ai_token_budget"
)

const (
	// DefaultModel is the model when neither the step, the organisation
	// nor the worker names one.
	DefaultModel = "gpt-4o-mini"
	// DefaultMaxTokens caps an answer when the step sets no maxTokens: the
	// output is kept in the run's history.
	DefaultMaxTokens = 1024
	// attemptTimeout is each attempt's limit when the step sets none.
	attemptTimeout = 2 * time.Minute
	// maxRetryDelay bounds the wait a provider's Retry-After asks for.
	maxRetryDelay = 10 * time.Minute
	// messageRunes bounds the provider text an error carries.
	messageRunes = 300
)

// Config is where and how the actions call a model.
type Config struct {
	// BaseURL of the OpenAI-compatible API, with its version path
	// (http://localhost:11434/v1 for Ollama); empty: OpenAI's.
	BaseURL string
	// APIKey, sent as a bearer token; may be empty for a local endpoint.
	APIKey string
	// Model when the step names none; empty: DefaultModel.
	Model string
	// Budget is the tokens an organisation may use per calendar month
	// (UTC); 0: no limit. Only enforced with a Store.
	Budget int64
}

// Options configure the connector; the zero value works outside the
// platform as soon as Defaults (or an organisation's secrets) name an
// endpoint.
type Options struct {
	// Secrets holds the organisations' AI settings (ai_api_key,
	// ai_base_url, ai_model, ai_token_budget), which override Defaults.
	Secrets activities.Secrets
	// Store keeps the organisations' token usage and the actions' results;
	// without it budgets are not enforced and a retried activity calls the
	// model again.
	Store domain.Store
	// Defaults are the worker's settings.
	Defaults Config
	// HTTPClient calls the endpoint; nil: a client without a timeout of its
	// own (each attempt's deadline bounds it).
	HTTPClient *http.Client
	// OrgHTTPClient calls an endpoint an organisation's ai_base_url names
	// (not the worker's): the catalog gives it http.request's network
	// policy, so that an organisation cannot reach the worker's private
	// network through it. Nil: HTTPClient.
	OrgHTTPClient *http.Client
}

// Actions declares the connector's actions.
func Actions() []dsl.Action {
	return []dsl.Action{generateAction(), extractAction(), classifyAction(), scoreAction()}
}

// Implementations returns each action's implementation by name.
func Implementations(o Options) map[string]activities.Func {
	return map[string]activities.Func{
		"ai.generate": o.generate,
		"ai.extract":  o.extract,
		"ai.classify": o.classify,
		"ai.score":    o.score,
	}
}

// usageSchema is the JSON Schema of every action's `usage` output.
const usageSchema = `{"type": "object", "additionalProperties": false, "required": ["promptTokens", "completionTokens", "totalTokens"],
	"properties": {"promptTokens": {"type": "integer", "minimum": 0}, "completionTokens": {"type": "integer", "minimum": 0},
	"totalTokens": {"type": "integer", "minimum": 0}}}`

// commonErrors are the error types every action can fail with.
var commonErrors = []string{ErrNotConfigured, ErrAuth, ErrRateLimited, ErrUnavailable, ErrRequestRejected, ErrBudgetExceeded}

// usage counts the tokens of one call's answers.
type usage struct{ prompt, completion, total int64 }

func (u *usage) add(r openai.Usage) {
	u.prompt += int64(r.PromptTokens)
	u.completion += int64(r.CompletionTokens)
	u.total += int64(cmp.Or(r.TotalTokens, r.PromptTokens+r.CompletionTokens))
}

func (u usage) output() map[string]any {
	return map[string]any{"promptTokens": u.prompt, "completionTokens": u.completion, "totalTokens": u.total}
}

// session is one attempt of one action call.
type session struct {
	action string
	// org and key are the organisation's run and the activity's
	// idempotency key; empty outside the platform.
	org, key string
	// store records usage and results; nil when there is no store or no org.
	store  domain.Store
	month  string // "2006-01", UTC: the month the tokens count for
	cfg    Config
	model  string
	client *openai.Client
	used   usage // the tokens of this attempt's answers
	// secrets are the strings no error may carry.
	secrets []string
}

// body is an action's work in a session; its output is recorded as is.
type body func(ctx context.Context, s *session) (map[string]any, error)

// run opens a session for the call and runs fn in it, with the platform's
// budget check, usage accounting and idempotency when there is a platform.
func (o Options) run(ctx context.Context, action string, args map[string]any, fn body) (any, error) {
	s := o.open(ctx, action)
	if s.store != nil {
		// a finished attempt's output first: a retry depends on nothing else
		if out, ok, err := s.stored(ctx); err != nil || ok {
			return out, err
		}
	}
	if err := o.configure(ctx, s, args); err != nil {
		return nil, err
	}
	if s.store != nil {
		if err := s.checkBudget(ctx); err != nil {
			return nil, err
		}
	}
	out, err := fn(ctx, s)
	if s.store == nil {
		if err != nil {
			return nil, err
		}
		return out, nil
	}
	if err != nil {
		s.recordUsage(ctx) // the answers were paid for even so
		return nil, err
	}
	return s.finish(ctx, out)
}

// open resolves where the call runs: an organisation's run on the platform
// (recorded when there is a store) or not.
func (o Options) open(ctx context.Context, action string) *session {
	s := &session{action: action, month: time.Now().UTC().Format("2006-01")}
	if activity.IsActivity(ctx) {
		// outside an organisation's run (`switchboard run`) CallOf fails
		// with NoRecords: the call goes on with the worker's defaults only
		if call, err := activities.CallOf(ctx, action); err == nil {
			s.org, s.key = call.Org, call.Key
		}
	}
	if o.Store != nil && s.org != "" {
		s.store = o.Store
	}
	return s
}

// configure reads the session's settings and makes its client.
func (o Options) configure(ctx context.Context, s *session, args map[string]any) error {
	cfg, err := o.config(ctx, s.action, s.org)
	if err != nil {
		return err
	}
	s.cfg = cfg
	if cfg.BaseURL == "" && cfg.APIKey == "" {
		return temporal.NewNonRetryableApplicationError(s.action+": no AI endpoint is configured: set the secret "+SecretAPIKey+
			" (and "+SecretBaseURL+" for a non-OpenAI endpoint, such as http://localhost:11434/v1 for Ollama)", ErrNotConfigured, nil)
	}
	s.secrets = secretsOf(cfg)
	cc := openai.DefaultConfig(cfg.APIKey)
	if cfg.BaseURL != "" {
		u, err := url.Parse(cfg.BaseURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return temporal.NewNonRetryableApplicationError(s.action+": the AI base URL (secret "+SecretBaseURL+
				") is not an http(s) URL such as https://api.openai.com/v1", ErrNotConfigured, nil)
		}
		cc.BaseURL = strings.TrimRight(cfg.BaseURL, "/")
	}
	cc.HTTPClient = cmp.Or(o.HTTPClient, defaultHTTPClient)
	if cfg.BaseURL != "" && cfg.BaseURL != o.Defaults.BaseURL && o.OrgHTTPClient != nil {
		cc.HTTPClient = o.OrgHTTPClient
	}
	s.client = openai.NewClientWithConfig(cc)
	m, _ := args["model"].(string)
	s.model = cmp.Or(m, cfg.Model, DefaultModel)
	return nil
}

var defaultHTTPClient = &http.Client{}

// config is the organisation's settings over the defaults (the defaults
// alone without an organisation).
func (o Options) config(ctx context.Context, action, org string) (Config, error) {
	cfg := o.Defaults
	if org == "" {
		return cfg, nil
	}
	var vals [4]string
	for i, name := range []string{SecretAPIKey, SecretBaseURL, SecretModel, SecretBudget} {
		v, err := activities.Setting(ctx, o.Secrets, org, name)
		if err != nil {
			// the store, or a secret that cannot be opened: the reason
			// only, never a value; retried
			return cfg, fmt.Errorf("%s: reading the organisation's AI settings: %w", action, err)
		}
		vals[i] = v
	}
	key, base, model, budget := vals[0], vals[1], vals[2], vals[3]
	// an organisation's base URL that is the worker's, without a key of its
	// own, is the worker's endpoint (and its budget)
	sameAsWorker := key == "" && base != "" && strings.TrimRight(base, "/") == strings.TrimRight(o.Defaults.BaseURL, "/")
	own := (key != "" || base != "") && !sameAsWorker
	if own {
		// the organisation's endpoint: the worker's key is never sent to it
		cfg.APIKey, cfg.BaseURL = key, base
	}
	if model != "" {
		cfg.Model = model
	}
	if budget != "" {
		b, err := strconv.ParseInt(budget, 10, 64)
		if err != nil || b < 0 {
			return cfg, temporal.NewNonRetryableApplicationError(action+": the secret "+SecretBudget+
				" must be a whole number of tokens per month (0 or none: no limit)", ErrNotConfigured, nil)
		}
		switch {
		case own || o.Defaults.Budget == 0:
			cfg.Budget = b
		case b > 0:
			// on the worker's endpoint an organisation may lower the
			// worker's budget, not raise it
			cfg.Budget = min(b, o.Defaults.Budget)
		}
	}
	return cfg, nil
}

// secretsOf lists the strings of cfg no message may carry: the key and the
// base URL's credentials (user info and query values).
func secretsOf(cfg Config) []string {
	var out []string
	if cfg.APIKey != "" {
		out = append(out, cfg.APIKey)
	}
	if u, err := url.Parse(cfg.BaseURL); err == nil && cfg.BaseURL != "" {
		if u.User != nil {
			out = append(out, u.User.String())
			if p, ok := u.User.Password(); ok && p != "" {
				out = append(out, p, url.QueryEscape(p))
			}
		}
		for _, vs := range u.Query() {
			for _, v := range vs {
				if len(v) >= 4 {
					out = append(out, v, url.QueryEscape(v))
				}
			}
		}
	}
	return out
}

// clean makes provider text fit for an error: secrets redacted, white
// space folded, at most messageRunes runes.
func (s *session) clean(text string) string {
	for _, sec := range s.secrets {
		if sec != "" {
			text = strings.ReplaceAll(text, sec, "[redacted]")
		}
	}
	return truncate(strings.Join(strings.Fields(text), " "), messageRunes)
}

func truncate(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n]) + "…"
}

// stored is the output a finished attempt of this call recorded.
func (s *session) stored(ctx context.Context) (any, bool, error) {
	raw, err := s.store.ActionResult(ctx, s.org, s.key)
	if errors.Is(err, domain.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err // the database: retried
	}
	v, err := dsl.DecodeJSON(raw)
	if err != nil {
		return nil, false, temporal.NewNonRetryableApplicationError(s.action+": the recorded result is not JSON: "+err.Error(), activities.ActionError, nil)
	}
	return v, true, nil
}

// checkBudget fails when the organisation's tokens for the month are used
// up. A call that starts under the budget finishes even if its answer
// crosses it; calls running at the same time may each start under it.
func (s *session) checkBudget(ctx context.Context) error {
	if s.cfg.Budget <= 0 {
		return nil
	}
	used, err := s.store.AIUsage(ctx, s.org, s.month)
	if err != nil {
		return err // the database: retried
	}
	if used >= s.cfg.Budget {
		return temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: the organisation has used %d of its %d AI tokens for %s (secret %s); "+
			"the budget starts again next month (UTC)", s.action, used, s.cfg.Budget, s.month, SecretBudget),
			ErrBudgetExceeded, nil, map[string]any{"used": used, "budget": s.cfg.Budget, "month": s.month})
	}
	return nil
}

// finish records the attempt's tokens and its output under the call's key
// in one transaction.
func (s *session) finish(ctx context.Context, out map[string]any) (any, error) {
	b, err := dsl.MarshalJSON(out)
	if err != nil {
		return nil, temporal.NewNonRetryableApplicationError(s.action+": result is not JSON: "+err.Error(), activities.ActionError, nil)
	}
	err = s.store.Tx(ctx, func(tx domain.Repo) error {
		if s.used.total > 0 {
			if _, err := tx.AddAIUsage(ctx, s.org, s.month, s.used.total); err != nil {
				return err
			}
		}
		return tx.PutActionResult(ctx, s.org, s.key, b)
	})
	if errors.Is(err, domain.ErrConflict) {
		// another attempt of this call (one that outlived its timeout)
		// recorded its output first: that is the call's output; this
		// attempt's tokens were spent all the same
		s.recordUsage(ctx)
		if prev, ok, perr := s.stored(ctx); perr == nil && ok {
			return prev, nil
		}
	}
	if err != nil {
		return nil, fmt.Errorf("%s: recording the result: %w", s.action, err) // retried
	}
	return out, nil
}

// recordUsage adds the attempt's tokens to the month's usage, even when the
// attempt's context is done; a failure is logged, not returned.
func (s *session) recordUsage(ctx context.Context) {
	if s.used.total <= 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if _, err := s.store.AddAIUsage(ctx, s.org, s.month, s.used.total); err != nil && activity.IsActivity(ctx) {
		activity.GetLogger(ctx).Warn("ai: the tokens of a failed call are not counted", "action", s.action, "tokens", s.used.total, "error", err)
	}
}

// request is what an action asks of the model.
type request struct {
	messages    []openai.ChatCompletionMessage
	maxTokens   int
	temperature *float64
	json        bool // JSON mode: the answer is one JSON object
}

// answer is the model's reply.
type answer struct {
	text, finish, model string
}

// chat sends one chat-completion request; the answer's tokens are added to
// the session's.
func (s *session) chat(ctx context.Context, r request) (answer, error) {
	req := openai.ChatCompletionRequest{Model: s.model, Messages: r.messages}
	if limit := cmp.Or(r.maxTokens, DefaultMaxTokens); takesMaxCompletionTokens(s.model) {
		req.MaxCompletionTokens = limit
	} else {
		//lint:ignore SA1019 max_tokens is what OpenAI-compatible servers (Ollama, vLLM, older Azure API versions) read, and OpenAI still takes it from these models
		req.MaxTokens = limit
	}
	if r.json {
		req.ResponseFormat = &openai.ChatCompletionResponseFormat{Type: openai.ChatCompletionResponseFormatTypeJSONObject}
	}
	if r.temperature != nil {
		// go-openai omits a zero temperature (omitempty): the smallest
		// float32 stands for 0 (github.com/sashabaranov/go-openai/issues/9)
		req.Temperature = max(float32(*r.temperature), math.SmallestNonzeroFloat32)
	}
	resp, err := s.client.CreateChatCompletion(ctx, req)
	if err != nil {
		// go-openai sets the response's headers before it reads an error
		// status: Retry-After is there
		return answer{}, s.failure(ctx, err, resp.Header())
	}
	s.used.add(resp.Usage)
	if len(resp.Choices) == 0 {
		return answer{}, temporal.NewApplicationError(s.action+": the AI endpoint answered without a choice", ErrUnavailable)
	}
	c := resp.Choices[0]
	return answer{text: c.Message.Content, finish: string(c.FinishReason), model: cmp.Or(resp.Model, s.model)}, nil
}

// takesMaxCompletionTokens says the model is one go-openai knows takes
// max_completion_tokens, not max_tokens (reasoning models: o1, o3, gpt-5, ...).
func takesMaxCompletionTokens(model string) bool {
	probe := openai.ChatCompletionRequest{Model: model}
	//lint:ignore SA1019 asking the SDK's own rule about the deprecated field
	probe.MaxTokens = 1
	return errors.Is(openai.NewReasoningValidator().Validate(probe), openai.ErrReasoningModelMaxTokensDeprecated)
}

// failure maps a go-openai error to the action's error types.
func (s *session) failure(ctx context.Context, err error, h http.Header) error {
	if ctx.Err() != nil && (errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return ctx.Err() // the attempt is over: cancelled or timed out
	}
	var (
		apiErr *openai.APIError
		reqErr *openai.RequestError
		urlErr *url.Error
		netErr net.Error
		synErr *json.SyntaxError
		typErr *json.UnmarshalTypeError
	)
	status, text, code := 0, "", ""
	apiCode := func(e *openai.APIError) string {
		c := ""
		if e.Code != nil {
			c = fmt.Sprint(e.Code)
		}
		return s.clean(cmp.Or(c, e.Type))
	}
	switch {
	case errors.As(err, &reqErr):
		// an error status without an OpenAI error body (a proxy's page,
		// or not an AI endpoint at all): its body is not repeated, the
		// base URL may point anywhere its organisation chose
		status, text = reqErr.HTTPStatusCode, "the response is not an OpenAI error"
		if errors.As(reqErr.Err, &apiErr) {
			text, code = apiErr.Message, apiCode(apiErr)
		}
	case errors.As(err, &apiErr):
		status, text, code = apiErr.HTTPStatusCode, apiErr.Message, apiCode(apiErr)
	case errors.As(err, &urlErr):
		// the URL itself (and any credentials in it) stays out
		why := urlErr.Err.Error()
		if httpact.Denied(err) {
			return temporal.NewNonRetryableApplicationError(s.action+": the AI endpoint is not allowed: "+s.clean(why), ErrNotConfigured, nil)
		}
		if urlErr.Timeout() {
			why = "timed out: " + why
		}
		return temporal.NewApplicationError(s.action+": the AI endpoint cannot be reached: "+s.clean(why), ErrUnavailable)
	case errors.As(err, &netErr), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return temporal.NewApplicationError(s.action+": the AI endpoint's answer was cut off: "+s.clean(err.Error()), ErrUnavailable)
	case errors.As(err, &synErr), errors.As(err, &typErr):
		return temporal.NewApplicationError(s.action+": the AI endpoint's answer is not a chat completion: "+s.clean(err.Error()), ErrUnavailable)
	default:
		// go-openai's own checks of the request (a parameter the model
		// does not take): retrying sends the same
		return temporal.NewNonRetryableApplicationError(s.action+": "+s.clean(err.Error()), ErrRequestRejected, nil)
	}
	details := map[string]any{"status": status}
	if code != "" {
		details["code"] = code
	}
	say := func(what string) string {
		msg := fmt.Sprintf("%s: %s (HTTP %d", s.action, what, status)
		if code != "" {
			msg += ", " + code
		}
		msg += ")"
		if t := s.clean(text); t != "" {
			msg += ": " + t
		}
		return msg
	}
	switch {
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		// the provider's text may quote part of the key: a fixed message
		msg := fmt.Sprintf("%s: the AI endpoint refused the credentials (HTTP %d); check the secret %s", s.action, status, SecretAPIKey)
		if code != "" {
			msg += " (" + code + ")"
		}
		return temporal.NewNonRetryableApplicationError(msg, ErrAuth, nil, details)
	case status == http.StatusTooManyRequests:
		quota := code == "insufficient_quota" // billing: waiting does not help
		return temporal.NewApplicationErrorWithOptions(say("the AI endpoint is rate limiting"), ErrRateLimited, temporal.ApplicationErrorOptions{
			NonRetryable: quota, NextRetryDelay: retryAfter(h, time.Now()), Details: []any{details}})
	case status == http.StatusRequestTimeout || status >= 500 || status < 400:
		return temporal.NewApplicationErrorWithOptions(say("the AI endpoint failed"), ErrUnavailable, temporal.ApplicationErrorOptions{
			NextRetryDelay: retryAfter(h, time.Now()), Details: []any{details}})
	default:
		return temporal.NewNonRetryableApplicationError(say("the AI endpoint rejected the request"), ErrRequestRejected, nil, details)
	}
}

// retryAfter is the wait a response asks for (retry-after-ms, or
// Retry-After in seconds or as a date), at most maxRetryDelay; 0: none.
func retryAfter(h http.Header, now time.Time) time.Duration {
	seconds := func(v float64) time.Duration {
		if !(v > 0) { // NaN too
			return 0
		}
		return time.Duration(min(v, maxRetryDelay.Seconds()) * float64(time.Second))
	}
	if ms, err := strconv.ParseFloat(strings.TrimSpace(h.Get("Retry-After-Ms")), 64); err == nil && ms > 0 {
		return seconds(ms / 1000)
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.ParseFloat(v, 64); err == nil {
		return seconds(secs)
	}
	if t, err := http.ParseTime(v); err == nil {
		return seconds(t.Sub(now).Seconds())
	}
	return 0
}

// jsonReply is the instruction every structured action ends its system
// message with.
const jsonReply = "Reply with one JSON object and nothing else: no prose, no code fences."

// checkFunc checks a decoded answer: the value to output, or why it is not valid.
type checkFunc func(v any) (any, string)

// structured asks for a JSON answer and checks it; an answer that is not
// valid gets one repair request, with the reasons, then fails with
// ErrInvalidOutput. repaired says the repair request made it valid.
func (s *session) structured(ctx context.Context, r request, check checkFunc) (v any, ans answer, repaired bool, err error) {
	r.json = true
	if ans, err = s.chat(ctx, r); err != nil {
		return nil, ans, false, err
	}
	v, why := parseAnswer(ans, check)
	if why == "" {
		return v, ans, false, nil
	}
	r.messages = append(r.messages,
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleAssistant, Content: ans.text},
		openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: "Your answer is not valid: " + why +
			". Reply again with only the corrected JSON object."})
	if ans, err = s.chat(ctx, r); err != nil {
		return nil, ans, false, err
	}
	if v, why = parseAnswer(ans, check); why == "" {
		return v, ans, true, nil
	}
	return nil, ans, false, temporal.NewNonRetryableApplicationError(s.action+": the model's answer is not valid, even after a repair request: "+why,
		ErrInvalidOutput, nil, map[string]any{"reason": why, "finishReason": ans.finish})
}

// parseAnswer decodes and checks an answer: the value, or why it is not
// valid (short; it never quotes the whole answer).
func parseAnswer(ans answer, check checkFunc) (any, string) {
	v, why := decodeAnswer(ans.text)
	if why == "" {
		v, why = check(v)
	}
	if why != "" && ans.finish == string(openai.FinishReasonLength) {
		why += " (the answer was cut off at the token limit)"
	}
	return v, why
}

// decodeAnswer parses the JSON of an answer, allowing a code fence around it.
func decodeAnswer(text string) (any, string) {
	t := strings.TrimSpace(text)
	if rest, ok := strings.CutPrefix(t, "```"); ok {
		rest = strings.TrimPrefix(strings.TrimPrefix(rest, "json"), "JSON")
		t = strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "```"))
	}
	if t == "" {
		return nil, "the answer is empty"
	}
	v, err := dsl.DecodeJSON([]byte(t))
	if err != nil {
		return nil, "the answer is not JSON: " + truncate(err.Error(), 120)
	}
	return v, ""
}

// checkSchema checks v against a compiled schema: "" or the violations,
// at most three, each short.
func checkSchema(sch *jsonschema.Schema, v any) string {
	err := dsl.ValidateSchema(sch, v)
	if err == nil {
		return ""
	}
	var ve *jsonschema.ValidationError
	if !errors.As(err, &ve) {
		return truncate(err.Error(), 200)
	}
	var msgs []string
	for _, u := range ve.BasicOutput().Errors {
		if u.Error == nil {
			continue
		}
		m := u.Error.String()
		if strings.HasPrefix(m, "validation failed") || strings.HasSuffix(m, "' failed") {
			continue // a combinator's own line: its branches say why
		}
		loc := u.InstanceLocation
		if loc == "" {
			loc = "/"
		}
		m = "at " + loc + ": " + truncate(m, 120)
		if !slices.Contains(msgs, m) {
			msgs = append(msgs, m)
		}
	}
	if len(msgs) == 0 {
		return truncate(ve.Error(), 200)
	}
	if len(msgs) > 3 {
		msgs = append(msgs[:3], fmt.Sprintf("and %d more", len(msgs)-3))
	}
	return strings.Join(msgs, "; ")
}

// compile compiles a schema the connector builds (labels, score).
func compile(doc any) (*jsonschema.Schema, error) {
	b, err := dsl.MarshalJSON(doc)
	if err != nil {
		return nil, err
	}
	return dsl.CompileSchema(b)
}

// system and user make messages.
func system(text string) openai.ChatCompletionMessage {
	return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleSystem, Content: text}
}

func user(text string) openai.ChatCompletionMessage {
	return openai.ChatCompletionMessage{Role: openai.ChatMessageRoleUser, Content: text}
}

// withInstructions appends the step's instructions to a system message.
func withInstructions(sys string, args map[string]any) string {
	if in, _ := args["instructions"].(string); strings.TrimSpace(in) != "" {
		sys += "\n\nFurther instructions:\n" + in
	}
	return sys
}
