package cli_test

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

const goodFlow = `switchboard: v1
name: good
steps:
  - id: hello
    set: {greeting: hi}
  - workflow: helper
output: ${ steps.hello.output }
`

const helperFlow = `{"switchboard": "v1", "name": "helper", "steps": [{"wait": "1h"}]}
`

// badFlow has two problems, at 4:11 and 5:18.
const badFlow = `switchboard: v1
name: bad
steps:
  - wait: 3dd
  - set: {x: '${ steps.nope.output }'}
`

// badJSON has one problem, at 3:13.
const badJSON = `{"switchboard": "v1",
 "name": "bad-json",
 "steps": [{"sleepy": "1h"}]}
`

// project lays out a folder of workflows: good ones at the top, bad ones
// in a sub-folder, and files validate must ignore.
func project(t *testing.T) (dir, bad, badJ string) {
	dir = t.TempDir()
	writeFile(t, dir, "good.yaml", goodFlow)
	writeFile(t, dir, "helper.json", helperFlow)
	writeFile(t, dir, "README.md", "# not a workflow: ignored\n")
	writeFile(t, dir, ".hidden/ignored.yaml", "not: [a workflow\n")
	bad = writeFile(t, dir, "sub/bad.yaml", badFlow)
	badJ = writeFile(t, dir, "sub/bad-json.json", badJSON)
	return dir, bad, badJ
}

func TestValidateReportsEveryProblem(t *testing.T) {
	t.Parallel()
	dir, bad, badJ := project(t)
	r := sb(t, "validate", dir)
	require.Equal(t, 1, r.code, "stdout: %s\nstderr: %s", r.stdout, r.stderr)
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	require.Len(t, lines, 3, r.stdout)
	require.True(t, strings.HasPrefix(lines[0], badJ+":3:13: unknown step kind `sleepy`"), lines[0])
	require.True(t, strings.HasPrefix(lines[1], bad+":4:11: bad duration `3dd`"), lines[1])
	require.True(t, strings.HasPrefix(lines[2], bad+":5:18: unknown step `nope`"), lines[2])
}

func TestValidateJSONFormat(t *testing.T) {
	t.Parallel()
	dir, bad, badJ := project(t)
	r := sb(t, "validate", "--format", "json", dir)
	require.Equal(t, 1, r.code, r.stderr)
	requireSingleJSON(t, r.stdout)
	var diags []map[string]any
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &diags))
	require.Len(t, diags, 3)
	for _, d := range diags {
		require.Len(t, d, 4, "exactly file, line, col, message: %v", d)
		require.IsType(t, "", d["file"])
		require.IsType(t, float64(0), d["line"])
		require.IsType(t, float64(0), d["col"])
		require.NotEmpty(t, d["message"])
	}
	type pos struct {
		File      string
		Line, Col float64
	}
	var got []pos
	for _, d := range diags {
		got = append(got, pos{d["file"].(string), d["line"].(float64), d["col"].(float64)})
	}
	require.Equal(t, []pos{{badJ, 3, 13}, {bad, 4, 11}, {bad, 5, 18}}, got)
	require.Contains(t, diags[1]["message"], "bad duration")
}

func TestValidateAllGood(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "good.yaml", goodFlow)
	writeFile(t, dir, "helper.json", helperFlow)

	r := sb(t, "validate", dir)
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stdout)

	r = sb(t, "validate", "--format", "json", dir)
	require.Equal(t, 0, r.code, r.stderr)
	require.JSONEq(t, `[]`, r.stdout)
	require.Equal(t, "[]\n", r.stdout)

	// files named one by one
	r = sb(t, "validate", filepath.Join(dir, "good.yaml"), filepath.Join(dir, "helper.json"))
	require.Equal(t, 0, r.code, r.stderr)
	require.Empty(t, r.stdout)
}

func TestValidateSeveralPaths(t *testing.T) {
	t.Parallel()
	dir, bad, _ := project(t)
	r := sb(t, "validate", filepath.Join(dir, "good.yaml"), bad)
	require.Equal(t, 1, r.code)
	lines := strings.Split(strings.TrimRight(r.stdout, "\n"), "\n")
	require.Len(t, lines, 2, r.stdout)
	for _, l := range lines {
		require.True(t, strings.HasPrefix(l, bad+":"), l)
	}
}

func TestValidateChildWorkflowsMustBeSiblings(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	// good.yaml uses `helper`, which is not in this folder
	p := writeFile(t, dir, "good.yaml", goodFlow)
	r := sb(t, "validate", dir)
	require.Equal(t, 1, r.code)
	require.True(t, strings.HasPrefix(r.stdout, p+":6:15: "), r.stdout)
	require.Contains(t, r.stdout, "helper")
}

func TestValidateUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	writeFile(t, dir, "good.yaml", goodFlow)
	requireUsage(t, sb(t, "validate", "--format", "xml", dir), "--format")
	requireUsage(t, sb(t, "validate", filepath.Join(dir, "missing.yaml")), "missing.yaml")
	requireUsage(t, sb(t, "validate"), "arg")
}

// Two files of a folder may not share a workflow name: children resolve by name.
func TestValidateDuplicateNamesInAFolder(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	src := "switchboard: v1\nname: same\nsteps:\n  - set: {a: 1}\n"
	a := writeFile(t, dir, "a.yaml", src)
	writeFile(t, dir, "b.yaml", src)
	r := sb(t, "validate", dir)
	require.Equal(t, 1, r.code)
	require.Contains(t, r.stdout, "a.yaml:2:7: workflow name `same` is also used by b.yaml")
	require.Contains(t, r.stdout, "b.yaml:2:7: workflow name `same` is also used by a.yaml")
	r = sb(t, "run", a)
	require.Equal(t, 2, r.code)
}
