-- The support desk (Postgres): tickets, their message threads, SLA policies
-- and the round-robin counters of assignment pools.
CREATE TABLE sla_policies (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    name        text COLLATE "C" NOT NULL,
    data        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE tickets (
    org_id              text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id                  text COLLATE "C" NOT NULL,
    customer_id         text COLLATE "C" NOT NULL,
    subject             text NOT NULL,
    description         text NOT NULL,
    status              text COLLATE "C" NOT NULL CHECK (status IN ('open', 'in_progress', 'waiting_customer', 'escalated', 'resolved', 'closed')),
    priority            text COLLATE "C" NOT NULL CHECK (priority IN ('low', 'medium', 'high', 'critical')),
    category            text NOT NULL,
    assignee_id         text COLLATE "C",
    sla_policy          text NOT NULL,
    first_response_due  timestamptz,
    resolution_due      timestamptz,
    first_response_at   timestamptz,
    resolved_at         timestamptz,
    closed_at           timestamptz,
    satisfaction        jsonb,
    run_id              text NOT NULL,
    version             integer NOT NULL,
    created_at          timestamptz NOT NULL,
    updated_at          timestamptz NOT NULL,
    -- search: the subject weighted above the description (English stemming)
    search              tsvector GENERATED ALWAYS AS (setweight(to_tsvector('english', subject), 'A') ||
                            setweight(to_tsvector('english', description), 'B')) STORED,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id),
    FOREIGN KEY (org_id, assignee_id) REFERENCES users (org_id, id)
);
CREATE INDEX tickets_search ON tickets USING gin (search);
CREATE INDEX tickets_updated ON tickets (org_id, updated_at, id);
CREATE INDEX tickets_status ON tickets (org_id, status, id);
CREATE INDEX tickets_assignee ON tickets (org_id, assignee_id, status);
CREATE INDEX tickets_customer ON tickets (org_id, customer_id, id);

CREATE TABLE ticket_messages (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id          text COLLATE "C" NOT NULL,
    ticket_id   text COLLATE "C" NOT NULL,
    direction   text COLLATE "C" NOT NULL CHECK (direction IN ('inbound', 'outbound', 'internal')),
    author      text NOT NULL,
    body        text NOT NULL,
    created_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, ticket_id) REFERENCES tickets (org_id, id)
);
CREATE INDEX ticket_messages_ticket ON ticket_messages (org_id, ticket_id, id);

CREATE TABLE assignment_rotations (
    org_id  text COLLATE "C" NOT NULL REFERENCES orgs (id),
    pool    text COLLATE "C" NOT NULL,
    seq     bigint NOT NULL,
    PRIMARY KEY (org_id, pool)
);
