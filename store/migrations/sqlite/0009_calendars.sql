-- Business calendars (SQLite); see the Postgres migration.
CREATE TABLE calendars (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    data        TEXT NOT NULL CHECK (json_valid(data)),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
) STRICT;
