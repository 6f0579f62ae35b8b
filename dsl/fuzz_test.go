package dsl

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// FuzzCompile feeds arbitrary sources to the compiler: it must never panic
// or hang, every diagnostic must have a position, and a plan, when there is
// one, must serialise and hash the same way twice.
func FuzzCompile(f *testing.F) {
	seeds, err := filepath.Glob("testdata/*.yaml")
	require.NoError(f, err)
	jsonSeeds, err := filepath.Glob("testdata/*.json")
	require.NoError(f, err)
	for _, name := range append(seeds, jsonSeeds...) {
		b, err := os.ReadFile(name)
		require.NoError(f, err)
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"switchboard: v1\nname: t\nsteps:\n  - set: {a: 1}\n",
		"switchboard: v1\nname: t\nsteps:\n  - set: {a: '${ vars.a + 1 }'}\n    if: |\n      vars.a > 0 &&\n        true\n",
		"switchboard: v1\nname: t\nsteps:\n  - wait: {until: '${ now + duration(\"1h\") }'}\noutput: '${ {\"a\": [1, 2.5, null]} }'\n",
		"switchboard: v1\nname: t\nsteps:\n  - foreach: {in: '${ [1] }', steps: [{set: {x: '${ item + index }'}}]}\n",
		"switchboard: v1\nname: t\nsteps: [{sleepy: 1}, {id: x}, {set: {}, call: a.b}]\n",
		"a: &a [*a]\n",
		"a: &x {b: *x}\nsteps: *x\n",
		"- - - - - - [[[[{{{{\n",
		"switchboard: v1\nname: t\nsteps:\n  - set:\n      a: \"${ \\u00e9 \\x41 ${ \"}\" } \\\n   }\"\n",
		"switchboard: v1\nname: t\nsteps:\n  - set: {a: >2\n      ${ x }\n    }\n",
		"{\"switchboard\": \"v1\", \"name\": \"t\", \"steps\": [{\"set\": {\"a\": \"${ '''}''' }\"}}]}",
		"---\na: 1\n---\nb: 2\n",
		"switchboard: v1\nname: t\nsteps:\n  - set: {a: !!binary aGVsbG8=}\n  - set: {b: .inf, c: .nan, d: 0x1F, e: 1e400}\n",
		"switchboard: v1\nname: t\nsteps:\n  - set: {<<: {a: 1}}\n",
	} {
		f.Add([]byte(s))
	}
	reg := testRegistry(f)
	f.Fuzz(func(t *testing.T, src []byte) {
		if len(src) > 64<<10 {
			return // bounded inputs keep each run fast; the parser has its own limits
		}
		p, diags := Compile("fuzz.yaml", src, Options{Registry: reg})
		if p == nil && len(diags) == 0 {
			t.Fatalf("no plan and no diagnostics for %q", src)
		}
		if p != nil && len(diags) > 0 {
			t.Fatalf("a plan and diagnostics for %q: %v", src, diags)
		}
		for _, d := range diags {
			if d.File != "fuzz.yaml" || d.Line < 1 || d.Col < 1 || d.Message == "" {
				t.Fatalf("bad diagnostic %+v for %q", d, src)
			}
		}
		for i := 1; i < len(diags); i++ {
			a, b := diags[i-1], diags[i]
			if a.Line > b.Line || (a.Line == b.Line && a.Col > b.Col) {
				t.Fatalf("diagnostics not sorted: %v", diags)
			}
		}
		if p == nil {
			return
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatalf("plan does not serialise: %v", err)
		}
		var back Plan
		if err := json.Unmarshal(b, &back); err != nil {
			t.Fatalf("plan does not read back: %v\n%s", err, b)
		}
		p2, _ := Compile("fuzz.yaml", src, Options{Registry: reg})
		if p2 == nil || p2.Hash != p.Hash {
			t.Fatalf("compiling twice gives different plans for %q", src)
		}
	})
}
