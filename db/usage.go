package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// Message usage: recording batches against the month's quota, the daily
// refresh of the counts admins see, the additional-message tiers, the usage
// charges billed after each month, and the API tokens the messaging side
// records usage with.

const pgForeignKeyViolation = "23503"

// usageClockSkew is how far in the future a batch's SentAt may be (the
// messaging side's clock against ours) before it is refused.
const usageClockSkew = 5 * time.Minute

// UsageBatch is a report of messages sent; see billing.UsageBatch.
type UsageBatch = billing.UsageBatch

// UsageRecord is a recorded batch and what it counted: billable messages
// split into free (within the month's quota) and additional (beyond it,
// billed after the month), decided at record time.
type UsageRecord struct {
	BatchID    string              `db:"batch_id" json:"batch_id"`
	AccountID  string              `db:"account_id" json:"account_id"`
	Kind       billing.MessageKind `db:"kind" json:"kind"`
	Messages   int                 `db:"messages" json:"messages"`
	SentAt     time.Time           `db:"sent_at" json:"sent_at"`
	MonthDate  time.Time           `db:"month" json:"-"`
	Month      string              `db:"-" json:"month"` // YYYY-MM, the JST billing month of SentAt
	Billable   bool                `db:"billable" json:"billable"`
	Plan       billing.PlanID      `db:"plan" json:"plan,omitempty"` // the plan whose quota applied; "" for free kinds
	Free       int                 `db:"free" json:"free"`
	Additional int                 `db:"additional" json:"additional"`
	RecordedAt time.Time           `db:"recorded_at" json:"recorded_at"`
	// Replayed is true when the batch id had already been recorded with the
	// same content: this is the first recording, and nothing more counted.
	Replayed bool `db:"-" json:"replayed"`
}

const usageBatchCols = `batch_id, account_id, kind, messages, sent_at, month, billable, coalesce(plan, '') AS plan, free, additional, recorded_at`

func (r *UsageRecord) sameContent(b UsageBatch) bool {
	return r.AccountID == b.AccountID && r.Kind == b.Kind && r.Messages == b.Messages && r.SentAt.Equal(b.SentAt)
}

