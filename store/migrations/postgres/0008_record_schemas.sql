-- Organisations' JSON Schemas for the custom fields of their records (Postgres).
CREATE TABLE record_schemas (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    record      text COLLATE "C" NOT NULL,
    schema      jsonb NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, record)
);
