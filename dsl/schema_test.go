package dsl

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"
)

// compileDSLSchema compiles the published DSL schema with the validator.
func compileDSLSchema(t *testing.T, reg *Registry) *jsonschema.Schema {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(JSONSchema(reg)))
	require.NoError(t, err)
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft2020)
	require.NoError(t, c.AddResource(SchemaID, doc))
	s, err := c.Compile(SchemaID)
	require.NoError(t, err)
	return s
}

// yamlData decodes a YAML source to the data the validator takes.
func yamlData(t *testing.T, src string) any {
	t.Helper()
	var v any
	require.NoError(t, yaml.Unmarshal([]byte(src), &v))
	b, err := json.Marshal(v)
	require.NoError(t, err)
	data, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
	require.NoError(t, err)
	return data
}

func TestJSONSchemaIsValid(t *testing.T) {
	t.Parallel()
	for _, reg := range []*Registry{nil, {}, testRegistry(t)} {
		out := JSONSchema(reg)
		require.True(t, json.Valid(out))
		var m map[string]any
		require.NoError(t, json.Unmarshal(out, &m))
		require.Equal(t, "https://json-schema.org/draft/2020-12/schema", m["$schema"])
		require.Equal(t, SchemaID, m["$id"])
		compileDSLSchema(t, reg)
	}
	// One alternative per step kind.
	var m struct {
		Defs struct {
			Step struct {
				OneOf []struct {
					Title string `json:"title"`
				} `json:"oneOf"`
			} `json:"step"`
		} `json:"$defs"`
	}
	require.NoError(t, json.Unmarshal(JSONSchema(nil), &m))
	var titles []string
	for _, k := range m.Defs.Step.OneOf {
		titles = append(titles, k.Title)
	}
	require.Equal(t, kindNames(), titles)
	require.Equal(t, JSONSchema(testRegistry(t)), JSONSchema(testRegistry(t)), "the schema is deterministic")
}

func TestJSONSchemaValidatesFiles(t *testing.T) {
	t.Parallel()
	schema := compileDSLSchema(t, testRegistry(t))
	full := readTestdata(t, "full.yaml")
	require.NoError(t, schema.Validate(yamlData(t, full)))

	// The JSON form is the same data.
	data, err := jsonschema.UnmarshalJSON(strings.NewReader(readTestdata(t, "full.json")))
	require.NoError(t, err)
	require.NoError(t, schema.Validate(data))

	// The generated benchmark file validates too.
	require.NoError(t, schema.Validate(yamlData(t, gen500())))

	bad := map[string]string{
		"unknown step kind":    head + "steps:\n  - sleepy: 3d\n",
		"two step kinds":       head + "steps:\n  - set: {a: 1}\n    wait: 3d\n",
		"unknown step key":     head + "steps:\n  - set: {a: 1}\n    iff: true\n",
		"empty block":          head + "steps: []\n",
		"missing steps":        head,
		"unknown top key":      head + "steps:\n  - set: {a: 1}\nstepz: []\n",
		"bad duration":         head + "steps:\n  - wait: 3dd\n",
		"unknown action":       head + "steps:\n  - call: http.requst\n",
		"bad action arguments": head + "steps:\n  - call: http.request\n    with: {urll: x}\n",
		"bad version":          "switchboard: v2\nname: t\nsteps:\n  - set: {a: 1}\n",
		"bad name":             "switchboard: v1\nname: Bad_Name\nsteps:\n  - set: {a: 1}\n",
		"bad foreach":          head + "steps:\n  - foreach: {in: '${ [1] }'}\n",
		"two trigger kinds":    head + "steps:\n  - set: {a: 1}\ntriggers:\n  - {event: {type: a.b}, schedule: {cron: '* * * * *'}}\n",
	}
	err = schema.Validate(yamlData(t, bad["unknown step kind"]))
	require.ErrorContains(t, err, "additional properties 'sleepy' not allowed")
	for name, src := range bad {
		err := schema.Validate(yamlData(t, src))
		require.Error(t, err, name)
		// The compiler rejects them too.
		_, diags := compileSrc(t, "wf.yaml", src)
		require.NotEmpty(t, diags, name)
	}
}