// RecordUsage records a batch of messages sent, in one transaction.
//
// A billable batch (broadcast, push, progressive) takes its account's row
// lock, so concurrent batches of one account serialise, then reads the
// month's running total and the plan the account was on when the batch was
// sent: the plan paid for that month (account_months, which an upgrade
// updates at once) or else the account's plan settled at SentAt (a
// scheduled downgrade counts from its month). Messages up to that plan's
// quota are free, the rest additional; on a plan without additional
// messages a batch that would go over the quota is refused whole with
// billing.EQuotaExceeded and nothing is recorded. Free kinds are recorded
// with zero counts and take no lock.
//
// A batch id counts once: the same id with the same content returns the
// first recording with Replayed set; with different content it is refused
// with billing.EUsageBatchConflict. Other refusals: EInvalid (bad fields, or
// SentAt more than a few minutes in the future), EUnknownAccount.
//
// Batches for a month whose usage charge has been made are still recorded
// and counted; their additional messages show as usage_totals.additional
// above billed_additional and are not charged (run BillUsage after the
// month's last batches, i.e. after the 02:00 JST refresh on the 1st).
func (s *Store) RecordUsage(ctx context.Context, actor Actor, b UsageBatch) (UsageRecord, error) {
	if err := b.Validate(); err != nil {
		return UsageRecord{}, err
	}
	var rec UsageRecord
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		if b.SentAt.After(now.Add(usageClockSkew)) {
			return billing.Errorf(billing.EInvalid, "傳送時間 %s 晚於現在", b.SentAt.Format(time.RFC3339))
		}
		// A replay needs no lock.
		if done, err := replayedBatch(ctx, tx, b, &rec); done || err != nil {
			return err
		}
		m := b.Month()
		rec = UsageRecord{BatchID: b.BatchID, AccountID: b.AccountID, Kind: b.Kind, Messages: b.Messages, SentAt: b.SentAt,
			MonthDate: m.Date(), Month: m.String(), Billable: b.Kind.Billable(), RecordedAt: now}
		if rec.Billable {
			var a struct {
				Plan          string         `db:"plan"`
				ScheduledPlan sql.NullString `db:"scheduled_plan"`
				ScheduledFor  sql.NullTime   `db:"scheduled_for"`
				MonthPlan     sql.NullString `db:"month_plan"`
				Sent          int            `db:"sent"`
			}
			// The lock is its own statement: a statement that waits for a
			// row lock still reads the other tables as of its start, so the
			// running total must be read by the next statement, after the
			// batch that held the lock has committed.
			var locked bool
			err := tx.GetContext(ctx, &locked, `SELECT true FROM accounts WHERE id=$1 FOR UPDATE`, b.AccountID)
			if isNoRows(err) {
				return billing.Errorf(billing.EUnknownAccount, "找不到帳號 %s", b.AccountID)
			} else if err != nil {
				return err
			}
			if err := tx.GetContext(ctx, &a, `
				SELECT a.plan, a.scheduled_plan, a.scheduled_for, am.plan AS month_plan,
				       coalesce(t.free + t.additional, 0) AS sent
				FROM accounts a
				LEFT JOIN account_months am ON am.account_id = a.id AND am.month = $2
				LEFT JOIN usage_totals t ON t.account_id = a.id AND t.month = $2
				WHERE a.id = $1`, b.AccountID, m.Date()); err != nil {
				return err
			}
			// Under the lock, a concurrent copy of this batch of the same
			// account has either committed (a replay) or not started.
			if done, err := replayedBatch(ctx, tx, b, &rec); done || err != nil {
				return err
			}
			acct := billing.Account{ID: b.AccountID, Plan: billing.PlanID(a.Plan)}
			if a.ScheduledPlan.Valid {
				acct.ScheduledPlan = billing.PlanID(a.ScheduledPlan.String)
				acct.ScheduledFor = billing.MonthFromDate(a.ScheduledFor.Time)
			}
			rec.Plan = acct.Settle(b.SentAt).Plan
			if a.MonthPlan.Valid {
				rec.Plan = billing.PlanID(a.MonthPlan.String)
			}
			cat, err := LoadCatalog(ctx, tx)
			if err != nil {
				return err
			}
			p, err := cat.Plan(rec.Plan)
			if err != nil {
				return err
			}
			if rec.Free, rec.Additional, err = billing.SplitUsage(p, a.Sent, b.Messages); err != nil {
				return err
			}
		}
		var plan *string
		if rec.Plan != "" {
			p := string(rec.Plan)
			plan = &p
		}
		res, err := tx.ExecContext(ctx, `INSERT INTO usage_batches (batch_id, account_id, kind, billable, plan, messages, free, additional,
			sent_at, month, recorded_at, recorded_by) VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
			ON CONFLICT (batch_id) DO NOTHING`,
			b.BatchID, b.AccountID, string(b.Kind), rec.Billable, plan, b.Messages, rec.Free, rec.Additional,
			b.SentAt, m.Date(), now, string(actor))
		switch pgCode(err) {
		case "":
		case pgForeignKeyViolation:
			return billing.Errorf(billing.EUnknownAccount, "找不到帳號 %s", b.AccountID)
		default:
			return fmt.Errorf("record usage batch %s: %w", b.BatchID, err)
		}
		if n, _ := res.RowsAffected(); n == 0 {
			// Another account's batch took the id meanwhile (one account's
			// batches are serialised above), or a free kind raced itself.
			done, err := replayedBatch(ctx, tx, b, &rec)
			if err == nil && !done {
				err = fmt.Errorf("usage batch %s vanished", b.BatchID)
			}
			return err
		}
		if !rec.Billable {
			return nil
		}
		_, err = tx.ExecContext(ctx, `INSERT INTO usage_totals (month, account_id, free, additional) VALUES ($1,$2,$3,$4)
			ON CONFLICT (month, account_id) DO UPDATE SET free = usage_totals.free + EXCLUDED.free,
				additional = usage_totals.additional + EXCLUDED.additional`,
			m.Date(), b.AccountID, rec.Free, rec.Additional)
		return err
	})
	if err != nil {
		return UsageRecord{}, err
	}
	// Instants read back from the store are UTC; a fresh record reads the same.
	rec.SentAt, rec.RecordedAt = rec.SentAt.UTC(), rec.RecordedAt.UTC()
	return rec, nil
}

