// Package loadgen fills a database with realistic accounts and measures the
// store under load: the harness for `webstore loadgen`, `webstore usage
// bench` and the renewal benchmark, kept out of the store itself.
package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// LoadgenSummary says what Accounts wrote.
type LoadgenSummary struct {
	Accounts int64   `json:"accounts"`
	Paid     int64   `json:"paid_accounts"`
	Codes    int64   `json:"registered_codes"`
	Month    string  `json:"paid_month"`
	Seconds  float64 `json:"seconds"`
}

// Accounts fills the database with n realistic accounts (ids L00000001...),
// set-based, in chunks: about 60% light, 25% medium, 15% high; one in ten in
// Japan; paid accounts with a card or LINE Pay (a few by bank transfer) and
// the month containing now already paid; one paid account in fifty with a
// downgrade scheduled; and about one TW account in seven holding a registered code of
// a campaign open through next month. Existing ids are left alone, so it can
// be re-run to grow a database. It ends with VACUUM (ANALYZE).
func Accounts(ctx context.Context, d *sqlx.DB, now time.Time, n int64) (LoadgenSummary, error) {
	started := time.Now()
	m := billing.MonthOf(now)
	sum := LoadgenSummary{Month: m.String()}
	campID := "loadgen-" + m.String()
	if _, err := d.ExecContext(ctx, `INSERT INTO campaigns (id, name, face_value, valid_from, valid_until, regions, payment_kinds, upgrades, renewal_plans, created_at)
		VALUES ($1, $2, 800, $3, $4, '{TW}', '{credit_card,line_pay}', '{light>medium,light>high,medium>high}', '{medium,high}', $5)
		ON CONFLICT (id) DO NOTHING`, campID, "負載測試活動 "+m.String(), m.Start(), m.Next().End().Add(-time.Second), now); err != nil {
		return sum, err
	}
	const chunk = 100000
	for lo := int64(1); lo <= n; lo += chunk {
		hi := min(lo+chunk-1, n)
		tx, err := d.BeginTxx(ctx, nil)
		if err != nil {
			return sum, err
		}
		defer tx.Rollback()
		for _, st := range []struct {
			q    string
			args []any
		}{
			{`INSERT INTO accounts (id, name, region, plan, scheduled_plan, scheduled_for, created_at)
			 SELECT 'L' || lpad(g::text, 8, '0'), '測試帳號 ' || g,
			        CASE WHEN g % 10 = 3 THEN 'JP' ELSE 'TW' END,
			        CASE WHEN g % 20 < 12 THEN 'light' WHEN g % 20 < 17 THEN 'medium' ELSE 'high' END,
			        CASE WHEN g % 20 >= 12 AND g % 50 = 13 THEN 'light' END,
			        CASE WHEN g % 20 >= 12 AND g % 50 = 13 THEN $3::date END,
			        $4
			 FROM generate_series($1::bigint, $2::bigint) g
			 ON CONFLICT (id) DO NOTHING`, []any{lo, hi, m.Next().Date(), now}},
			{`INSERT INTO payment_methods (account_id, kind, is_main, token, label, brand, last4, expiry, created_at)
			 SELECT 'L' || lpad(g::text, 8, '0'),
			        CASE WHEN g % 31 = 0 THEN 'bank_transfer' WHEN g % 2 = 1 THEN 'line_pay' ELSE 'credit_card' END,
			        true, 'loadgen-' || g, '', CASE WHEN g % 2 = 0 AND g % 31 <> 0 THEN 'visa' ELSE '' END,
			        CASE WHEN g % 2 = 0 AND g % 31 <> 0 THEN lpad((g % 10000)::text, 4, '0') ELSE '' END, '', $3
			 FROM generate_series($1::bigint, $2::bigint) g
			 WHERE g % 20 >= 12 AND NOT EXISTS (SELECT 1 FROM payment_methods p WHERE p.account_id = 'L' || lpad(g::text, 8, '0'))`,
				[]any{lo, hi, now}},
			{`INSERT INTO account_months (account_id, month, plan, fee_paid)
			 SELECT a.id, $3::date, a.plan, p.fee FROM accounts a JOIN plans p ON p.id = a.plan
			 WHERE a.id BETWEEN 'L' || lpad($1::text, 8, '0') AND 'L' || lpad($2::text, 8, '0') AND p.fee > 0
			 ON CONFLICT DO NOTHING`, []any{lo, hi, m.Date()}},
			{`INSERT INTO promo_codes (code, campaign_id, account_id, status, display, registered_at)
			 SELECT 'LG' || upper(md5($4::text || g::text)), $4, 'L' || lpad(g::text, 8, '0'), 'registered', 'LG-' || g, $3
			 FROM generate_series($1::bigint, $2::bigint) g
			 WHERE g % 20 IN (4, 14, 19)
			 ON CONFLICT DO NOTHING`, []any{lo, hi, now, campID}},
		} {
			if _, err := tx.ExecContext(ctx, st.q, st.args...); err != nil {
				return sum, fmt.Errorf("loadgen: %w", err)
			}
		}
		if err := tx.Commit(); err != nil {
			return sum, err
		}
	}
	// VACUUM as well as ANALYZE: a database a month old has been through
	// autovacuum (hint bits set, visibility map written); without it the
	// first run over the new rows pays for that, and autovacuum starts on
	// them in the middle of the renewal being measured.
	if _, err := d.ExecContext(ctx, `VACUUM (ANALYZE)`); err != nil {
		return sum, err
	}
	err := d.QueryRowxContext(ctx, `SELECT
		(SELECT count(*) FROM accounts WHERE id LIKE 'L%'),
		(SELECT count(*) FROM accounts WHERE id LIKE 'L%' AND plan <> 'light'),
		(SELECT count(*) FROM promo_codes WHERE campaign_id = $1)`, campID).Scan(&sum.Accounts, &sum.Paid, &sum.Codes)
	sum.Seconds = time.Since(started).Seconds()
	return sum, err
}
