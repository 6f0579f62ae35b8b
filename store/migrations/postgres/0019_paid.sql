-- A quote and a contract remember when a payment of them was paid (stripe.* actions).
ALTER TABLE quotes ADD COLUMN paid_at timestamptz;
ALTER TABLE contracts ADD COLUMN paid_at timestamptz;
