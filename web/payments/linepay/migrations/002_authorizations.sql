-- Authorization without capture, and its void (was the app's migration 005;
-- idempotent, see 001). A payment requested with
-- options.payment.capture=false is, once confirmed, authorized (the amount
-- is held, nothing is charged; for PREAPPROVED the regKey is issued all the
-- same) until the merchant voids it. The webstore binds LINE Pay this way: an
-- NT$1 authorization, voided at once, whose regKey then pays the monthly
-- bills.

-- The request's options.payment.capture (absent = true).
ALTER TABLE sandbox_linepay_transactions
    ADD COLUMN IF NOT EXISTS capture boolean NOT NULL DEFAULT true,
    -- When Confirm authorized a capture=false payment, and when it was voided.
    ADD COLUMN IF NOT EXISTS authorized_at timestamptz,
    ADD COLUMN IF NOT EXISTS voided_at timestamptz;

-- 001 declared the status CHECK on the column, so PostgreSQL named it
-- sandbox_linepay_transactions_status_check.
-- requested, approved, paid, cancelled, failed as before; authorized: a
-- capture=false payment confirmed (no paid_at: nothing was charged);
-- voided: an authorization the merchant released.
ALTER TABLE sandbox_linepay_transactions
    DROP CONSTRAINT IF EXISTS sandbox_linepay_transactions_status_check,
    ADD CONSTRAINT sandbox_linepay_transactions_status_check
        CHECK (status IN ('requested', 'approved', 'paid', 'cancelled', 'failed', 'authorized', 'voided')),
    -- Only a capture=false payment becomes an authorization; a voided one
    -- keeps when it was authorized. ((status = 'paid') = (paid_at IS NOT
    -- NULL) from 001 still holds: authorizations have no paid_at.)
    DROP CONSTRAINT IF EXISTS sandbox_linepay_transactions_authorized_check,
    ADD CONSTRAINT sandbox_linepay_transactions_authorized_check
        CHECK ((status IN ('authorized', 'voided')) = (authorized_at IS NOT NULL)
               AND (status NOT IN ('authorized', 'voided') OR NOT capture)),
    DROP CONSTRAINT IF EXISTS sandbox_linepay_transactions_voided_check,
    ADD CONSTRAINT sandbox_linepay_transactions_voided_check
        CHECK ((status = 'voided') = (voided_at IS NOT NULL));
