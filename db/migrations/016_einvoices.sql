-- Taiwan e-invoices (../shared/spec/EINVOICE.md): the platform's number
-- books, one invoice per paid charge with a total above 0, and the MIG 4.1
-- messages the store writes for Turnkey.

-- A two-month period whose numbers have been imported. Its row is the lock
-- every number of the period is taken under (db/einvoice.go), so numbers go
-- out in order, with no gap and none twice, whichever server pays.
CREATE TABLE einvoice_periods (
    period text PRIMARY KEY CHECK (period ~ '^[0-9]{3}(02|04|06|08|10|12)$'),
    -- When its unused numbers were reported (E0402); no number of it is
    -- imported or used after that.
    blanks_reported_at timestamptz
);

-- The ranges the platform gave for a period, in books of 50 numbers.
-- next_no is the next unused number; last_no + 1 when the range is used up.
CREATE TABLE einvoice_books (
    id          bigserial PRIMARY KEY,
    period      text NOT NULL REFERENCES einvoice_periods (period),
    track       text NOT NULL CHECK (track ~ '^[A-Z]{2}$'),
    first_no    integer NOT NULL CHECK (first_no BETWEEN 0 AND 99999999 AND first_no % 50 = 0),
    last_no     integer NOT NULL CHECK (last_no BETWEEN 0 AND 99999999 AND last_no % 50 = 49 AND last_no >= first_no),
    next_no     integer NOT NULL,
    imported_at timestamptz NOT NULL,
    imported_by text NOT NULL,
    CHECK (next_no BETWEEN first_no AND last_no + 1),
    UNIQUE (period, track, first_no)
);

-- One invoice per paid charge with a total above 0, its buyer and carrier
-- as the account's 電子發票資訊 read when the charge was paid. An invoice
-- waits (number NULL) while its period has no number left, and takes the
-- next one when numbers are imported.
CREATE TABLE einvoices (
    charge_id     bigint PRIMARY KEY REFERENCES charges (id),
    account_id    text NOT NULL REFERENCES accounts (id),
    period        text NOT NULL CHECK (period ~ '^[0-9]{3}(02|04|06|08|10|12)$'),
    number        text CHECK (number ~ '^[A-Z]{2}[0-9]{8}$'),
    book_id       bigint REFERENCES einvoice_books (id),
    status        text NOT NULL CHECK (status IN ('waiting', 'issued', 'cancelled')),
    -- The instant the charge was paid: InvoiceDate and InvoiceTime.
    invoice_at    timestamptz NOT NULL,
    issued_at     timestamptz,
    random_number text CHECK (random_number ~ '^[0-9]{4}$'),
    b2b           boolean NOT NULL,
    buyer_ban     text NOT NULL,
    buyer_name    text NOT NULL,
    carrier_type  text NOT NULL DEFAULT '',
    carrier_id    text NOT NULL DEFAULT '',
    npoban        text NOT NULL DEFAULT '',
    print_mark    text NOT NULL CHECK (print_mark IN ('Y', 'N')),
    description   text NOT NULL,
    net           bigint NOT NULL CHECK (net > 0),
    tax           bigint NOT NULL CHECK (tax >= 0),
    total         bigint NOT NULL CHECK (total = net + tax),
    cancelled_at  timestamptz,
    created_at    timestamptz NOT NULL,
    CHECK ((status = 'waiting') = (number IS NULL)),
    CHECK ((number IS NULL) = (book_id IS NULL) AND (number IS NULL) = (random_number IS NULL) AND (number IS NULL) = (issued_at IS NULL)),
    CHECK ((status = 'cancelled') = (cancelled_at IS NOT NULL)),
    UNIQUE (period, number)
);
CREATE INDEX einvoices_waiting_idx ON einvoices (period, invoice_at) WHERE status = 'waiting';

-- The platform's numbers repeat across years (a track is given again in a
-- later period), so a number is unique within its period (einvoices), not
-- across all charges.
ALTER TABLE charges DROP CONSTRAINT charges_invoice_number_key;
DROP SEQUENCE invoice_seq;

-- A paid charge is final except for one thing: its invoice number, set once
-- when an invoice that waited for numbers is issued.
CREATE OR REPLACE FUNCTION charge_transition() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF OLD.status IN ('paid', 'void') THEN
        IF NEW IS DISTINCT FROM OLD AND NOT (OLD.status = 'paid' AND OLD.invoice_number IS NULL
                AND NEW.invoice_number IS NOT NULL AND (to_jsonb(NEW) - 'invoice_number') = (to_jsonb(OLD) - 'invoice_number')) THEN
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
    IF (NEW.plan IS DISTINCT FROM OLD.plan AND NOT EXISTS (SELECT 1 FROM plans WHERE id = NEW.plan) AND NEW.plan IS NOT NULL)
        OR (NEW.from_plan IS DISTINCT FROM OLD.from_plan AND NOT EXISTS (SELECT 1 FROM plans WHERE id = NEW.from_plan) AND NEW.from_plan IS NOT NULL) THEN
        RAISE EXCEPTION 'charge %: no plan %', OLD.id, coalesce(NEW.plan, NEW.from_plan) USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;

-- What the store writes for Turnkey: each message once, as
-- <dir>/<type>/<name>.xml, kept here with its state. deadline is when the
-- platform must have it (48 hours B2C, 7 days B2B, after the event).
CREATE TABLE einvoice_messages (
    id          bigserial PRIMARY KEY,
    type        text NOT NULL CHECK (type IN ('F0401', 'F0501', 'G0401', 'G0501', 'E0402')),
    name        text NOT NULL CHECK (name ~ '^[A-Za-z0-9-]{1,32}$'),
    -- The period of the invoice it is about (of the report, for E0402):
    -- the platform gives a track again in a later period, so a number
    -- names a message only within its period.
    period      text NOT NULL CHECK (period ~ '^[0-9]{3}(02|04|06|08|10|12)$'),
    charge_id   bigint REFERENCES charges (id),
    event_at    timestamptz NOT NULL,
    deadline    timestamptz NOT NULL,
    body        text NOT NULL,
    written_at  timestamptz,
    created_at  timestamptz NOT NULL,
    UNIQUE (type, name, period)
);
CREATE INDEX einvoice_messages_unwritten_idx ON einvoice_messages (id) WHERE written_at IS NULL;
