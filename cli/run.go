package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"switchboard/activities/catalog"
	"switchboard/dsl"
	"switchboard/workers/local"
	"switchboard/workflows"
)

func newRunCmd() *cobra.Command {
	var input string
	var mocks, signals []string
	var details, trace bool
	cmd := &cobra.Command{
		Use:   "run FILE",
		Short: "Run a workflow locally to completion, with simulated time",
		Long: `Compiles FILE (sibling files in its folder are available as child workflows by name) and runs
it to completion in an in-process Temporal test environment with time skipping.

  on success       prints the run's output as JSON on stdout, exits 0
  when it fails    prints {"error": {"type", "message", "step"}} on stdout, exits 1
                   (also when it can never finish: type RunStuck, what it waits for)
  when FILE does not compile, prints the diagnostics on stderr, exits 2

--mock ACTION=JSON makes every call of ACTION return JSON without calling out.
--signal NAME=JSON@DURATION delivers a signal at that offset of simulated time
(an approval step's id as NAME delivers a decision: {"approved": true, "comment": "..."}).
Calls that are not mocked run for real.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			stderr := cmd.ErrOrStderr()
			reg := catalog.Registry()
			mocked := map[string]json.RawMessage{}
			for _, m := range mocks {
				name, val, ok := strings.Cut(m, "=")
				if !ok || name == "" {
					return usage(stderr, fmt.Errorf("--mock takes ACTION=JSON, got %q", m))
				}
				b, err := readArg(val)
				if err != nil {
					return usage(stderr, err)
				}
				if !json.Valid(b) {
					return usage(stderr, fmt.Errorf("--mock %s: value is not valid JSON", name))
				}
				if _, ok := reg.Lookup(name); !ok {
					// a connector this build does not have: mocking it declares
					// it, untyped, so the workflow can be run before it exists
					if err := reg.Register(dsl.Action{Name: name, Title: "mocked by --mock", Input: json.RawMessage(`{"type":"object"}`)}); err != nil {
						return usage(stderr, fmt.Errorf("--mock %s: unknown action, and %v", name, err))
					}
					fmt.Fprintf(stderr, "warning: --mock %s: no such action in this build; declaring it untyped for this run\n", name)
				}
				mocked[name] = b
			}
			plan, children, diags, err := compileWithSiblings(args[0], reg)
			if err != nil {
				fmt.Fprintln(stderr, err)
				return &ExitError{Code: 2}
			}
			if len(diags) > 0 {
				for _, d := range diags {
					fmt.Fprintln(stderr, d.String())
				}
				return &ExitError{Code: 2}
			}
			opts := local.Options{Registry: reg, Children: children, Mocks: mocked,
				// the run's own warnings worth a developer's eye (a decision
				// sent with --signal that the task rejected) go to stderr
				Logger: slog.New(runWarnings{slog.NewTextHandler(stderr, &slog.HandlerOptions{Level: slog.LevelWarn})})}
			if input != "" {
				b, err := readArg(input)
				if err != nil {
					return usage(stderr, err)
				}
				if !json.Valid(b) {
					return usage(stderr, fmt.Errorf("--input is not valid JSON"))
				}
				opts.Input = b
			}
			for _, s := range signals {
				sig, err := parseSignal(s)
				if err != nil {
					return usage(stderr, err)
				}
				if !slices.Contains(plan.Signals, sig.Name) && !slices.Contains(plan.Approvals, sig.Name) {
					// most likely a typo; the run goes on without it
					fmt.Fprintf(stderr, "warning: --signal %s: workflow %s has no waitFor, exitWhen or approval step for it; it is ignored\n", sig.Name, plan.Name)
				}
				opts.Signals = append(opts.Signals, sig)
			}
			res, err := local.Run(cmd.Context(), plan, opts)
			if err != nil && (res == nil || res.Error == nil) {
				fmt.Fprintln(stderr, "error:", err)
				return &ExitError{Code: 1}
			}
			// a run that can never finish (local.ErrStuck) comes back with
			// its RunStuck failure, printed like any other failure
			if trace && res.State != nil {
				printTrace(stderr, res.State)
			}
			out := cmd.OutOrStdout()
			if res.Error != nil {
				e := runError{Type: res.Error.Type, Message: res.Error.Message}
				if res.Error.Step != "" {
					e.Step = &res.Error.Step
				}
				if details {
					e.Details = &res.Error.Details // null when the failure has none
				}
				b, err := dsl.MarshalJSON(map[string]any{"error": e})
				if err != nil {
					return err
				}
				fmt.Fprintln(out, string(b))
				return &ExitError{Code: 1}
			}
			b, err := dsl.MarshalJSON(res.Output)
			if err != nil {
				return err
			}
			fmt.Fprintln(out, string(b))
			return nil
		},
	}
	cmd.Flags().StringVar(&input, "input", "", "run input as JSON, or @file")
	cmd.Flags().StringArrayVar(&mocks, "mock", nil, "ACTION=JSON: make calls of ACTION return JSON (repeatable)")
	cmd.Flags().StringArrayVar(&signals, "signal", nil, "NAME=JSON@DURATION: deliver a signal at that simulated offset (repeatable)")
	cmd.Flags().BoolVar(&details, "details", false, "include the error's details in the failure output")
	cmd.Flags().BoolVar(&trace, "trace", false, "print the run's step timeline on stderr")
	return cmd
}

// runError is the failure output: type, message and step (null when the
// failure is not a step's), plus details (possibly null) with --details.
type runError struct {
	Type    string  `json:"type"`
	Message string  `json:"message"`
	Step    *string `json:"step"`
	Details *any    `json:"details,omitempty"`
}

func usage(stderr interface{ Write([]byte) (int, error) }, err error) error {
	fmt.Fprintln(stderr, "error:", err)
	return &ExitError{Code: 2}
}

// parseSignal reads NAME=JSON@DURATION (the JSON may itself contain @; the
// offset is what follows the last @, and may be omitted for 0). The JSON
// may be @file, with or without an offset after it.
func parseSignal(s string) (local.Signal, error) {
	name, rest, ok := strings.Cut(s, "=")
	if !ok || name == "" {
		return local.Signal{}, fmt.Errorf("--signal takes NAME=JSON@DURATION, got %q", s)
	}
	sig := local.Signal{Name: name}
	payload := rest
	if i := strings.LastIndex(rest, "@"); i >= 0 {
		off := strings.TrimSpace(rest[i+1:])
		if off == "0" || off == "0s" {
			payload = rest[:i]
		} else if d, err := dsl.ParseDuration(off); err == nil {
			payload, sig.At = rest[:i], d
		} else if json.Valid([]byte(rest)) {
			payload = rest
		} else if i == 0 || isFile(rest) {
			payload = rest // @file, signalled at once
		} else {
			return local.Signal{}, fmt.Errorf("--signal %s: bad offset %q: %v", name, off, err)
		}
	}
	b, err := readArg(payload)
	if err != nil {
		return local.Signal{}, err
	}
	if len(strings.TrimSpace(string(b))) > 0 {
		if !json.Valid(b) {
			return local.Signal{}, fmt.Errorf("--signal %s: payload is not valid JSON", name)
		}
		sig.Payload = b
	}
	return sig, nil
}

// isFile reports whether v is @PATH naming an existing file.
func isFile(v string) bool {
	if !strings.HasPrefix(v, "@") {
		return false
	}
	info, err := os.Stat(v[1:])
	return err == nil && !info.IsDir()
}

// compileWithSiblings compiles FILE and, transitively, the sibling files it
// uses as child workflows.
func compileWithSiblings(path string, reg *dsl.Registry) (*dsl.Plan, map[string]*dsl.Plan, dsl.Diagnostics, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, nil, nil, err
	}
	siblings := folderWorkflows(filepath.Dir(path))
	known := func(name string) bool { _, ok := siblings[name]; return ok }
	plan, diags := dsl.Compile(path, src, dsl.Options{Registry: reg, Workflows: known})
	diags = append(duplicateName(path), diags...)
	if len(diags) > 0 {
		return nil, nil, diags, nil
	}
	children := map[string]*dsl.Plan{}
	queue := childNames(plan)
	for len(queue) > 0 {
		name := queue[0]
		queue = queue[1:]
		if _, done := children[name]; done || name == plan.Name {
			continue
		}
		file := siblings[name]
		csrc, err := os.ReadFile(file)
		if err != nil {
			return nil, nil, nil, err
		}
		cp, cd := dsl.Compile(file, csrc, dsl.Options{Registry: reg, Workflows: known})
		cd = append(duplicateName(file), cd...)
		if len(cd) > 0 {
			return nil, nil, cd, nil
		}
		children[name] = cp
		queue = append(queue, childNames(cp)...)
	}
	children[plan.Name] = plan // a workflow may start itself recursively
	return plan, children, nil, nil
}

func childNames(p *dsl.Plan) []string {
	var out []string
	p.Walk(func(s *dsl.Step) {
		if s.Workflow != nil {
			out = append(out, s.Workflow.Workflow)
		}
	})
	return out
}

// printTrace writes the timeline of the last generation of the run.
func printTrace(w io.Writer, st *workflows.RunState) {
	for _, s := range st.Steps {
		line := fmt.Sprintf("%-8s %-9s %s", s.Kind, s.Status, s.Key)
		if s.ID != "" {
			line += " (" + s.ID + ")"
		}
		if s.Attempts > 1 {
			line += fmt.Sprintf(" attempts=%d", s.Attempts)
		}
		if s.Error != nil {
			line += " error=" + s.Error.Type + ": " + s.Error.Message
		}
		fmt.Fprintln(w, line)
	}
}

// runWarnings passes on only the interpreter's warnings about rejected
// approval decisions, not the SDK's chatter.
type runWarnings struct{ slog.Handler }

func (h runWarnings) Handle(ctx context.Context, r slog.Record) error {
	if !strings.HasPrefix(r.Message, "approval signal rejected") {
		return nil
	}
	return h.Handler.Handle(ctx, r)
}

func (h runWarnings) WithAttrs(as []slog.Attr) slog.Handler {
	return runWarnings{h.Handler.WithAttrs(as)}
}
func (h runWarnings) WithGroup(g string) slog.Handler { return runWarnings{h.Handler.WithGroup(g)} }
