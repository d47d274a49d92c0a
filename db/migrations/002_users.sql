-- Brand users, their roles in official accounts, sessions, invitations,
-- and each account's e-invoice details.

CREATE TABLE users (
    id            bigserial PRIMARY KEY,
    login         text NOT NULL UNIQUE CHECK (login = lower(login) AND login <> ''),
    display_name  text NOT NULL,
    password_hash text NOT NULL,
    is_staff      boolean NOT NULL DEFAULT false,
    created_at    timestamptz NOT NULL
);

-- A user's role in an account: 管理員 admin, 操作人員 operator, and the two
-- restricted operator roles.
CREATE TABLE memberships (
    account_id text   NOT NULL REFERENCES accounts (id),
    user_id    bigint NOT NULL REFERENCES users (id),
    role       text   NOT NULL CHECK (role IN ('admin', 'operator', 'operator_no_broadcast', 'operator_no_stats')),
    created_at timestamptz NOT NULL,
    PRIMARY KEY (account_id, user_id)
);
CREATE INDEX memberships_user_idx ON memberships (user_id);

-- Sessions are looked up by the hash of their cookie value, so a leaked
-- table does not leak live sessions.
CREATE TABLE sessions (
    token_hash  bytea PRIMARY KEY,
    user_id     bigint NOT NULL REFERENCES users (id),
    account_id  text REFERENCES accounts (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL
);
CREATE INDEX sessions_expiry_idx ON sessions (expires_at);

CREATE TABLE invitations (
    token_hash  bytea PRIMARY KEY,
    account_id  text NOT NULL REFERENCES accounts (id),
    role        text NOT NULL CHECK (role IN ('admin', 'operator', 'operator_no_broadcast', 'operator_no_stats')),
    created_by  bigint NOT NULL REFERENCES users (id),
    created_at  timestamptz NOT NULL,
    expires_at  timestamptz NOT NULL,
    used_by     bigint REFERENCES users (id),
    used_at     timestamptz
);

CREATE TABLE einvoice_details (
    account_id    text PRIMARY KEY REFERENCES accounts (id),
    kind          text NOT NULL CHECK (kind IN ('mobile_barcode', 'citizen_certificate', 'company', 'donation')),
    carrier       text NOT NULL DEFAULT '',
    company_title text NOT NULL DEFAULT '',
    tax_id        text NOT NULL DEFAULT '',
    donation_code text NOT NULL DEFAULT '',
    email         text NOT NULL DEFAULT '',
    updated_at    timestamptz NOT NULL
);
