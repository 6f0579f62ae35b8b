package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

func newDevCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "dev",
		Short: "Start the embedded platform (Temporal + worker + API + UI) — arriving with the runtime issue",
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprint(cmd.OutOrStdout(), `switchboard dev: the embedded platform (Temporal server, worker, API and UI in one
process) is not built yet. What works today:

  switchboard run FILE [--input JSON] [--mock ACTION=JSON] [--signal NAME=JSON@DURATION]
  switchboard validate PATH...
  switchboard schema

Try: switchboard run flows/examples/hello.yaml --input '{"name":"Ada"}'
`)
			return nil
		},
	}
}
