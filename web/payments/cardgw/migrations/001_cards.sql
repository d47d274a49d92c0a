-- The card gateway sandbox's own tables (see sandboxdb: applied only where
-- the sandbox is mounted, versions in sandbox_migrations under 'cardgw').
-- The sandbox plays an external provider: the app's tables never reference
-- these, and the app never reads them; only the sandbox's handlers do. They
-- live in the app's database so that a sandbox payment survives a restart
-- like a real one.
--
-- Migrations 1 and 2 are what the app's migrations 003 and 018 created for
-- the card gateway before they moved here, statement for statement, made
-- idempotent: on a database migrated before (whatever of the two it had
-- applied) they adopt the tables and add only what is missing; on a new one
-- they create the same tables, down to the constraints' names. Later
-- migrations need not be idempotent.

-- One-time tokens from the hosted card fields, the reusable cards attached
-- with them, and charges. The fields page accepts only the documented test
-- numbers, so no real card number is ever stored here.
CREATE TABLE IF NOT EXISTS sandbox_card_tokens (
    token      text PRIMARY KEY,
    number     text     NOT NULL CHECK (number ~ '^[0-9]{12,19}$'),
    exp_month  smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year   smallint NOT NULL CHECK (exp_year BETWEEN 2000 AND 2999),
    holder     text     NOT NULL,
    created_at timestamptz NOT NULL,
    expires_at timestamptz NOT NULL,
    used_at    timestamptz
);

CREATE TABLE IF NOT EXISTS sandbox_cards (
    id         text PRIMARY KEY,
    number     text     NOT NULL CHECK (number ~ '^[0-9]{12,19}$'),
    brand      text     NOT NULL,
    last4      text     NOT NULL,
    exp_month  smallint NOT NULL CHECK (exp_month BETWEEN 1 AND 12),
    exp_year   smallint NOT NULL CHECK (exp_year BETWEEN 2000 AND 2999),
    holder     text     NOT NULL,
    created_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS sandbox_card_charges (
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
