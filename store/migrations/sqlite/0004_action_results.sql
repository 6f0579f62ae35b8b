-- Action results by idempotency key (see the Postgres migration).
CREATE TABLE action_results (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    key        TEXT NOT NULL CHECK (key <> ''),
    result     TEXT NOT NULL CHECK (json_valid(result)),
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, key)
) STRICT;
