-- Triggers (Postgres): the routes of deployed revisions' triggers, the
-- record of webhook requests, and the event outbox the dispatcher drains.

-- A definition's routes are replaced on every deploy (SetTriggerRoutes).
-- A webhook path routes to one definition of an organisation: the partial
-- unique index makes a second definition claiming it a conflict.
CREATE TABLE trigger_routes (
    org_id        text COLLATE "C" NOT NULL REFERENCES orgs (id),
    kind          text COLLATE "C" NOT NULL CHECK (kind IN ('webhook', 'event', 'schedule')),
    key           text COLLATE "C" NOT NULL CHECK (key <> ''),
    definition_id text COLLATE "C" NOT NULL,
    definition    text COLLATE "C" NOT NULL,
    revision      integer NOT NULL,
    idx           integer NOT NULL CHECK (idx >= 0),
    PRIMARY KEY (org_id, definition_id, kind, key, idx),
    FOREIGN KEY (org_id, definition_id) REFERENCES definitions (org_id, id),
    FOREIGN KEY (org_id, definition_id, revision) REFERENCES revisions (org_id, definition_id, number)
);
CREATE UNIQUE INDEX trigger_routes_webhook ON trigger_routes (org_id, key) WHERE kind = 'webhook';
CREATE INDEX trigger_routes_key ON trigger_routes (org_id, kind, key);

CREATE TABLE webhook_deliveries (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id          text COLLATE "C" NOT NULL,
    path        text NOT NULL,
    definition  text NOT NULL,
    status      text NOT NULL,
    http_status integer NOT NULL,
    dedupe_key  text NOT NULL,
    workflow_id text NOT NULL,
    run_id      text NOT NULL,
    error       text NOT NULL,
    received_at timestamptz NOT NULL,
    duration_ms bigint NOT NULL,
    PRIMARY KEY (org_id, id)
);

-- available_at is when the event may next be claimed: its creation, the
-- end of a claim's lease, or the retry time of a failed attempt. Delivered
-- events (delivered_at set) are never claimed again.
CREATE TABLE events (
    org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id           text COLLATE "C" NOT NULL,
    type         text NOT NULL CHECK (type <> ''),
    data         json NOT NULL,
    source       text NOT NULL,
    created_at   timestamptz NOT NULL,
    delivered_at timestamptz,
    attempts     integer NOT NULL DEFAULT 0,
    last_error   text NOT NULL DEFAULT '',
    runs         json,
    available_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
-- The claim query walks the undelivered events oldest (lowest id) first,
-- across organisations. available_at is left out of the index so that a
-- claim, which only moves it, can be a HOT update.
CREATE INDEX events_undelivered ON events (id) WHERE delivered_at IS NULL;