// replayedBatch reads a recorded batch with b's id into rec. It reports
// whether one exists, and EUsageBatchConflict if its content differs.
func replayedBatch(ctx context.Context, tx *sqlx.Tx, b UsageBatch, rec *UsageRecord) (bool, error) {
	var prev UsageRecord
	err := tx.GetContext(ctx, &prev, `SELECT `+usageBatchCols+` FROM usage_batches WHERE batch_id=$1`, b.BatchID)
	if isNoRows(err) {
		return false, nil
	} else if err != nil {
		return false, err
	}
	if !prev.sameContent(b) {
		return true, billing.Errorf(billing.EUsageBatchConflict, "批次代號 %s 已用於另一筆不同內容的訊息記錄", b.BatchID)
	}
	prev.Month = billing.MonthFromDate(prev.MonthDate).String()
	prev.Replayed = true
	*rec = prev
	return true, nil
}

// Usage is an account's message counts for a month, as last refreshed.
type Usage struct {
	FreeSent       int       `db:"free_sent"`
	AdditionalSent int       `db:"additional_sent"`
	RefreshedAt    time.Time `db:"refreshed_at"`
}

// FindUsage returns the month's counts as of the last daily refresh; zero
// counts for an account that had sent nothing by then, and a zero
// RefreshedAt when no refresh has run for the month.
func (s *Store) FindUsage(ctx context.Context, accountID string, m billing.Month) (Usage, error) {
	var row struct {
		FreeSent       int          `db:"free_sent"`
		AdditionalSent int          `db:"additional_sent"`
		RefreshedAt    sql.NullTime `db:"refreshed_at"`
	}
	err := s.DB.GetContext(ctx, &row, `
		SELECT coalesce(s.free_sent, 0) AS free_sent, coalesce(s.additional_sent, 0) AS additional_sent,
		       greatest(s.refreshed_at, r.refreshed_at) AS refreshed_at
		FROM (SELECT $1::text AS account_id, $2::date AS month) k
		LEFT JOIN usage_snapshots s ON s.account_id = k.account_id AND s.month = k.month
		LEFT JOIN usage_refreshes r ON r.month = k.month`, accountID, m.Date())
	if err != nil {
		return Usage{}, err
	}
	return Usage{FreeSent: row.FreeSent, AdditionalSent: row.AdditionalSent, RefreshedAt: row.RefreshedAt.Time}, nil
}

// UsageRefreshSummary is what a refresh did.
type UsageRefreshSummary struct {
	Months     []string  `json:"months"`
	Accounts   int64     `json:"accounts"` // account-months written
	Refreshed  time.Time `json:"refreshed_at"`
	Seconds    float64   `json:"seconds"`
	SkippedOld int64     `json:"skipped_older"` // snapshots already newer than at, left alone
}

