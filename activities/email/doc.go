// Package email is the email connector: the email.send action. Without a
// provider configured, messages go to the organisation's outbox (GET
// /v1/outbox), once per step however often the activity is retried;
// suppressed addresses are never sent to. See docs/connectors.md.
package email
