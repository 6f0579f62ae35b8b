-- Customers' interaction timelines (SQLite); see the Postgres migration.
CREATE TABLE timeline (
    org_id       TEXT NOT NULL REFERENCES orgs (id),
    id           TEXT NOT NULL,
    customer_id  TEXT NOT NULL,
    kind         TEXT NOT NULL,
    summary      TEXT NOT NULL,
    body         TEXT NOT NULL,
    ref          TEXT NOT NULL,
    event        TEXT NOT NULL,
    actor        TEXT NOT NULL,
    run_id       TEXT NOT NULL,
    at           TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX timeline_customer ON timeline (org_id, customer_id, id);
