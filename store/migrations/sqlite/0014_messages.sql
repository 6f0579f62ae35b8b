-- Every message a run sends is recorded in outbox_messages (see the
-- Postgres migration of the same number).
ALTER TABLE outbox_messages ADD COLUMN provider TEXT NOT NULL DEFAULT 'outbox';
ALTER TABLE outbox_messages ADD COLUMN status TEXT NOT NULL DEFAULT 'queued';
ALTER TABLE outbox_messages ADD COLUMN provider_id TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox_messages ADD COLUMN error TEXT NOT NULL DEFAULT '';
ALTER TABLE outbox_messages ADD COLUMN updated_at TEXT NOT NULL DEFAULT '';
UPDATE outbox_messages SET updated_at = created_at;
