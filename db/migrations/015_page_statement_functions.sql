-- The account overview (db/overview.go: FindOverviewWith), every account
-- page's one statement, as a function. PL/pgSQL keeps the plan of its
-- query per server connection, so PostgreSQL plans it once per connection
-- (a generic plan after five custom ones, as for a prepared statement)
-- instead of at every request, whichever client the connection serves.
-- A named prepared statement gives the same only per client connection,
-- which PgBouncer in transaction pooling does not keep; an unnamed one is
-- planned every time (about 1 ms of the page's 1.3 ms in PostgreSQL).
--
-- $1 the account, $2 the month, $3 the next month; $4, $5 and $6 ask for
-- every charge, one charge and the charge that redeemed the latest code;
-- $7 is a bit set of parts to skip (db.OverviewParts); $8, when not 0,
-- asks for the staff page's live usage, daily counts and that many audit
-- entries. The charge and code columns are db.chargeCols and db.codeCols.
CREATE FUNCTION account_overview(text, date, date, boolean, bigint, boolean, integer, integer)
RETURNS TABLE (
    id text, name text, region text, plan text, scheduled_plan text, scheduled_for date,
    payment_id bigint, payment_kind text, payment_token text, paid_fee bigint, next_paid_fee bigint,
    methods json, invoice json, code json, held json, owed json, charges json, charge json, code_charge json,
    free_sent integer, additional_sent integer, usage_refreshed_at timestamptz,
    live_free numeric, live_additional numeric, daily json, audit json)
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
               FROM audit_log WHERE account_id = a.id ORDER BY at DESC, id DESC LIMIT $8) x) END AS audit
    FROM accounts a
    LEFT JOIN payment_methods pm ON pm.account_id = a.id AND pm.is_main AND pm.removed_at IS NULL
    LEFT JOIN account_months m ON m.account_id = a.id AND m.month = $2
    LEFT JOIN account_months mn ON mn.account_id = a.id AND mn.month = $3
    LEFT JOIN usage_snapshots us ON us.account_id = a.id AND us.month = $2
    LEFT JOIN usage_refreshes ur ON ur.month = $2
    WHERE a.id = $1;
END
$fn$;

-- The session statement (db.Store.FindSessionIn), every signed-in page's
-- first, likewise: planning it cost about 0.3 ms against 0.04 ms to run.
-- $1 the token's hash, $2 now, $3 the oldest sign-in still valid, $4 the
-- account the path names ('' for none).
CREATE FUNCTION session_lookup(bytea, timestamptz, timestamptz, text)
RETURNS TABLE (
    id bigint, login text, display_name text, is_staff boolean, account_id text,
    created_at timestamptz, expires_at timestamptz, version bigint,
    member_of text, account_name text, region text, role text)
LANGUAGE plpgsql STABLE AS $fn$
#variable_conflict use_column
BEGIN
    RETURN QUERY
    -- Each lookup is by key from the session's row (OFFSET 0 keeps the
    -- planner from turning them into joins that sort whole small tables,
    -- which it picks for a generic plan on a young database).
    SELECT u.id, u.login, u.display_name, u.is_staff, ss.account_id, ss.created_at, ss.expires_at,
           (SELECT version FROM reference_version) AS version,
           m.account_id AS member_of, m.name AS account_name, m.region, m.role
    FROM sessions ss
    CROSS JOIN LATERAL (SELECT id, login, display_name, is_staff FROM users WHERE id = ss.user_id OFFSET 0) u
    LEFT JOIN LATERAL (
        SELECT m.account_id, m.role, a.name, a.region FROM memberships m JOIN accounts a ON a.id = m.account_id
        WHERE m.user_id = ss.user_id AND m.account_id = $4 OFFSET 0) m ON true
    WHERE ss.token_hash = $1 AND ss.expires_at > $2 AND ss.created_at > $3;
END
$fn$;
