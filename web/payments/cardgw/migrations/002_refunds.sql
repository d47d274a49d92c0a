-- Refunds of a charge (was the card half of the app's migration 018;
-- idempotent, see 001), once per idempotency key like charges. A declined
-- refund is kept (status failed) so that a repeat with its key answers the
-- same decline; only succeeded refunds count in amount_refunded.
--
-- Each charge keeps what has been refunded of it, bounded by its amount: the
-- sandbox locks the charge, checks what remains, inserts the refund and
-- raises the total in one transaction, and the CHECK is the second lock
-- should a refund ever slip past the first.
ALTER TABLE sandbox_card_charges
    ADD COLUMN IF NOT EXISTS amount_refunded bigint NOT NULL DEFAULT 0,
    DROP CONSTRAINT IF EXISTS sandbox_card_charges_refunded_check,
    ADD CONSTRAINT sandbox_card_charges_refunded_check
        CHECK (amount_refunded >= 0 AND amount_refunded <= amount
               AND (amount_refunded = 0 OR status = 'succeeded'));

CREATE TABLE IF NOT EXISTS sandbox_card_refunds (
    id              text   PRIMARY KEY,
    charge_id       text   NOT NULL REFERENCES sandbox_card_charges (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    status          text   NOT NULL CHECK (status IN ('succeeded', 'failed')),
    failure_code    text   NOT NULL DEFAULT '',
    idempotency_key text   NOT NULL UNIQUE,
    created_at      timestamptz NOT NULL,
    -- The order refunds were made in, for listing them oldest first (ids
    -- are random, and the sandbox's clock may stand still in tests).
    seq             bigint GENERATED ALWAYS AS IDENTITY UNIQUE,
    CHECK ((status = 'failed') = (failure_code <> ''))
);
CREATE INDEX IF NOT EXISTS sandbox_card_refunds_charge_idx ON sandbox_card_refunds (charge_id);
