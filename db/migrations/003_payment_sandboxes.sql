-- The local sandboxes that stand in for LINE Pay and the card gateway
-- (web/payments/linepay and web/payments/cardgw). They play external
-- providers: the app's own tables never reference these, and the app never
-- reads them; only the sandboxes' HTTP handlers do. They live in the app's
-- database so that a sandbox payment survives a restart like a real one.

-- LINE Pay transactions: those made by the Request API (the person approves
-- them on the sandbox's pages, the merchant confirms them) and those made by
-- preapproved payments with a regKey.
CREATE SEQUENCE sandbox_linepay_transaction_seq;

CREATE TABLE sandbox_linepay_transactions (
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
CREATE UNIQUE INDEX sandbox_linepay_transactions_order_idx
    ON sandbox_linepay_transactions (channel_id, order_id) WHERE status <> 'failed';

CREATE TABLE sandbox_linepay_reg_keys (
    reg_key        text PRIMARY KEY,
    channel_id     text   NOT NULL,
    card_id        text   NOT NULL,
    transaction_id bigint NOT NULL REFERENCES sandbox_linepay_transactions (transaction_id),
    created_at     timestamptz NOT NULL,
    expired_at     timestamptz
);

-- Card gateway: one-time tokens from the hosted card fields, the reusable
-- cards attached with them, and charges. The fields page accepts only the
-- documented test numbers, so no real card number is ever stored here.
CREATE TABLE sandbox_card_tokens (
    token      text PRIMARY KEY,
    number     text     NOT NULL CHECK (number ~ '^[0-9]{12,19}$'),
    exp_month  smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year   smallint NOT NULL CHECK (exp_year BETWEEN 2000 AND 2999),
    holder     text     NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE TABLE sandbox_cards (
    id         text PRIMARY KEY,
    number     text     NOT NULL CHECK (number ~ '^[0-9]{12,19}$'),
    brand      text     NOT NULL,
    last4      text     NOT NULL,
    exp_month  smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year   smallint NOT NULL CHECK (exp_year BETWEEN 2000 AND 2999),
    holder     text     NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE sandbox_card_charges (
    id              text PRIMARY KEY,
    card_id         text   NOT NULL REFERENCES sandbox_cards (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    currency        text   NOT NULL,
    description     text   NOT NULL,
    status          text   NOT NULL CHECK (status IN ('succeeded', 'failed')),
    failure_code    text   NOT NULL DEFAULT '',
    -- A repeat with the same key answers the first result: a key is one
    -- charge attempt, declined or not.
    idempotency_key text   NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL,
    CHECK ((status = 'failed') = (failure_code <> ''))
);
