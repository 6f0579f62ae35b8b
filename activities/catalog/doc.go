// Package catalog lists every built-in connector: it builds the action
// Registry the compiler checks `call` steps against (and the JSON Schema is
// generated from), and registers the matching implementations on a worker.
package catalog
