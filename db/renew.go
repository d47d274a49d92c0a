package db

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// RenewSummary is what a renewal run did.
type RenewSummary struct {
	Month         string  `json:"month"`
	Accounts      int64   `json:"accounts"`       // accounts examined in this run
	PlanChanges   int64   `json:"plan_changes"`   // scheduled changes that took effect
	Charges       int64   `json:"charges"`        // renewal charges created in this run
	Paid          int64   `json:"paid"`           // of which settled at once (nothing to pay)
	Pending       int64   `json:"pending"`        // of which await collection
	Amount        int64   `json:"amount"`         // pre-tax plan amounts
	Offset        int64   `json:"offset"`         // promo offsets
	Tax           int64   `json:"tax"`            // business tax
	Total         int64   `json:"total"`          // totals to collect
	CodesRedeemed int64   `json:"codes_redeemed"` // codes applied (reserved until paid)
	Seconds       float64 `json:"seconds"`
	AlreadyDone   bool    `json:"already_done"` // the month had been renewed before: nothing new
}

// RenewOptions tunes a renewal run.
type RenewOptions struct {
	BatchSize int
	// NoWait makes a run return EConflict instead of waiting when another
	// run of the same month holds the lock.
	NoWait bool
	// Progress, if set, is called after each batch with accounts done.
	Progress func(done int64)
}

func monthLockKey(m billing.Month) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "renewal:%s", m)
	return int64(h.Sum64() >> 1)
}

// Renew runs the renewal of the billing month containing at for every
// account, in batches: each batch reads its accounts in one query, asks
// billing.Quote for each, and writes charges, plan changes and code
// reservations in a few set-based statements in one transaction. It is safe
// to run twice (a month's renewal charge is unique per account) and from two
// processes at once (they take turns on an advisory lock), and resumable
// after a crash (committed batches stay; the rest are done by the next run).
// Charges with something to pay are left pending for Collect.
func (s *Store) Renew(ctx context.Context, actor Actor, at time.Time, opt RenewOptions) (RenewSummary, error) {
	started := time.Now()
	m := billing.MonthOf(at)
	sum := RenewSummary{Month: m.String()}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 10000
	}
	conn, err := s.DB.Connx(ctx)
	if err != nil {
		return sum, err
	}
	defer conn.Close()
	key := monthLockKey(m)
	if opt.NoWait {
		var ok bool
		if err := conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock($1)`, key); err != nil {
			return sum, err
		}
		if !ok {
			return sum, billing.Errorf(billing.EConflict, "%s 的續約正在執行中", m)
		}
	} else if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, key); err != nil {
		return sum, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, key)

	now := s.Clock.Now()
	var prevStatus sql.NullString
	if err := conn.GetContext(ctx, &prevStatus, `SELECT status FROM renewal_runs WHERE month=$1`, m.Date()); err != nil && !isNoRows(err) {
		return sum, err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO renewal_runs (month, status, started_at, started_by) VALUES ($1,'running',$2,$3)
		ON CONFLICT (month) DO UPDATE SET status='running'`, m.Date(), now, string(actor)); err != nil {
		return sum, err
	}
	cat, err := LoadCatalog(ctx, conn)
	if err != nil {
		return sum, err
	}
	camps := map[string]billing.Campaign{}
	var crs []campaignRow
	if err := conn.SelectContext(ctx, &crs, `SELECT `+campaignCols+` FROM campaigns`); err != nil {
		return sum, err
	}
	for _, r := range crs {
		camps[r.ID] = r.billing()
	}

	last := ""
	for {
		n, next, err := s.renewBatch(ctx, actor, now, m, cat, camps, last, opt.BatchSize, &sum)
		if err != nil {
			return sum, err
		}
		if n == 0 {
			break
		}
		last = next
		if opt.Progress != nil {
			opt.Progress(sum.Accounts)
		}
	}
	if _, err := conn.ExecContext(ctx, `UPDATE renewal_runs r SET status='done', finished_at=$2,
		accounts = (SELECT count(*) FROM accounts),
		charges = c.n, total = c.total, codes = c.codes
		FROM (SELECT count(*) AS n, coalesce(sum(total),0) AS total, count(code) AS codes FROM charges WHERE kind='renewal' AND month=$1) c
		WHERE r.month=$1`, m.Date(), s.Clock.Now()); err != nil {
		return sum, err
	}
	sum.AlreadyDone = prevStatus.String == "done" && sum.Charges == 0 && sum.PlanChanges == 0
	sum.Seconds = time.Since(started).Seconds()
	return sum, nil
}

