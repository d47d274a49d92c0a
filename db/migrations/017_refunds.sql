-- Refunds: staff give back all or part of a paid charge through the
-- provider that took it. A refund is pending until the provider answers;
-- one whose answer was lost is asked again under its key (collected like a
-- charge). The charge stays paid: refunds are their own records.
CREATE TABLE refunds (
    id              bigserial PRIMARY KEY,
    charge_id       bigint NOT NULL REFERENCES charges (id),
    account_id      text NOT NULL REFERENCES accounts (id),
    amount          bigint NOT NULL CHECK (amount > 0),
    reason          text NOT NULL CHECK (reason <> '' AND length(reason) <= 200),
    status          text NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    -- The caller's key: the same request again is answered with this refund.
    idempotency_key text NOT NULL UNIQUE,
    requested_by    text NOT NULL,
    payment_kind    text NOT NULL,
    attempts        integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    provider_ref    text NOT NULL DEFAULT '',
    failure         text NOT NULL DEFAULT '',
    failure_detail  text NOT NULL DEFAULT '',
    created_at      timestamptz NOT NULL,
    asked_at        timestamptz,
    settled_at      timestamptz,
    CHECK ((status = 'pending') = (settled_at IS NULL)),
    CHECK ((status = 'succeeded') = (provider_ref <> '')),
    CHECK ((status = 'failed') = (failure <> ''))
);
CREATE INDEX refunds_charge_idx ON refunds (charge_id);
-- One refund of a charge in flight at a time: the provider's refunds of a
-- payment are then matched to ours one by one.
CREATE UNIQUE INDEX refunds_one_pending ON refunds (charge_id) WHERE status = 'pending';
CREATE UNIQUE INDEX refunds_provider_ref ON refunds (payment_kind, provider_ref) WHERE provider_ref <> '';

CREATE FUNCTION refund_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status <> 'pending' AND NEW IS DISTINCT FROM OLD THEN
        RAISE EXCEPTION 'refund %: a % refund is final', OLD.id, OLD.status USING ERRCODE = 'check_violation';
    END IF;
    IF NEW.charge_id <> OLD.charge_id OR NEW.amount <> OLD.amount OR NEW.idempotency_key <> OLD.idempotency_key THEN
        RAISE EXCEPTION 'refund %: charge, amount and key never change', OLD.id USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END $$;
CREATE TRIGGER refund_transition BEFORE UPDATE ON refunds FOR EACH ROW EXECUTE FUNCTION refund_transition();

-- Allowances (折讓, G0401) after a partial refund or a refund after the
-- cancel window. A person's (B2C) allowance is issued only once the admin
-- agrees through the e-mailed link (consent_hash: the link's token, hashed).
CREATE TABLE einvoice_allowances (
    refund_id       bigint PRIMARY KEY REFERENCES refunds (id),
    -- The invoice's number and a sequence (billing.AllowanceNumber): unique
    -- per invoice (an invoice number is unique only within its period).
    number          text NOT NULL CHECK (length(number) BETWEEN 1 AND 16),
    charge_id       bigint NOT NULL REFERENCES einvoices (charge_id),
    net             bigint NOT NULL CHECK (net >= 0),
    tax             bigint NOT NULL CHECK (tax >= 0),
    total           bigint NOT NULL CHECK (total = net + tax AND total > 0),
    status          text NOT NULL CHECK (status IN ('awaiting_consent', 'issued')),
    consent_hash    bytea UNIQUE,
    consent_expires timestamptz,
    agreed_at       timestamptz,
    issued_at       timestamptz,
    created_at      timestamptz NOT NULL,
    CHECK ((status = 'issued') = (issued_at IS NOT NULL)),
    CHECK (status <> 'awaiting_consent' OR (consent_hash IS NOT NULL AND consent_expires IS NOT NULL)),
    UNIQUE (charge_id, number)
);
CREATE INDEX einvoice_allowances_waiting_idx ON einvoice_allowances (created_at) WHERE status = 'awaiting_consent';

ALTER TABLE einvoice_messages ADD COLUMN refund_id bigint REFERENCES refunds (id);

ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check
    CHECK (kind IN ('receipt', 'payment_failed', 'renewal_reminder', 'code_expiry', 'invitation', 'refund', 'allowance_consent'));
