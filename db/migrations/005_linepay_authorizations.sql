-- LINE Pay sandbox: authorization without capture, and its void. A payment
-- requested with options.payment.capture=false is, once confirmed,
-- authorized (the amount is held, nothing is charged; for PREAPPROVED the
-- regKey is issued all the same) until the merchant voids it. The webstore
-- binds LINE Pay this way: an NT$1 authorization, voided at once, whose
-- regKey then pays the monthly bills.

-- The request's options.payment.capture (absent = true).
ALTER TABLE sandbox_linepay_transactions
    ADD COLUMN capture boolean NOT NULL DEFAULT true,
    -- When Confirm authorized a capture=false payment, and when it was voided.
    ADD COLUMN authorized_at timestamptz,
    ADD COLUMN voided_at timestamptz;

-- 003 declared the status CHECK on the column, so PostgreSQL named it
-- sandbox_linepay_transactions_status_check.
-- requested, approved, paid, cancelled, failed as before; authorized: a
-- capture=false payment confirmed (no paid_at: nothing was charged);
-- voided: an authorization the merchant released.
ALTER TABLE sandbox_linepay_transactions
    DROP CONSTRAINT sandbox_linepay_transactions_status_check,
    ADD CONSTRAINT sandbox_linepay_transactions_status_check
        CHECK (status IN ('requested', 'approved', 'paid', 'cancelled', 'failed', 'authorized', 'voided')),
    -- Only a capture=false payment becomes an authorization; a voided one
    -- keeps when it was authorized. ((status = 'paid') = (paid_at IS NOT
    -- NULL) from 003 still holds: authorizations have no paid_at.)
    ADD CONSTRAINT sandbox_linepay_transactions_authorized_check
        CHECK ((status IN ('authorized', 'voided')) = (authorized_at IS NOT NULL)
               AND (status NOT IN ('authorized', 'voided') OR NOT capture)),
    ADD CONSTRAINT sandbox_linepay_transactions_voided_check
        CHECK ((status = 'voided') = (voided_at IS NOT NULL));
