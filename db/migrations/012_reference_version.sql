-- The version of the rarely changing reference data every page reads:
-- plans, usage tiers and campaigns. Any statement that changes one of
-- them bumps it, in the same transaction, so an app process that caches
-- them sees the change at its next request: the version is read in the
-- statement that finds the session, whichever process wrote the change.
CREATE TABLE reference_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL
);
INSERT INTO reference_version (version) VALUES (1);

CREATE FUNCTION bump_reference_version() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    UPDATE reference_version SET version = version + 1;
    RETURN NULL;
END $$;

CREATE TRIGGER plans_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON plans
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER usage_tiers_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON usage_tiers
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
CREATE TRIGGER campaigns_reference_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON campaigns
    FOR EACH STATEMENT EXECUTE FUNCTION bump_reference_version();
