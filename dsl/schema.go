package dsl

import (
	"encoding/json"
)

// SchemaID is the $id of the published DSL schema.
const SchemaID = "https://switchboard.dev/schemas/dsl-v1.json"

// schemaBuilder assembles the DSL's JSON Schema from the step-kind table and
// an action registry.
type schemaBuilder struct{ reg *Registry }

func (d *schemaBuilder) blockRef(desc string) map[string]any {
	return map[string]any{"$ref": "#/$defs/block", "description": desc}
}

func (d *schemaBuilder) cond(desc string) map[string]any {
	return map[string]any{"type": []string{"string", "boolean"}, "description": desc + " CEL, with or without ${ }."}
}

func (d *schemaBuilder) expr(desc string) map[string]any {
	return map[string]any{"type": "string", "description": desc + " A CEL expression, usually written ${ ... }."}
}

func (d *schemaBuilder) duration() map[string]any {
	return map[string]any{"$ref": "#/$defs/duration"}
}

func (d *schemaBuilder) businessHours() map[string]any {
	return map[string]any{"oneOf": []any{
		map[string]any{"type": "string", "pattern": `^[A-Za-z0-9][A-Za-z0-9_.-]{0,62}$`,
			"description": "weekdays (Mon–Fri 09:00–17:00 UTC), or the name of one of the organisation's business calendars"},
		map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
			"timezone": map[string]any{"type": "string"},
			"days":     map[string]any{"type": "array", "items": map[string]any{"enum": []string{"MON", "TUE", "WED", "THU", "FRI", "SAT", "SUN"}}},
			"hours":    map[string]any{"type": "string", "pattern": `^\d{1,2}:\d{2}-\d{1,2}:\d{2}$`},
			"holidays": map[string]any{"type": "array", "items": map[string]any{"type": "string", "format": "date"}},
		}},
	}}
}

func (d *schemaBuilder) actionNames() map[string]any {
	var anyOf []any
	for _, a := range d.reg.Actions() {
		anyOf = append(anyOf, map[string]any{"const": a.Name, "description": a.Title})
	}
	s := map[string]any{"type": "string", "description": "The action to invoke."}
	if len(anyOf) > 0 {
		s["anyOf"] = anyOf
	}
	return s
}