type renewRow struct {
	accountRow
	Code         sql.NullString `db:"code"`
	CampaignID   sql.NullString `db:"campaign_id"`
	RegisteredAt sql.NullTime   `db:"registered_at"`
}

// renewBatch renews up to size accounts after id last. It returns how many
// accounts it examined and the last id.
func (s *Store) renewBatch(ctx context.Context, actor Actor, now time.Time, m billing.Month, cat billing.Catalog,
	camps map[string]billing.Campaign, last string, size int, sum *RenewSummary) (int, string, error) {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return 0, "", err
	}
	defer tx.Rollback()
	var rows []renewRow
	// Only accounts that can owe something or change plan are read: a paid
	// plan, or a scheduled change. Their rows are locked so a purchase racing
	// the run waits for it. Every joined table is bounded by "> last" too,
	// so a merge join starts at this batch instead of rescanning from the
	// first account (which made a run quadratic), and the month's paid fee
	// is a per-account key lookup: a join there trusted statistics that the
	// run itself makes stale (the month's rows grow as charges settle).
	err = tx.SelectContext(ctx, &rows, `
		SELECT a.id, a.name, a.region, a.plan, a.scheduled_plan, a.scheduled_for,
		       pm.id AS payment_id, pm.kind AS payment_kind, pm.token AS payment_token,
		       coalesce((SELECT am.fee_paid FROM account_months am WHERE am.account_id = a.id AND am.month = $2::date), 0) AS paid_fee,
		       pc.code, pc.campaign_id, pc.registered_at
		FROM accounts a
		LEFT JOIN payment_methods pm ON pm.account_id = a.id AND pm.is_main AND pm.removed_at IS NULL AND pm.account_id > $1
		LEFT JOIN promo_codes pc ON pc.account_id = a.id AND pc.status = 'registered' AND pc.account_id > $1
		WHERE a.id > $1 AND (a.plan <> 'light' OR a.scheduled_plan IS NOT NULL)
		  AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.account_id = a.id AND c.kind = 'renewal' AND c.month = $2::date AND c.account_id > $1)
		ORDER BY a.id
		LIMIT $3
		FOR UPDATE OF a`, last, m.Date(), size)
	if err != nil {
		return 0, "", err
	}
	if len(rows) == 0 {
		return 0, "", tx.Commit()
	}
	var (
		chAcct, chFrom, chPlan, chStatus, chPayKind []string
		chCode                                      []sql.NullString
		chPayID                                     []sql.NullInt64
		chAmount, chOffset, chForf, chNet, chTax    []int64
		chTotal                                     []int64
		planAcct, planTo                            []string
	)
	start := m.Start()
	for _, r := range rows {
		a := r.billing(m)
		settled := a.Settle(start)
		if settled.Plan != a.Plan || a.ScheduledPlan != "" && !m.Before(a.ScheduledFor) {
			planAcct = append(planAcct, a.ID)
			planTo = append(planTo, string(settled.Plan))
		}
		in := billing.QuoteInput{Kind: billing.KindRenewal, Account: a, At: start}
		if r.Code.Valid {
			in.Code = &billing.PromoCode{Code: r.Code.String, CampaignID: r.CampaignID.String, AccountID: a.ID,
				Status: billing.CodeRegistered, RegisteredAt: r.RegisteredAt.Time}
			in.Campaign = camps[r.CampaignID.String]
		}
		q, err := cat.Quote(in)
		if err != nil {
			return 0, "", fmt.Errorf("account %s: %w", a.ID, err)
		}
		if !q.Chargeable() {
			continue
		}
		status := "pending"
		if q.Total == 0 {
			status = "paid"
		}
		chAcct = append(chAcct, a.ID)
		chFrom = append(chFrom, string(q.FromPlan))
		chPlan = append(chPlan, string(q.Plan))
		chStatus = append(chStatus, status)
		chPayKind = append(chPayKind, r.PaymentKind.String)
		chPayID = append(chPayID, r.PaymentID)
		chCode = append(chCode, sql.NullString{String: q.Code, Valid: q.Code != ""})
		chAmount = append(chAmount, int64(q.Amount))
		chOffset = append(chOffset, int64(q.Offset))
		chForf = append(chForf, int64(q.Forfeited))
		chNet = append(chNet, int64(q.Net))
		chTax = append(chTax, int64(q.Tax))
		chTotal = append(chTotal, int64(q.Total))
	}

	if len(planAcct) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts a SET plan = u.plan, scheduled_plan = NULL, scheduled_for = NULL
			FROM unnest($1::text[], $2::text[]) AS u(id, plan) WHERE a.id = u.id`, pq.StringArray(planAcct), pq.StringArray(planTo)); err != nil {
			return 0, "", err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, account_id, kind, after)
			SELECT $1, $2, id, 'plan.scheduled_change_applied', jsonb_build_object('plan', plan, 'month', $3::text)
			FROM unnest($4::text[], $5::text[]) AS u(id, plan)`, now, string(actor), m.String(), pq.StringArray(planAcct), pq.StringArray(planTo)); err != nil {
			return 0, "", err
		}
	}
	if len(chAcct) > 0 {
		var ins []struct {
			ID        int64          `db:"id"`
			AccountID string         `db:"account_id"`
			Code      sql.NullString `db:"code"`
			Status    string         `db:"status"`
			Plan      string         `db:"plan"`
			Amount    int64          `db:"amount"`
			Offset    int64          `db:"offset_amount"`
			Forfeited int64          `db:"forfeited"`
			Tax       int64          `db:"tax"`
			Total     int64          `db:"total"`
		}
		err := tx.SelectContext(ctx, &ins, `
			INSERT INTO charges (account_id, kind, month, effective_at, from_plan, plan, amount, offset_amount, forfeited,
				net, tax, total, code, status, payment_method_id, payment_kind, created_at, paid_at, attempts)
			SELECT u.acct, 'renewal', $1, $2, u.from_plan, u.plan, u.amount, u.off, u.forf, u.net, u.tax, u.total,
				u.code, u.status, u.pay_id, nullif(u.pay_kind, ''), $3, CASE WHEN u.status = 'paid' THEN $3::timestamptz END, 0
			FROM unnest($4::text[], $5::text[], $6::text[], $7::bigint[], $8::bigint[], $9::bigint[], $10::bigint[], $11::bigint[],
				$12::bigint[], $13::text[], $14::text[], $15::bigint[], $16::text[])
				AS u(acct, from_plan, plan, amount, off, forf, net, tax, total, code, status, pay_id, pay_kind)
			ON CONFLICT (account_id, month) WHERE kind = 'renewal' DO NOTHING
			RETURNING id, account_id, code, status, plan, amount, offset_amount, forfeited, tax, total`,
			m.Date(), start, now,
			pq.StringArray(chAcct), pq.StringArray(chFrom), pq.StringArray(chPlan), pq.Int64Array(chAmount), pq.Int64Array(chOffset),
			pq.Int64Array(chForf), pq.Int64Array(chNet), pq.Int64Array(chTax), pq.Int64Array(chTotal), nullStrings(chCode),
			pq.StringArray(chStatus), nullInts(chPayID), pq.StringArray(chPayKind))
		if err != nil {
			return 0, "", fmt.Errorf("insert renewal charges: %w", err)
		}
		var paidAcct, paidPlan, codeRes, codeRed []string
		var paidAmt []int64
		var resID, redID []int64
		for _, c := range ins {
			sum.Charges++
			sum.Amount += c.Amount
			sum.Offset += c.Offset
			sum.Tax += c.Tax
			sum.Total += c.Total
			if c.Status == "paid" {
				sum.Paid++
				paidAcct = append(paidAcct, c.AccountID)
				paidPlan = append(paidPlan, c.Plan)
				paidAmt = append(paidAmt, c.Amount)
			} else {
				sum.Pending++
			}
			if c.Code.Valid {
				sum.CodesRedeemed++
				if c.Status == "paid" {
					codeRed, redID = append(codeRed, c.Code.String), append(redID, c.ID)
				} else {
					codeRes, resID = append(codeRes, c.Code.String), append(resID, c.ID)
				}
			}
		}
		if len(paidAcct) > 0 {
			if _, err := tx.ExecContext(ctx, `INSERT INTO account_months (account_id, month, plan, fee_paid)
				SELECT u.id, $1, u.plan, u.amt FROM unnest($2::text[], $3::text[], $4::bigint[]) AS u(id, plan, amt)
				ON CONFLICT (account_id, month) DO UPDATE SET plan = EXCLUDED.plan, fee_paid = account_months.fee_paid + EXCLUDED.fee_paid`,
				m.Date(), pq.StringArray(paidAcct), pq.StringArray(paidPlan), pq.Int64Array(paidAmt)); err != nil {
				return 0, "", err
			}
		}
		for _, step := range []struct {
			codes  []string
			ids    []int64
			status string
		}{{codeRes, resID, "reserved"}, {codeRed, redID, "redeemed"}} {
			if len(step.codes) == 0 {
				continue
			}
			// Only codes still registered: one reserved or redeemed by a
			// purchase that committed while this batch waited for its
			// accounts makes the batch roll back, and the next run quotes
			// those accounts afresh.
			res, err := tx.ExecContext(ctx, `UPDATE promo_codes p SET status = $1, charge_id = u.cid,
				redeemed_at = CASE WHEN $1 = 'redeemed' THEN $2::timestamptz END
				FROM unnest($3::text[], $4::bigint[]) AS u(code, cid) WHERE p.code = u.code AND p.status = 'registered'`,
				step.status, now, pq.StringArray(step.codes), pq.Int64Array(step.ids))
			if err != nil {
				return 0, "", err
			}
			if n, _ := res.RowsAffected(); n != int64(len(step.codes)) {
				return 0, "", billing.Errorf(billing.EConflict, "%d 組優惠活動代碼在續約期間已被使用,請重新執行續約", int64(len(step.codes))-n)
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO code_events (code, account_id, kind, charge_id, offset_amount, forfeited, at)
				SELECT c.code, c.account_id, $1, c.id, c.offset_amount, c.forfeited, $2
				FROM charges c JOIN unnest($3::bigint[]) AS u(cid) ON c.id = u.cid`,
				step.status, now, pq.Int64Array(step.ids)); err != nil {
				return 0, "", err
			}
		}
	}
	sum.Accounts += int64(len(rows))
	sum.PlanChanges += int64(len(planAcct))
	return len(rows), rows[len(rows)-1].ID, tx.Commit()
}

func nullStrings(v []sql.NullString) any {
	out := make([]*string, len(v))
	for i := range v {
		if v[i].Valid {
			out[i] = &v[i].String
		}
	}
	return pq.Array(out)
}

func nullInts(v []sql.NullInt64) any {
	out := make([]*int64, len(v))
	for i := range v {
		if v[i].Valid {
			out[i] = &v[i].Int64
		}
	}
	return pq.Array(out)
}

// CollectSummary is what a collection pass did.
type CollectSummary struct {
	Attempted int64 `json:"attempted"`
	Paid      int64 `json:"paid"`
	Failed    int64 `json:"failed"`
	// Unknown are payments the provider did not answer clearly: left
	// pending, tried again with the same key by the next collection.
	Unknown int64 `json:"unknown"`
}

// Collect takes payment for pending charges (renewals, and purchases whose
// settlement was interrupted), up to limit of them (0: all), with a few
// payments in flight at once. A decline marks the charge failed with its
// reason and releases its code; RetryCharge tries again.
func (s *Store) Collect(ctx context.Context, actor Actor, limit int) (CollectSummary, error) {
	return s.collectWhere(ctx, actor, `TRUE`, nil, limit)
}

// CollectStalePurchases takes payment for purchases still pending from
// before `before`: their provider gave no clear answer (or the process
// stopped) while the person waited. Asked again under the same key, the
// provider answers with the first payment if there was one. The server
// runs it every few minutes.
func (s *Store) CollectStalePurchases(ctx context.Context, actor Actor, before time.Time) (CollectSummary, error) {
	return s.collectWhere(ctx, actor, `c.kind = 'upgrade' AND c.created_at < $1`, []any{before}, 0)
}

// collectWhere collects the pending charges matching cond (SQL over c, the
// charge, with args).
func (s *Store) collectWhere(ctx context.Context, actor Actor, cond string, args []any, limit int) (CollectSummary, error) {
	var sum CollectSummary
	var pend []struct {
		ID        int64          `db:"id"`
		AccountID string         `db:"account_id"`
		Total     int64          `db:"total"`
		Attempts  int            `db:"attempts"`
		Kind      sql.NullString `db:"kind"`
		Token     sql.NullString `db:"token"`
	}
	q := `SELECT c.id, c.account_id, c.total, c.attempts, pm.kind, pm.token FROM charges c
		LEFT JOIN payment_methods pm ON pm.id = c.payment_method_id AND pm.removed_at IS NULL
		WHERE c.status = 'pending' AND ` + cond + ` ORDER BY c.id`
	if limit > 0 {
		q += fmt.Sprintf(" LIMIT %d", limit)
	}
	if err := s.DB.SelectContext(ctx, &pend, q, args...); err != nil {
		return sum, err
	}
	var mu sync.Mutex
	var firstErr error
	work := make(chan int)
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				p := pend[i]
				ch, err := s.collect(ctx, actor, p.ID, Payment{ChargeID: p.ID, AccountID: p.AccountID, Kind: billing.PaymentKind(p.Kind.String),
					Token: p.Token.String, Amount: billing.Money(p.Total), Key: paymentKey(p.ID, p.Attempts)})
				mu.Lock()
				sum.Attempted++
				switch {
				case ch.Status == "paid":
					sum.Paid++
				case ch.Status == "failed":
					sum.Failed++
				case billing.ErrorCode(err) == billing.EPaymentPending:
					sum.Unknown++
				case err != nil && firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range pend {
		work <- i
	}
	close(work)
	wg.Wait()
	return sum, firstErr
}

// RetryCharge tries a failed charge's payment again, with the account's
// current main payment method. Its code is re-reserved if still held.
func (s *Store) RetryCharge(ctx context.Context, actor Actor, id int64) (Charge, error) {
	var pay Payment
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var ch Charge
		if err := tx.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM charges WHERE id=$1`, id); err != nil {
			if isNoRows(err) {
				return billing.Errorf(billing.EInvalid, "找不到這筆付款記錄")
			}
			return err
		}
		row, err := loadAccount(ctx, tx, ch.AccountID, ch.Month(), true)
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM charges WHERE id=$1 FOR UPDATE`, id); err != nil {
			return err
		}
		if ch.Status != "failed" {
			return billing.Errorf(billing.EInvalid, "只有失敗的付款可以重試")
		}
		if ch.Kind == billing.KindUpgrade {
			// An upgrade was priced against the account as it was then; the
			// admin buys again from the checkout, which quotes it afresh.
			return billing.Errorf(billing.EInvalid, "升級的付款無法重試,請管理員重新購買。")
		}
		if ch.Code != "" {
			res, err := tx.ExecContext(ctx, `UPDATE promo_codes SET status='reserved', charge_id=$1 WHERE code=$2 AND account_id=$3 AND status='registered'`, id, ch.Code, ch.AccountID)
			if err != nil {
				return err
			}
			if n, _ := res.RowsAffected(); n == 0 {
				return billing.Errorf(billing.EQuoteChanged, "此筆付款的優惠活動代碼已無法使用")
			}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE charges SET status='pending', failure='', payment_method_id=$2, payment_kind=$3 WHERE id=$1`,
			id, row.PaymentID, row.PaymentKind); err != nil {
			return err
		}
		pay = Payment{ChargeID: id, AccountID: ch.AccountID, Kind: billing.PaymentKind(row.PaymentKind.String), Token: row.PaymentToken.String,
			Amount: ch.Total, Key: paymentKey(id, ch.Attempts)}
		return audit(ctx, tx, now, actor, ch.AccountID, "charge.retry", nil, map[string]any{"id": id})
	})
	if err != nil {
		return Charge{}, err
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	return s.collect(pctx, actor, id, pay)
}

// paymentKey is the provider's idempotency key for a charge's next payment
// after attempts finished tries: every path that pays a charge (purchase,
// collection, retry) derives it from the row, so two of them racing send
// the same key and the provider takes one payment. A declined try counts,
// so a retry does not replay the decline.
func paymentKey(chargeID int64, attempts int) string {
	if attempts == 0 {
		return fmt.Sprintf("charge-%d", chargeID)
	}
	return fmt.Sprintf("charge-%d-%d", chargeID, attempts)
}