// RefreshUsage recomputes the counts admins see (usage_snapshots) from the
// recorded batches, for the billing month containing at and, when at is on
// a month's first day (JST), the previous month too, so the last day's late
// messages land. It counts messages sent before at and records
// refreshed_at = at. It is meant to run once a day around 02:00 JST; it is
// set-based (one INSERT ... SELECT ... GROUP BY) and safe to repeat; a
// snapshot newer than at is never overwritten by an older refresh.
func (s *Store) RefreshUsage(ctx context.Context, at time.Time) (UsageRefreshSummary, error) {
	started := time.Now()
	m := billing.MonthOf(at)
	months := []billing.Month{m}
	if at.In(billing.JST).Day() == 1 {
		months = append(months, m.Prev())
	}
	sum := UsageRefreshSummary{Refreshed: at}
	dates := make([]string, len(months))
	for i, mm := range months {
		sum.Months = append(sum.Months, mm.String())
		dates[i] = mm.Date().Format("2006-01-02")
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx, _ time.Time) error {
		var c struct {
			Written int64 `db:"written"`
			Groups  int64 `db:"groups"`
		}
		if err := tx.GetContext(ctx, &c, `
			WITH agg AS (
				SELECT account_id, month, sum(free) AS free, sum(additional) AS additional
				FROM usage_batches
				WHERE month = ANY($1::date[]) AND sent_at < $2
				GROUP BY account_id, month),
			up AS (
				INSERT INTO usage_snapshots (account_id, month, free_sent, additional_sent, refreshed_at)
				SELECT account_id, month, free, additional, $2 FROM agg
				ON CONFLICT (account_id, month) DO UPDATE SET free_sent = EXCLUDED.free_sent,
					additional_sent = EXCLUDED.additional_sent, refreshed_at = EXCLUDED.refreshed_at
				WHERE usage_snapshots.refreshed_at <= EXCLUDED.refreshed_at
				RETURNING 1)
			SELECT (SELECT count(*) FROM up) AS written, (SELECT count(*) FROM agg) AS groups`,
			pq.StringArray(dates), at); err != nil {
			return fmt.Errorf("refresh usage snapshots: %w", err)
		}
		sum.Accounts, sum.SkippedOld = c.Written, c.Groups-c.Written
		_, err := tx.ExecContext(ctx, `INSERT INTO usage_refreshes (month, refreshed_at) SELECT d, $2 FROM unnest($1::date[]) AS d
			ON CONFLICT (month) DO UPDATE SET refreshed_at = greatest(usage_refreshes.refreshed_at, EXCLUDED.refreshed_at)`,
			pq.StringArray(dates), at)
		return err
	})
	sum.Seconds = time.Since(started).Seconds()
	return sum, err
}

// UsageTiers reads the additional-message price tiers in force, by start.
func (s *Store) UsageTiers(ctx context.Context) ([]billing.UsageTier, error) {
	return loadUsageTiers(ctx, s.DB)
}

func loadUsageTiers(ctx context.Context, q sqlx.QueryerContext) ([]billing.UsageTier, error) {
	var rows []struct {
		From  int   `db:"from_message"`
		Price int64 `db:"price_milli"`
	}
	if err := sqlx.SelectContext(ctx, q, &rows, `SELECT from_message, price_milli FROM usage_tiers ORDER BY from_message`); err != nil {
		return nil, err
	}
	tiers := make([]billing.UsageTier, len(rows))
	for i, r := range rows {
		tiers[i] = billing.UsageTier{From: r.From, PriceMilli: r.Price}
	}
	return tiers, nil
}

// SetUsageTiers replaces the additional-message price tiers (staff). The
// new table applies to every usage charge made from then on, including the
// month in progress; charges already made keep their amounts. Returns
// EInvalid (billing.ValidateUsageTiers) for a bad table. Audited.
func (s *Store) SetUsageTiers(ctx context.Context, actor Actor, tiers []billing.UsageTier) error {
	if err := billing.ValidateUsageTiers(tiers); err != nil {
		return err
	}
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		// Two editors take turns; a usage run reading the tiers sees the old
		// table or the new one, never a mix.
		if _, err := tx.ExecContext(ctx, `LOCK TABLE usage_tiers IN SHARE ROW EXCLUSIVE MODE`); err != nil {
			return err
		}
		before, err := loadUsageTiers(ctx, tx)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM usage_tiers`); err != nil {
			return err
		}
		from := make([]int64, len(tiers))
		price := make([]int64, len(tiers))
		for i, t := range tiers {
			from[i], price[i] = int64(t.From), t.PriceMilli
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO usage_tiers (from_message, price_milli) SELECT * FROM unnest($1::integer[], $2::bigint[])`,
			pq.Int64Array(from), pq.Int64Array(price)); err != nil {
			return fmt.Errorf("set usage tiers: %w", err)
		}
		return audit(ctx, tx, now, actor, "", "usage_tiers.set", before, tiers)
	})
}

