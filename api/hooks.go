package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/gin-gonic/gin"
	"go.temporal.io/api/serviceerror"
	"go.temporal.io/sdk/client"

	"switchboard/api/webhook"
	"switchboard/domain"
	"switchboard/dsl"
	"switchboard/workflows"
)

// maxBodyDepth bounds the nesting of a webhook's JSON body.
const maxBodyDepth = 64

// webhook handles POST /hooks/<org>/<path>: it finds the deployed trigger,
// verifies the request against its raw body, evaluates `key` and `input`
// (request data are values, never expressions), and starts a run or
// signals one. It answers 2xx only once Temporal has accepted the start
// or signal, and records every delivery.
func (s *Server) webhook(c *gin.Context) {
	began := time.Now()
	org, path := c.Param("org"), strings.TrimPrefix(c.Param("path"), "/")
	ctx, cancel := context.WithTimeout(c.Request.Context(), 2*s.opts.Timeout)
	defer cancel()
	body, ok := s.webhookBody(c)
	if !ok {
		return
	}
	// unknown organisations and unknown paths answer alike
	notFound := problem(http.StatusNotFound, ProbNotFound, "no webhook at this address")
	route, err := s.store.WebhookRoute(ctx, org, path)
	if err != nil {
		if isNotFound(err) || errors.Is(err, domain.ErrInvalid) {
			writeJSONProblem(c, notFound)
			return
		}
		writeJSONProblem(c, retryable(storeErr(err, "webhook")))
		return
	}
	d := &domain.WebhookDelivery{OrgID: org, Path: path, Definition: route.Definition, ReceivedAt: began.UTC()}
	status, answer := s.deliver(ctx, c, route, body, d)
	d.HTTPStatus = status
	d.DurationMS = time.Since(began).Milliseconds()
	if err := s.store.AddDelivery(context.WithoutCancel(ctx), d); err != nil {
		s.opts.Logger.Error("webhook: record delivery", "path", path, "error", err)
	}
	if p, ok := answer.(*Problem); ok {
		writeJSONProblem(c, p)
		return
	}
	c.JSON(status, answer)
}

func retryable(err error) *Problem {
	var p *Problem
	if !errors.As(err, &p) {
		p = internal(err).(*Problem)
	}
	if p.Status >= 500 {
		p.Status, p.Type, p.Title, p.Retryable = http.StatusServiceUnavailable, ProblemBase+ProbUnavailable, http.StatusText(http.StatusServiceUnavailable), true
	}
	return p
}

// HookAnswer is what a webhook delivery answers when accepted.
type HookAnswer struct {
	Status    string `json:"status"` // started, duplicate, signalled
	Run       string `json:"run,omitempty"`
	RunID     string `json:"runId,omitempty"`
	Challenge string `json:"challenge,omitempty"`
}

