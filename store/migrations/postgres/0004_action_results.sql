-- The results of record changes made by actions, by idempotency key (run,
-- activity): a retried attempt gets the first attempt's result instead of
-- changing the records again. Written in the change's transaction.
CREATE TABLE action_results (
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id),
    key        text COLLATE "C" NOT NULL CHECK (key <> ''),
    result     jsonb NOT NULL,
    created_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, key)
);
