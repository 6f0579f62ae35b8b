-- Opportunities (SQLite); the same columns as Postgres's.
CREATE TABLE opportunities (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    id              TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    name            TEXT NOT NULL CHECK (name <> ''),
    amount          INTEGER NOT NULL CHECK (amount >= 0),
    currency        TEXT NOT NULL,
    stage           TEXT NOT NULL CHECK (stage IN ('lead', 'qualified', 'proposal', 'negotiation', 'closed_won', 'closed_lost')),
    probability     INTEGER NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close  TEXT NOT NULL,
    actual_close    TEXT NOT NULL,
    owner_id        TEXT NOT NULL,
    line_items      TEXT NOT NULL CHECK (json_valid(line_items)),
    next_steps      TEXT NOT NULL,
    lost_reason     TEXT NOT NULL,
    version         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
) STRICT;
CREATE INDEX opportunities_customer ON opportunities (org_id, customer_id, id);
CREATE INDEX opportunities_stage ON opportunities (org_id, stage, id);
CREATE INDEX opportunities_owner ON opportunities (org_id, owner_id, id);
CREATE INDEX opportunities_amount ON opportunities (org_id, amount, id);
CREATE INDEX opportunities_expected ON opportunities (org_id, expected_close, id);
CREATE INDEX opportunities_updated ON opportunities (org_id, updated_at, id);
