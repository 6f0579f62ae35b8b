package slack

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	slackapi "github.com/slack-go/slack"
	"go.temporal.io/sdk/temporal"

	"switchboard/activities"
	"switchboard/domain"
	"switchboard/domain/crm"
	"switchboard/dsl"
)

// Action names.
const (
	ActionPostMessage       = "slack.postMessage"
	ActionLookupUserByEmail = "slack.lookupUserByEmail"
)

// ErrValidation is the error type of arguments the action refuses (not
// retried).
const ErrValidation = "ValidationError"

// SettingBotToken is the organisation secret both actions read: a Slack
// bot token (xoxb-…) with chat:write (and users:read.email to reach people
// by email address). Without it slack.postMessage writes to the outbox and
// slack.lookupUserByEmail fails with NotConfigured.
const SettingBotToken = "slack_bot_token"

// DefaultAPIURL is the base of Slack's Web API.
const DefaultAPIURL = "https://slack.com/api/"

// Slack's limits on a message.
const (
	maxText   = 40000 // characters
	maxBlocks = 50
)

// Options configure the connector. Without a Store slack.postMessage fails
// with NoRecords (mock it in `switchboard run`).
type Options struct {
	Store domain.Store
	// Secrets holds the organisations' bot tokens; without it every
	// message goes to the outbox.
	Secrets activities.Secrets
	// APIURL is the base of Slack's Web API, methods appended to it
	// ("<APIURL>chat.postMessage"); default DefaultAPIURL.
	APIURL string
	// HTTPClient calls Slack; default a client with a 30 s timeout (the
	// activity's own deadline applies as well).
	HTTPClient *http.Client
}

// Actions declares the Slack actions.
func Actions() []dsl.Action {
	return []dsl.Action{postMessageAction(), lookupUserByEmailAction()}
}

func postMessageAction() dsl.Action {
	return dsl.Action{
		Name:  ActionPostMessage,
		Title: "Post a Slack message",
		Description: "Posts a message to a Slack `channel` (`#ops`, `ops` or an id such as `C0123ABC`) or to a person, `user` (a Slack user id " +
			"`U…`, or an email address, looked up with users.lookupByEmail; the message goes to their direct messages with the app): exactly one " +
			"of the two. `text` (Slack mrkdwn, not escaped, so `<@U123>` and `<https://…|links>` work) is required unless `blocks` (Block Kit, " +
			"passed through) are given; with blocks it is the notification text. `threadTs` replies in a thread. With the organisation's secret " +
			"`slack_bot_token` it goes through Slack's chat.postMessage; without it, to the organisation's outbox (GET /v1/outbox). Once per " +
			"step, however often the activity is retried: an answer lost on the way makes the message `unconfirmed`, never a second post.",
		Input: json.RawMessage(`{"type": "object", "additionalProperties": false, "properties": {
			"channel": {"type": "string", "minLength": 1, "maxLength": 81},
			"user": {"type": "string", "minLength": 1, "maxLength": 254},
			"text": {"type": "string", "maxLength": 40000},
			"blocks": {"type": "array", "maxItems": 50, "items": {"type": "object", "required": ["type"], "properties": {"type": {"type": "string"}}}},
			"threadTs": {"type": "string", "pattern": "^[0-9]+\\.[0-9]+$"}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["messageId", "status", "provider"], "properties": {
			"messageId": {"type": "string"}, "status": {"enum": ["queued", "sent", "unconfirmed"]}, "provider": {"enum": ["outbox", "slack"]},
			"channel": {"type": "string"}, "ts": {"type": "string"}}}`),
		Errors: []string{ErrValidation, activities.ErrRateLimited, activities.ErrProviderUnavailable, activities.ErrProviderAuth,
			activities.ErrProviderRejected, activities.ErrNotConfigured, activities.NoRecords},
	}
}

