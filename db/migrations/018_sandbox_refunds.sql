-- Refunds in the payment sandboxes (web/payments/linepay and
-- web/payments/cardgw). As in 003, these tables play the providers: the
-- app's own tables never reference them.
--
-- Each payment row keeps what has been refunded of it, bounded by its amount:
-- the sandboxes lock the payment row, check what remains, insert the refund
-- and raise the total in one transaction, and the CHECK is the second lock
-- should a refund ever slip past the first.

-- LINE Pay: a refund is a transaction of its own, with a 19-digit
-- refundTransactionId from the same sequence as payments.
ALTER TABLE sandbox_linepay_transactions
    ADD COLUMN refunded_amount bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT sandbox_linepay_transactions_refunded_check
        CHECK (refunded_amount >= 0 AND refunded_amount <= amount
               -- Only a captured payment has anything to refund.
               AND (refunded_amount = 0 OR status = 'paid'));

CREATE TABLE sandbox_linepay_refunds (
    refund_transaction_id bigint PRIMARY KEY CHECK (refund_transaction_id >= 1000000000000000000),
    transaction_id bigint NOT NULL REFERENCES sandbox_linepay_transactions (transaction_id),
    channel_id     text   NOT NULL,
    amount         bigint NOT NULL CHECK (amount > 0),
    -- PAYMENT_REFUND when it refunded the whole payment at once,
    -- PARTIAL_REFUND otherwise, as Payment Details names them.
    refund_type    text   NOT NULL CHECK (refund_type IN ('PAYMENT_REFUND', 'PARTIAL_REFUND')),
    created_at     timestamptz NOT NULL
);
CREATE INDEX sandbox_linepay_refunds_transaction_idx ON sandbox_linepay_refunds (transaction_id);

-- Card gateway: refunds of a charge, once per idempotency key like charges.
-- A declined refund is kept (status failed) so that a repeat with its key
-- answers the same decline; only succeeded refunds count in amount_refunded.
ALTER TABLE sandbox_card_charges
    ADD COLUMN amount_refunded bigint NOT NULL DEFAULT 0,
    ADD CONSTRAINT sandbox_card_charges_refunded_check
        CHECK (amount_refunded >= 0 AND amount_refunded <= amount
               AND (amount_refunded = 0 OR status = 'succeeded'));

CREATE TABLE sandbox_card_refunds (
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
CREATE INDEX sandbox_card_refunds_charge_idx ON sandbox_card_refunds (charge_id);
