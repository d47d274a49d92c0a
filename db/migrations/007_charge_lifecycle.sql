-- One charge lifecycle (billing/charge.go), with PostgreSQL as its second
-- lock: pending → paid | failed | void; failed → pending (a retry) | paid |
-- void; paid and void are final. A refused move is an error, never a wrong
-- bill.

-- failure becomes an id (declined, insufficient_funds, no_payment_method;
-- for a void charge, why it was voided); the provider's own words move to
-- failure_detail.
ALTER TABLE charges
    ADD COLUMN failure_detail text NOT NULL DEFAULT '',
    -- When the charge was first asked of a provider: a pending charge never
    -- asked may be voided if it goes stale; one asked must be asked again
    -- (under the same key) before anything else is decided.
    ADD COLUMN asked_at       timestamptz,
    ADD COLUMN failed_at      timestamptz,
    -- When a failed charge is tried again automatically (NULL: never).
    ADD COLUMN next_retry_at  timestamptz;

UPDATE charges SET failure_detail = failure, failure = 'declined', failed_at = created_at WHERE status = 'failed';
UPDATE charges SET failure = '' WHERE status <> 'failed';
UPDATE charges SET asked_at = created_at WHERE status <> 'pending' OR attempts > 0;

ALTER TABLE charges DROP CONSTRAINT charges_status_check;
ALTER TABLE charges ADD CONSTRAINT charges_status_check CHECK (status IN ('pending', 'paid', 'failed', 'void'));
ALTER TABLE charges ADD CONSTRAINT charges_failure_check CHECK (CASE status
    WHEN 'failed' THEN failure IN ('declined', 'insufficient_funds', 'no_payment_method') AND failed_at IS NOT NULL
    WHEN 'void'   THEN failure IN ('stale', 'superseded', 'nothing_owed', 'given_up')
    ELSE failure = '' AND next_retry_at IS NULL END);
ALTER TABLE charges ADD CONSTRAINT charges_retry_check CHECK (next_retry_at IS NULL OR status = 'failed');
ALTER TABLE charges ADD CONSTRAINT charges_attempts_check CHECK (attempts >= 0);

-- An account has at most one plan-fee charge in flight: a second upgrade,
-- a retry or a renewal waits until it is settled.
CREATE UNIQUE INDEX charges_one_pending_plan ON charges (account_id) WHERE status = 'pending' AND kind IN ('upgrade', 'renewal');
CREATE INDEX charges_retry_idx ON charges (next_retry_at) WHERE status = 'failed';
-- Pending charges, for collection and the operator's metrics: small
-- whatever the history (the index it replaces also held every failed and
-- void charge).
DROP INDEX charges_pending_idx;
CREATE INDEX charges_pending_idx ON charges (kind) WHERE status = 'pending';
-- The failed charges of an account's month, superseded when the month is paid.
CREATE INDEX charges_failed_idx ON charges (account_id, month) WHERE status = 'failed';

CREATE FUNCTION charge_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('paid', 'void') THEN
        IF NEW IS DISTINCT FROM OLD THEN
            RAISE EXCEPTION 'charge %: a % charge is final', OLD.id, OLD.status USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END IF;
    IF NEW.status <> OLD.status AND NOT (
        (OLD.status = 'pending' AND NEW.status IN ('paid', 'failed', 'void')) OR
        (OLD.status = 'failed'  AND NEW.status IN ('pending', 'paid', 'void'))) THEN
        RAISE EXCEPTION 'charge %: % → % is not a move a charge may make', OLD.id, OLD.status, NEW.status
            USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.account_id <> OLD.account_id OR NEW.kind <> OLD.kind OR NEW.month <> OLD.month THEN
        RAISE EXCEPTION 'charge %: account, kind and month never change', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER charges_transition BEFORE UPDATE ON charges FOR EACH ROW EXECUTE FUNCTION charge_transition();

-- A code is held only by a live charge: reserved by a pending one,
-- redeemed by a paid one. Checked at commit, once every row of the step
-- is written, against the rows as they are then (a deferred trigger's NEW
-- is the row as that one statement left it).
CREATE FUNCTION code_holder_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    cst text;
    cur promo_codes%ROWTYPE;
BEGIN
    SELECT * INTO cur FROM promo_codes WHERE code = NEW.code;
    IF cur.status IN ('reserved', 'redeemed') THEN
        SELECT status INTO cst FROM charges WHERE id = cur.charge_id;
        IF (cur.status = 'reserved' AND cst IS DISTINCT FROM 'pending') OR (cur.status = 'redeemed' AND cst IS DISTINCT FROM 'paid') THEN
            RAISE EXCEPTION 'code %: % by charge % which is %', cur.code, cur.status, cur.charge_id, cst
                USING ERRCODE = 'check_violation';
        END IF;
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER promo_codes_holder AFTER INSERT OR UPDATE ON promo_codes
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION code_holder_check();

CREATE FUNCTION charge_code_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    st text;
BEGIN
    SELECT status INTO st FROM charges WHERE id = NEW.id;
    IF st IN ('failed', 'void') AND EXISTS (
        SELECT 1 FROM promo_codes WHERE charge_id = NEW.id AND status IN ('reserved', 'redeemed')) THEN
        RAISE EXCEPTION 'charge % is % but still holds a code', NEW.id, st USING ERRCODE = 'check_violation';
    END IF;
    IF st = 'paid' AND EXISTS (SELECT 1 FROM promo_codes WHERE charge_id = NEW.id AND status = 'reserved') THEN
        RAISE EXCEPTION 'charge % is paid but its code is still only reserved', NEW.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE CONSTRAINT TRIGGER charges_code_holder AFTER UPDATE ON charges
    DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION charge_code_check();
CREATE INDEX promo_codes_charge_idx ON promo_codes (charge_id) WHERE charge_id IS NOT NULL;

-- A month is never paid more than the fee of the plan held for it.
CREATE FUNCTION month_fee_check() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.fee_paid > (SELECT fee FROM plans WHERE id = NEW.plan) THEN
        RAISE EXCEPTION 'account % paid % for %, more than the % plan''s fee', NEW.account_id, NEW.fee_paid, NEW.month, NEW.plan
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER account_months_fee BEFORE INSERT OR UPDATE ON account_months FOR EACH ROW EXECUTE FUNCTION month_fee_check();