func lookupUserByEmailAction() dsl.Action {
	return dsl.Action{
		Name:  ActionLookupUserByEmail,
		Title: "Find a Slack user by email",
		Description: "Finds the member of the organisation's Slack workspace with this email address (users.lookupByEmail; the bot token " +
			"`slack_bot_token` needs users:read.email). `found` is false when there is none. Reads only; needs the token (`NotConfigured` without it).",
		Input: json.RawMessage(`{"type": "object", "required": ["email"], "additionalProperties": false, "properties": {
			"email": {"type": "string", "minLength": 3, "maxLength": 254}}}`),
		Output: json.RawMessage(`{"type": "object", "additionalProperties": false, "required": ["found"], "properties": {
			"found": {"type": "boolean"}, "userId": {"type": "string"}, "name": {"type": "string"}, "realName": {"type": "string"},
			"timezone": {"type": "string"}}}`),
		Errors: []string{ErrValidation, activities.ErrNotConfigured, activities.ErrRateLimited, activities.ErrProviderUnavailable,
			activities.ErrProviderAuth, activities.ErrProviderRejected, activities.NoRecords},
	}
}

type connector struct {
	o   Options
	svc *crm.Service
}

// Implementations returns each action's implementation by action name.
func Implementations(o Options) map[string]activities.Func {
	if o.APIURL == "" {
		o.APIURL = DefaultAPIURL
	}
	if !strings.HasSuffix(o.APIURL, "/") {
		o.APIURL += "/"
	}
	if o.HTTPClient == nil {
		o.HTTPClient = &http.Client{Timeout: 30 * time.Second}
	}
	c := &connector{o: o, svc: &crm.Service{Store: o.Store}}
	return map[string]activities.Func{
		ActionPostMessage:       c.postMessage,
		ActionLookupUserByEmail: c.lookupUserByEmail,
	}
}

// message is slack.postMessage's input.
type message struct {
	Channel  string          `json:"channel"`
	User     string          `json:"user"`
	Text     string          `json:"text"`
	Blocks   json.RawMessage `json:"blocks"`
	ThreadTS string          `json:"threadTs"`

	blocks slackapi.Blocks // Blocks as slack-go reads them
}

var (
	userID   = regexp.MustCompile(`^[UW][A-Z0-9]{2,}$`)
	threadTS = regexp.MustCompile(`^[0-9]+\.[0-9]+$`)
)

// check normalises the message (trimmed names, a lower-cased email
// address) and reports every invalid field.
func (m *message) check() error {
	m.Channel, m.User = strings.TrimSpace(m.Channel), strings.TrimSpace(m.User)
	v := &domain.ValidationError{Record: "slack message"}
	bad := func(field, msg string) { v.Fields = append(v.Fields, domain.FieldError{Field: field, Message: msg}) }
	switch {
	case m.Channel != "" && m.User != "":
		bad("user", "give either channel or user, not both")
	case m.Channel == "" && m.User == "":
		bad("channel", "is required when there is no user")
	case m.Channel != "":
		if strings.IndexFunc(m.Channel, unicode.IsSpace) >= 0 || len(m.Channel) > 81 {
			bad("channel", "is not a Slack channel name or id (such as #ops or C0123ABC)")
		}
	case strings.Contains(m.User, "@"):
		m.User = strings.ToLower(m.User)
		if !domain.IsEmail(m.User) {
			bad("user", "is not an email address")
		}
	case !userID.MatchString(m.User):
		bad("user", "is neither a Slack user id (U0123ABC) nor an email address")
	}
	if raw := strings.TrimSpace(string(m.Blocks)); raw != "" && raw != "null" {
		var list []json.RawMessage
		switch err := json.Unmarshal(m.Blocks, &list); {
		case err != nil:
			bad("blocks", "is not an array of Block Kit blocks")
		case len(list) > maxBlocks:
			bad("blocks", fmt.Sprintf("has %d blocks; Slack takes at most %d", len(list), maxBlocks))
		case len(list) > 0:
			if err := m.blocks.UnmarshalJSON(m.Blocks); err != nil {
				bad("blocks", "is not an array of Block Kit blocks: "+err.Error())
			}
		}
	}
	if len(m.blocks.BlockSet) == 0 {
		m.Blocks = nil
	}
	switch {
	case m.Text == "" && len(m.blocks.BlockSet) == 0:
		bad("text", "is required when there are no blocks")
	case utf8.RuneCountInString(m.Text) > maxText:
		bad("text", fmt.Sprintf("is longer than %d characters", maxText))
	}
	if m.ThreadTS = strings.TrimSpace(m.ThreadTS); m.ThreadTS != "" && !threadTS.MatchString(m.ThreadTS) {
		bad("threadTs", "is not a Slack message ts (such as 1700000000.000100)")
	}
	if len(v.Fields) > 0 {
		return v
	}
	return nil
}

