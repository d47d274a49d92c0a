-- The account overview takes the kinds of charge that are money owed as
-- its ninth parameter, billing.OwedKinds, which db/overview.go passes:
-- 015, 019 and 020 wrote the list out ('renewal', 'usage'), a second home
-- for a rule billing names once. The owed charges are found through
-- charges_failed_idx, whose predicate is the status alone, so a parameter
-- costs the plan nothing.
--
-- Its charges (owed, charges, charge, code_charge) decode straight into
-- db.Charge, by its json tags, instead of a JSON mirror of it: their keys
-- are db.Charge's field names, the names the audit log has always stored
-- charges under (charge.created, charge.paid), and the month is written as
-- the time db.Charge.MonthDate holds (00:00 UTC of its first day). The columns
-- are db.chargeCols. So do the staff page's days and audit entries, into
-- db.DayCount (the day written as its midnight in UTC, as before) and
-- db.AuditEntry.
--
-- A function's parameters are part of its identity, so the old one is
-- dropped and this one created (one transaction: no request sees neither).
-- The body is 020's, but for the owed charges' kinds, the charges' keys
-- and the days'.
DROP FUNCTION account_overview(text, date, date, boolean, bigint, boolean, integer, integer);

CREATE FUNCTION account_overview(text, date, date, boolean, bigint, boolean, integer, integer, text[])
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
           CASE WHEN $7 & 8 = 0 THEN (SELECT json_agg(x ORDER BY x."ID" DESC) FROM (
               SELECT id AS "ID", account_id AS "AccountID", kind AS "Kind", to_char(month, 'YYYY-MM-DD"T00:00:00Z"') AS "MonthDate",
    	effective_at AS "EffectiveAt", coalesce(from_plan,'') AS "FromPlan", coalesce(plan,'') AS "Plan",
    	amount AS "Amount", offset_amount AS "Offset", forfeited AS "Forfeited", net AS "Net", tax AS "Tax", total AS "Total",
    	coalesce(code,'') AS "Code", coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS "CodeDisplay",
    	status AS "Status", failure AS "Failure", failure_detail AS "FailureDetail", attempts AS "Attempts",
    	asked_at AS "AskedAt", next_retry_at AS "NextRetryAt", payment_method_id AS "PaymentID", coalesce(payment_kind,'') AS "PaymentKind",
    	payment_ref AS "PaymentRef", coalesce(invoice_number,'') AS "Invoice", created_at AS "CreatedAt", paid_at AS "PaidAt" FROM charges
               WHERE account_id = a.id AND status = 'failed' AND kind = ANY($9)) x) END AS owed,
           CASE WHEN $4 THEN (SELECT json_agg(x ORDER BY x."CreatedAt" DESC, x."ID" DESC) FROM (
               SELECT id AS "ID", account_id AS "AccountID", kind AS "Kind", to_char(month, 'YYYY-MM-DD"T00:00:00Z"') AS "MonthDate",
    	effective_at AS "EffectiveAt", coalesce(from_plan,'') AS "FromPlan", coalesce(plan,'') AS "Plan",
    	amount AS "Amount", offset_amount AS "Offset", forfeited AS "Forfeited", net AS "Net", tax AS "Tax", total AS "Total",
    	coalesce(code,'') AS "Code", coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS "CodeDisplay",
    	status AS "Status", failure AS "Failure", failure_detail AS "FailureDetail", attempts AS "Attempts",
    	asked_at AS "AskedAt", next_retry_at AS "NextRetryAt", payment_method_id AS "PaymentID", coalesce(payment_kind,'') AS "PaymentKind",
    	payment_ref AS "PaymentRef", coalesce(invoice_number,'') AS "Invoice", created_at AS "CreatedAt", paid_at AS "PaidAt" FROM charges WHERE account_id = a.id) x) END AS charges,
           CASE WHEN $5 > 0 THEN (SELECT row_to_json(x) FROM (
               SELECT id AS "ID", account_id AS "AccountID", kind AS "Kind", to_char(month, 'YYYY-MM-DD"T00:00:00Z"') AS "MonthDate",
    	effective_at AS "EffectiveAt", coalesce(from_plan,'') AS "FromPlan", coalesce(plan,'') AS "Plan",
    	amount AS "Amount", offset_amount AS "Offset", forfeited AS "Forfeited", net AS "Net", tax AS "Tax", total AS "Total",
    	coalesce(code,'') AS "Code", coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS "CodeDisplay",
    	status AS "Status", failure AS "Failure", failure_detail AS "FailureDetail", attempts AS "Attempts",
    	asked_at AS "AskedAt", next_retry_at AS "NextRetryAt", payment_method_id AS "PaymentID", coalesce(payment_kind,'') AS "PaymentKind",
    	payment_ref AS "PaymentRef", coalesce(invoice_number,'') AS "Invoice", created_at AS "CreatedAt", paid_at AS "PaidAt" FROM charges WHERE id = $5 AND account_id = a.id) x) END AS charge,
           CASE WHEN $6 THEN (SELECT row_to_json(x) FROM (
               SELECT id AS "ID", account_id AS "AccountID", kind AS "Kind", to_char(month, 'YYYY-MM-DD"T00:00:00Z"') AS "MonthDate",
    	effective_at AS "EffectiveAt", coalesce(from_plan,'') AS "FromPlan", coalesce(plan,'') AS "Plan",
    	amount AS "Amount", offset_amount AS "Offset", forfeited AS "Forfeited", net AS "Net", tax AS "Tax", total AS "Total",
    	coalesce(code,'') AS "Code", coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS "CodeDisplay",
    	status AS "Status", failure AS "Failure", failure_detail AS "FailureDetail", attempts AS "Attempts",
    	asked_at AS "AskedAt", next_retry_at AS "NextRetryAt", payment_method_id AS "PaymentID", coalesce(payment_kind,'') AS "PaymentKind",
    	payment_ref AS "PaymentRef", coalesce(invoice_number,'') AS "Invoice", created_at AS "CreatedAt", paid_at AS "PaidAt" FROM charges WHERE id = (
                   SELECT charge_id FROM promo_codes WHERE account_id = a.id ORDER BY registered_at DESC LIMIT 1)) x) END AS code_charge,
           coalesce(us.free_sent, 0) AS free_sent, coalesce(us.additional_sent, 0) AS additional_sent,
           greatest(us.refreshed_at, ur.refreshed_at) AS usage_refreshed_at,
           CASE WHEN $8 > 0 THEN (SELECT sum(free) FROM usage_totals WHERE account_id = a.id AND month = $2) END AS live_free,
           CASE WHEN $8 > 0 THEN (SELECT sum(additional) FROM usage_totals WHERE account_id = a.id AND month = $2) END AS live_additional,
           CASE WHEN $8 > 0 THEN (SELECT json_agg(x ORDER BY x.day) FROM (
               SELECT to_char((sent_at AT TIME ZONE 'Asia/Tokyo')::date, 'YYYY-MM-DD"T00:00:00Z"') AS day, sum(free + additional) AS n
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
