-- Customers (SQLite); the same columns as Postgres's. Search is an FTS5
-- index over name, company and email kept by triggers (external content:
-- the text lives once, in customers).

CREATE TABLE customers (
    rowid          INTEGER PRIMARY KEY,
    org_id         TEXT NOT NULL REFERENCES orgs (id),
    id             TEXT NOT NULL,
    name           TEXT NOT NULL CHECK (name <> ''),
    name_key       TEXT NOT NULL,
    email          TEXT,
    phone          TEXT NOT NULL,
    company        TEXT NOT NULL,
    title          TEXT NOT NULL,
    address        TEXT CHECK (address IS NULL OR json_valid(address)),
    status         TEXT NOT NULL CHECK (status IN ('lead', 'prospect', 'customer', 'churned')),
    type           TEXT NOT NULL CHECK (type IN ('individual', 'business', 'enterprise')),
    ltv_amount     INTEGER NOT NULL DEFAULT 0,
    ltv_currency   TEXT NOT NULL DEFAULT '',
    source         TEXT NOT NULL,
    owner_id       TEXT NOT NULL,
    health_score   INTEGER CHECK (health_score BETWEEN 0 AND 100),
    health_risks   TEXT CHECK (health_risks IS NULL OR json_valid(health_risks)),
    tags           TEXT NOT NULL DEFAULT '[]' CHECK (json_valid(tags)),
    custom         TEXT CHECK (custom IS NULL OR json_valid(custom)),
    version        INTEGER NOT NULL,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    UNIQUE (org_id, id)
) STRICT;
CREATE UNIQUE INDEX customers_email ON customers (org_id, email);
CREATE INDEX customers_name ON customers (org_id, name_key, id);
CREATE INDEX customers_updated ON customers (org_id, updated_at, id);
CREATE INDEX customers_value ON customers (org_id, ltv_amount, id);
CREATE INDEX customers_status_owner ON customers (org_id, status, owner_id, id);
CREATE INDEX customers_owner ON customers (org_id, owner_id, id);

-- The same words Postgres's `search` vector holds: email split at @ and dots.
CREATE VIRTUAL TABLE customers_fts USING fts5 (
    name, company, email, content = '', contentless_delete = 1, tokenize = 'unicode61 remove_diacritics 2'
);
CREATE TRIGGER customers_fts_insert AFTER INSERT ON customers BEGIN
    INSERT INTO customers_fts (rowid, name, company, email)
    VALUES (new.rowid, new.name, new.company, replace(replace(coalesce(new.email, ''), '@', ' '), '.', ' '));
END;
CREATE TRIGGER customers_fts_update AFTER UPDATE OF name, company, email ON customers BEGIN
    DELETE FROM customers_fts WHERE rowid = old.rowid;
    INSERT INTO customers_fts (rowid, name, company, email)
    VALUES (new.rowid, new.name, new.company, replace(replace(coalesce(new.email, ''), '@', ' '), '.', ' '));
END;
CREATE TRIGGER customers_fts_delete AFTER DELETE ON customers BEGIN
    DELETE FROM customers_fts WHERE rowid = old.rowid;
END;