// UsageBillSummary is what a usage billing run did.
type UsageBillSummary struct {
	Month       string  `json:"month"`
	Accounts    int64   `json:"accounts"`     // accounts with unbilled additional messages examined
	Charges     int64   `json:"charges"`      // usage charges created in this run
	Pending     int64   `json:"pending"`      // of which await collection
	Paid        int64   `json:"paid"`         // of which came to NT$0 (settled at once)
	Messages    int64   `json:"messages"`     // additional messages billed
	Amount      int64   `json:"amount"`       // pre-tax
	Tax         int64   `json:"tax"`          // business tax
	Total       int64   `json:"total"`        // to collect
	AlreadyDone bool    `json:"already_done"` // nothing new: the month had been billed
	Seconds     float64 `json:"seconds"`
}

// BillUsage makes the usage charges of month m in batches of 10,000
// accounts; see BillUsageInBatches.
func (s *Store) BillUsage(ctx context.Context, actor Actor, m billing.Month) (UsageBillSummary, error) {
	return s.BillUsageInBatches(ctx, actor, m, 10000)
}

// BillUsageInBatches makes one usage charge (kind usage) per account with
// additional messages in month m: amount = billing.UsageAmount under the
// tiers in force, no promo offset ever (a registered code is neither spent
// nor reserved), 5% tax; status pending for Collect, or paid at once when
// it comes to NT$0. It must run after the month has ended (EInvalid
// before); it is safe to run twice or from two processes at once (one usage
// charge per account-month, enforced by a unique index), and resumable (each
// batch commits). Each batch locks its accounts in id order, so a late
// batch of usage either lands before the charge (and is billed) or after
// it (and shows as unbilled in usage_totals).
func (s *Store) BillUsageInBatches(ctx context.Context, actor Actor, m billing.Month, size int) (UsageBillSummary, error) {
	started := time.Now()
	sum := UsageBillSummary{Month: m.String()}
	if size <= 0 {
		size = 10000
	}
	now := s.Clock.Now()
	if now.Before(m.End()) {
		return sum, billing.Errorf(billing.EInvalid, "%s 尚未結束,月底後才能計算加購訊息費用", m)
	}
	tiers, err := s.UsageTiers(ctx)
	if err != nil {
		return sum, err
	}
	if err := billing.ValidateUsageTiers(tiers); err != nil {
		return sum, fmt.Errorf("usage tiers in the database: %w", err)
	}
	last := ""
	for {
		n, next, err := s.billUsageBatch(ctx, actor, m, tiers, last, size, &sum)
		if err != nil {
			return sum, err
		}
		if n == 0 {
			break
		}
		last = next
	}
	if sum.Charges == 0 {
		if err := s.DB.GetContext(ctx, &sum.AlreadyDone, `SELECT EXISTS (SELECT 1 FROM charges WHERE kind='usage' AND month=$1)`, m.Date()); err != nil {
			return sum, err
		}
	}
	sum.Seconds = time.Since(started).Seconds()
	return sum, nil
}

