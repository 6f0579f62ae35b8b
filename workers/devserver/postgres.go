package devserver

import (
	"fmt"
	"net"
	"net/url"
	"regexp"
	"strings"

	"go.temporal.io/server/common/config"
	"go.temporal.io/server/common/log"
	pgplugin "go.temporal.io/server/common/persistence/sql/sqlplugin/postgresql"
	"go.temporal.io/server/tools/common/schema"
	sqltool "go.temporal.io/server/tools/sql"
)

// validDBName keeps the database names we create to what CREATE DATABASE
// takes without quoting.
var validDBName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)

// postgresConfigs turns a postgres:// URL into the execution and visibility
// stores: databases NAME and NAME_visibility on that server, created and
// brought to the latest Temporal schema when needed.
func postgresConfigs(rawURL string, logger log.Logger) (exec, vis *config.SQL, err error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		return nil, nil, fmt.Errorf("temporal postgres: want a postgres:// URL")
	}
	name := strings.TrimPrefix(u.Path, "/")
	if name == "" {
		name = "temporal"
	}
	if !validDBName.MatchString(name) {
		return nil, nil, fmt.Errorf("temporal postgres: database name %q: use lower-case letters, digits and _", name)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "5432")
	}
	base := config.SQL{
		PluginName:      pgplugin.PluginNamePGX,
		ConnectAddr:     host,
		ConnectProtocol: "tcp",
		User:            u.User.Username(),
		MaxConns:        20,
		MaxIdleConns:    20,
	}
	base.Password, _ = u.User.Password()
	if mode := u.Query().Get("sslmode"); mode != "" {
		base.ConnectAttributes = map[string]string{"sslmode": mode}
	}
	exec, vis = new(config.SQL), new(config.SQL)
	*exec, *vis = base, base
	exec.DatabaseName, vis.DatabaseName = name, name+"_visibility"
	if err := ensurePostgresSchema(base, exec.DatabaseName, "postgresql/v12/temporal", logger); err != nil {
		return nil, nil, err
	}
	if err := ensurePostgresSchema(base, vis.DatabaseName, "postgresql/v12/visibility", logger); err != nil {
		return nil, nil, err
	}
	return exec, vis, nil
}

// ensurePostgresSchema creates database db if missing, gives an empty one
// Temporal's version tables at 0.0, and applies the versioned updates of the
// schema named (a folder of Temporal's embedded schemas) it lacks — what
// temporal-sql-tool's create-database, setup-schema -v 0.0 and
// update-schema -d versioned do.
func ensurePostgresSchema(base config.SQL, db, schemaName string, logger log.Logger) error {
	admin := base
	admin.DatabaseName = "postgres"
	conn, err := sqltool.NewConnection(&admin, logger)
	if err != nil {
		return fmt.Errorf("temporal postgres: connecting: %w", err)
	}
	err = conn.CreateDatabase(db)
	conn.Close()
	if err != nil {
		return fmt.Errorf("temporal postgres: creating database %s: %w", db, err)
	}
	target := base
	target.DatabaseName = db
	if conn, err = sqltool.NewConnection(&target, logger); err != nil {
		return fmt.Errorf("temporal postgres: connecting to %s: %w", db, err)
	}
	defer conn.Close()
	if _, err := conn.ReadSchemaVersion(); err != nil {
		setup := schema.NewSetupSchemaTask(conn, &schema.SetupConfig{InitialVersion: "0.0"}, logger)
		if err := setup.Run(); err != nil {
			return fmt.Errorf("temporal postgres: schema of %s: %w", db, err)
		}
	}
	update := schema.NewUpdateSchemaTask(conn, &schema.UpdateConfig{DBName: db, SchemaName: schemaName}, logger)
	if err := update.Run(); err != nil {
		return fmt.Errorf("temporal postgres: updating the schema of %s: %w", db, err)
	}
	return nil
}
