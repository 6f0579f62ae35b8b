-- The knowledge base (Postgres). Search: an English full-text vector,
-- the title weighted above the body.
CREATE TABLE articles (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id          text COLLATE "C" NOT NULL,
    title       text NOT NULL CHECK (title <> ''),
    body        text NOT NULL,
    tags        jsonb NOT NULL DEFAULT '[]',
    published   boolean NOT NULL,
    version     integer NOT NULL,
    created_at  timestamptz NOT NULL,
    updated_at  timestamptz NOT NULL,
    search      tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('english', title), 'A') || setweight(to_tsvector('english', body), 'B')) STORED,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX articles_search ON articles USING gin (search);
CREATE INDEX articles_tags ON articles USING gin (tags jsonb_path_ops);
