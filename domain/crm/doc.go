// Package crm holds the rules of the business records: what a change
// checks, which domain event it emits and what it audits. Every change runs
// in one store transaction with its outbox event and audit row, so the API
// and the crm.* actions change records the same way. It imports only
// domain.
package crm