// deliver handles a delivery to a route; it fills d and returns the
// status and the body (a *Problem when refused).
func (s *Server) deliver(ctx context.Context, c *gin.Context, route *domain.TriggerRoute, body []byte, d *domain.WebhookDelivery) (int, any) {
	reject := func(p *Problem) (int, any) {
		d.Status, d.Error = "rejected", p.Detail
		if p.Status >= 500 {
			d.Status = "failed"
		}
		return p.Status, p
	}
	rev, err := s.store.GetRevision(ctx, route.OrgID, route.DefinitionID, route.Revision)
	if err != nil {
		return reject(retryable(storeErr(err, "webhook")))
	}
	plan, err := s.revisionPlan(rev, route.Definition)
	if err != nil {
		return reject(retryable(err))
	}
	if route.Index >= len(plan.Triggers) || plan.Triggers[route.Index].Webhook == nil {
		return reject(problem(http.StatusNotFound, ProbNotFound, "no webhook at this address"))
	}
	t := plan.Triggers[route.Index].Webhook

	var secrets [][]byte
	if t.Secret != "" {
		if secrets, err = s.hookSecrets(ctx, route.OrgID, t.Secret); err != nil {
			return reject(retryable(err))
		}
	}
	err = webhook.Verify(webhook.Config{Scheme: t.Scheme, Header: t.Header, Dev: s.opts.Dev}, secrets,
		webhook.Request{Header: c.Request.Header, Query: c.Request.URL.Query(), Body: body, Now: time.Now()})
	if err != nil {
		return reject(verifyProblem(err))
	}

	value, err := bodyValue(c.ContentType(), body)
	if err != nil {
		return reject(problem(http.StatusBadRequest, ProbBadRequest, "the body: %v", err))
	}
	// Slack's URL verification handshake
	if m, ok := value.(map[string]any); ok && t.Scheme == "slack" && m["type"] == "url_verification" {
		ch, _ := m["challenge"].(string)
		d.Status = "challenge"
		return http.StatusOK, HookAnswer{Status: "challenge", Challenge: ch}
	}
	act := dsl.Activation{Values: map[string]any{"body": value, "headers": headerValues(c.Request.Header),
		"query": queryValues(c.Request.URL.Query()), "now": time.Now().UTC()},
		Locals: map[string]string{"body": "dyn", "headers": "dyn", "query": "dyn"}}
	input := value
	if t.Input != nil {
		if input, err = t.Input.Eval(act); err != nil {
			return reject(problem(http.StatusUnprocessableEntity, ProbInvalidInput, "`input`: %v", err))
		}
	}
	raw, err := dsl.MarshalJSON(input)
	if err != nil {
		return reject(problem(http.StatusUnprocessableEntity, ProbInvalidInput, "`input`: %v", err))
	}
	var key string
	if t.Key != nil {
		k, err := t.Key.Eval(act)
		if err != nil {
			return reject(problem(http.StatusUnprocessableEntity, ProbInvalidInput, "`key`: %v", err))
		}
		if key = dsl.Stringify(k); key == "" {
			return reject(problem(http.StatusUnprocessableEntity, ProbInvalidInput, "`key` is empty for this request"))
		}
		d.DedupeKey = key
	}
	actx := context.WithValue(ctx, principalKey{}, &Principal{OrgID: route.OrgID, UserID: "webhook:" + route.Key,
		KeyID: "-", Role: domain.RoleOperator})

	if t.Signal != "" {
		// SendGrid posts its events in batches: one signal per event
		if list, ok := value.([]any); ok && t.Scheme == "sendgrid" {
			var targets []string
			for _, item := range list {
				a := dsl.Activation{Values: map[string]any{"body": item, "headers": act.Values["headers"], "query": act.Values["query"],
					"now": act.Values["now"]}, Locals: act.Locals}
				payload, err := dsl.MarshalJSON(item)
				if err != nil {
					return reject(problem(http.StatusBadRequest, ProbBadRequest, "the body: %v", err))
				}
				target, p := s.signalTarget(ctx, route, t, a, payload)
				if p != nil {
					return reject(p)
				}
				targets = append(targets, target)
			}
			d.Status, d.WorkflowID = "signalled", strings.Join(targets, " ")
			return http.StatusAccepted, HookAnswer{Status: "signalled", Run: strings.Join(targets, " ")}
		}
		payload, err := dsl.MarshalJSON(value)
		if err != nil {
			return reject(problem(http.StatusBadRequest, ProbBadRequest, "the body: %v", err))
		}
		// a `key` makes a signalling webhook deliver each key once too
		if key != "" {
			idem := "webhook:" + route.Key + ":" + key
			err := s.store.PutIdempotencyKey(ctx, &domain.IdempotencyKey{OrgID: route.OrgID, Key: idem, RequestHash: "signal"})
			if errors.Is(err, domain.ErrConflict) {
				d.Status = "duplicate"
				return http.StatusOK, HookAnswer{Status: "duplicate"}
			} else if err != nil {
				return reject(retryable(storeErr(err, "webhook key")))
			}
			defer func() {
				if d.Status != "signalled" { // not delivered: a retry may deliver it
					_ = s.store.DeleteIdempotencyKey(context.WithoutCancel(ctx), route.OrgID, idem)
				} else {
					_ = s.store.SetIdempotencyRun(context.WithoutCancel(ctx), route.OrgID, idem, d.WorkflowID, d.RunID)
				}
			}()
		}
		if t.Start {
			target, runID, p := s.signalWithStart(ctx, route, plan, t, act, payload, raw)
			if p != nil {
				return reject(p)
			}
			d.Status, d.WorkflowID, d.RunID = "signalled", route.OrgID+"/"+target, runID
			return http.StatusAccepted, HookAnswer{Status: "signalled", Run: target, RunID: runID}
		}
		target, p := s.signalTarget(ctx, route, t, act, payload)
		if p != nil {
			return reject(p)
		}
		d.Status, d.WorkflowID = "signalled", route.OrgID+"/"+target
		return http.StatusAccepted, HookAnswer{Status: "signalled", Run: target}
	}

	idem := ""
	if key != "" {
		idem = "webhook:" + route.Key + ":" + key
	}
	started, code, err := s.startRunDedup(actx, route.Definition, raw, idem, true)
	if err != nil {
		var p *Problem
		if errors.As(err, &p) && p.Status < 500 && !p.Retryable {
			return reject(p)
		}
		if p != nil && p.Retryable && p.Status < 500 {
			// e.g. the first delivery with this key is still being handled:
			// a 5xx makes the sender retry
			p.Status, p.Type, p.Title = http.StatusServiceUnavailable, ProblemBase+ProbUnavailable, http.StatusText(http.StatusServiceUnavailable)
			return reject(p)
		}
		return reject(retryable(err))
	}
	d.WorkflowID, d.RunID = route.OrgID+"/"+started.ID, started.RunID
	ans := HookAnswer{Status: "started", Run: started.ID, RunID: started.RunID}
	if code == http.StatusOK || started.Skipped {
		ans.Status = "duplicate"
	}
	d.Status = ans.Status
	if ans.Status == "started" {
		return http.StatusAccepted, ans
	}
	return http.StatusOK, ans
}

