package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"switchboard/activities/catalog"
	"switchboard/dsl"
)

func newValidateCmd() *cobra.Command {
	var format string
	cmd := &cobra.Command{
		Use:   "validate PATH...",
		Short: "Check workflow files (or folders of them) and print every problem as file:line:col: message",
		Long: `Compiles each workflow file without running it. Folders are searched recursively for
.yaml, .yml and .json files. Child workflows (workflow: NAME) must exist among the
files of the same folder. Exits 1 when any problem is found.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if format != "text" && format != "json" {
				return fmt.Errorf("--format is text or json, not %q", format)
			}
			files, err := collect(args)
			if err != nil {
				return err
			}
			reg := catalog.Registry()
			all := dsl.Diagnostics{}
			for _, f := range files {
				all = append(all, validateFile(f, reg)...)
			}
			out := cmd.OutOrStdout()
			if format == "json" {
				b, _ := json.MarshalIndent(all, "", "  ")
				fmt.Fprintln(out, string(b))
			} else {
				for _, d := range all {
					fmt.Fprintln(out, d.String())
				}
				if len(all) == 0 {
					fmt.Fprintf(cmd.ErrOrStderr(), "%d workflow file(s) valid\n", len(files))
				}
			}
			if len(all) > 0 {
				return &ExitError{Code: 1}
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&format, "format", "text", "output format: text or json")
	return cmd
}

func validateFile(path string, reg *dsl.Registry) dsl.Diagnostics {
	src, err := os.ReadFile(path)
	if err != nil {
		return dsl.Diagnostics{{File: path, Line: 1, Col: 1, Message: err.Error()}}
	}
	siblings := folderWorkflows(filepath.Dir(path))
	_, diags := dsl.Compile(path, src, dsl.Options{Registry: reg, Workflows: func(name string) bool {
		_, ok := siblings[name]
		return ok
	}})
	return append(duplicateName(path), diags...)
}
