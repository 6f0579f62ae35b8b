-- Opportunities (Postgres): deals of a customer. Line items are JSON; the
-- amount is their total when there are any (domain.ComputeTotals).
CREATE TABLE opportunities (
    org_id          text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id              text COLLATE "C" NOT NULL,
    customer_id     text COLLATE "C" NOT NULL,
    name            text NOT NULL CHECK (name <> ''),
    amount          bigint NOT NULL CHECK (amount >= 0),
    currency        text COLLATE "C" NOT NULL,
    stage           text COLLATE "C" NOT NULL CHECK (stage IN ('lead', 'qualified', 'proposal', 'negotiation', 'closed_won', 'closed_lost')),
    probability     integer NOT NULL CHECK (probability BETWEEN 0 AND 100),
    expected_close  text COLLATE "C" NOT NULL,   -- YYYY-MM-DD or ''
    actual_close    text COLLATE "C" NOT NULL,
    owner_id        text COLLATE "C" NOT NULL,
    line_items      jsonb NOT NULL,
    next_steps      text NOT NULL,
    lost_reason     text NOT NULL,
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX opportunities_customer ON opportunities (org_id, customer_id, id);
CREATE INDEX opportunities_stage ON opportunities (org_id, stage, id);
CREATE INDEX opportunities_owner ON opportunities (org_id, owner_id, id);
CREATE INDEX opportunities_amount ON opportunities (org_id, amount, id);
CREATE INDEX opportunities_expected ON opportunities (org_id, expected_close, id);
CREATE INDEX opportunities_updated ON opportunities (org_id, updated_at, id);
