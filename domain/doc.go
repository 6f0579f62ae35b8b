// Package domain holds Switchboard's platform and business types, their
// rules, and the repository interfaces the store implements. It imports
// nothing else of the project (only the standard library), so every layer
// can depend on it.
//
// Every record carries its organisation (OrgID) and every repository method
// that reads or changes records takes the organisation it acts in: there is
// no query that can see another organisation's rows, except two that serve
// the whole platform: the API-key lookup that authenticates a request and
// the event dispatcher's claim of undelivered events.
package domain