// record is the ledger (outbox) row of the message: To is the channel or
// user as the run named it, the body its content.
func (m *message) record() *domain.OutboxMessage {
	body := map[string]any{"text": m.Text}
	if len(m.Blocks) > 0 {
		body["blocks"] = m.Blocks
	}
	if m.ThreadTS != "" {
		body["threadTs"] = m.ThreadTS
	}
	b, _ := json.Marshal(body)
	to := m.Channel
	if to == "" {
		to = m.User
	}
	return &domain.OutboxMessage{Channel: "slack", To: to, Body: b}
}

func (c *connector) postMessage(ctx context.Context, args map[string]any) (any, error) {
	call, err := activities.PlatformCall(ctx, ActionPostMessage, c.o.Store != nil)
	if err != nil {
		return nil, err
	}
	var m message
	b, _ := json.Marshal(args)
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, temporal.NewNonRetryableApplicationError(ActionPostMessage+": "+err.Error(), ErrValidation, nil)
	}
	if err := m.check(); err != nil {
		return nil, failure(err)
	}
	token, err := activities.Setting(ctx, c.o.Secrets, call.Org, SettingBotToken)
	if err != nil {
		return nil, err
	}
	actor := crm.Actor("run:" + call.Run)
	rec := m.record()
	rec.StepID = call.Step
	if token == "" {
		q, err := c.svc.QueueSlack(crm.WithIdempotencyKey(ctx, call.Key), actor, call.Org, call.Step, rec)
		if err != nil {
			return nil, failure(err)
		}
		if q.Provider == "outbox" {
			return map[string]any{"messageId": q.ID, "status": "queued", "provider": "outbox"}, nil
		}
		// an earlier attempt of the step, made with a token, holds the
		// message: report what became of it
		cur, err := c.o.Store.GetOutbox(ctx, call.Org, q.ID)
		if err != nil {
			return nil, err
		}
		if cur.Status == "sending" || cur.Status == "retrying" {
			return nil, temporal.NewNonRetryableApplicationError(ActionPostMessage+": the secret "+SettingBotToken+
				" was removed while the message was being sent to Slack", activities.ErrNotConfigured, nil)
		}
		return outcome(cur)
	}
	rec.Provider = "slack"
	send, err := c.svc.BeginSend(ctx, actor, call.Org, call.Key, rec)
	if err != nil {
		return nil, failure(err)
	}
	led := send.Message
	if send.Now {
		if led, err = c.post(ctx, token, actor, call, led, &m); err != nil {
			return nil, err
		}
	}
	return outcome(led)
}

// outcome is the step's result for the message as the ledger has it.
func outcome(m *domain.OutboxMessage) (any, error) {
	if m.Provider == "outbox" {
		// the step queued it first, without a token
		return map[string]any{"messageId": m.ID, "status": "queued", "provider": "outbox"}, nil
	}
	switch m.Status {
	case "failed":
		return nil, activities.RecordedFailure(m.Error)
	case "retrying", "sending":
		// another attempt took it meanwhile
		return nil, temporal.NewApplicationError(ActionPostMessage+": the message is being sent by another attempt", activities.ErrProviderUnavailable)
	case "unconfirmed":
		return map[string]any{"messageId": m.ID, "status": "unconfirmed", "provider": "slack"}, nil
	}
	out := map[string]any{"messageId": m.ID, "status": "sent", "provider": "slack"}
	if ch, ts, ok := strings.Cut(m.ProviderID, ":"); ok {
		out["channel"], out["ts"] = ch, ts
	} else if m.ProviderID != "" {
		out["channel"] = m.ProviderID
	}
	return out, nil
}

