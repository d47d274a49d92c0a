-- The billing store. Constraints make the impossible impossible: a code has
-- one account, an account holds one unused code and one code per campaign,
-- one renewal per account and month, one charge per purchase attempt.

CREATE TABLE plans (
    id                  text PRIMARY KEY,
    name_zh             text   NOT NULL,
    name_en             text   NOT NULL,
    fee                 bigint NOT NULL CHECK (fee >= 0),
    free_messages       integer NOT NULL CHECK (free_messages >= 0),
    additional_messages boolean NOT NULL,
    rank                integer NOT NULL UNIQUE
);

-- The catalog in force since 2023-09-01 (RULES.md §2). A price change is a
-- new migration or a staff edit, not a code change.
INSERT INTO plans (id, name_zh, name_en, fee, free_messages, additional_messages, rank) VALUES
    ('light',  '輕用量', 'Light',  0,    200,  false, 1),
    ('medium', '中用量', 'Medium', 800,  3000, false, 2),
    ('high',   '高用量', 'High',   1200, 6000, true,  3);

CREATE TABLE accounts (
    id             text PRIMARY KEY,
    name           text NOT NULL,
    region         text NOT NULL CHECK (region ~ '^[A-Z]{2}$'),
    plan           text NOT NULL REFERENCES plans (id),
    scheduled_plan text REFERENCES plans (id),
    scheduled_for  date,
    created_at     timestamptz NOT NULL,
    CHECK ((scheduled_plan IS NULL) = (scheduled_for IS NULL)),
    CHECK (scheduled_for IS NULL OR extract(day FROM scheduled_for) = 1)
);
CREATE INDEX accounts_name_idx ON accounts (lower(name) text_pattern_ops);

-- Payment methods: the app keeps a provider's token and what a person needs
-- to recognise the method (brand, last four digits, expiry), never a card
-- number.
CREATE TABLE payment_methods (
    id         bigserial PRIMARY KEY,
    account_id text NOT NULL REFERENCES accounts (id),
    kind       text NOT NULL CHECK (kind IN ('credit_card', 'line_pay', 'bank_transfer')),
    is_main    boolean NOT NULL DEFAULT false,
    token      text NOT NULL DEFAULT '',
    label      text NOT NULL DEFAULT '',
    brand      text NOT NULL DEFAULT '',
    last4      text NOT NULL DEFAULT '' CHECK (last4 ~ '^([0-9]{4})?$'),
    expiry     text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    removed_at timestamptz
);
CREATE UNIQUE INDEX payment_methods_one_main ON payment_methods (account_id) WHERE is_main AND removed_at IS NULL;
CREATE INDEX payment_methods_account_idx ON payment_methods (account_id);

-- What was paid for each billing month (month = its first day, JST calendar).
CREATE TABLE account_months (
    account_id text   NOT NULL REFERENCES accounts (id),
    month      date   NOT NULL CHECK (extract(day FROM month) = 1),
    plan       text   NOT NULL REFERENCES plans (id),
    fee_paid   bigint NOT NULL CHECK (fee_paid >= 0),
    PRIMARY KEY (account_id, month)
);

CREATE TABLE campaigns (
    id              text PRIMARY KEY,
    name            text NOT NULL,
    face_value      bigint NOT NULL CHECK (face_value > 0),
    valid_from      timestamptz NOT NULL,
    valid_until     timestamptz NOT NULL,
    regions         text[] NOT NULL,
    payment_kinds   text[] NOT NULL,
    upgrades        text[] NOT NULL,
    renewal_plans   text[] NOT NULL,
    created_at      timestamptz NOT NULL,
    CHECK (valid_until > valid_from)
);