// signalTarget evaluates a signalling webhook's target and sends it the
// signal with payload.
func (s *Server) signalTarget(ctx context.Context, route *domain.TriggerRoute, t *dsl.WebhookTrigger, act dsl.Activation, payload []byte) (string, *Problem) {
	tv, err := t.Target.Eval(act)
	if err != nil {
		return "", problem(http.StatusUnprocessableEntity, ProbInvalidInput, "`target`: %v", err)
	}
	target := dsl.Stringify(tv)
	if target == "" {
		return "", problem(http.StatusUnprocessableEntity, ProbInvalidInput, "`target` is empty for this request")
	}
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	if err := s.temporal.SignalWorkflow(tctx, route.OrgID+"/"+target, "", t.Signal, json.RawMessage(payload)); err != nil {
		var nf *serviceerror.NotFound
		if errors.As(err, &nf) {
			return "", problem(http.StatusNotFound, ProbNotFound, "no running run %s to signal", target)
		}
		return "", retryable(temporalErr(err, "run "+target))
	}
	return target, nil
}

// signalWithStart signals the run target names, starting it with input
// first when none is running (`start: true`).
func (s *Server) signalWithStart(ctx context.Context, route *domain.TriggerRoute, plan *dsl.Plan, t *dsl.WebhookTrigger,
	act dsl.Activation, payload, input []byte) (string, string, *Problem) {
	tv, err := t.Target.Eval(act)
	if err != nil {
		return "", "", problem(http.StatusUnprocessableEntity, ProbInvalidInput, "`target`: %v", err)
	}
	target := dsl.Stringify(tv)
	if target == "" || !strings.HasPrefix(target, route.Definition+":") {
		return "", "", problem(http.StatusUnprocessableEntity, ProbInvalidInput,
			"`target` must name a run of %s (`%s:<key>`) to start it; got %q", route.Definition, route.Definition, target)
	}
	if err := validateInput(plan, input); err != nil {
		var p *Problem
		errors.As(err, &p)
		return "", "", p
	}
	wid := route.OrgID + "/" + target
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	run, err := s.temporal.SignalWithStartWorkflow(tctx, wid, t.Signal, json.RawMessage(payload),
		client.StartWorkflowOptions{ID: wid, TaskQueue: s.opts.TaskQueue,
			TypedSearchAttributes: workflows.RunAttributes(route.OrgID, route.Definition, route.Revision)},
		workflows.WorkflowName, workflows.RunInput{Plan: plan, Input: input,
			Meta: workflows.RunMeta{Revision: route.Revision, Org: route.OrgID, ID: target}})
	if err != nil {
		return "", "", retryable(temporalErr(err, "run "+target))
	}
	return target, run.GetRunID(), nil
}

