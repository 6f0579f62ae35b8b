-- The support desk (SQLite); the same columns as Postgres's.
CREATE TABLE sla_policies (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    data        TEXT NOT NULL CHECK (json_valid(data)),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
) STRICT;

CREATE TABLE tickets (
    rowid               INTEGER PRIMARY KEY,
    org_id              TEXT NOT NULL REFERENCES orgs (id),
    id                  TEXT NOT NULL,
    customer_id         TEXT NOT NULL,
    subject             TEXT NOT NULL,
    description         TEXT NOT NULL,
    status              TEXT NOT NULL CHECK (status IN ('open', 'in_progress', 'waiting_customer', 'escalated', 'resolved', 'closed')),
    priority            TEXT NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    category            TEXT NOT NULL,
    assignee_id         TEXT,
    sla_policy          TEXT NOT NULL,
    first_response_due  TEXT,
    resolution_due      TEXT,
    first_response_at   TEXT,
    resolved_at         TEXT,
    closed_at           TEXT,
    satisfaction        TEXT CHECK (satisfaction IS NULL OR json_valid(satisfaction)),
    run_id              TEXT NOT NULL,
    version             INTEGER NOT NULL,
    created_at          TEXT NOT NULL,
    updated_at          TEXT NOT NULL,
    UNIQUE (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id)
) STRICT;
CREATE INDEX tickets_updated ON tickets (org_id, updated_at, id);
-- search: FTS5 with the Porter stemmer over subject and description, kept by triggers
CREATE VIRTUAL TABLE tickets_fts USING fts5 (
    subject, description, content = '', contentless_delete = 1, tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_fts (rowid, subject, description) VALUES (new.rowid, new.subject, new.description);
END;
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF subject, description ON tickets BEGIN
    DELETE FROM tickets_fts WHERE rowid = old.rowid;
    INSERT INTO tickets_fts (rowid, subject, description) VALUES (new.rowid, new.subject, new.description);
END;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets BEGIN
    DELETE FROM tickets_fts WHERE rowid = old.rowid;
END;
CREATE INDEX tickets_status ON tickets (org_id, status, id);
CREATE INDEX tickets_assignee ON tickets (org_id, assignee_id, status);
CREATE INDEX tickets_customer ON tickets (org_id, customer_id, id);

CREATE TABLE ticket_messages (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    ticket_id   TEXT NOT NULL,
    direction   TEXT NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    author      TEXT NOT NULL,
    body        TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
) STRICT;
CREATE INDEX ticket_messages_ticket ON ticket_messages (org_id, ticket_id, id);

CREATE TABLE assignment_rotations (
    org_id  TEXT NOT NULL REFERENCES orgs (id),
    pool    TEXT NOT NULL,
    seq     INTEGER NOT NULL,
    PRIMARY KEY (org_id, pool)
) STRICT;