// post calls chat.postMessage with the message BeginSend handed over (a
// person named by email address is looked up first) and records Slack's
// answer.
func (c *connector) post(ctx context.Context, token string, actor crm.Actor, call activities.Call, led *domain.OutboxMessage, m *message) (*domain.OutboxMessage, error) {
	api := c.newClient(token)
	done := func(status, providerID, why string) (*domain.OutboxMessage, error) {
		return c.svc.SendDone(ctx, actor, call.Org, led.ID, status, providerID, why)
	}
	// refused records a failure after which Slack certainly does not have
	// the message: retrying (safe to post on the next attempt) or failed.
	refused := func(failure error) (*domain.OutboxMessage, error) {
		status := "failed"
		if activities.Retryable(failure) {
			status = "retrying"
		}
		if _, err := done(status, "", activities.FailureText(failure)); err != nil {
			return nil, err
		}
		return nil, failure
	}

	target := m.Channel
	if m.User != "" {
		target = m.User
		if strings.Contains(m.User, "@") {
			u, err := api.GetUserByEmailContext(ctx, m.User)
			switch {
			case apiCode(err) == "users_not_found":
				return refused(temporal.NewNonRetryableApplicationError(fmt.Sprintf("%s: no member of the Slack workspace has the email address %s",
					ActionPostMessage, m.User), activities.ErrProviderRejected, nil))
			case err != nil:
				// a lookup changes nothing in Slack: always safe to repeat
				failure, _ := api.failure(ctx, ActionPostMessage, err)
				return refused(failure)
			}
			target = u.ID
		}
	}
	var opts []slackapi.MsgOption
	if m.Text != "" {
		opts = append(opts, slackapi.MsgOptionText(m.Text, false))
	}
	if len(m.blocks.BlockSet) > 0 {
		opts = append(opts, slackapi.MsgOptionBlocks(m.blocks.BlockSet...))
	}
	if m.ThreadTS != "" {
		opts = append(opts, slackapi.MsgOptionTS(m.ThreadTS))
	}
	channel, ts, err := api.PostMessageContext(ctx, target, opts...)
	if err != nil {
		failure, maybePosted := api.failure(ctx, ActionPostMessage, err)
		if maybePosted {
			// the message may be in Slack: it stays "sending" and the next
			// attempt marks it unconfirmed instead of posting it again
			return nil, failure
		}
		return refused(failure)
	}
	id := channel
	if ts != "" {
		id += ":" + ts
	}
	return done("sent", id, "")
}

func (c *connector) lookupUserByEmail(ctx context.Context, args map[string]any) (any, error) {
	call, err := activities.CallOf(ctx, ActionLookupUserByEmail)
	if err != nil {
		return nil, err
	}
	email, _ := args["email"].(string)
	email = strings.ToLower(strings.TrimSpace(email))
	if !domain.IsEmail(email) {
		return nil, temporal.NewNonRetryableApplicationError(ActionLookupUserByEmail+": email: is not an email address", ErrValidation, nil,
			[]domain.FieldError{{Field: "email", Message: "is not an email address"}})
	}
	token, err := activities.Setting(ctx, c.o.Secrets, call.Org, SettingBotToken)
	if err != nil {
		return nil, err
	}
	if token == "" {
		return nil, temporal.NewNonRetryableApplicationError(ActionLookupUserByEmail+": Slack is not configured: set the organisation's secret "+
			SettingBotToken+" (a bot token with users:read.email)", activities.ErrNotConfigured, nil)
	}
	api := c.newClient(token)
	u, err := api.GetUserByEmailContext(ctx, email)
	switch {
	case apiCode(err) == "users_not_found":
		return map[string]any{"found": false}, nil
	case err != nil:
		failure, _ := api.failure(ctx, ActionLookupUserByEmail, err)
		return nil, failure
	}
	out := map[string]any{"found": true, "userId": u.ID}
	for k, v := range map[string]string{"name": u.Name, "realName": u.RealName, "timezone": u.TZ} {
		if v != "" {
			out[k] = v
		}
	}
	if _, ok := out["realName"]; !ok && u.Profile.RealName != "" {
		out["realName"] = u.Profile.RealName
	}
	return out, nil
}

// client is a slack-go client with the organisation's token that
// remembers the HTTP status and headers of Slack's last answer (slack-go
// keeps them to itself).
type client struct {
	*slackapi.Client
	http   *http.Client
	token  string
	status int
	header http.Header
}

func (c *connector) newClient(token string) *client {
	cl := &client{http: c.o.HTTPClient, token: token}
	cl.Client = slackapi.New(token, slackapi.OptionAPIURL(c.o.APIURL), slackapi.OptionHTTPClient(httpDoer{cl}))
	return cl
}

type httpDoer struct{ c *client }

func (d httpDoer) Do(req *http.Request) (*http.Response, error) {
	resp, err := d.c.http.Do(req)
	d.c.status, d.c.header = 0, nil
	if err == nil {
		d.c.status, d.c.header = resp.StatusCode, resp.Header.Clone()
	}
	return resp, err
}

