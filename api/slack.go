package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/slack-go/slack"

	"switchboard/domain"
)

// Slack interactivity: a button in a Slack message decides an approval
// task. The flow posts the message (slack.postMessage with Block Kit
// blocks) whose buttons carry
//
//	action_id  switchboard:approve  or  switchboard:reject
//	value      <run id>|<task id or approval step id>
//
// and the Slack app's Interactivity request URL is
// POST /providers/<org>/slack, verified with the organisation's
// slack_signing_secret. The Slack user who clicked is resolved (with the
// bot token, users.info) to their email address, and that to a user of the
// organisation: the decision is theirs, with their role, checked by the
// run like any decision (assignees, role). Someone who is not a user of
// the organisation decides nothing. The outcome is told back through the
// payload's response_url: the message is replaced by the decision, or the
// clicker alone is told why not.

// Slack button action ids that decide tasks.
const (
	SlackApprove = "switchboard:approve"
	SlackReject  = "switchboard:reject"
)

type slackInteraction struct {
	Type string `json:"type"`
	User struct {
		ID   string `json:"id"`
		Name string `json:"username"`
	} `json:"user"`
	Actions []struct {
		ActionID string `json:"action_id"`
		Value    string `json:"value"`
	} `json:"actions"`
	ResponseURL string `json:"response_url"`
}

func (s *Server) slackInteraction(ctx context.Context, org string, body []byte) (*ProviderAnswer, error) {
	form, err := url.ParseQuery(string(body))
	if err != nil || form.Get("payload") == "" {
		return nil, problem(http.StatusBadRequest, ProbBadRequest, "the body is not a Slack interaction (a form with a payload)")
	}
	var in slackInteraction
	if err := json.Unmarshal([]byte(form.Get("payload")), &in); err != nil {
		return nil, problem(http.StatusBadRequest, ProbBadRequest, "the Slack payload is not JSON")
	}
	a := &ProviderAnswer{Received: len(in.Actions)}
	for _, act := range in.Actions {
		approved := act.ActionID == SlackApprove
		if !approved && act.ActionID != SlackReject {
			a.Ignored++
			continue
		}
		run, task, ok := strings.Cut(act.Value, "|")
		if !ok || run == "" || task == "" {
			a.Ignored++
			s.slackReply(ctx, in.ResponseURL, false, "This button names no task (its value must be <run id>|<task>).")
			continue
		}
		pr, why, err := s.slackPrincipal(ctx, org, in.User.ID)
		if err != nil {
			return nil, err
		}
		if pr == nil {
			a.Ignored++
			s.slackReply(ctx, in.ResponseURL, false, why)
			continue
		}
		dctx := context.WithValue(ctx, principalKey{}, pr)
		_, err = s.decide(dctx, run, task, Decision{Approved: approved, Comment: "via Slack (" + in.User.ID + ")"})
		var p *Problem
		switch {
		case errors.As(err, &p) && p.Status < 500:
			a.Ignored++
			s.slackReply(ctx, in.ResponseURL, false, "Not decided: "+p.Detail)
		case err != nil:
			return nil, err
		default:
			a.Applied++
			verdict := "Rejected"
			if approved {
				verdict = "Approved"
			}
			s.slackReply(ctx, in.ResponseURL, true, fmt.Sprintf("%s by %s.", verdict, pr.Email))
		}
	}
	return a, nil
}

// slackPrincipal is the organisation's user who is Slack user id (by the
// email address Slack knows them by); nil and why not when there is none.
func (s *Server) slackPrincipal(ctx context.Context, org, id string) (*Principal, string, error) {
	tokens, err := s.hookSecrets(ctx, org, "slack_bot_token")
	if err != nil {
		return nil, "", err
	}
	if len(tokens) == 0 {
		return nil, "Switchboard cannot tell who you are: the organisation has no slack_bot_token.", nil
	}
	base := s.slackBase()
	tctx, cancel := context.WithTimeout(ctx, s.opts.Timeout)
	defer cancel()
	u, err := slack.New(string(tokens[0]), slack.OptionAPIURL(base)).GetUserInfoContext(tctx, id)
	if err != nil && (err.Error() == "user_not_found" || err.Error() == "user_not_visible") {
		return nil, "Switchboard cannot tell who you are: Slack does not know your user.", nil
	}
	if err != nil {
		return nil, "", fmt.Errorf("slack users.info: %w", err)
	}
	email := strings.ToLower(strings.TrimSpace(u.Profile.Email))
	if email == "" {
		return nil, "Switchboard cannot tell who you are: Slack shares no email address for you (the app needs users:read.email).", nil
	}
	pg := domain.Page{Limit: 500}
	for {
		users, err := s.store.ListUsers(ctx, org, pg)
		if err != nil {
			return nil, "", err
		}
		for _, usr := range users {
			if strings.EqualFold(usr.Email, email) {
				return &Principal{OrgID: org, UserID: usr.ID, Email: usr.Email, KeyID: "slack:" + id, Role: usr.Role}, "", nil
			}
		}
		if len(users) < pg.Limit {
			return nil, "You (" + email + ") are not a user of this Switchboard organisation, so you cannot decide its tasks.", nil
		}
		pg.After = users[len(users)-1].ID
	}
}

// slackReply tells the outcome through the interaction's response_url:
// replacing the message (decided) or to the clicker alone (not decided).
// It is best effort: the decision stands whatever Slack answers.
func (s *Server) slackReply(ctx context.Context, responseURL string, replace bool, text string) {
	u, err := url.Parse(responseURL)
	if responseURL == "" || err != nil || !s.slackHost(u) {
		// only Slack's own response URLs: a signed payload must not make
		// the API call anywhere else
		return
	}
	msg := map[string]any{"text": text, "replace_original": replace}
	if !replace {
		msg["response_type"] = "ephemeral"
	}
	b, _ := json.Marshal(msg)
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(rctx, http.MethodPost, responseURL, bytes.NewReader(b))
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := slackReplyClient.Do(req)
	if err != nil {
		s.opts.Logger.Warn("slack: response_url", "error", err)
		return
	}
	_ = res.Body.Close()
}

// slackReplyClient follows no redirects.
var slackReplyClient = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

// slackBase is Slack's Web API base, ending in a slash.
func (s *Server) slackBase() string {
	base := s.opts.SlackURL
	if base == "" {
		base = slack.APIURL
	}
	if !strings.HasSuffix(base, "/") {
		base += "/"
	}
	return base
}

// slackHost says u is Slack's: https://hooks.slack.com, or the host of the
// configured Slack API base (a proxy, a local test server).
func (s *Server) slackHost(u *url.URL) bool {
	if u.Scheme == "https" && u.Host == "hooks.slack.com" {
		return true
	}
	b, err := url.Parse(s.slackBase())
	return err == nil && b.Host != "" && u.Scheme == b.Scheme && u.Host == b.Host
}
