-- A charge's plans (plan, from_plan) are checked once per statement, not
-- once per row. The two foreign keys to plans made every charge written
-- look up and lock a plans row twice: a renewal writing tens of thousands
-- of charges in one statement spent about a third of its insert there
-- (`make bench-renew`). The same guarantee, set-based:
--
-- * a plan is never deleted nor renamed (the catalog only grows; a price
--   change edits a row), so a plan a charge names stays, and nothing needs
--   locking while a charge is written;
-- * the charges a statement inserts are checked against plans at its end,
--   in one anti-join over the statement's new rows;
-- * an update that changes a charge's plan (a retry quotes it again) is
--   checked in charge_transition, the row trigger every update already
--   runs, only when a plan changes.
--
-- The error is a foreign-key violation (23503), as before.

ALTER TABLE charges DROP CONSTRAINT charges_plan_fkey, DROP CONSTRAINT charges_from_plan_fkey;

CREATE FUNCTION plans_stay() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'plan %: a plan is never deleted nor renamed (charges name it)', OLD.id
        USING ERRCODE = 'foreign_key_violation';
END $$;
CREATE TRIGGER plans_stay BEFORE DELETE OR UPDATE OF id ON plans
    FOR EACH ROW EXECUTE FUNCTION plans_stay();
CREATE FUNCTION plans_no_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'plans: a plan is never deleted' USING ERRCODE = 'foreign_key_violation';
END $$;
CREATE TRIGGER plans_no_truncate BEFORE TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION plans_no_truncate();

CREATE FUNCTION charges_plans_check() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    bad record;
BEGIN
    SELECT n.id, p.plan INTO bad
    FROM new_charges n CROSS JOIN LATERAL (VALUES (n.plan), (n.from_plan)) AS p(plan)
    WHERE p.plan IS NOT NULL AND NOT EXISTS (SELECT 1 FROM plans WHERE plans.id = p.plan)
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'charge %: no plan %', bad.id, bad.plan USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NULL;
END $$;
CREATE TRIGGER charges_plans AFTER INSERT ON charges REFERENCING NEW TABLE AS new_charges
    FOR EACH STATEMENT EXECUTE FUNCTION charges_plans_check();

CREATE OR REPLACE FUNCTION charge_transition() RETURNS trigger LANGUAGE plpgsql AS $$
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
    IF (NEW.plan IS DISTINCT FROM OLD.plan AND NOT EXISTS (SELECT 1 FROM plans WHERE id = NEW.plan) AND NEW.plan IS NOT NULL)
        OR (NEW.from_plan IS DISTINCT FROM OLD.from_plan AND NOT EXISTS (SELECT 1 FROM plans WHERE id = NEW.from_plan) AND NEW.from_plan IS NOT NULL) THEN
        RAISE EXCEPTION 'charge %: no plan %', OLD.id, coalesce(NEW.plan, NEW.from_plan) USING ERRCODE = 'foreign_key_violation';
    END IF;
    RETURN NEW;
END $$;
