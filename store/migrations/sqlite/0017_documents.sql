-- Documents (SQLite); the same columns as Postgres's.
CREATE TABLE documents (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    id           TEXT NOT NULL,
    title        TEXT NOT NULL,
    template     TEXT NOT NULL,
    html         TEXT NOT NULL,
    sha256       TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
