package docs_test

import (
	"context"
	"encoding/json"
	"os"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/activities/catalog"
	"switchboard/dsl"
	"switchboard/workers/local"
)

type example struct {
	line int
	src  string
	run  string // the `run:` line after the block, if any
}

// examples extracts the ```yaml blocks that are workflows, with their run: lines.
func examples(t *testing.T, file string) []example {
	b, err := os.ReadFile(file)
	require.NoError(t, err)
	lines := strings.Split(string(b), "\n")
	var out []example
	for i := 0; i < len(lines); i++ {
		if strings.TrimSpace(lines[i]) != "```yaml" {
			continue
		}
		start := i + 1
		j := start
		for j < len(lines) && strings.TrimSpace(lines[j]) != "```" {
			j++
		}
		src := strings.Join(lines[start:j], "\n")
		i = j
		if !strings.HasPrefix(src, "switchboard: v1") {
			continue
		}
		ex := example{line: start, src: src}
		for k := j + 1; k < len(lines); k++ {
			if strings.TrimSpace(lines[k]) == "" {
				continue
			}
			if strings.HasPrefix(lines[k], "run:") {
				ex.run = strings.TrimSpace(strings.TrimPrefix(lines[k], "run:"))
			}
			break
		}
		out = append(out, ex)
	}
	return out
}

var (
	argRe    = regexp.MustCompile(`--(input|signal|mock) '([^']*)'(@\S+)?\s`)
	resultRe = regexp.MustCompile("→ (?:`([^`]*)`|error `([A-Za-z]+)`)\\s*$")
)

// TestDSLReferenceExamples compiles every workflow example in dsl.md and
// runs those followed by `run: ARGS → RESULT`, checking the result.
func TestDSLReferenceExamples(t *testing.T) {
	t.Parallel()
	reg := catalog.Registry()
	exs := examples(t, "dsl.md")
	require.GreaterOrEqual(t, len(exs), 15)
	plans := map[string]*dsl.Plan{}
	for _, ex := range exs {
		p, diags := dsl.Compile("dsl.md", []byte(ex.src), dsl.Options{Registry: reg})
		require.Empty(t, diags, "example at dsl.md line %d does not compile", ex.line)
		plans[p.Name] = p
	}
	ran := 0
	for _, ex := range exs {
		if ex.run == "" {
			continue
		}
		ran++
		p, _ := dsl.Compile("dsl.md", []byte(ex.src), dsl.Options{Registry: reg})
		m := resultRe.FindStringSubmatch(ex.run)
		require.NotNil(t, m, "run line at dsl.md:%d has no → result", ex.line)
		opts := local.Options{Registry: reg, Children: plans}
		args, _, _ := strings.Cut(ex.run, "→")
		args = strings.ReplaceAll(args, "`", "") + " "
		for _, a := range argRe.FindAllStringSubmatch(args, -1) {
			switch a[1] {
			case "input":
				opts.Input = json.RawMessage(a[2])
			case "signal":
				name, payload, _ := strings.Cut(a[2], "=")
				off := strings.TrimPrefix(a[3], "@")
				if i := strings.LastIndex(payload, "@"); i >= 0 {
					if _, err := dsl.ParseDuration(payload[i+1:]); err == nil {
						payload, off = payload[:i], payload[i+1:]
					}
				}
				sig := local.Signal{Name: name, Payload: json.RawMessage(payload)}
				if off != "" {
					d, err := dsl.ParseDuration(off)
					require.NoError(t, err)
					sig.At = d
				}
				opts.Signals = append(opts.Signals, sig)
			}
		}
		res, err := local.Run(context.Background(), p, opts)
		require.NoError(t, err, "dsl.md:%d", ex.line)
		if m[2] != "" {
			require.NotNil(t, res.Error, "dsl.md:%d should fail", ex.line)
			require.Equal(t, m[2], res.Error.Type, "dsl.md:%d", ex.line)
			continue
		}
		require.Nil(t, res.Error, "dsl.md:%d failed: %+v", ex.line, res.Error)
		got, err := dsl.MarshalJSON(res.Output)
		require.NoError(t, err)
		require.JSONEq(t, m[1], string(got), "dsl.md:%d", ex.line)
	}
	require.GreaterOrEqual(t, ran, 12, "fewer runnable examples than expected")
}

// TestConnectorExamples compiles every workflow example in connectors.md
// against the catalog: the actions, their inputs and the triggers exist.
func TestConnectorExamples(t *testing.T) {
	t.Parallel()
	reg := catalog.Registry()
	exs := examples(t, "connectors.md")
	require.GreaterOrEqual(t, len(exs), 3)
	for _, ex := range exs {
		_, diags := dsl.Compile("connectors.md", []byte(ex.src), dsl.Options{Registry: reg})
		require.Empty(t, diags, "example at connectors.md line %d does not compile", ex.line)
	}
}