// billUsageBatch bills up to size accounts after id last; it returns how
// many candidate accounts it saw and the last id.
func (s *Store) billUsageBatch(ctx context.Context, actor Actor, m billing.Month, tiers []billing.UsageTier,
	last string, size int, sum *UsageBillSummary) (int, string, error) {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return 0, "", err
	}
	defer tx.Rollback()
	now := s.Clock.Now()
	var ids []string
	if err := tx.SelectContext(ctx, &ids, `SELECT account_id FROM usage_totals
		WHERE month = $1 AND account_id > $2 AND additional > 0 AND charge_id IS NULL
		ORDER BY account_id LIMIT $3`, m.Date(), last, size); err != nil {
		return 0, "", err
	}
	if len(ids) == 0 {
		return 0, "", tx.Commit()
	}
	// Lock order everywhere: accounts (in id order for a set), then their
	// charges. The totals are read after the locks, in a fresh snapshot, so
	// a batch recorded meanwhile is included and a concurrent run's charges
	// are seen.
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = ANY($1) ORDER BY id FOR UPDATE`, pq.StringArray(ids)); err != nil {
		return 0, "", err
	}
	var rows []struct {
		AccountID   string         `db:"account_id"`
		Additional  int            `db:"additional"`
		PaymentID   sql.NullInt64  `db:"payment_id"`
		PaymentKind sql.NullString `db:"payment_kind"`
	}
	if err := tx.SelectContext(ctx, &rows, `
		SELECT t.account_id, t.additional, pm.id AS payment_id, pm.kind AS payment_kind
		FROM usage_totals t
		LEFT JOIN payment_methods pm ON pm.account_id = t.account_id AND pm.is_main AND pm.removed_at IS NULL
		WHERE t.month = $1 AND t.account_id = ANY($2) AND t.additional > 0 AND t.charge_id IS NULL
		ORDER BY t.account_id`, m.Date(), pq.StringArray(ids)); err != nil {
		return 0, "", err
	}
	sum.Accounts += int64(len(rows))
	if len(rows) > 0 {
		var (
			acct, status, payKind    []string
			payID                    []sql.NullInt64
			msgs, amount, tax, total []int64
		)
		for _, r := range rows {
			q, err := billing.QuoteUsage(tiers, m, r.Additional)
			if err != nil {
				return 0, "", err
			}
			st := "pending"
			if q.Total == 0 {
				st = "paid"
			}
			acct = append(acct, r.AccountID)
			status = append(status, st)
			payKind = append(payKind, r.PaymentKind.String)
			payID = append(payID, r.PaymentID)
			msgs = append(msgs, int64(q.Additional))
			amount = append(amount, int64(q.Amount))
			tax = append(tax, int64(q.Tax))
			total = append(total, int64(q.Total))
		}
		var ins []struct {
			ID        int64  `db:"id"`
			AccountID string `db:"account_id"`
			Status    string `db:"status"`
			Amount    int64  `db:"amount"`
			Tax       int64  `db:"tax"`
			Total     int64  `db:"total"`
			Messages  int64  `db:"messages"`
		}
		// from_plan and plan stay NULL: a usage charge buys no plan.
		err := tx.SelectContext(ctx, &ins, `
			WITH u AS (
				SELECT * FROM unnest($4::text[], $5::bigint[], $6::bigint[], $7::bigint[], $8::bigint[], $9::text[], $10::bigint[], $11::text[])
					AS u(acct, msgs, amount, tax, total, status, pay_id, pay_kind)),
			c AS (
				INSERT INTO charges (account_id, kind, month, effective_at, from_plan, plan, amount, offset_amount, forfeited,
					net, tax, total, code, status, payment_method_id, payment_kind, created_at, paid_at, attempts)
				SELECT u.acct, 'usage', $1, $2, NULL, NULL, u.amount, 0, 0, u.amount, u.tax, u.total, NULL, u.status,
					u.pay_id, nullif(u.pay_kind, ''), $3, CASE WHEN u.status = 'paid' THEN $3::timestamptz END, 0
				FROM u
				ON CONFLICT (account_id, month) WHERE kind = 'usage' DO NOTHING
				RETURNING id, account_id, status, amount, tax, total)
			SELECT c.id, c.account_id, c.status, c.amount, c.tax, c.total, u.msgs AS messages FROM c JOIN u ON u.acct = c.account_id`,
			m.Date(), m.End(), now,
			pq.StringArray(acct), pq.Int64Array(msgs), pq.Int64Array(amount), pq.Int64Array(tax), pq.Int64Array(total),
			pq.StringArray(status), nullInts(payID), pq.StringArray(payKind))
		if err != nil {
			return 0, "", fmt.Errorf("insert usage charges: %w", err)
		}
		if len(ins) > 0 {
			var cid, cmsgs []int64
			var cacct []string
			for _, c := range ins {
				sum.Charges++
				if c.Status == "paid" {
					sum.Paid++
				} else {
					sum.Pending++
				}
				sum.Messages += c.Messages
				sum.Amount += c.Amount
				sum.Tax += c.Tax
				sum.Total += c.Total
				cid, cacct, cmsgs = append(cid, c.ID), append(cacct, c.AccountID), append(cmsgs, c.Messages)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE usage_totals t SET billed_additional = u.msgs, charge_id = u.cid
				FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(acct, cid, msgs)
				WHERE t.month = $1 AND t.account_id = u.acct`,
				m.Date(), pq.StringArray(cacct), pq.Int64Array(cid), pq.Int64Array(cmsgs)); err != nil {
				return 0, "", err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, account_id, kind, after)
				SELECT $1, $2, c.account_id, 'charge.created',
					jsonb_build_object('id', c.id, 'kind', 'usage', 'month', $3::text, 'additional_messages', u.msgs,
						'amount', c.amount, 'tax', c.tax, 'total', c.total, 'status', c.status)
				FROM charges c JOIN unnest($4::bigint[], $5::bigint[]) AS u(cid, msgs) ON c.id = u.cid`,
				now, string(actor), m.String(), pq.Int64Array(cid), pq.Int64Array(cmsgs)); err != nil {
				return 0, "", err
			}
		}
	}
	return len(ids), ids[len(ids)-1], tx.Commit()
}

// apiTokenPrefix marks the webstore's usage API tokens, so a leaked one is
// recognisable (and scannable) as such.
const apiTokenPrefix = "wsu_"

// CreateAPIToken issues an API token for an account (for POST /api/usage)
// and returns it; only its SHA-256 is stored, so it is shown once. Returns
// EUnknownAccount. Audited (without the token).
func (s *Store) CreateAPIToken(ctx context.Context, actor Actor, accountID, label string) (string, error) {
	tok := apiTokenPrefix + NewToken()
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO api_tokens (token_hash, account_id, label, created_at) VALUES ($1,$2,$3,$4)`,
			hashToken(tok), accountID, label, now)
		if pgCode(err) == pgForeignKeyViolation {
			return billing.Errorf(billing.EUnknownAccount, "找不到帳號 %s", accountID)
		} else if err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, "api_token.created", nil,
			map[string]any{"label": label, "token_id": tokenID(tok)})
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// FindAPIToken returns the account a live token belongs to; EForbidden for
// an unknown or revoked token.
func (s *Store) FindAPIToken(ctx context.Context, token string) (string, error) {
	var accountID string
	err := s.DB.GetContext(ctx, &accountID, `SELECT account_id FROM api_tokens WHERE token_hash=$1 AND revoked_at IS NULL`, hashToken(token))
	if isNoRows(err) {
		return "", billing.Errorf(billing.EForbidden, "API 權杖無效或已撤銷")
	}
	return accountID, err
}

