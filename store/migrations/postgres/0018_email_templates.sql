-- Email templates: one JSON document (subject, text, html) per name.
CREATE TABLE email_templates (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    name        text COLLATE "C" NOT NULL,
    data        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, name)
);
