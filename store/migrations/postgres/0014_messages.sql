-- Every message a run sends is recorded in outbox_messages: those no
-- provider is configured for (provider 'outbox', status 'queued') and those
-- handed to a provider (SendGrid, Slack). The row is written before the
-- provider is called (status 'sending'), so a retried activity finds it and
-- never sends twice; the provider's events move it on.
ALTER TABLE outbox_messages ADD COLUMN provider text NOT NULL DEFAULT 'outbox';
ALTER TABLE outbox_messages ADD COLUMN status text NOT NULL DEFAULT 'queued';
ALTER TABLE outbox_messages ADD COLUMN provider_id text NOT NULL DEFAULT '';
ALTER TABLE outbox_messages ADD COLUMN error text NOT NULL DEFAULT '';
ALTER TABLE outbox_messages ADD COLUMN updated_at timestamptz;
UPDATE outbox_messages SET updated_at = created_at;
ALTER TABLE outbox_messages ALTER COLUMN updated_at SET NOT NULL;
