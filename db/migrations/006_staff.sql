-- The staff console: API tokens for staff automation, code-generation jobs
-- with their progress, renewal runs' progress and outcome, and indexes for
-- the audit log's filters and the campaign report.

-- Staff API tokens (Authorization: Bearer) for /staff/api/*. Only the
-- token's SHA-256 is stored; a token acts as the staff user who made it and
-- dies with that user's staff role.
CREATE TABLE staff_api_tokens (
    token_hash bytea PRIMARY KEY CHECK (length(token_hash) = 32),
    user_id    bigint NOT NULL REFERENCES users (id),
    label      text NOT NULL DEFAULT '',
    created_at timestamptz NOT NULL,
    revoked_at timestamptz
);
CREATE INDEX staff_api_tokens_user_idx ON staff_api_tokens (user_id);

-- A request to generate codes for a campaign, and how far it has got. The
-- codes are written in one transaction at the end, so a failed job leaves
-- no codes behind.
CREATE TABLE code_jobs (
    id          bigserial PRIMARY KEY,
    campaign_id text NOT NULL REFERENCES campaigns (id),
    requested   integer NOT NULL CHECK (requested > 0),
    done        integer NOT NULL DEFAULT 0 CHECK (done >= 0),
    status      text NOT NULL CHECK (status IN ('running', 'done', 'failed')),
    error       text NOT NULL DEFAULT '',
    started_by  text NOT NULL,
    started_at  timestamptz NOT NULL,
    finished_at timestamptz
);
CREATE INDEX code_jobs_campaign_idx ON code_jobs (campaign_id, id);

-- A renewal run as staff start it from the console: renewal, then the month
-- before's usage charges, then collection. phase says where it is; done is
-- accounts examined so far out of expected; result is the outcome as JSON.
-- status (001) stays the renewal's own state, which decides whether a
-- re-run is "already done".
ALTER TABLE renewal_runs
    ADD COLUMN phase    text NOT NULL DEFAULT 'finished'
        CHECK (phase IN ('renewing', 'billing_usage', 'collecting', 'finished', 'failed')),
    ADD COLUMN phase_at timestamptz,
    ADD COLUMN done     bigint NOT NULL DEFAULT 0,
    ADD COLUMN expected bigint NOT NULL DEFAULT 0,
    ADD COLUMN result   jsonb,
    ADD COLUMN error    text NOT NULL DEFAULT '';

CREATE INDEX audit_log_actor_idx ON audit_log (actor, at);
CREATE INDEX audit_log_kind_idx ON audit_log (kind, at);
CREATE INDEX code_events_at_idx ON code_events (at);