// RevokeAPIToken revokes a token; revoking it again is a no-op. EForbidden
// for an unknown token. Audited.
func (s *Store) RevokeAPIToken(ctx context.Context, actor Actor, token string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var row struct {
			AccountID string       `db:"account_id"`
			Label     string       `db:"label"`
			RevokedAt sql.NullTime `db:"revoked_at"`
		}
		err := tx.GetContext(ctx, &row, `SELECT account_id, label, revoked_at FROM api_tokens WHERE token_hash=$1 FOR UPDATE`, hashToken(token))
		if isNoRows(err) {
			return billing.Errorf(billing.EForbidden, "API 權杖無效")
		} else if err != nil || row.RevokedAt.Valid {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE api_tokens SET revoked_at=$1 WHERE token_hash=$2`, now, hashToken(token)); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, row.AccountID, "api_token.revoked", nil, map[string]any{"label": row.Label, "token_id": tokenID(token)})
	})
}

// tokenID names a token in the audit trail without revealing it: the first
// 8 bytes of its hash, in hex.
func tokenID(tok string) string { return hex.EncodeToString(hashToken(tok)[:8]) }

// UsageBenchOptions sizes BenchUsage.
type UsageBenchOptions struct {
	Events   int       // messages to record in all
	Batch    int       // messages per batch (one row, one transaction)
	Workers  int       // concurrent recorders, each on its own high account
	At       time.Time // the instant the batches are sent and recorded at
	Accounts int       // accounts to spread the batches over (default Workers)
}

// UsageBenchSummary is BenchUsage's measurement.
type UsageBenchSummary struct {
	Events        int64   `json:"events"`
	Batches       int64   `json:"batches"`
	BatchSize     int     `json:"batch"`
	Workers       int     `json:"workers"`
	Accounts      int     `json:"accounts"`
	Seconds       float64 `json:"seconds"`
	EventsPerSec  float64 `json:"events_per_second"`
	BatchesPerSec float64 `json:"batches_per_second"`
}

// BenchUsage measures RecordUsage: it records opt.Events messages in batches
// of opt.Batch on high accounts, with opt.Workers concurrent recorders,
// against a throwaway schema of the database at databaseURL (dropped
// afterwards, so nothing outlives the run), and reports events (messages)
// per second.
func BenchUsage(ctx context.Context, databaseURL string, opt UsageBenchOptions) (UsageBenchSummary, error) {
	if opt.Batch <= 0 || opt.Events <= 0 || opt.Batch > billing.MaxBatchMessages {
		return UsageBenchSummary{}, billing.Errorf(billing.EInvalid, "events and batch must be positive (batch at most %d)", billing.MaxBatchMessages)
	}
	opt.Workers = max(opt.Workers, 1)
	if opt.Accounts <= 0 {
		opt.Accounts = opt.Workers
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "usagebench_" + hex.EncodeToString(b[:])
	admin, err := Open(ctx, databaseURL)
	if err != nil {
		return UsageBenchSummary{}, err
	}
	defer admin.Close()
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		return UsageBenchSummary{}, err
	}
	defer admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`)
	scoped, err := withSearchPath(databaseURL, schema)
	if err != nil {
		return UsageBenchSummary{}, err
	}
	d, err := Open(ctx, scoped)
	if err != nil {
		return UsageBenchSummary{}, err
	}
	defer d.Close()
	if _, err := Migrate(ctx, d); err != nil {
		return UsageBenchSummary{}, err
	}
	s := New(d, billing.ClockFunc(func() time.Time { return opt.At }), nil)
	for i := range opt.Accounts {
		if err := s.CreateAccount(ctx, "bench", NewAccount{ID: fmt.Sprintf("bench%04d", i), Region: "TW", Plan: billing.High}); err != nil {
			return UsageBenchSummary{}, err
		}
	}
	return s.benchRecord(ctx, opt)
}

