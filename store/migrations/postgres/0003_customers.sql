-- Customers (Postgres).
--
-- Search: `search` is a generated full-text vector over name, company and
-- email ('simple' configuration: no stemming, names are not English), and
-- trigram indexes on the lower-cased name and email serve substring
-- search. pg_trgm lives in schema public (one per database, whatever
-- schema the store uses); the lock serialises stores of several schemas
-- migrating one database at once.
SELECT pg_advisory_xact_lock(hashtextextended('switchboard.extensions', 0));
CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public;

CREATE TABLE customers (
    org_id         text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id             text COLLATE "C" NOT NULL,
    name           text NOT NULL CHECK (name <> ''),
    name_key       text COLLATE "C" NOT NULL,          -- lower(name): the name sort key
    email          text COLLATE "C",                   -- lower-cased; NULL when none
    phone          text NOT NULL,
    company        text NOT NULL,
    title          text NOT NULL,
    address        jsonb,
    status         text COLLATE "C" NOT NULL CHECK (status IN ('lead', 'prospect', 'customer', 'churned')),
    type           text COLLATE "C" NOT NULL CHECK (type IN ('individual', 'business', 'enterprise')),
    ltv_amount     bigint NOT NULL DEFAULT 0,          -- minor units
    ltv_currency   text COLLATE "C" NOT NULL DEFAULT '',
    source         text COLLATE "C" NOT NULL,
    owner_id       text COLLATE "C" NOT NULL,          -- '' when none
    health_score   integer CHECK (health_score BETWEEN 0 AND 100),
    health_risks   jsonb,
    tags           jsonb NOT NULL DEFAULT '[]',        -- an array of strings
    custom         jsonb,
    version        integer NOT NULL,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    search         tsvector GENERATED ALWAYS AS (
        to_tsvector('simple', name || ' ' || company || ' ' || coalesce(replace(replace(email, '@', ' '), '.', ' '), ''))) STORED,
    PRIMARY KEY (org_id, id)
);
CREATE UNIQUE INDEX customers_email ON customers (org_id, email);
CREATE INDEX customers_name ON customers (org_id, name_key, id);
CREATE INDEX customers_updated ON customers (org_id, updated_at, id);
CREATE INDEX customers_value ON customers (org_id, ltv_amount, id);
CREATE INDEX customers_status_owner ON customers (org_id, status, owner_id, id);
CREATE INDEX customers_owner ON customers (org_id, owner_id, id);
CREATE INDEX customers_tags ON customers USING gin (tags jsonb_path_ops);
CREATE INDEX customers_search ON customers USING gin (search);
CREATE INDEX customers_name_trgm ON customers USING gin (name_key public.gin_trgm_ops);
CREATE INDEX customers_email_trgm ON customers USING gin (email public.gin_trgm_ops);
