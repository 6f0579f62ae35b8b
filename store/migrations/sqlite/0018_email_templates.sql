-- Email templates: one JSON document (subject, text, html) per name.
CREATE TABLE email_templates (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    data        TEXT NOT NULL CHECK (json_valid(data)),
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
) STRICT;
