-- AI token usage per organisation and calendar month (UTC, "2006-01"): the
-- ai.* actions check it against the organisation's ai_token_budget before
-- calling a model and add the tokens of each answer, in the transaction
-- that records the action's result (action_results), so a retried
-- activity counts its tokens once.
CREATE TABLE ai_usage (
    org_id     text COLLATE "C" NOT NULL REFERENCES orgs (id),
    month      text COLLATE "C" NOT NULL CHECK (month ~ '^[0-9]{4}-[0-9]{2}$'),
    tokens     bigint NOT NULL CHECK (tokens >= 0),
    updated_at timestamptz NOT NULL,
    PRIMARY KEY (org_id, month)
);
