-- Documents docs.render made from an organisation's template and a run's
-- data: the HTML as rendered, with its SHA-256.
CREATE TABLE documents (
    org_id       text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id           text COLLATE "C" NOT NULL,
    title        text NOT NULL,
    template     text NOT NULL,
    html         text NOT NULL,
    sha256       text NOT NULL,
    customer_id  text COLLATE "C" NOT NULL,
    run_id       text NOT NULL,
    created_at   timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
