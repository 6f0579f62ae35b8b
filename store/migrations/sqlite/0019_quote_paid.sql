-- A quote remembers when a payment of it was paid (stripe.* actions).
ALTER TABLE quotes ADD COLUMN paid_at TEXT;
