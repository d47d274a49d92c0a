-- The overviews' global version in eight slots (issue #18, renewal pace).
--
-- A statement that touches more than 1,000 accounts (a renewal batch, the
-- daily usage refresh) gives the global version a new value (migration
-- 020). With one row, that row's lock is held from a batch's first insert
-- to its commit, so two renewal batches on two connections took turns
-- instead of running side by side. Now a transaction bumps one of eight
-- rows, chosen by its transaction id (always the same one within a
-- transaction, so two transactions never wait on each other's slots in
-- opposite orders), and overview_global_version is a view: the sum of the
-- slots. The readers (session_lookup, account_overview) are unchanged.
--
-- The sum is still a version: a slot's new value is taken after its row is
-- locked (ON CONFLICT … DO UPDATE SET version = nextval(…) is evaluated on
-- the locked row), so each slot only grows, in commit order; a snapshot
-- that sees any bump more than an earlier snapshot saw reads a larger sum,
-- and equal sums mean nothing global changed in between. Deleting slots
-- (a test emptying every table) gives all eight new values at once, each
-- above every earlier one, so the sum again exceeds every earlier sum.
CREATE TABLE overview_global_slots (
    slot    smallint PRIMARY KEY CHECK (slot >= 0 AND slot < 8),
    version bigint NOT NULL
);
INSERT INTO overview_global_slots (slot, version)
    SELECT s, nextval('overview_version_seq') FROM generate_series(0, 7) AS s;

ALTER SEQUENCE overview_version_seq OWNED BY overview_global_slots.version;
DROP TABLE overview_global_version;
CREATE VIEW overview_global_version AS
    SELECT sum(version)::bigint AS version FROM overview_global_slots;

CREATE OR REPLACE FUNCTION overview_bump(ids text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    ELSIF cardinality(ids) > 1000 THEN
        INSERT INTO overview_global_slots (slot, version) VALUES (txid_current() % 8, nextval('overview_version_seq'))
            ON CONFLICT (slot) DO UPDATE SET version = nextval('overview_version_seq');
    ELSE
        UPDATE accounts SET overview_version = nextval('overview_version_seq') WHERE id = ANY (ids);
    END IF;
END $$;

CREATE OR REPLACE FUNCTION overview_bump_global() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO overview_global_slots (slot, version) VALUES (txid_current() % 8, nextval('overview_version_seq'))
        ON CONFLICT (slot) DO UPDATE SET version = nextval('overview_version_seq');
    RETURN NULL;
END $$;

CREATE FUNCTION overview_slots_refill() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO overview_global_slots (slot, version)
        SELECT s, nextval('overview_version_seq') FROM generate_series(0, 7) AS s
        ON CONFLICT (slot) DO UPDATE SET version = nextval('overview_version_seq');
    RETURN NULL;
END $$;

CREATE TRIGGER overview_global_slots_kept AFTER DELETE OR TRUNCATE ON overview_global_slots
    FOR EACH STATEMENT EXECUTE FUNCTION overview_slots_refill();
