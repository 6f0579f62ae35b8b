// Package slack is the Slack connector: slack.postMessage posts a message
// (text and/or Block Kit blocks) to a channel or to a person, and
// slack.lookupUserByEmail finds a workspace member by email address. Both
// use the organisation's secret slack_bot_token through slack-go.
//
// Without the token, slack.postMessage puts the message in the
// organisation's outbox (GET /v1/outbox) instead, so a flow still runs
// end to end in dev. With it, the message is recorded in the outbox ledger
// before Slack is called (crm.Service.BeginSend / SendDone): Slack takes
// no idempotency key, so a retried activity never posts a message twice —
// a lost answer makes it "unconfirmed", not a duplicate. See
// docs/connectors-slack.md.
package slack
