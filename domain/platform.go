package domain

import (
	"encoding/json"
	"time"
)

// Org is an organisation: the unit of tenancy.
type Org struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	CreatedAt time.Time `json:"createdAt"`
}

// User is a person in an organisation.
type User struct {
	ID        string    `json:"id"`
	OrgID     string    `json:"orgId"`
	Email     string    `json:"email"` // unique per organisation, case-insensitive
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"createdAt"`
}

// APIKey authenticates requests as a user with a role. Only a hash of the
// secret part is stored; Prefix (the first characters of the key) lets
// people recognise a key in lists.
type APIKey struct {
	ID         string     `json:"id"`
	OrgID      string     `json:"orgId"`
	UserID     string     `json:"userId"`
	Name       string     `json:"name"`
	Role       Role       `json:"role"`
	Prefix     string     `json:"prefix"`
	Hash       []byte     `json:"-"`
	CreatedAt  time.Time  `json:"createdAt"`
	RevokedAt  *time.Time `json:"revokedAt,omitempty"`
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// Definition is a named workflow in an organisation; its content lives in
// immutable revisions, one of which may be live (deployed).
type Definition struct {
	ID             string    `json:"id"`
	OrgID          string    `json:"orgId"`
	Name           string    `json:"name"`
	LatestRevision int       `json:"latestRevision"`
	LiveRevision   int       `json:"liveRevision,omitempty"` // 0: not deployed
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
}

// Revision is one immutable version of a definition's source.
type Revision struct {
	OrgID        string    `json:"orgId"`
	DefinitionID string    `json:"definitionId"`
	Number       int       `json:"number"` // 1, 2, ... per definition
	Source       string    `json:"source"`
	Format       string    `json:"format"` // yaml or json
	PlanHash     string    `json:"planHash"`
	Author       string    `json:"author"`
	Message      string    `json:"message,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
}

// Deployment records that a revision was made live (Revision > 0) or that
// the definition was undeployed (Revision == 0).
type Deployment struct {
	ID           string    `json:"id"`
	OrgID        string    `json:"orgId"`
	DefinitionID string    `json:"definitionId"`
	Revision     int       `json:"revision"`
	DeployedBy   string    `json:"deployedBy"`
	DeployedAt   time.Time `json:"deployedAt"`
}

// AuditEntry is one row of the append-only audit log, written in the same
// transaction as the change it records.
type AuditEntry struct {
	ID      string          `json:"id"`
	OrgID   string          `json:"orgId"`
	Actor   string          `json:"actor"`  // user id, api key id, or "system"
	Action  string          `json:"action"` // e.g. definition.revision.create
	Target  string          `json:"target"` // e.g. definition/<name>@3
	Details json.RawMessage `json:"details,omitempty"`
	At      time.Time       `json:"at"`
}

// Secret is an encrypted named value. Value is the sealed envelope; the
// store never sees a plaintext.
type Secret struct {
	OrgID     string    `json:"orgId"`
	Name      string    `json:"name"`
	Value     []byte    `json:"-"`
	KeyID     string    `json:"keyId"` // which master key sealed it
	CreatedAt time.Time `json:"createdAt"`
	UpdatedAt time.Time `json:"updatedAt"`
}

// OutboxMessage is an email or Slack message a run sent: to the outbox
// (Provider "outbox": no provider is configured; kept for people to read)
// or to a provider (SendGrid, Slack), recorded before the provider was
// called so that a retried activity never sends it twice.
type OutboxMessage struct {
	ID      string          `json:"id"`
	OrgID   string          `json:"orgId"`
	Channel string          `json:"channel"` // email or slack
	To      string          `json:"to"`
	Subject string          `json:"subject,omitempty"`
	Body    json.RawMessage `json:"body"`
	RunID   string          `json:"runId,omitempty"`
	StepID  string          `json:"stepId,omitempty"`
	// Provider is outbox, sendgrid or slack.
	Provider string `json:"provider"`
	// Status is one of MessageStatuses.
	Status string `json:"status"`
	// ProviderID is the provider's id of the message (SendGrid's
	// X-Message-Id, Slack's channel and ts), once it accepted it.
	ProviderID string    `json:"providerId,omitempty"`
	Error      string    `json:"error,omitempty"`
	CreatedAt  time.Time `json:"createdAt"`
	UpdatedAt  time.Time `json:"updatedAt"`
}

// Message statuses. A message handed to a provider is "sending" until the
// provider answers: "sent" when it accepted the message, "retrying" when
// it refused it in a way that is safe to retry (429, 5xx, no connection),
// "failed" when it rejected it for good. A sending message whose activity
// died (the worker crashed) is "unconfirmed": the provider may have it; it
// is never sent again. Provider events then move a sent message on.
var MessageStatuses = []string{"queued", "sending", "retrying", "sent", "unconfirmed", "failed",
	"delivered", "opened", "clicked", "bounced", "dropped", "complained", "unsubscribed"}

// IdempotencyKey remembers the run a start request with an
// `Idempotency-Key` header created, so a retried request returns it.
type IdempotencyKey struct {
	OrgID       string    `json:"orgId"`
	Key         string    `json:"key"`
	RequestHash string    `json:"requestHash"` // what was asked; a different request with the same key is a conflict
	WorkflowID  string    `json:"workflowId"`  // chosen before the start
	RunID       string    `json:"runId"`       // empty until the start was accepted
	CreatedAt   time.Time `json:"createdAt"`
}

// Page asks for one page of a list: at most Limit items (0 means 50,
// capped at 500) after the cursor After (empty starts at the beginning).
// The cursor is the sort key of the last item of the previous page: the id
// for lists ordered by id (users, keys, audit, outbox, deployments), the
// name for definitions and secrets, the number for revisions.
type Page struct {
	Limit int
	After string
}

// Size is the effective page size.
func (p Page) Size() int {
	switch {
	case p.Limit <= 0:
		return 50
	case p.Limit > 500:
		return 500
	}
	return p.Limit
}
