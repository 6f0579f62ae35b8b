-- Contracts (SQLite); the same columns as Postgres's.
CREATE TABLE contract_templates (
    org_id      TEXT NOT NULL REFERENCES orgs (id),
    name        TEXT NOT NULL,
    body        TEXT NOT NULL,
    updated_at  TEXT NOT NULL,
    PRIMARY KEY (org_id, name)
) STRICT;

CREATE TABLE contracts (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    id              TEXT NOT NULL,
    quote_id        TEXT NOT NULL,
    opportunity_id  TEXT NOT NULL,
    customer_id     TEXT NOT NULL,
    title           TEXT NOT NULL,
    template        TEXT NOT NULL,
    document        TEXT NOT NULL,
    document_hash   TEXT NOT NULL CHECK (length(document_hash) = 64),
    status          TEXT NOT NULL CHECK (status IN ('draft', 'sent', 'signed', 'void')),
    signer_name     TEXT NOT NULL,
    signer_email    TEXT NOT NULL,
    run_id          TEXT NOT NULL,
    sent_at         TEXT,
    signed_at       TEXT,
    voided_at       TEXT,
    void_reason     TEXT NOT NULL,
    version         INTEGER NOT NULL,
    created_at      TEXT NOT NULL,
    updated_at      TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, quote_id) REFERENCES quotes (org_id, id),
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
) STRICT;
CREATE UNIQUE INDEX contracts_live_quote ON contracts (org_id, quote_id) WHERE status <> 'void';
CREATE INDEX contracts_customer ON contracts (org_id, customer_id, id);
CREATE INDEX contracts_status ON contracts (org_id, status, id);

CREATE TABLE contract_signatures (
    org_id          TEXT NOT NULL REFERENCES orgs (id),
    id              TEXT NOT NULL,
    contract_id     TEXT NOT NULL,
    name            TEXT NOT NULL,
    email           TEXT NOT NULL,
    typed           TEXT NOT NULL,
    document_hash   TEXT NOT NULL,
    ip              TEXT NOT NULL,
    user_agent      TEXT NOT NULL,
    via             TEXT NOT NULL,
    signed_at       TEXT NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, contract_id) REFERENCES contracts (org_id, id)
) STRICT;
CREATE INDEX contract_signatures_contract ON contract_signatures (org_id, contract_id, signed_at);
CREATE TRIGGER contract_signatures_no_update BEFORE UPDATE ON contract_signatures
BEGIN
    SELECT RAISE(ABORT, 'contract_signatures is append-only: UPDATE refused');
END;
CREATE TRIGGER contract_signatures_no_delete BEFORE DELETE ON contract_signatures
BEGIN
    SELECT RAISE(ABORT, 'contract_signatures is append-only: DELETE refused');
END;
