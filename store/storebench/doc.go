// Package storebench holds the business-records benchmark: a million
// customers in one organisation, queried through the HTTP API by 50
// concurrent clients, on PostgreSQL and on SQLite (see docs/benchmarks.md).
// It has only tests.
package storebench
