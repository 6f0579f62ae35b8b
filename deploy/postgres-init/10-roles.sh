#!/usr/bin/env bash
# Run by the postgres image once, when it initialises an empty data
# directory (files in /docker-entrypoint-initdb.d; see docker-compose.yml).
# Changing the passwords afterwards means ALTER ROLE by hand.
#
#   role switchboard  owns database switchboard (the application; DATABASE_URL)
#   role temporal     may create databases: the temporal-schema job creates
#                     and owns temporal and temporal_visibility
#
# Passwords come from the environment, are passed to psql as variables and
# quoted by psql (:'var'), so they never appear in SQL text or in ps output.
set -e

: "${SWITCHBOARD_DB_PASSWORD:?SWITCHBOARD_DB_PASSWORD is not set}"
: "${TEMPORAL_DB_PASSWORD:?TEMPORAL_DB_PASSWORD is not set}"

PGPASSWORD_SWITCHBOARD="$SWITCHBOARD_DB_PASSWORD" \
PGPASSWORD_TEMPORAL="$TEMPORAL_DB_PASSWORD" \
psql -v ON_ERROR_STOP=1 --no-psqlrc --username "$POSTGRES_USER" --dbname "${POSTGRES_DB:-$POSTGRES_USER}" <<'SQL'
\getenv switchboard_password PGPASSWORD_SWITCHBOARD
\getenv temporal_password PGPASSWORD_TEMPORAL

CREATE ROLE switchboard LOGIN PASSWORD :'switchboard_password';
CREATE DATABASE switchboard OWNER switchboard;
REVOKE ALL ON DATABASE switchboard FROM PUBLIC;

CREATE ROLE temporal LOGIN CREATEDB PASSWORD :'temporal_password';
SQL