CREATE TABLE charges (
    id               bigserial PRIMARY KEY,
    account_id       text NOT NULL REFERENCES accounts (id),
    kind             text NOT NULL CHECK (kind IN ('upgrade', 'renewal', 'usage')),
    month            date NOT NULL CHECK (extract(day FROM month) = 1),
    effective_at     timestamptz NOT NULL,
    from_plan        text REFERENCES plans (id),
    plan             text REFERENCES plans (id),
    amount           bigint NOT NULL CHECK (amount >= 0),
    offset_amount    bigint NOT NULL CHECK (offset_amount >= 0 AND offset_amount <= amount),
    forfeited        bigint NOT NULL CHECK (forfeited >= 0),
    net              bigint NOT NULL CHECK (net = amount - offset_amount),
    tax              bigint NOT NULL CHECK (tax >= 0),
    total            bigint NOT NULL CHECK (total = net + tax),
    code             text,
    status           text NOT NULL CHECK (status IN ('pending', 'paid', 'failed')),
    failure          text NOT NULL DEFAULT '',
    attempts         integer NOT NULL DEFAULT 0,
    payment_method_id bigint REFERENCES payment_methods (id),
    payment_kind     text,
    payment_ref      text NOT NULL DEFAULT '',
    idempotency_key  text UNIQUE,
    invoice_number   text UNIQUE,
    created_at       timestamptz NOT NULL,
    paid_at          timestamptz,
    CHECK ((code IS NULL) = (offset_amount = 0 AND forfeited = 0)),
    CHECK (status <> 'paid' OR paid_at IS NOT NULL)
);
CREATE UNIQUE INDEX charges_one_renewal ON charges (account_id, month) WHERE kind = 'renewal';
CREATE INDEX charges_account_idx ON charges (account_id, created_at);
CREATE INDEX charges_pending_idx ON charges (status) WHERE status <> 'paid';

CREATE TABLE promo_codes (
    code          text PRIMARY KEY CHECK (code ~ '^[A-Z0-9]+$'),
    campaign_id   text NOT NULL REFERENCES campaigns (id),
    account_id    text REFERENCES accounts (id),
    status        text NOT NULL CHECK (status IN ('issued', 'registered', 'reserved', 'redeemed', 'expired')),
    display       text NOT NULL,
    registered_at timestamptz,
    redeemed_at   timestamptz,
    charge_id     bigint REFERENCES charges (id),
    CHECK ((status = 'issued') = (account_id IS NULL)),
    CHECK ((account_id IS NULL) = (registered_at IS NULL)),
    CHECK ((status IN ('reserved', 'redeemed')) = (charge_id IS NOT NULL))
);
-- One code per campaign per account, ever.
CREATE UNIQUE INDEX promo_codes_one_per_campaign ON promo_codes (account_id, campaign_id) WHERE account_id IS NOT NULL;
-- At most one registered, unused code per account.
CREATE UNIQUE INDEX promo_codes_one_held ON promo_codes (account_id) WHERE status IN ('registered', 'reserved');
CREATE INDEX promo_codes_campaign_idx ON promo_codes (campaign_id, status);

ALTER TABLE charges ADD FOREIGN KEY (code) REFERENCES promo_codes (code);

-- The code ledger: every state change of every code, append-only.
CREATE TABLE code_events (
    id         bigserial PRIMARY KEY,
    code       text NOT NULL REFERENCES promo_codes (code),
    account_id text REFERENCES accounts (id),
    kind       text NOT NULL CHECK (kind IN ('registered', 'reserved', 'released', 'redeemed', 'expired')),
    charge_id  bigint REFERENCES charges (id),
    offset_amount bigint NOT NULL DEFAULT 0,
    forfeited  bigint NOT NULL DEFAULT 0,
    at         timestamptz NOT NULL
);
CREATE INDEX code_events_code_idx ON code_events (code);

-- The audit trail: who, when, what, before and after. Append-only.
CREATE TABLE audit_log (
    id         bigserial PRIMARY KEY,
    at         timestamptz NOT NULL,
    actor      text NOT NULL,
    account_id text,
    kind       text NOT NULL,
    before     jsonb,
    after      jsonb
);
CREATE INDEX audit_log_account_idx ON audit_log (account_id, at);
CREATE INDEX audit_log_at_idx ON audit_log (at);

CREATE FUNCTION forbid_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION '% is append-only', TG_TABLE_NAME USING ERRCODE = 'restrict_violation';
END $$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION forbid_change();
CREATE TRIGGER code_events_append_only BEFORE UPDATE OR DELETE ON code_events
    FOR EACH ROW EXECUTE FUNCTION forbid_change();

-- Renewal runs: one per month, resumable (the charges themselves are the
-- progress; this row is the run's summary and lock target).
CREATE TABLE renewal_runs (
    month       date PRIMARY KEY CHECK (extract(day FROM month) = 1),
    status      text NOT NULL CHECK (status IN ('running', 'done')),
    started_at  timestamptz NOT NULL,
    finished_at timestamptz,
    accounts    bigint NOT NULL DEFAULT 0,
    charges     bigint NOT NULL DEFAULT 0,
    total       bigint NOT NULL DEFAULT 0,
    codes       bigint NOT NULL DEFAULT 0,
    started_by  text NOT NULL DEFAULT ''
);

-- E-invoice numbers for paid charges with something to pay.
CREATE SEQUENCE invoice_seq;
