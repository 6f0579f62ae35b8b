-- Quotes and the public links that show one document (Postgres).
CREATE TABLE quotes (
    org_id          text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id              text COLLATE "C" NOT NULL,
    opportunity_id  text COLLATE "C" NOT NULL,
    customer_id     text COLLATE "C" NOT NULL,
    currency        text COLLATE "C" NOT NULL,
    line_items      jsonb NOT NULL,
    subtotal        bigint NOT NULL,
    discount        bigint NOT NULL,
    tax             bigint NOT NULL,
    total           bigint NOT NULL,
    valid_until     text COLLATE "C" NOT NULL,        -- YYYY-MM-DD
    notes           text NOT NULL,
    status          text COLLATE "C" NOT NULL CHECK (status IN ('draft', 'sent', 'accepted', 'rejected', 'expired')),
    run_id          text NOT NULL,
    sent_at         timestamptz,
    decided_at      timestamptz,
    decision        jsonb,
    version         integer NOT NULL,
    created_at      timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL,
    PRIMARY KEY (org_id, id),
    FOREIGN KEY (org_id, opportunity_id) REFERENCES opportunities (org_id, id),
    FOREIGN KEY (org_id, customer_id) REFERENCES customers (org_id, id)
);
CREATE INDEX quotes_opportunity ON quotes (org_id, opportunity_id, id);
CREATE INDEX quotes_customer ON quotes (org_id, customer_id, id);
CREATE INDEX quotes_status ON quotes (org_id, status, id);

-- A public link: the hash of a 256-bit secret, bound to one record of one kind.
CREATE TABLE public_tokens (
    hash        bytea PRIMARY KEY,
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    kind        text COLLATE "C" NOT NULL CHECK (kind IN ('quote', 'contract')),
    record_id   text COLLATE "C" NOT NULL,
    expires_at  timestamptz NOT NULL,
    created_at  timestamptz NOT NULL,
    revoked_at  timestamptz
);
CREATE INDEX public_tokens_record ON public_tokens (org_id, kind, record_id);
