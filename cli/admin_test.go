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
}

func TestMigrateNeedsADatabase(t *testing.T) {
	t.Setenv("DATABASE_URL", "")
	var out, errb bytes.Buffer
	require.Equal(t, 2, cli.Execute(context.Background(), []string{"migrate"}, &out, &errb))
	require.Contains(t, errb.String(), "DATABASE_URL")
}