// hookSecrets are the active values of a secret: one per line, so that a
// secret can be rotated by holding the new and the old value for a while.
func (s *Server) hookSecrets(ctx context.Context, org, name string) ([][]byte, error) {
	if s.opts.Keyring == nil {
		return nil, problem(http.StatusServiceUnavailable, ProbUnavailable, "no master key is configured")
	}
	sec, err := s.store.GetSecret(ctx, org, name)
	if isNotFound(err) {
		return nil, problem(http.StatusServiceUnavailable, ProbUnavailable, "the webhook's secret %q is not set", name)
	} else if err != nil {
		return nil, storeErr(err, "secret")
	}
	plain, err := s.opts.Keyring.Open(org, name, sec.Value)
	if err != nil {
		return nil, internal(fmt.Errorf("open secret %s: %w", name, err))
	}
	var out [][]byte
	for _, line := range bytes.Split(plain, []byte("\n")) {
		if line = bytes.TrimSpace(line); len(line) > 0 {
			out = append(out, line)
		}
	}
	return out, nil
}

func verifyProblem(err error) *Problem {
	switch {
	case errors.Is(err, webhook.ErrMalformed):
		return problem(http.StatusBadRequest, ProbBadRequest, "%v", err)
	case errors.Is(err, webhook.ErrNoSecret):
		return problem(http.StatusServiceUnavailable, ProbUnavailable, "%v", err)
	case errors.Is(err, webhook.ErrUnknownScheme), errors.Is(err, webhook.ErrSchemeNotAllowed):
		return problem(http.StatusForbidden, ProbForbidden, "%v", err)
	}
	return problem(http.StatusUnauthorized, ProbUnauthorized, "%v", err) // missing, bad or stale signature
}

// bodyValue is the body as a value for `body`: JSON (depth-limited), a
// form (fields as strings; a `payload` field holding JSON is decoded, as
// Slack sends interactions), or text.
func bodyValue(contentType string, body []byte) (any, error) {
	trimmed := bytes.TrimSpace(body)
	switch {
	case len(trimmed) == 0:
		return map[string]any{}, nil
	case strings.Contains(contentType, "json") || (contentType == "" && (trimmed[0] == '{' || trimmed[0] == '[')):
		if depth := jsonDepth(trimmed); depth > maxBodyDepth {
			return nil, fmt.Errorf("JSON nested %d levels deep (at most %d)", depth, maxBodyDepth)
		}
		v, err := dsl.DecodeJSON(trimmed)
		if err != nil {
			return nil, fmt.Errorf("not JSON: %v", err)
		}
		return v, nil
	case contentType == "application/x-www-form-urlencoded":
		vals, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, fmt.Errorf("not a form: %v", err)
		}
		m := queryValues(vals)
		if p, ok := m["payload"].(string); ok && strings.HasPrefix(strings.TrimSpace(p), "{") && jsonDepth([]byte(p)) <= maxBodyDepth {
			if v, err := dsl.DecodeJSON([]byte(p)); err == nil {
				m["payload"] = v
			}
		}
		return m, nil
	}
	return string(body), nil
}

// jsonDepth is the deepest nesting of arrays and objects in b.
func jsonDepth(b []byte) int {
	depth, deepest, inString, escaped := 0, 0, false, false
	for _, c := range b {
		switch {
		case escaped:
			escaped = false
		case inString && c == '\\':
			escaped = true
		case c == '"':
			inString = !inString
		case inString:
		case c == '{' || c == '[':
			depth++
			deepest = max(deepest, depth)
		case c == '}' || c == ']':
			depth--
		}
	}
	return deepest
}

func headerValues(h http.Header) map[string]any {
	out := make(map[string]any, len(h))
	for k, v := range h {
		if len(v) > 0 {
			out[strings.ToLower(k)] = v[0]
		}
	}
	return out
}

func queryValues(q url.Values) map[string]any {
	out := make(map[string]any, len(q))
	for k, v := range q {
		if len(v) > 0 {
			out[k] = v[0]
		}
	}
	return out
}

// webhookBody reads the raw body of a webhook or provider delivery, at
// most MaxWebhookBytes; on failure it has answered (413 or 400).
func (s *Server) webhookBody(c *gin.Context) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(c.Writer, c.Request.Body, s.opts.MaxWebhookBytes))
	if err == nil {
		return body, true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		writeJSONProblem(c, problem(http.StatusRequestEntityTooLarge, ProbTooLarge, "the body is over %d bytes", s.opts.MaxWebhookBytes))
	} else {
		writeJSONProblem(c, problem(http.StatusBadRequest, ProbBadRequest, "the body could not be read"))
	}
	return nil, false
}
