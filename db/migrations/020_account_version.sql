-- The account version (issue #18): the account pages keep each account's
-- overview (account_overview) in the app process and read it again only
-- when it may have changed. Every write to a table the overview reads
-- gives the account a new accounts.overview_version in the same
-- transaction (triggers, so no write path can forget it); a write that
-- touches more than 1,000 accounts in one statement (a renewal batch, the
-- daily usage refresh), a TRUNCATE, and any write to usage_refreshes
-- (read by every account's overview) give overview_global_version a new
-- value instead: one row updated, every cached overview dropped.
--
-- The values come from one sequence, so a value is never given twice: a
-- cached overview whose two versions equal the ones a request reads was
-- read after the last change to anything it shows. The session statement
-- (session_lookup) returns both for the account the path names, and
-- account_overview returns both as of the snapshot it read (db/pagecache.go).
--
-- The staff account page's extras (usage_totals, usage_batches, audit_log)
-- are not versioned: that page is never served from the cache.
CREATE SEQUENCE overview_version_seq;

ALTER TABLE accounts ADD COLUMN overview_version bigint NOT NULL DEFAULT nextval('overview_version_seq');

CREATE TABLE overview_global_version (
    only_row boolean PRIMARY KEY DEFAULT true CHECK (only_row),
    version  bigint NOT NULL
);
INSERT INTO overview_global_version (version) VALUES (nextval('overview_version_seq'));
-- Owned by the one-row table, which the simulator's reset keeps
-- (db.simKeptTables): restarting the sequence would give values again.
ALTER SEQUENCE overview_version_seq OWNED BY overview_global_version.version;

-- overview_bump gives the accounts ids (distinct, sorted: the rows are
-- locked in id order) new versions, or, past 1,000 of them, every account
-- one through the global version.
CREATE FUNCTION overview_bump(ids text[]) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    IF ids IS NULL OR cardinality(ids) = 0 THEN
        RETURN;
    ELSIF cardinality(ids) > 1000 THEN
        INSERT INTO overview_global_version (version) VALUES (nextval('overview_version_seq'))
            ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version;
    ELSE
        UPDATE accounts SET overview_version = nextval('overview_version_seq') WHERE id = ANY (ids);
    END IF;
END $$;

-- An upsert: the row comes back if it was deleted or truncated (a test
-- emptying every table); the trigger below puts it back at once anyway.
CREATE FUNCTION overview_bump_global() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    INSERT INTO overview_global_version (version) VALUES (nextval('overview_version_seq'))
        ON CONFLICT (only_row) DO UPDATE SET version = EXCLUDED.version;
    RETURN NULL;
END $$;

CREATE TRIGGER overview_global_version_kept AFTER DELETE OR TRUNCATE ON overview_global_version
    FOR EACH STATEMENT EXECUTE FUNCTION overview_bump_global();

-- Once per statement, from its transition tables (new_rows for INSERT,
-- old_rows for DELETE, both for UPDATE). einvoice_allowances names its
-- charge, whose e-invoice names the account.
CREATE FUNCTION overview_bump_inserted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'einvoice_allowances' THEN
        PERFORM overview_bump((SELECT array_agg(DISTINCT e.account_id) FROM new_rows n JOIN einvoices e ON e.charge_id = n.charge_id));
    ELSE
        PERFORM overview_bump((SELECT array_agg(DISTINCT account_id) FROM new_rows WHERE account_id IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION overview_bump_deleted() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'einvoice_allowances' THEN
        PERFORM overview_bump((SELECT array_agg(DISTINCT e.account_id) FROM old_rows o JOIN einvoices e ON e.charge_id = o.charge_id));
    ELSE
        PERFORM overview_bump((SELECT array_agg(DISTINCT account_id) FROM old_rows WHERE account_id IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;

CREATE FUNCTION overview_bump_updated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_TABLE_NAME = 'einvoice_allowances' THEN
        PERFORM overview_bump((SELECT array_agg(DISTINCT e.account_id) FROM (
            SELECT charge_id FROM new_rows UNION SELECT charge_id FROM old_rows) c JOIN einvoices e ON e.charge_id = c.charge_id));
    ELSE
        PERFORM overview_bump((SELECT array_agg(DISTINCT account_id) FROM (
            SELECT account_id FROM new_rows UNION SELECT account_id FROM old_rows) c WHERE account_id IS NOT NULL));
    END IF;
    RETURN NULL;
END $$;

DO $$
DECLARE t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['payment_methods', 'account_months', 'charges', 'promo_codes', 'einvoice_details',
                              'einvoices', 'refunds', 'einvoice_allowances', 'usage_snapshots'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER INSERT ON %I REFERENCING NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION overview_bump_inserted()', t || '_overview_ins', t);
        EXECUTE format('CREATE TRIGGER %I AFTER UPDATE ON %I REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
            FOR EACH STATEMENT EXECUTE FUNCTION overview_bump_updated()', t || '_overview_upd', t);
        EXECUTE format('CREATE TRIGGER %I AFTER DELETE ON %I REFERENCING OLD TABLE AS old_rows
            FOR EACH STATEMENT EXECUTE FUNCTION overview_bump_deleted()', t || '_overview_del', t);
    END LOOP;
    FOREACH t IN ARRAY ARRAY['accounts', 'payment_methods', 'account_months', 'charges', 'promo_codes', 'einvoice_details',
                              'einvoices', 'refunds', 'einvoice_allowances', 'usage_snapshots'] LOOP
        EXECUTE format('CREATE TRIGGER %I AFTER TRUNCATE ON %I FOR EACH STATEMENT EXECUTE FUNCTION overview_bump_global()',
            t || '_overview_truncate', t);
    END LOOP;
END $$;

CREATE TRIGGER usage_refreshes_overview AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON usage_refreshes
    FOR EACH STATEMENT EXECUTE FUNCTION overview_bump_global();

-- An account's own row: any update gives it a new version, unless the
-- update sets one (overview_bump's). A row trigger, as cheap as one: the
-- function only takes the next value.
CREATE FUNCTION overview_bump_account() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    NEW.overview_version := nextval('overview_version_seq');
    RETURN NEW;
END $$;

CREATE TRIGGER accounts_overview_version BEFORE UPDATE ON accounts
    FOR EACH ROW WHEN (OLD.overview_version = NEW.overview_version) EXECUTE FUNCTION overview_bump_account();

-- account_overview and session_lookup gain the two versions; their result
-- types change, so they are dropped and created again (in this one
-- transaction). The bodies are 019's and 015's, with the two columns.
DROP FUNCTION account_overview(text, date, date, boolean, bigint, boolean, integer, integer);
DROP FUNCTION session_lookup(bytea, timestamptz, timestamptz, text);

CREATE FUNCTION account_overview(text, date, date, boolean, bigint, boolean, integer, integer)
RETURNS TABLE (
    id text, name text, region text, plan text, scheduled_plan text, scheduled_for date,
    payment_id bigint, payment_kind text, payment_token text, paid_fee bigint, next_paid_fee bigint,
    methods json, invoice json, code json, held json, owed json, charges json, charge json, code_charge json,
    free_sent integer, additional_sent integer, usage_refreshed_at timestamptz,
    live_free numeric, live_additional numeric, daily json, audit json,
    einvoices json, refunds json, allowances json,
    overview_version bigint, overview_global bigint)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    SELECT a.id, a.name, a.region, a.plan, a.scheduled_plan, a.scheduled_for,
           pm.id AS payment_id, pm.kind AS payment_kind, pm.token AS payment_token,
           coalesce(m.fee_paid, 0) AS paid_fee, coalesce(mn.fee_paid, 0) AS next_paid_fee,
           CASE WHEN $7 & 1 = 0 THEN (SELECT json_agg(x ORDER BY x.is_main DESC, x.id) FROM (
               SELECT id, account_id, kind, is_main, token, label, brand, last4, expiry, created_at
               FROM payment_methods WHERE account_id = a.id AND removed_at IS NULL) x) END AS methods,
           CASE WHEN $7 & 2 = 0 THEN (SELECT row_to_json(x) FROM (
               SELECT kind, carrier, company_title, tax_id, donation_code, email
               FROM einvoice_details WHERE account_id = a.id) x) END AS invoice,
           CASE WHEN $7 & 4 = 0 THEN (SELECT row_to_json(x) FROM (
               SELECT code, campaign_id, account_id, status, display, registered_at, redeemed_at, charge_id FROM promo_codes WHERE account_id = a.id ORDER BY registered_at DESC LIMIT 1) x) END AS code,
           CASE WHEN $7 & 4 = 0 THEN (SELECT row_to_json(x) FROM (
               SELECT code, campaign_id, account_id, status, display, registered_at, redeemed_at, charge_id FROM promo_codes WHERE account_id = a.id AND status = 'registered') x) END AS held,
           CASE WHEN $7 & 8 = 0 THEN (SELECT json_agg(x ORDER BY x.id DESC) FROM (
               SELECT id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
    	amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code,
    	coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS code_display, status, failure, failure_detail, attempts,
    	asked_at, next_retry_at, payment_method_id, coalesce(payment_kind,'') AS payment_kind, payment_ref, coalesce(invoice_number,'') AS invoice_number, created_at, paid_at FROM charges
               WHERE account_id = a.id AND status = 'failed' AND kind IN ('renewal', 'usage')) x) END AS owed,
           CASE WHEN $4 THEN (SELECT json_agg(x ORDER BY x.created_at DESC, x.id DESC) FROM (
               SELECT id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
    	amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code,
    	coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS code_display, status, failure, failure_detail, attempts,
    	asked_at, next_retry_at, payment_method_id, coalesce(payment_kind,'') AS payment_kind, payment_ref, coalesce(invoice_number,'') AS invoice_number, created_at, paid_at FROM charges WHERE account_id = a.id) x) END AS charges,
           CASE WHEN $5 > 0 THEN (SELECT row_to_json(x) FROM (
               SELECT id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
    	amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code,
    	coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS code_display, status, failure, failure_detail, attempts,
    	asked_at, next_retry_at, payment_method_id, coalesce(payment_kind,'') AS payment_kind, payment_ref, coalesce(invoice_number,'') AS invoice_number, created_at, paid_at FROM charges WHERE id = $5 AND account_id = a.id) x) END AS charge,
           CASE WHEN $6 THEN (SELECT row_to_json(x) FROM (
               SELECT id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
    	amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code,
    	coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS code_display, status, failure, failure_detail, attempts,
    	asked_at, next_retry_at, payment_method_id, coalesce(payment_kind,'') AS payment_kind, payment_ref, coalesce(invoice_number,'') AS invoice_number, created_at, paid_at FROM charges WHERE id = (
                   SELECT charge_id FROM promo_codes WHERE account_id = a.id ORDER BY registered_at DESC LIMIT 1)) x) END AS code_charge,
           coalesce(us.free_sent, 0) AS free_sent, coalesce(us.additional_sent, 0) AS additional_sent,
           greatest(us.refreshed_at, ur.refreshed_at) AS usage_refreshed_at,
           CASE WHEN $8 > 0 THEN (SELECT sum(free) FROM usage_totals WHERE account_id = a.id AND month = $2) END AS live_free,
           CASE WHEN $8 > 0 THEN (SELECT sum(additional) FROM usage_totals WHERE account_id = a.id AND month = $2) END AS live_additional,
           CASE WHEN $8 > 0 THEN (SELECT json_agg(x ORDER BY x.day) FROM (
               SELECT (sent_at AT TIME ZONE 'Asia/Tokyo')::date AS day, sum(free + additional) AS n
               FROM usage_batches WHERE account_id = a.id AND month = $2 AND billable GROUP BY 1) x) END AS daily,
           CASE WHEN $8 > 0 THEN (SELECT json_agg(x ORDER BY x.at DESC, x.id DESC) FROM (
               SELECT id, at, actor, account_id, kind, before::text AS before, after::text AS after
               FROM audit_log WHERE account_id = a.id ORDER BY at DESC, id DESC LIMIT $8) x) END AS audit,
           CASE WHEN $4 OR $5 > 0 THEN (SELECT json_agg(x ORDER BY x.charge_id) FROM (
               SELECT charge_id, coalesce(number, '') AS number, status, invoice_at, coalesce(random_number, '') AS random_number,
                      b2b, buyer_ban, buyer_name, carrier_type, carrier_id, npoban, print_mark, description, net, tax, total, cancelled_at
               FROM einvoices WHERE account_id = a.id AND ($4 OR charge_id = $5)) x) END AS einvoices,
           CASE WHEN $4 OR $5 > 0 THEN (SELECT json_agg(x ORDER BY x.charge_id, x.id) FROM (
               SELECT id, charge_id, account_id, amount, status, created_at, settled_at
               FROM refunds WHERE account_id = a.id AND ($4 OR charge_id = $5)) x) END AS refunds,
           CASE WHEN $4 OR $5 > 0 THEN (SELECT json_agg(x ORDER BY x.charge_id, x.created_at) FROM (
               SELECT al.number, al.refund_id, al.charge_id, al.total, al.status, al.consent_expires, al.issued_at, al.created_at
               FROM einvoice_allowances al JOIN einvoices e ON e.charge_id = al.charge_id
               WHERE e.account_id = a.id AND ($4 OR al.charge_id = $5)) x) END AS allowances,
           a.overview_version, coalesce((SELECT g.version FROM overview_global_version g), 0) AS overview_global
    FROM accounts a
    LEFT JOIN payment_methods pm ON pm.account_id = a.id AND pm.is_main AND pm.removed_at IS NULL
    LEFT JOIN account_months m ON m.account_id = a.id AND m.month = $2
    LEFT JOIN account_months mn ON mn.account_id = a.id AND mn.month = $3
    LEFT JOIN usage_snapshots us ON us.account_id = a.id AND us.month = $2
    LEFT JOIN usage_refreshes ur ON ur.month = $2
    WHERE a.id = $1;
END
$fn$;

CREATE FUNCTION session_lookup(bytea, timestamptz, timestamptz, text)
RETURNS TABLE (
    id bigint, login text, display_name text, is_staff boolean, account_id text,
    created_at timestamptz, expires_at timestamptz, version bigint,
    member_of text, account_name text, region text, role text,
    overview_version bigint, overview_global bigint)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    -- Each lookup is by key from the session's row (OFFSET 0 keeps the
    -- planner from turning them into joins that sort whole small tables,
    -- which it picks for a generic plan on a young database).
    SELECT u.id, u.login, u.display_name, u.is_staff, ss.account_id, ss.created_at, ss.expires_at,
           (SELECT version FROM reference_version) AS version,
           m.account_id AS member_of, m.name AS account_name, m.region, m.role,
           (SELECT a.overview_version FROM accounts a WHERE a.id = $4) AS overview_version,
           coalesce((SELECT g.version FROM overview_global_version g), 0) AS overview_global
    FROM sessions ss
    CROSS JOIN LATERAL (SELECT id, login, display_name, is_staff FROM users WHERE id = ss.user_id OFFSET 0) u
    LEFT JOIN LATERAL (
        SELECT m.account_id, m.role, a.name, a.region FROM memberships m JOIN accounts a ON a.id = m.account_id
        WHERE m.user_id = ss.user_id AND m.account_id = $4 OFFSET 0) m ON true
    WHERE ss.token_hash = $1 AND ss.expires_at > $2 AND ss.created_at > $3;
END
$fn$;
