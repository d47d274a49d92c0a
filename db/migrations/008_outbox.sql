-- Mail to account admins, written in the same transaction as the event
-- that causes it (a paid or failed charge, a daily reminder) and sent by a
-- worker (web/mail) with retries. One message per event: dedupe_key. An
-- invitation goes to the address the admin gave.
CREATE TABLE outbox (
    id            bigserial PRIMARY KEY,
    kind          text NOT NULL CHECK (kind IN ('receipt', 'payment_failed', 'renewal_reminder', 'code_expiry', 'invitation')),
    account_id    text NOT NULL REFERENCES accounts (id),
    recipient     text NOT NULL CHECK (recipient <> ''),
    lang          text NOT NULL DEFAULT 'zh-TW' CHECK (lang IN ('zh-TW', 'en')),
    params        jsonb NOT NULL DEFAULT '{}',
    dedupe_key    text NOT NULL UNIQUE,
    created_at    timestamptz NOT NULL,
    send_after    timestamptz NOT NULL,
    attempts      integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- A worker holds a message until claimed_until; one that dies holding
    -- it leaves it to the next worker after that.
    claimed_until timestamptz,
    sent_at       timestamptz,
    last_error    text NOT NULL DEFAULT ''
);
CREATE INDEX outbox_due_idx ON outbox (send_after) WHERE sent_at IS NULL;
CREATE INDEX outbox_account_idx ON outbox (account_id, created_at);
