// Package dsl parses, checks and compiles Switchboard workflow files (DSL v1,
// see docs/dsl.md) into an immutable, hashable Plan.
//
// The pipeline is Parse (YAML or JSON into a Node tree that keeps source
// positions) → Compile (every check, CEL type-checking, action argument
// validation against the Registry) → Plan. All problems are reported in one
// pass as Diagnostics, each pointing at the offending node as file:line:col.
//
// Each step kind lives in its own file (step_*.go) holding its spec, checks,
// compile function and documentation side by side; they register themselves
// in stepKinds, which also drives the published JSON Schema.
//
// This package never imports Temporal: the interpreter in workflows/ executes
// plans, and the evaluator in this package (Env, Eval) is deterministic.
package dsl
