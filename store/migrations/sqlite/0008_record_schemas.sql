-- Organisations' JSON Schemas for custom fields (SQLite).
CREATE TABLE record_schemas (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    record      TEXT NOT NULL,
    schema      TEXT NOT NULL CHECK (json_valid(schema)),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, record)
) STRICT;