// benchRecord records the batches and times them.
func (s *Store) benchRecord(ctx context.Context, opt UsageBenchOptions) (UsageBenchSummary, error) {
	batches := (opt.Events + opt.Batch - 1) / opt.Batch
	sum := UsageBenchSummary{BatchSize: opt.Batch, Workers: opt.Workers, Accounts: opt.Accounts}
	var next, done, events atomic.Int64
	var firstErr error
	var once sync.Once
	started := time.Now()
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1) - 1
				if i >= int64(batches) {
					return
				}
				n := min(opt.Batch, opt.Events-int(i)*opt.Batch)
				_, err := s.RecordUsage(ctx, "bench", UsageBatch{BatchID: fmt.Sprintf("bench-%d", i),
					AccountID: fmt.Sprintf("bench%04d", int(i)%opt.Accounts), Kind: billing.MsgPush, Messages: n, SentAt: opt.At})
				if err != nil {
					once.Do(func() { firstErr = err })
					return
				}
				events.Add(int64(n))
				done.Add(1)
			}
		}()
	}
	wg.Wait()
	sum.Seconds = time.Since(started).Seconds()
	sum.Events = events.Load()
	sum.Batches = done.Load()
	if sum.Seconds > 0 {
		sum.EventsPerSec = float64(sum.Events) / sum.Seconds
		sum.BatchesPerSec = float64(sum.Batches) / sum.Seconds
	}
	return sum, firstErr
}
