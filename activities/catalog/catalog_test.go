package catalog_test

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/goccy/go-yaml"
	"github.com/santhosh-tekuri/jsonschema/v6"
	"github.com/stretchr/testify/require"

	"switchboard/activities/catalog"
	"switchboard/dsl"
)

// TestSchemaUpToDate keeps schemas/dsl-v1.json (what editors load) equal to
// what the registry generates. Run `make schema` after changing an action.
func TestSchemaUpToDate(t *testing.T) {
	t.Parallel()
	committed, err := os.ReadFile("../../schemas/dsl-v1.json")
	require.NoError(t, err)
	require.Equal(t, string(dsl.JSONSchema(catalog.Registry())), string(committed), "schemas/dsl-v1.json is stale: run make schema")
}

// TestShippedFlowsMatchSchema checks every shipped workflow both ways: it
// compiles, and the editor schema accepts it.
func TestShippedFlowsMatchSchema(t *testing.T) {
	t.Parallel()
	reg := catalog.Registry()
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(dsl.JSONSchema(reg)))
	require.NoError(t, err)
	require.NoError(t, c.AddResource(dsl.SchemaID, doc))
	schema, err := c.Compile(dsl.SchemaID)
	require.NoError(t, err)
	files, err := filepath.Glob("../../flows/*/*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		src, err := os.ReadFile(f)
		require.NoError(t, err)
		_, diags := dsl.Compile(f, src, dsl.Options{Registry: reg})
		require.Empty(t, diags, f)
		var v any
		require.NoError(t, yaml.Unmarshal(src, &v), f)
		b, err := json.Marshal(v)
		require.NoError(t, err)
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		require.NoError(t, err)
		require.NoError(t, schema.Validate(inst), f)
	}
}

// TestRegistryDeclaresHTTPRequest: the built-in action every install has.
func TestRegistryDeclaresHTTPRequest(t *testing.T) {
	t.Parallel()
	a, ok := catalog.Registry().Lookup("http.request")
	require.True(t, ok)
	require.Equal(t, "http.request", a.ActivityName())
	require.Contains(t, catalog.Implementations(catalog.Options{}), "http.request")
}

// TestEditorSchemaTakesExpressionsInArguments: in `with:`, an expression may
// stand for any value (as the compiler allows), while a literal of the wrong
// type is still an error in the editor.
func TestEditorSchemaTakesExpressionsInArguments(t *testing.T) {
	t.Parallel()
	c := jsonschema.NewCompiler()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(dsl.JSONSchema(catalog.Registry())))
	require.NoError(t, err)
	require.NoError(t, c.AddResource(dsl.SchemaID, doc))
	schema, err := c.Compile(dsl.SchemaID)
	require.NoError(t, err)
	check := func(quantity string) error {
		src := `{"switchboard": "v1", "name": "q", "steps": [{"call": "crm.quote.create", "with": {"opportunityId": "o",
			"lineItems": [{"product": "p", "quantity": ` + quantity + `, "unitPrice": 1}]}}]}`
		inst, err := jsonschema.UnmarshalJSON(bytes.NewReader([]byte(src)))
		require.NoError(t, err)
		return schema.Validate(inst)
	}
	require.NoError(t, check(`2`))
	require.NoError(t, check(`"${ input.quantity }"`))
	require.Error(t, check(`"two"`))
	require.Error(t, check(`2.5`))
}
