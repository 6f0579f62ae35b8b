-- AI token usage per organisation and month (see the Postgres migration).
CREATE TABLE ai_usage (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    month      TEXT NOT NULL CHECK (month GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]'),
    tokens     INTEGER NOT NULL CHECK (tokens >= 0),
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, month)
) STRICT;
