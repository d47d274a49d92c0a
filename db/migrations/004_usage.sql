-- Message usage: batches as the messaging side reports them (a batch id
-- counts once), and the per-month counts admins see, refreshed daily around
-- 02:00 JST.

CREATE TABLE usage_batches (
    batch_id    text PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    kind        text NOT NULL CHECK (kind IN ('broadcast', 'push', 'progressive', 'greeting', 'chat', 'auto_response', 'reply')),
    billable    boolean NOT NULL,
    messages    integer NOT NULL CHECK (messages > 0),
    free        integer NOT NULL CHECK (free >= 0),
    additional  integer NOT NULL CHECK (additional >= 0),
    sent_at     timestamptz NOT NULL,
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    recorded_at timestamptz NOT NULL,
    CHECK (free + additional = CASE WHEN billable THEN messages ELSE 0 END)
);
CREATE INDEX usage_batches_account_month_idx ON usage_batches (account_id, month);

CREATE TABLE usage_snapshots (
    account_id      text NOT NULL REFERENCES accounts (id),
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    free_sent       integer NOT NULL DEFAULT 0,
    additional_sent integer NOT NULL DEFAULT 0,
    refreshed_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, month)
);
