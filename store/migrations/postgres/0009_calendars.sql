-- Business calendars (Postgres): time zone, weekly working windows and
-- holidays, as one JSON document per calendar.
CREATE TABLE calendars (
    org_id      text COLLATE "C" NOT NULL REFERENCES orgs (id),
    name        text COLLATE "C" NOT NULL,
    data        jsonb NOT NULL,
    updated_at  timestamptz NOT NULL,
    PRIMARY KEY (org_id, name)
);
