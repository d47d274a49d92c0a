-- Refunds (was the LINE Pay half of the app's migration 018; idempotent,
-- see 001).
--
-- Each payment row keeps what has been refunded of it, bounded by its amount:
-- the sandbox locks the payment row, checks what remains, inserts the refund
-- and raises the total in one transaction, and the CHECK is the second lock
-- should a refund ever slip past the first.

-- A refund is a transaction of its own, with a 19-digit
-- refundTransactionId from the same sequence as payments.
ALTER TABLE sandbox_linepay_transactions
    ADD COLUMN IF NOT EXISTS refunded_amount bigint NOT NULL DEFAULT 0,
    DROP CONSTRAINT IF EXISTS sandbox_linepay_transactions_refunded_check,
    ADD CONSTRAINT sandbox_linepay_transactions_refunded_check
        CHECK (refunded_amount >= 0 AND refunded_amount <= amount
               -- Only a captured payment has anything to refund.
               AND (refunded_amount = 0 OR status = 'paid'));

CREATE TABLE IF NOT EXISTS sandbox_linepay_refunds (
    refund_transaction_id bigint PRIMARY KEY CHECK (refund_transaction_id >= 1000000000000000000),
    transaction_id bigint NOT NULL REFERENCES sandbox_linepay_transactions (transaction_id),
    channel_id     text   NOT NULL,
    amount         bigint NOT NULL CHECK (amount > 0),
    -- PAYMENT_REFUND when it refunded the whole payment at once,
    -- PARTIAL_REFUND otherwise, as Payment Details names them.
    refund_type    text   NOT NULL CHECK (refund_type IN ('PAYMENT_REFUND', 'PARTIAL_REFUND')),
    created_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS sandbox_linepay_refunds_transaction_idx ON sandbox_linepay_refunds (transaction_id);
