-- Campaigns (SQLite); the same columns as Postgres's.
CREATE TABLE campaigns (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    id          TEXT NOT NULL,
    name        TEXT NOT NULL,
    type        TEXT NOT NULL CHECK (type IN ('broadcast', 'drip')),
    status      TEXT NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'completed', 'archived')),
    audience    TEXT NOT NULL CHECK (json_valid(audience)),
    content     TEXT NOT NULL CHECK (json_valid(content)),
    start_at    TEXT,
    end_at      TEXT,
    version     INTEGER NOT NULL,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX campaigns_status ON campaigns (org_id, status, id);

CREATE TABLE campaign_enrollments (
    org_id           TEXT NOT NULL REFERENCES orgs (id),
    campaign_id      TEXT NOT NULL,
    customer_id      TEXT NOT NULL,
    status           TEXT NOT NULL CHECK (status IN ('active', 'completed', 'exited')),
    step             INTEGER NOT NULL,
    run_id           TEXT NOT NULL,
    enrolled_at      TEXT NOT NULL,
    sent_at          TEXT,
    delivered_at     TEXT,
    opened_at        TEXT,
    clicked_at       TEXT,
    converted_at     TEXT,
    unsubscribed_at  TEXT,
    PRIMARY KEY (org_id, campaign_id, customer_id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
) STRICT;
CREATE INDEX campaign_enrollments_customer ON campaign_enrollments (org_id, customer_id);

CREATE TABLE suppressions (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    email       TEXT NOT NULL,
    reason      TEXT NOT NULL CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'manual')),
    source      TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, email)
) STRICT;
