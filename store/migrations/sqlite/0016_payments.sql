-- Payments (SQLite); the same columns as Postgres's.
CREATE TABLE payments (
    org_id         TEXT NOT NULL REFERENCES orgs (id),
    id             TEXT NOT NULL,
    provider       TEXT NOT NULL CHECK (provider IN ('sandbox', 'stripe')),
    kind           TEXT NOT NULL CHECK (kind IN ('checkout', 'invoice')),
    status         TEXT NOT NULL CHECK (status IN ('creating', 'open', 'paid', 'failed', 'canceled')),
    amount         INTEGER NOT NULL CHECK (amount >= 0),
    currency       TEXT NOT NULL,
    description    TEXT NOT NULL,
    line_items     TEXT NOT NULL CHECK (json_valid(line_items)),
    customer_id    TEXT NOT NULL,
    quote_id       TEXT NOT NULL,
    contract_id    TEXT NOT NULL,
    email          TEXT NOT NULL,
    run_id         TEXT NOT NULL,
    step_id        TEXT NOT NULL,
    provider_id    TEXT NOT NULL,
    url            TEXT NOT NULL,
    failure        TEXT NOT NULL,
    paid_at        TEXT,
    created_at     TEXT NOT NULL,
    updated_at     TEXT NOT NULL,
    PRIMARY KEY (org_id, id)
) STRICT;
CREATE INDEX payments_quote ON payments (org_id, quote_id) WHERE quote_id <> '';

-- public tokens may now name a payment: SQLite cannot change a CHECK, so
-- the table is rebuilt
CREATE TABLE public_tokens_new (
    hash        BLOB PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    kind        TEXT NOT NULL CHECK (kind IN ('quote', 'contract', 'payment')),
    record_id   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;
INSERT INTO public_tokens_new SELECT hash, org_id, kind, record_id, expires_at, created_at, revoked_at FROM public_tokens;
DROP TABLE public_tokens;
ALTER TABLE public_tokens_new RENAME TO public_tokens;
CREATE INDEX public_tokens_record ON public_tokens (org_id, kind, record_id);
