package cli

import (
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"switchboard/api"
	"switchboard/domain"
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

func newSeedCmd() *cobra.Command {
	var url, orgID string
	var customers int
	var seed uint64
	cmd := &cobra.Command{
		Use:   "seed --org ID --customers N",
		Short: "Load N made-up customers into an organisation (COPY on PostgreSQL), for demos and load tests",
		Long: `Load N made-up customers into an organisation: plausible names, companies, unique
emails, statuses, owners (spread over the organisation's users), lifetime values and tags. It
writes no events or audit rows: seeded customers are test data, not business changes. With the
dev platform, stop it first or use its database file: switchboard seed --database-url
sqlite:.switchboard/switchboard.db --org <id from .switchboard/org.json> --customers 100000`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			u, err := databaseURL(url)
			if err != nil {
				return err
			}
			if orgID == "" || customers < 1 || customers > 10_000_000 {
				return fmt.Errorf("pass --org ID and --customers between 1 and 10000000")
			}
			ctx := cmd.Context()
			st, err := store.Open(ctx, u, store.Options{})
			if err != nil {
				return err
			}
			defer st.Close()
			if _, err := st.GetOrg(ctx, orgID); err != nil {
				return fmt.Errorf("organisation %s: %w", orgID, err)
			}
			users, err := st.ListUsers(ctx, orgID, domain.Page{Limit: 500})
			if err != nil {
				return err
			}
			owners := []string{""}
			for _, usr := range users {
				owners = append(owners, usr.ID)
			}
			start := time.Now()
			run := start.UnixNano() % 1_000_000 // tags this run's emails: seeding twice adds people, never collides
			const chunk = 50_000
			for i := 0; i < customers; i += chunk {
				cs := store.FakeCustomers(orgID, min(chunk, customers-i), seed+uint64(i), owners)
				for j := range cs {
					cs[j].Email = strings.Replace(cs[j].Email, "@", fmt.Sprintf(".r%d-%d@", run, i), 1) // unique across chunks and runs
				}
				if err := store.LoadCustomers(ctx, st, cs); err != nil {
					return err
				}
			}
			if err := store.Analyze(ctx, st); err != nil {
				return err
			}
			took := time.Since(start)
			fmt.Fprintf(cmd.OutOrStdout(), "loaded %d customers in %s (%.0f/s)\n", customers, took.Round(time.Millisecond), float64(customers)/took.Seconds())
			return nil
		},
	}
	cmd.Flags().StringVar(&url, "database-url", "", "database URL (default $DATABASE_URL)")
	cmd.Flags().StringVar(&orgID, "org", "", "the organisation's id")
	cmd.Flags().IntVar(&customers, "customers", 0, "how many customers")
	cmd.Flags().Uint64Var(&seed, "seed", uint64(time.Now().Unix()), "random seed (the same seed makes the same names, companies and statuses)")
	return cmd
}
