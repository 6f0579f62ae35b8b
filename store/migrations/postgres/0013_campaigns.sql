-- Campaigns (Postgres): audience and content as JSON, enrollments with the
-- time each metric was first reached, and the organisation's suppression list.
CREATE TABLE campaigns (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id          text COLLATE "C" NOT NULL,
    name        text NOT NULL,
    type        text COLLATE "C" NOT NULL CHECK (type IN ('broadcast', 'drip')),
    status      text COLLATE "C" NOT NULL CHECK (status IN ('draft', 'active', 'paused', 'completed', 'archived')),
    audience    jsonb NOT NULL,
    content     jsonb NOT NULL,
    start_at    timestamptz,
    end_at      timestamptz,
    version     integer NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX campaigns_status ON campaigns (org_id, status, id);

CREATE TABLE campaign_enrollments (
    org_id           text COLLATE "C" NOT NULL REFERENCES orgs (id),
    campaign_id      text COLLATE "C" NOT NULL,
    customer_id      text COLLATE "C" NOT NULL,
    status           text COLLATE "C" NOT NULL CHECK (status IN ('active', 'completed', 'exited')),
    step             integer NOT NULL,
    run_id           text NOT NULL,
    enrolled_at      timestamptz NOT NULL,
    sent_at          timestamptz,
    delivered_at     timestamptz,
    opened_at        timestamptz,
    clicked_at       timestamptz,
    converted_at     timestamptz,
    unsubscribed_at  timestamptz,
    PRIMARY KEY (org_id, campaign_id, customer_id),
    FOREIGN KEY (org_id, campaign_id) REFERENCES campaigns (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX campaign_enrollments_customer ON campaign_enrollments (org_id, customer_id);

CREATE TABLE suppressions (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    email       text COLLATE "C" NOT NULL,
    reason      text COLLATE "C" NOT NULL CHECK (reason IN ('unsubscribed', 'bounced', 'complained', 'manual')),
    source      text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, email)
);
