package cli

import (
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"switchboard/api"
	"switchboard/store"
)

func databaseURL(flag string) (string, error) {
	if flag != "" {
		return flag, nil
	}
	if v := os.Getenv("DATABASE_URL"); v != "" {
		return v, nil
	}
	return "", fmt.Errorf("no database: pass --database-url or set DATABASE_URL (postgres://... or sqlite:PATH)")
}

func newMigrateCmd() *cobra.Command {
	var url string
	cmd := &cobra.Command{
		Use:   "migrate",
		Short: "Apply the store's pending migrations (the API and worker also apply them at start)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := databaseURL(url)
			if err != nil {
				return err
			}
			applied, err := store.Migrate(cmd.Context(), u)
			if err != nil {
				return err
			}
			if len(applied) == 0 {
				fmt.Fprintln(cmd.OutOrStdout(), "the database is up to date")
			}
			for _, m := range applied {
				fmt.Fprintln(cmd.OutOrStdout(), "applied", m)
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "database-url", "", "database URL (default $DATABASE_URL)")
	return cmd
}

func newOrgCmd() *cobra.Command {
	org := &cobra.Command{Use: "org", Short: "Manage organisations"}
	var url, owner string
	create := &cobra.Command{
		Use:   "create NAME --owner EMAIL",
		Short: "Create an organisation with an owner and print the owner's API key (once)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			u, err := databaseURL(url)
			if err != nil {
				return err
			}
			st, err := store.Open(cmd.Context(), u, store.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			o, key, err := api.Bootstrap(cmd.Context(), st, args[0], owner)
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "organisation %s (%s)\nowner API key (shown once): %s\n", o.Name, o.ID, key)
			return nil
		},
	}
	create.Flags().StringVar(&url, "database-url", "", "database URL (default $DATABASE_URL)")
	create.Flags().StringVar(&owner, "owner", "", "the owner's email")
	_ = create.MarkFlagRequired("owner")
	org.AddCommand(create)
	return org
}
