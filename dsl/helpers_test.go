package dsl

import (
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// httpRequestInput is a fake declaration of the built-in http.request action,
// enough for the compiler's argument checks.
const httpRequestInput = `{
  "type": "object",
  "required": ["url"],
  "additionalProperties": false,
  "properties": {
    "method":  {"enum": ["GET", "POST", "PUT", "PATCH", "DELETE"]},
    "url":     {"type": "string"},
    "headers": {"type": "object", "additionalProperties": {"type": "string"}},
    "query":   {"type": "object"},
    "body":    {},
    "timeout": {"type": "string"}
  }
}`

// testRegistry returns a registry holding a fake http.request action.
func testRegistry(t testing.TB) *Registry {
	t.Helper()
	reg := &Registry{}
	require.NoError(t, reg.Register(Action{
		Name:   "http.request",
		Title:  "Send an HTTP request",
		Input:  json.RawMessage(httpRequestInput),
		Output: json.RawMessage(`{"type": "object", "properties": {"status": {"type": "integer"}, "headers": {"type": "object"}, "body": {}}}`),
	}))
	return reg
}

// compileSrc compiles a source with the test registry.
func compileSrc(t testing.TB, file, src string) (*Plan, Diagnostics) {
	t.Helper()
	return Compile(file, []byte(src), Options{Registry: testRegistry(t)})
}

// mustCompile compiles a source that must have no diagnostics.
func mustCompile(t testing.TB, file, src string) *Plan {
	t.Helper()
	p, diags := compileSrc(t, file, src)
	require.Empty(t, diags, "unexpected diagnostics:\n%s", diags.Error())
	require.NotNil(t, p)
	return p
}

func readTestdata(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	require.NoError(t, err)
	return string(b)
}

// requireDiags checks diagnostics against expectations written as
// "file:line:col: message-substring", in order.
func requireDiags(t testing.TB, got Diagnostics, want []string) {
	t.Helper()
	lines := make([]string, len(got))
	for i, d := range got {
		lines[i] = d.String()
	}
	all := strings.Join(lines, "\n")
	require.Len(t, got, len(want), "diagnostics:\n%s", all)
	for i, w := range want {
		loc, sub, ok := strings.Cut(w, ": ")
		require.True(t, ok, "bad expectation %q", w)
		gotLoc := fmt.Sprintf("%s:%d:%d", got[i].File, got[i].Line, got[i].Col)
		require.Equal(t, loc, gotLoc, "position of diagnostic %d (%s); all:\n%s", i, got[i].Message, all)
		require.Contains(t, got[i].Message, sub, "message of diagnostic %d; all:\n%s", i, all)
	}
}
