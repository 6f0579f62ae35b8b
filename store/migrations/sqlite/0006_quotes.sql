-- Quotes and public links (SQLite); the same columns as Postgres's.
CREATE TABLE quotes (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    id              TEXT NOT NULL,
    opportunity_id  TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    currency        TEXT NOT NULL,
    line_items      TEXT NOT NULL CHECK (json_valid(line_items)),
    subtotal        INTEGER NOT NULL,
    discount        INTEGER NOT NULL,
    tax             INTEGER NOT NULL,
    total           INTEGER NOT NULL,
    valid_until     TEXT NOT NULL,
    notes           TEXT NOT NULL,
    status          TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired')),
    run_id          TEXT NOT NULL,
    sent_at         TEXT,
    decided_at      TEXT,
    decision        TEXT CHECK (decision IS NULL OR json_valid(decision)),
    version         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
) STRICT;
CREATE INDEX quotes_opportunity ON quotes (org_id, opportunity_id, id);
CREATE INDEX quotes_customer ON quotes (org_id, customer_id, id);
CREATE INDEX quotes_status ON quotes (org_id, status, id);

CREATE TABLE public_tokens (
    hash        BLOB PRIMARY KEY,
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    kind        TEXT NOT NULL CHECK (kind IN ('quote', 'contract')),
    record_id   TEXT NOT NULL,
    expires_at  TEXT NOT NULL,
    created_at  TEXT NOT NULL,
    revoked_at  TEXT
) STRICT;
CREATE INDEX public_tokens_record ON public_tokens (org_id, kind, record_id);
