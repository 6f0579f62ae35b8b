-- Switchboard's initial schema (Postgres).
--
-- Every table but orgs carries org_id and leads its primary key with it, so
-- each organisation's rows are one index range and cross-organisation
-- references are impossible: child tables point at (org_id, id) of their
-- parent. Keys and names are COLLATE "C" so that keyset pagination orders
-- bytewise, exactly as SQLite does, whatever the database's collation.

CREATE TABLE orgs (
    id         text COLLATE "C" PRIMARY KEY,
    name       text NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE users (
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id         text COLLATE "C" NOT NULL,
    email      text NOT NULL,
    name       text NOT NULL,
    role       text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX users_org_email ON users (org_id, lower(email));

CREATE TABLE api_keys (
    org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id           text COLLATE "C" NOT NULL,
    user_id      text COLLATE "C" NOT NULL,
    name         text NOT NULL,
    role         text NOT NULL,
    prefix       text NOT NULL,
    hash         bytea NOT NULL UNIQUE,
    created_at   timestamptz NOT NULL,
    revoked_at   timestamptz,
    last_used_at timestamptz,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, user_id) REFERENCES users (org_id, id)
);

CREATE TABLE definitions (
    org_id          text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id              text COLLATE "C" NOT NULL,
    name            text COLLATE "C" NOT NULL,
    latest_revision integer NOT NULL DEFAULT 0,
    live_revision   integer NOT NULL DEFAULT 0,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    UNIQUE (org_id, name),
    CHECK (live_revision BETWEEN 0 AND latest_revision)
);

CREATE TABLE revisions (
    org_id        text COLLATE "C" NOT NULL REFERENCES orgs (id),
    definition_id text COLLATE "C" NOT NULL,
    number        integer NOT NULL CHECK (number > 0),
    source        text NOT NULL,
    format        text NOT NULL,
    plan_hash     text NOT NULL,
    author        text NOT NULL,
    message       text NOT NULL,
    created_at    timestamptz NOT NULL,
    PRIMARY KEY (org_id, definition_id, number),
    FOREIGN KEY (org_id, definition_id) REFERENCES definitions (org_id, id)
);

CREATE TABLE deployments (
    org_id        text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id            text COLLATE "C" NOT NULL,
    definition_id text COLLATE "C" NOT NULL,
    revision      integer NOT NULL CHECK (revision >= 0),
    deployed_by   text NOT NULL,
    deployed_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, definition_id) REFERENCES definitions (org_id, id)
);
CREATE INDEX deployments_definition ON deployments (org_id, definition_id, id);

-- json, not jsonb: details are kept byte for byte as written.
CREATE TABLE audit_log (
    org_id  text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id      text COLLATE "C" NOT NULL,
    actor   text NOT NULL,
    action  text NOT NULL,
    target  text NOT NULL,
    details json,
    at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- The audit log is append-only: no role the application connects as may
-- change or remove a row.
CREATE FUNCTION audit_log_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
    FOR EACH STATEMENT EXECUTE FUNCTION audit_log_append_only();

CREATE TABLE secrets (
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id),
    name       text COLLATE "C" NOT NULL,
    value      bytea NOT NULL,
    key_id     text NOT NULL,
    created_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE outbox_messages (
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id         text COLLATE "C" NOT NULL,
    channel    text NOT NULL,
    recipient  text NOT NULL,
    subject    text NOT NULL,
    body       json,
    run_id     text NOT NULL,
    step_id    text NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);

CREATE TABLE idempotency_keys (
    org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
    idem_key     text COLLATE "C" NOT NULL,
    request_hash text NOT NULL,
    workflow_id  text NOT NULL,
    run_id       text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, idem_key)
);
