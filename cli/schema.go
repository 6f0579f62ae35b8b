package cli

import (
	"github.com/spf13/cobra"

	"switchboard/activities/catalog"
	"switchboard/dsl"
)

func newSchemaCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "schema",
		Short: "Print the JSON Schema of workflow files (for editors: # yaml-language-server: $schema=...)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, err := cmd.OutOrStdout().Write(dsl.JSONSchema(catalog.Registry()))
			return err
		},
	}
}
