-- Customers' interaction timelines (Postgres): logged notes, emails, calls,
-- meetings, and the changes of their records. They go with the customer.
CREATE TABLE timeline (
    org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id           text COLLATE "C" NOT NULL,
    customer_id  text COLLATE "C" NOT NULL,
    kind         text COLLATE "C" NOT NULL,
    summary      text NOT NULL,
    body         text NOT NULL,
    ref          text NOT NULL,
    event        text NOT NULL,
    actor        text NOT NULL,
    run_id       text NOT NULL,
    at           timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id) ON DELETE CASCADE
);
CREATE INDEX timeline_customer ON timeline (org_id, customer_id, id);