// JSONSchema returns the JSON Schema (draft 2020-12) of workflow files, with
// `call` arguments typed by the registry's actions.
func JSONSchema(reg *Registry) []byte {
	if reg == nil {
		reg = &Registry{}
	}
	d := &schemaBuilder{reg: reg}
	common := map[string]any{
		"id":      map[string]any{"type": "string", "pattern": stepID.String(), "description": "Needed to refer to the step as steps.<id>."},
		"name":    map[string]any{"type": "string", "description": "Display title."},
		"if":      d.cond("Guard: when false the step is skipped."),
		"retry":   map[string]any{"$ref": "#/$defs/retry"},
		"timeout": d.duration(),
	}
	var kinds []any
	for _, name := range kindNames() {
		k := stepKinds[name]
		props := map[string]any{}
		for n, v := range common {
			props[n] = v
		}
		for n, v := range k.Schema(d) {
			props[n] = v
		}
		ks := map[string]any{
			"type": "object", "title": name, "description": k.Summary + " Output: " + k.Output + ".",
			"required": []string{name}, "properties": props, "additionalProperties": false,
		}
		if name == "call" {
			var allOf []any
			for _, a := range reg.Actions() {
				allOf = append(allOf, map[string]any{
					"if":   map[string]any{"properties": map[string]any{"call": map[string]any{"const": a.Name}}, "required": []string{"call"}},
					"then": map[string]any{"properties": map[string]any{"with": exprTolerant(a.Input)}},
				})
			}
			if len(allOf) > 0 {
				ks["allOf"] = allOf
			}
		}
		kinds = append(kinds, ks)
	}
	trigger := map[string]any{
		"type": "object", "minProperties": 1, "maxProperties": 1, "additionalProperties": false,
		"properties": map[string]any{
			"webhook": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"path", "verify"},
				"properties": map[string]any{
					"path": map[string]any{"type": "string"},
					"verify": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"scheme"},
						"properties": map[string]any{
							"scheme": map[string]any{"enum": verifySchemes},
							"secret": map[string]any{"type": "string", "description": "Name of a stored secret."},
							"header": map[string]any{"type": "string"},
						}},
					"key":    map[string]any{"description": "Idempotency key: the same key never starts two runs."},
					"input":  map[string]any{"description": "The run's input, built from `body`, `headers`, `query`."},
					"signal": map[string]any{"type": "string", "description": "Deliver to a running run instead of starting one."},
					"target": map[string]any{"description": "Workflow id of the run to signal."},
					"start":  map[string]any{"type": "boolean", "description": "Signal-with-start: start the run named by `target` (with `input`) when none is running; an extension of DSL v1."},
				}},
			"event": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"type"},
				"properties": map[string]any{
					"type":   map[string]any{"type": "string"},
					"when":   d.cond("Filter on `event`."),
					"input":  map[string]any{},
					"signal": map[string]any{"type": "string", "description": "Deliver the event as this signal to the run `target` names instead of starting one; an extension of DSL v1."},
					"target": map[string]any{"description": "Id of the run to signal (`<definition>:<id>`), built from `event`."},
				}},
			"schedule": map[string]any{"type": "object", "additionalProperties": false,
				"oneOf": []any{map[string]any{"required": []string{"cron"}}, map[string]any{"required": []string{"every"}}},
				"properties": map[string]any{
					"cron":          map[string]any{"type": "string"},
					"every":         map[string]any{"type": "string", "description": "An interval instead of a cron expression (e.g. `15m`); an extension of DSL v1."},
					"overlap":       map[string]any{"enum": overlapPolicies, "description": "When the previous run is still going (default skip); an extension of DSL v1."},
					"catchupWindow": map[string]any{"type": "string", "description": "How late a missed time may still start (default 1m, at least 10s); an extension of DSL v1."},
					"timezone":      map[string]any{"type": "string"},
					"input":         map[string]any{},
				}},
		},
	}
	s := map[string]any{
		"$schema":              "https://json-schema.org/draft/2020-12/schema",
		"$id":                  SchemaID,
		"title":                "Switchboard workflow (DSL v1)",
		"type":                 "object",
		"required":             []string{"switchboard", "name", "steps"},
		"additionalProperties": false,
		"properties": map[string]any{
			"switchboard": map[string]any{"const": "v1", "description": "The DSL version."},
			"name":        map[string]any{"type": "string", "pattern": workflowName.String()},
			"title":       map[string]any{"type": "string"},
			"description": map[string]any{"type": "string"},
			"input":       map[string]any{"type": "object", "description": "JSON Schema (draft 2020-12) of the run input."},
			"vars":        map[string]any{"type": "object", "description": "Initial variables; values may be expressions over input."},
			"steps":       d.blockRef("The workflow's steps."),
			"output":      map[string]any{"description": "The run's result; default: the final vars."},
			"triggers":    map[string]any{"type": "array", "items": trigger},
			"concurrency": map[string]any{"type": "object", "additionalProperties": false, "required": []string{"key"},
				"properties": map[string]any{
					"key":        d.expr("One active run per key."),
					"onConflict": map[string]any{"enum": []string{"skip", "replace", "queue"}, "default": "skip"},
				}},
			"exitWhen": map[string]any{"type": "array", "items": map[string]any{"type": "object", "additionalProperties": false,
				"required": []string{"signal"}, "properties": map[string]any{
					"signal": map[string]any{"type": "string"},
					"when":   d.cond("Filter on the payload, available as `signal`."),
				}}},
			"onFailure": d.blockRef("Steps run after compensation when the run fails."),
			"timeout":   d.duration(),
			"ui":        map[string]any{"type": "object", "description": "Builder layout (node positions); ignored by the engine."},
		},
		"$defs": map[string]any{
			"block": map[string]any{"type": "array", "minItems": 1, "items": map[string]any{"$ref": "#/$defs/step"}},
			"step":  map[string]any{"oneOf": kinds},
			"duration": map[string]any{"type": "string", "description": "90s, 15m, 2h30m, 3d, 1w or ISO 8601 (P3DT4H).",
				"pattern": `^((\d+(\.\d+)?(ms|w|d|h|m|s))+|P.+)$`},
			"retry": map[string]any{"type": "object", "additionalProperties": false, "properties": map[string]any{
				"maxAttempts":     map[string]any{"type": "integer", "minimum": 1},
				"initialInterval": d.duration(),
				"backoff":         map[string]any{"type": "number", "minimum": 1},
				"maxInterval":     d.duration(),
				"nonRetryable":    map[string]any{"type": "array", "items": map[string]any{"type": "string"}},
			}},
		},
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		panic(err)
	}
	return append(b, '\n')
}

// exprString is a `${ ... }` expression, which stands for any value.
var exprString = map[string]any{"type": "string", "pattern": `^\s*\$\{[\s\S]*\}\s*$`, "description": "An expression, evaluated when the step runs."}

// exprTolerant turns an action's input schema into the editor's schema of
// `with:`: wherever a value goes (the whole map, each property, each list
// item), an expression may stand instead, as the compiler allows.
func exprTolerant(raw json.RawMessage) any {
	var v any
	if err := json.Unmarshal(raw, &v); err != nil {
		return raw
	}
	return tolerate(v)
}

func tolerate(v any) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		out[k] = x
	}
	if props, ok := m["properties"].(map[string]any); ok {
		np := make(map[string]any, len(props))
		for k, x := range props {
			np[k] = tolerate(x)
		}
		out["properties"] = np
	}
	if items, ok := m["items"]; ok {
		out["items"] = tolerate(items)
	}
	for _, key := range []string{"anyOf", "oneOf", "allOf"} {
		if list, ok := m[key].([]any); ok {
			nl := make([]any, len(list))
			for i, x := range list {
				nl[i] = tolerate(x)
			}
			out[key] = nl
		}
	}
	return map[string]any{"anyOf": []any{out, exprString}}
}
