// Package activities holds the connectors: one folder per connector (http,
// and later crm, email, slack, stripe, ai, ...), each declaring its actions
// (name, input and output JSON Schemas) into a dsl.Registry and providing
// their implementations.
//
// This package wraps every action implementation the same way (Wrap): it
// validates the arguments against the action's input schema (a mismatch is
// a non-retryable InvalidArguments error), records the attempt number in
// the result so the interpreter can show it, and makes every failure a
// typed Temporal application error.
package activities
