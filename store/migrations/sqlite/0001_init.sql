-- Switchboard's initial schema (SQLite); the same tables as Postgres's.
--
-- Every table but orgs carries org_id and leads its primary key with it;
-- child tables point at (org_id, id) of their parent. Tables are STRICT so
-- a value of the wrong type is an error, as on Postgres. Times are TEXT in
-- the fixed-width UTC form 2006-01-02T15:04:05.000000Z; JSON is TEXT
-- checked with json_valid.

CREATE TABLE orgs (
    id         TEXT PRIMARY KEY NOT NULL,
    name       TEXT NOT NULL,
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    id         TEXT NOT NULL,
    email      TEXT NOT NULL,
    name       TEXT NOT NULL,
    role       TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
-- SQLite's lower() folds ASCII letters only (Postgres's follows the locale).
CREATE UNIQUE INDEX users_org_email ON users (org_id, lower(email));

CREATE TABLE api_keys (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    id           TEXT NOT NULL,
    user_id      TEXT NOT NULL,
    name         TEXT NOT NULL,
    role         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    hash         BLOB NOT NULL UNIQUE,
    created_at   TEXT NOT NULL,
    revoked_at   TEXT,
    last_used_at TEXT,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
) STRICT;

CREATE TABLE definitions (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    id              TEXT NOT NULL,
    name            TEXT NOT NULL,
    latest_revision INTEGER NOT NULL DEFAULT 0,
    live_revision   INTEGER NOT NULL DEFAULT 0,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name),
    CHECK (live_revision BETWEEN 0 AND latest_revision)
) STRICT;

CREATE TABLE revisions (
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    definition_id TEXT NOT NULL,
    number        INTEGER NOT NULL CHECK (number > 0),
    source        TEXT NOT NULL,
    format        TEXT NOT NULL,
    plan_hash     TEXT NOT NULL,
    author        TEXT NOT NULL,
    message       TEXT NOT NULL,
    created_at    TEXT NOT NULL,
    PRIMARY KEY (org_id, definition_id, number),
    FOREIGN KEY (org_id, definition_id) REFERENCES definitions (org_id, id)
) STRICT;

CREATE TABLE deployments (
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    id            TEXT NOT NULL,
    definition_id TEXT NOT NULL,
    revision      INTEGER NOT NULL CHECK (revision >= 0),
    deployed_by   TEXT NOT NULL,
    deployed_at   TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, definition_id) REFERENCES definitions (org_id, id)
) STRICT;
CREATE INDEX deployments_definition ON deployments (org_id, definition_id, id);

CREATE TABLE audit_log (
    org_id  TEXT NOT NULL REFERENCES orgs (id),
    id      TEXT NOT NULL,
    actor   TEXT NOT NULL,
    action  TEXT NOT NULL,
    target  TEXT NOT NULL,
    details TEXT CHECK (details IS NULL OR json_valid(details)),
    at      TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;

-- The audit log is append-only.
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: UPDATE refused');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only: DELETE refused');
END;

CREATE TABLE secrets (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    name       TEXT NOT NULL,
    value      BLOB NOT NULL,
    key_id     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
) STRICT;

CREATE TABLE outbox_messages (
    org_id     TEXT NOT NULL REFERENCES orgs (id),
    id         TEXT NOT NULL,
    channel    TEXT NOT NULL,
    recipient  TEXT NOT NULL,
    subject    TEXT NOT NULL,
    body       TEXT CHECK (body IS NULL OR json_valid(body)),
    run_id     TEXT NOT NULL,
    step_id    TEXT NOT NULL,
    created_at TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;

CREATE TABLE idempotency_keys (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    idem_key     TEXT NOT NULL,
    request_hash TEXT NOT NULL,
    workflow_id  TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    PRIMARY KEY (org_id, idem_key)
) STRICT;
