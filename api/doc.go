// Package api is Switchboard's HTTP API: gin underneath, huma on top so
// that the OpenAPI 3.1 document (/openapi.json) is generated from the
// handlers' own input and output types and cannot drift from the code.
//
// Every operation authenticates a Bearer API key, checks the key's role,
// and acts only in the key's organisation: another organisation's objects
// answer 404. Errors are RFC 9457 problem+json documents with a stable
// `type` (see Problem). Runs live in Temporal: starting, listing (through
// visibility search attributes), reading a run's timeline (the
// interpreter's `state` query), signals, cancellation and approval
// decisions (the `decide` update) all go through the Temporal client, with
// a deadline, and answer 503 when Temporal is unavailable.
package api
