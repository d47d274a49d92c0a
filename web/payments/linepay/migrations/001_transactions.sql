-- The LINE Pay sandbox's own tables (see sandboxdb: applied only where the
-- sandbox is mounted, versions in sandbox_migrations under 'linepay'). The
-- sandbox plays an external provider: the app's tables never reference
-- these, and the app never reads them; only the sandbox's handlers do. They
-- live in the app's database so that a sandbox payment survives a restart
-- like a real one.
--
-- Migrations 1 to 3 are what the app's migrations 003, 005 and 018 created
-- for LINE Pay before they moved here, statement for statement, made
-- idempotent: on a database migrated before (whatever of the three it had
-- applied) they adopt the tables and add only what is missing; on a new one
-- they create the same tables, down to the constraints' names. Later
-- migrations need not be idempotent.

-- LINE Pay transactions: those made by the Request API (the person approves
-- them on the sandbox's pages, the merchant confirms them) and those made by
-- preapproved payments with a regKey.
CREATE SEQUENCE IF NOT EXISTS sandbox_linepay_transaction_seq;

CREATE TABLE IF NOT EXISTS sandbox_linepay_transactions (
    -- 19 digits like LINE Pay's: the Taipei date, then the sequence.
    transaction_id bigint PRIMARY KEY CHECK (transaction_id >= 1000000000000000000),
    channel_id     text   NOT NULL,
    order_id       text   NOT NULL CHECK (order_id <> ''),
    pay_type       text   NOT NULL CHECK (pay_type IN ('NORMAL', 'PREAPPROVED')),
    -- The secret in the person-facing page URLs; NULL for preapproved
    -- payments, which have no pages.
    reserve_id     text UNIQUE,
    payment_access_token text NOT NULL DEFAULT '',
    product_name   text   NOT NULL,
    packages       jsonb  NOT NULL DEFAULT '[]',
    amount         bigint NOT NULL CHECK (amount > 0),
    currency       text   NOT NULL,
    confirm_url    text   NOT NULL DEFAULT '',
    cancel_url     text   NOT NULL DEFAULT '',
    -- requested: waiting for the person; approved: the person chose a card
    -- and agreed, waiting for the merchant's Confirm; paid; cancelled by the
    -- person; failed with failure_code.
    status         text   NOT NULL CHECK (status IN ('requested', 'approved', 'paid', 'cancelled', 'failed')),
    card_id        text   NOT NULL DEFAULT '',
    -- The regKey a preapproved payment used, or the one its Confirm issued.
    reg_key        text,
    failure_code   text   NOT NULL DEFAULT '',
    created_at     timestamptz NOT NULL,
    expires_at     timestamptz,
    paid_at        timestamptz,
    CHECK ((status = 'failed') = (failure_code <> '')),
    CHECK ((status = 'paid') = (paid_at IS NOT NULL))
);
-- LINE Pay refuses a second transaction with a merchant's orderId (1172); a
-- declined one does not hold the orderId.
CREATE UNIQUE INDEX IF NOT EXISTS sandbox_linepay_transactions_order_idx
    ON sandbox_linepay_transactions (channel_id, order_id) WHERE status <> 'failed';

CREATE TABLE IF NOT EXISTS sandbox_linepay_reg_keys (
    reg_key        text PRIMARY KEY,
    channel_id     text   NOT NULL,
    card_id        text   NOT NULL,
    transaction_id bigint NOT NULL REFERENCES sandbox_linepay_transactions (transaction_id),
    created_at     timestamptz NOT NULL,
    expired_at     timestamptz
);