// Slack's `ok: false` error codes by what they mean for a retry.
var (
	authCodes = []string{"invalid_auth", "not_authed", "account_inactive", "token_revoked", "token_expired", "missing_scope",
		"not_allowed_token_type", "no_permission", "ekm_access_denied", "team_access_not_granted", "access_denied"}
	rateCodes = []string{"ratelimited", "rate_limited"}
	// Slack did not act on the request
	unavailableCodes = []string{"service_unavailable", "request_timeout"}
	// "it's possible some aspect of the operation succeeded" (Slack's docs)
	uncertainCodes = []string{"internal_error", "fatal_error"}
)

// apiCode is the error code of Slack's `ok: false` answer, "" for any
// other error.
func apiCode(err error) string {
	var se slackapi.SlackErrorResponse
	if errors.As(err, &se) {
		return se.Err
	}
	return ""
}

// failure types an error of a Slack Web API call, and says whether Slack
// may have acted on the request all the same (an answer lost, a timeout,
// an internal error in the middle of it).
func (c *client) failure(ctx context.Context, action string, err error) (failure error, maybeDone bool) {
	var (
		rl *slackapi.RateLimitedError
		sc slackapi.StatusCodeError
		se slackapi.SlackErrorResponse
	)
	switch {
	case errors.As(err, &rl):
		return temporal.NewApplicationErrorWithOptions(fmt.Sprintf("%s: Slack answered 429 Too Many Requests (retry after %s)", action, rl.RetryAfter),
			activities.ErrRateLimited, temporal.ApplicationErrorOptions{NextRetryDelay: min(max(rl.RetryAfter, 0), time.Hour)}), false
	case errors.As(err, &sc):
		// a 5xx other than 503 may come after Slack took the request
		return activities.HTTPFailure(action, "Slack", sc.Code, c.header, ""), sc.Code >= 500 && sc.Code != http.StatusServiceUnavailable
	case errors.As(err, &se):
		return c.apiFailure(action, se)
	case c.status == 0:
		// no answer: a connection never made cannot have delivered anything
		return activities.NetworkFailure(ctx, action, "Slack", err), !activities.NeverSent(err)
	case c.status == http.StatusTooManyRequests:
		// a Retry-After slack-go could not read
		return activities.HTTPFailure(action, "Slack", c.status, c.header, ""), false
	}
	// Slack answered, but not in a way slack-go could read
	return temporal.NewApplicationError(fmt.Sprintf("%s: Slack's answer (%d) could not be read", action, c.status), activities.ErrProviderUnavailable), true
}

func (c *client) apiFailure(action string, se slackapi.SlackErrorResponse) (error, bool) {
	msg := fmt.Sprintf("%s: Slack answered %s", action, se.Err)
	var detail []string
	if se.Needed != "" {
		detail = append(detail, "the token needs the scope "+se.Needed)
	}
	detail = append(detail, se.ResponseMetadata.Messages...)
	if len(detail) > 0 {
		d := strings.Join(detail, "; ")
		if len(d) > 300 {
			d = d[:300] + "…"
		}
		msg += " (" + d + ")"
	}
	if c.token != "" {
		msg = strings.ReplaceAll(msg, c.token, "[token]") // Slack does not echo it; should it ever, it stays hidden
	}
	switch {
	case slices.Contains(authCodes, se.Err):
		return temporal.NewNonRetryableApplicationError(msg, activities.ErrProviderAuth, nil), false
	case slices.Contains(rateCodes, se.Err):
		return temporal.NewApplicationErrorWithOptions(msg, activities.ErrRateLimited,
			temporal.ApplicationErrorOptions{NextRetryDelay: activities.RetryAfter(c.header, time.Now())}), false
	case slices.Contains(unavailableCodes, se.Err):
		return temporal.NewApplicationError(msg, activities.ErrProviderUnavailable), false
	case slices.Contains(uncertainCodes, se.Err):
		return temporal.NewApplicationError(msg, activities.ErrProviderUnavailable), true
	}
	return temporal.NewNonRetryableApplicationError(msg, activities.ErrProviderRejected, nil), false
}

// failure types the errors of the records: validation is not retried; the
// database is.
func failure(err error) error {
	var ve *domain.ValidationError
	if errors.As(err, &ve) {
		return temporal.NewNonRetryableApplicationError(ActionPostMessage+": "+ve.Error(), ErrValidation, nil, ve.Fields)
	}
	return err
}
