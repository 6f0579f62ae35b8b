-- Payments the stripe.* actions ask for: a checkout (payment link) or an
-- invoice, through Stripe or — without a Stripe key — the platform's own
-- sandbox checkout page. Provider events (Stripe's webhook, or the sandbox
-- page) mark them paid or failed.
CREATE TABLE payments (
    org_id         text COLLATE "C" NOT NULL REFERENCES orgs (id),
    id             text COLLATE "C" NOT NULL,
    provider       text NOT NULL CHECK (provider IN ('sandbox', 'stripe')),
    kind           text NOT NULL CHECK (kind IN ('checkout', 'invoice')),
    status         text NOT NULL CHECK (status IN ('creating', 'open', 'paid', 'failed', 'canceled')),
    amount         bigint NOT NULL CHECK (amount >= 0),
    currency       text NOT NULL,
    description    text NOT NULL,
    line_items     jsonb NOT NULL,
    customer_id    text COLLATE "C" NOT NULL,
    quote_id       text COLLATE "C" NOT NULL,
    contract_id    text COLLATE "C" NOT NULL,
    email          text NOT NULL,
    run_id         text NOT NULL,
    step_id        text NOT NULL,
    provider_id    text NOT NULL,
    url            text NOT NULL,
    failure        text NOT NULL,
    paid_at        timestamptz,
    created_at     timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL,
    PRIMARY KEY (org_id, id)
);
CREATE INDEX payments_quote ON payments (org_id, quote_id) WHERE quote_id <> '';

ALTER TABLE public_tokens DROP CONSTRAINT public_tokens_kind_check;
ALTER TABLE public_tokens ADD CONSTRAINT public_tokens_kind_check CHECK (kind IN ('quote', 'contract', 'payment'));
