package domain

import (
	"encoding/json"
	"time"
)

// Trigger kinds.
const (
	TriggerWebhook  = "webhook"
	TriggerEvent    = "event"
	TriggerSchedule = "schedule"
)

// TriggerRoute says that a deployed revision has a trigger: the routes of
// a definition are replaced, in the deploy's transaction, each time it is
// deployed or undeployed, so they always match what is live.
type TriggerRoute struct {
	OrgID string `json:"orgId"`
	Kind  string `json:"kind"` // webhook, event or schedule
	// Key is the webhook path, the event type, or the schedule's id.
	Key          string `json:"key"`
	DefinitionID string `json:"definitionId"`
	Definition   string `json:"definition"` // the definition's name
	Revision     int    `json:"revision"`
	Index        int    `json:"index"` // position in the revision's `triggers:`
}

// WebhookDelivery records one request to a webhook trigger, accepted or not.
type WebhookDelivery struct {
	ID         string    `json:"id"`
	OrgID      string    `json:"orgId"`
	Path       string    `json:"path"`
	Definition string    `json:"definition,omitempty"`
	Status     string    `json:"status"` // started, signalled, duplicate, rejected, failed
	HTTPStatus int       `json:"httpStatus"`
	DedupeKey  string    `json:"dedupeKey,omitempty"`
	WorkflowID string    `json:"workflowId,omitempty"`
	RunID      string    `json:"runId,omitempty"`
	Error      string    `json:"error,omitempty"`
	ReceivedAt time.Time `json:"receivedAt"`
	DurationMS int64     `json:"durationMs"`
}

// Event is a business event, written to the outbox in the transaction of
// the change that caused it and delivered to event triggers at least once.
type Event struct {
	ID          string          `json:"id"`
	OrgID       string          `json:"orgId"`
	Type        string          `json:"type"` // e.g. ticket.created
	Data        json.RawMessage `json:"data"`
	Source      string          `json:"source,omitempty"` // who published it (api, a record type, ...)
	CreatedAt   time.Time       `json:"createdAt"`
	DeliveredAt *time.Time      `json:"deliveredAt,omitempty"`
	Attempts    int             `json:"attempts"`
	LastError   string          `json:"lastError,omitempty"`
	// Runs lists the workflow ids the event started or signalled.
	Runs []string `json:"runs,omitempty"`
}
