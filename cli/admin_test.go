package cli_test

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/require"

	"switchboard/api"
	"switchboard/cli"
	"switchboard/domain"
	"switchboard/store"
)

func TestMigrateAndOrgCreate(t *testing.T) {
	t.Parallel()
	url := "sqlite:" + filepath.Join(t.TempDir(), "sb.db")
	exec := func(args ...string) (int, string, string) {
		var out, errb bytes.Buffer
		code := cli.Execute(context.Background(), args, &out, &errb)
		return code, out.String(), errb.String()
	}
	code, out, errs := exec("migrate", "--database-url", url)
	require.Equal(t, 0, code, errs)
	require.Regexp(t, `(?m)^applied 0001_init$`, out)
	code, out, _ = exec("migrate", "--database-url", url)
	require.Equal(t, 0, code)
	require.Equal(t, "the database is up to date\n", out)

	code, _, errs = exec("org", "create", "acme", "--database-url", url)
	require.NotEqual(t, 0, code, "the owner is required")
	require.Contains(t, errs, "owner")

	code, out, errs = exec("org", "create", "acme", "--owner", "ada@acme.test", "--database-url", url)
	require.Equal(t, 0, code, errs)
	key := regexp.MustCompile(`owner API key \(shown once\): (sb_\w+)`).FindStringSubmatch(out)
	require.NotNil(t, key, out)

	// the printed key authenticates as the owner of that organisation
	st, err := store.Open(context.Background(), url, store.Options{})
	require.NoError(t, err)
	defer st.Close()
	k, err := st.APIKeyByHash(context.Background(), api.HashKey(key[1]))
	require.NoError(t, err)
	require.Equal(t, "owner", string(k.Role))
	org, err := st.GetOrg(context.Background(), k.OrgID)
	require.NoError(t, err)
	require.Equal(t, "acme", org.Name)

	// seed: made-up customers, twice with the same seed (emails stay unique)
	for range 2 {
		code, out, errs = exec("seed", "--database-url", url, "--org", org.ID, "--customers", "1200", "--seed", "7")
		require.Equal(t, 0, code, errs)
		require.Regexp(t, `^loaded 1200 customers in `, out)
	}
	all, _, err := st.ListCustomers(context.Background(), org.ID, domain.CustomerQuery{Limit: 500})
	require.NoError(t, err)
	require.Len(t, all, 500)
	n := 0
	for q := (domain.CustomerQuery{Limit: 500}); ; {
		cs, next, err := st.ListCustomers(context.Background(), org.ID, q)
		require.NoError(t, err)
		n += len(cs)
		if next == "" {
			break
		}
		q.After = next
	}
	require.Equal(t, 2400, n)
	code, _, errs = exec("seed", "--database-url", url, "--org", "nobody", "--customers", "5")
	require.NotEqual(t, 0, code)
	require.Contains(t, errs, "organisation nobody")
}

func TestMigrateNeedsADatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	var out, errb bytes.Buffer
	require.Equal(t, 2, cli.Execute(context.Background(), []string{"migrate"}, &out, &errb))
	require.Contains(t, errb.String(), "DATABASE_URL")
}
