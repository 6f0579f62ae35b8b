package domain

import (
	"context"
	"encoding/json"
	"time"
)

// Store is the persistent state of the platform. Implementations (the
// store package: Postgres and SQLite) pass one conformance suite.
type Store interface {
	Repo
	// Tx runs fn in one transaction: every change fn makes through tx
	// commits together, or none does (fn's error, or a panic, rolls back).
	Tx(ctx context.Context, fn func(tx Repo) error) error
	Close() error
}

// Repo reads and changes records. Every method but APIKeyByHash and
// ClaimEvents acts in one organisation and cannot see another's rows. Errors are ErrNotFound,
// ErrConflict, ErrInvalid (wrapped with detail) or infrastructure errors.
type Repo interface {
	CreateOrg(ctx context.Context, o *Org) error
	GetOrg(ctx context.Context, id string) (*Org, error)

	CreateUser(ctx context.Context, u *User) error // ErrConflict: email taken in the org
	GetUser(ctx context.Context, orgID, id string) (*User, error)
	ListUsers(ctx context.Context, orgID string, p Page) ([]User, error)

	CreateAPIKey(ctx context.Context, k *APIKey) error
	// APIKeyByHash finds a key, not revoked, by the hash of its secret: the
	// one lookup across organisations (authentication).
	APIKeyByHash(ctx context.Context, hash []byte) (*APIKey, error)
	ListAPIKeys(ctx context.Context, orgID string, p Page) ([]APIKey, error)
	RevokeAPIKey(ctx context.Context, orgID, id string) error

	// CreateDefinition creates a definition; ErrConflict when the name is taken.
	CreateDefinition(ctx context.Context, d *Definition) error
	GetDefinition(ctx context.Context, orgID, name string) (*Definition, error)
	ListDefinitions(ctx context.Context, orgID string, p Page) ([]Definition, error)
	// CreateRevision appends a revision: r.Number is set to the
	// definition's latest + 1, which becomes its latest.
	CreateRevision(ctx context.Context, r *Revision) error
	GetRevision(ctx context.Context, orgID, definitionID string, number int) (*Revision, error)
	// ListRevisions lists revisions newest first; Page.After is a revision number.
	ListRevisions(ctx context.Context, orgID, definitionID string, p Page) ([]Revision, error)
	// Deploy makes revision d.Revision live (0 undeploys) and records d;
	// ErrNotFound when that revision does not exist.
	Deploy(ctx context.Context, d *Deployment) error
	ListDeployments(ctx context.Context, orgID, definitionID string, p Page) ([]Deployment, error)

	// AppendAudit adds an audit row; call it in the transaction of the change.
	AppendAudit(ctx context.Context, e *AuditEntry) error
	// ListAudit lists audit rows newest first.
	ListAudit(ctx context.Context, orgID string, p Page) ([]AuditEntry, error)

	// PutSecret creates or replaces a secret (by org and name).
	PutSecret(ctx context.Context, s *Secret) error
	GetSecret(ctx context.Context, orgID, name string) (*Secret, error)
	// ListSecrets lists secrets by name, without their values.
	ListSecrets(ctx context.Context, orgID string, p Page) ([]Secret, error)
	DeleteSecret(ctx context.Context, orgID, name string) error

	// AddOutbox records a message; its Provider defaults to "outbox" and
	// its Status to "queued".
	AddOutbox(ctx context.Context, m *OutboxMessage) error
	GetOutbox(ctx context.Context, orgID, id string) (*OutboxMessage, error)
	// SetOutboxStatus moves a message to status if its status is one of
	// from (ErrConflict otherwise: another attempt moved it first); a
	// non-empty providerID or errText is recorded with it.
	SetOutboxStatus(ctx context.Context, orgID, id string, from []string, status, providerID, errText string) error
	// ListOutbox lists messages newest first.
	ListOutbox(ctx context.Context, orgID string, p Page) ([]OutboxMessage, error)

	// PutIdempotencyKey records a key; ErrConflict when the org already
	// has that key (read it with GetIdempotencyKey).
	PutIdempotencyKey(ctx context.Context, k *IdempotencyKey) error
	GetIdempotencyKey(ctx context.Context, orgID, key string) (*IdempotencyKey, error)
	// SetIdempotencyRun records the run a key's request started.
	SetIdempotencyRun(ctx context.Context, orgID, key, workflowID, runID string) error
	DeleteIdempotencyKey(ctx context.Context, orgID, key string) error

	// SetTriggerRoutes replaces all routes of a definition (call it in the
	// deploy's transaction; none undeploys). ErrConflict when a webhook
	// path is already routed to another definition of the organisation.
	SetTriggerRoutes(ctx context.Context, orgID, definitionID string, routes []TriggerRoute) error
	// WebhookRoute finds the route of a webhook path.
	WebhookRoute(ctx context.Context, orgID, path string) (*TriggerRoute, error)
	// EventRoutes lists the routes of an event type, by definition name.
	EventRoutes(ctx context.Context, orgID, eventType string) ([]TriggerRoute, error)
	// ListTriggerRoutes lists an organisation's routes by kind and key.
	ListTriggerRoutes(ctx context.Context, orgID string) ([]TriggerRoute, error)

	AddDelivery(ctx context.Context, d *WebhookDelivery) error
	// ListDeliveries lists webhook deliveries newest first.
	ListDeliveries(ctx context.Context, orgID string, p Page) ([]WebhookDelivery, error)

	// PublishEvent writes an event (Type and JSON Data required) to the
	// outbox; call it in the transaction of the change that caused it.
	PublishEvent(ctx context.Context, e *Event) error
	// ClaimEvents leases up to limit undelivered events whose lease has
	// expired, oldest first, for lease, counting an attempt on each: the
	// dispatcher's one query across organisations. Concurrent claimers
	// never get the same event while its lease runs.
	ClaimEvents(ctx context.Context, limit int, lease time.Duration) ([]Event, error)
	// MarkEventDelivered records the runs an event started or signalled.
	MarkEventDelivered(ctx context.Context, orgID, id string, runs []string) error
	// MarkEventFailed records a failed attempt; the event is claimable
	// again at retryAt. attempt is the Attempts of the claim that failed:
	// ErrConflict when the event was claimed again since, or delivered
	// (the newer claim, or the delivery, wins).
	MarkEventFailed(ctx context.Context, orgID, id string, attempt int, reason string, retryAt time.Time) error
	GetEvent(ctx context.Context, orgID, id string) (*Event, error)
	// ListEvents lists events newest first.
	ListEvents(ctx context.Context, orgID string, p Page) ([]Event, error)

	// PutActionResult records the result of the change an action made, by
	// its idempotency key, in the change's transaction; ErrConflict when the
	// key is already recorded.
	PutActionResult(ctx context.Context, orgID, key string, result json.RawMessage) error
	// ActionResult is the recorded result of key; ErrNotFound when none.
	ActionResult(ctx context.Context, orgID, key string) (json.RawMessage, error)

	// AddAIUsage adds tokens (≥ 0) to the organisation's AI token usage of
	// month ("2006-01", UTC) and returns the month's new total.
	AddAIUsage(ctx context.Context, orgID, month string, tokens int64) (int64, error)
	// AIUsage is the organisation's AI token usage of month; 0 when none.
	AIUsage(ctx context.Context, orgID, month string) (int64, error)

	CustomerRepo
	OpportunityRepo
	QuoteRepo
	TimelineRepo
	RecordSchemaRepo
	CalendarRepo
	ArticleRepo
	ContractRepo
	TicketRepo
	CampaignRepo
	PaymentRepo
	DocumentRepo
	MailTemplateRepo
}
