-- Triggers (SQLite); the same tables as Postgres's.

CREATE TABLE trigger_routes (
    org_id        TEXT NOT NULL REFERENCES orgs (id),
    kind          TEXT NOT NULL CHECK (kind IN ('webhook', 'event', 'schedule')),
    key           TEXT NOT NULL CHECK (key <> ''),
    definition_id TEXT NOT NULL,
    definition    TEXT NOT NULL,
    revision      INTEGER NOT NULL,
    idx           INTEGER NOT NULL CHECK (idx >= 0),
    PRIMARY KEY (org_id, definition_id, kind, key, idx),
    FOREIGN KEY (org_id, definition_id) REFERENCES definitions (org_id, id),
    FOREIGN KEY (org_id, definition_id, revision) REFERENCES revisions (org_id, definition_id, number)
) STRICT;
CREATE UNIQUE INDEX trigger_routes_webhook ON trigger_routes (org_id, key) WHERE kind = 'webhook';
CREATE INDEX trigger_routes_key ON trigger_routes (org_id, kind, key);

CREATE TABLE webhook_deliveries (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    path        TEXT NOT NULL,
    definition  TEXT NOT NULL,
    status      TEXT NOT NULL,
    http_status INTEGER NOT NULL,
    dedupe_key  TEXT NOT NULL,
    workflow_id TEXT NOT NULL,
    run_id      TEXT NOT NULL,
    error       TEXT NOT NULL,
    received_at TEXT NOT NULL,
    duration_ms INTEGER NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;

-- available_at: see the Postgres migration. Times are fixed-width text, so
-- comparing them as text compares the times.
CREATE TABLE events (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    id           TEXT NOT NULL,
    type         TEXT NOT NULL CHECK (type <> ''),
    data         TEXT NOT NULL CHECK (json_valid(data)),
    source       TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    delivered_at TEXT,
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_error   TEXT NOT NULL DEFAULT '',
    runs         TEXT CHECK (runs IS NULL OR json_valid(runs)),
    available_at TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX events_undelivered ON events (id) WHERE delivered_at IS NULL;
