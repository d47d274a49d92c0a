-- Message usage: batches as the messaging side reports them (a batch id
-- counts once), each month's running totals (what the quota check reads),
-- the per-month counts admins see (refreshed daily around 02:00 JST), the
-- additional-message price tiers, the usage charges, and the account-scoped
-- API tokens the messaging side records usage with.

-- One row per reported batch. billable, plan, free and additional are
-- decided at record time under the account's row lock: free + additional is
-- the batch's billable messages, split against the quota of the plan the
-- account was on when it was sent. Free kinds (greeting, chat,
-- auto_response, reply) are kept but count 0.
CREATE TABLE usage_batches (
    batch_id    text PRIMARY KEY CHECK (length(batch_id) BETWEEN 1 AND 200),
    account_id  text NOT NULL REFERENCES accounts (id),
    kind        text NOT NULL CHECK (kind IN ('broadcast', 'push', 'progressive', 'greeting', 'chat', 'auto_response', 'reply')),
    billable    boolean NOT NULL,
    plan        text REFERENCES plans (id),
    messages    integer NOT NULL CHECK (messages > 0),
    free        integer NOT NULL CHECK (free >= 0),
    additional  integer NOT NULL CHECK (additional >= 0),
    sent_at     timestamptz NOT NULL,
    month       date NOT NULL CHECK (extract(day FROM month) = 1),
    recorded_at timestamptz NOT NULL,
    recorded_by text NOT NULL DEFAULT '',
    CHECK (billable = (kind IN ('broadcast', 'push', 'progressive'))),
    CHECK (billable = (plan IS NOT NULL)),
    CHECK (free + additional = CASE WHEN billable THEN messages ELSE 0 END)
);
-- The daily refresh aggregates one or two months from the index alone.
CREATE INDEX usage_batches_month_idx ON usage_batches (month, account_id) INCLUDE (free, additional, sent_at);

-- Running totals of billable messages per account and month, updated in the
-- same transaction as each batch (so they always equal the batches' sums):
-- the quota check reads one row instead of summing the month's batches.
-- billed_additional and charge_id record what the month's usage charge
-- billed; additional > billed_additional afterwards means batches arrived
-- after billing and were not charged.
CREATE TABLE usage_totals (
    month             date NOT NULL CHECK (extract(day FROM month) = 1),
    account_id        text NOT NULL REFERENCES accounts (id),
    free              bigint NOT NULL DEFAULT 0 CHECK (free >= 0),
    additional        bigint NOT NULL DEFAULT 0 CHECK (additional >= 0),
    billed_additional bigint CHECK (billed_additional >= 0),
    charge_id         bigint REFERENCES charges (id),
    PRIMARY KEY (month, account_id)
);

-- What admins see: the month's counts as of the last daily refresh.
CREATE TABLE usage_snapshots (
    account_id      text NOT NULL REFERENCES accounts (id),
    month           date NOT NULL CHECK (extract(day FROM month) = 1),
    free_sent       integer NOT NULL DEFAULT 0,
    additional_sent integer NOT NULL DEFAULT 0,
    refreshed_at    timestamptz NOT NULL,
    PRIMARY KEY (account_id, month)
);

-- When each month was last refreshed, so an account that sent nothing still
-- reads "0, last refreshed at ...".
CREATE TABLE usage_refreshes (
    month        date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    refreshed_at timestamptz NOT NULL
);

-- Additional-message prices (high plan), cumulative like income-tax
-- brackets: the from_message-th additional message of a month and those
-- after it, up to the next tier, cost price_milli thousandths of an NT$
-- each; the month's sum is rounded half up to a whole NT$ once.
--
-- The rows below are a documented DEFAULT starting at "about NT$0.20" as
-- the plan table says, falling with volume. They are NOT LINE's official
-- table; staff replace them with the real one (Store.SetUsageTiers).
--   1–25,000 NT$0.200 · 25,001–100,000 NT$0.150 ·
--   100,001–1,000,000 NT$0.120 · beyond NT$0.100
CREATE TABLE usage_tiers (
    from_message integer PRIMARY KEY CHECK (from_message >= 1),
    price_milli  bigint NOT NULL CHECK (price_milli >= 0)
);
INSERT INTO usage_tiers (from_message, price_milli) VALUES
    (1, 200),
    (25001, 150),
    (100001, 120),
    (1000001, 100);

-- One usage charge per account and month, and never a promo code on one:
-- usage charges are not plan fees.
CREATE UNIQUE INDEX charges_one_usage ON charges (account_id, month) WHERE kind = 'usage';
ALTER TABLE charges ADD CONSTRAINT charges_usage_without_code
    CHECK (kind <> 'usage' OR (code IS NULL AND offset_amount = 0 AND forfeited = 0));

-- Account-scoped API tokens for POST /api/usage (Authorization: Bearer).
-- Only the token's SHA-256 is stored.
CREATE TABLE api_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    account_id text NOT NULL REFERENCES accounts (id),
    label      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX api_tokens_account_idx ON api_tokens (account_id);
