-- Contracts (Postgres): documents rendered from an organisation's
-- templates, stored with their SHA-256, and their append-only signatures.
CREATE TABLE contract_templates (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    name        text COLLATE "C" NOT NULL,
    body        text NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, name)
);

CREATE TABLE contracts (
    org_id          text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id              text COLLATE "C" NOT NULL,
    quote_id        text COLLATE "C" NOT NULL,
    opportunity_id  text COLLATE "C" NOT NULL,
    customer_id     text COLLATE "C" NOT NULL,
    title           text NOT NULL,
    template        text NOT NULL,
    document        text NOT NULL,
    document_hash   text COLLATE "C" NOT NULL CHECK (document_hash ~ '^[0-9a-f]{64}$'),
    status          text COLLATE "C" NOT NULL CHECK (status IN ('draft', 'sent', 'signed', 'void')),
    signer_name     text NOT NULL,
    signer_email    text NOT NULL,
    run_id          text NOT NULL,
    sent_at         timestamptz,
    signed_at       timestamptz,
    voided_at       timestamptz,
    void_reason     text NOT NULL,
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, quote_id) REFERENCES quotes (org_id, id),
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
-- A quote has at most one contract that is not void.
CREATE UNIQUE INDEX contracts_live_quote ON contracts (org_id, quote_id) WHERE status <> 'void';
CREATE INDEX contracts_customer ON contracts (org_id, customer_id, id);
CREATE INDEX contracts_status ON contracts (org_id, status, id);

CREATE TABLE contract_signatures (
    org_id          text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id              text COLLATE "C" NOT NULL,
    contract_id     text COLLATE "C" NOT NULL,
    name            text NOT NULL,
    email           text NOT NULL,
    typed           text NOT NULL,
    document_hash   text COLLATE "C" NOT NULL,
    ip              text NOT NULL,
    user_agent      text NOT NULL,
    via             text NOT NULL,
    signed_at       timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, contract_id) REFERENCES contracts (org_id, id)
);
CREATE INDEX contract_signatures_contract ON contract_signatures (org_id, contract_id, signed_at);

-- Signatures are evidence: no role the application connects as may change or remove one.
CREATE FUNCTION contract_signatures_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'contract_signatures is append-only: % refused', TG_OP;
END
$$;
CREATE TRIGGER contract_signatures_append_only BEFORE UPDATE OR DELETE ON contract_signatures
    FOR EACH ROW EXECUTE FUNCTION contract_signatures_append_only();
CREATE TRIGGER contract_signatures_no_truncate BEFORE TRUNCATE ON contract_signatures
    FOR EACH STATEMENT EXECUTE FUNCTION contract_signatures_append_only();
