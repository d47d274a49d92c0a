package db

import (
	"context"
	"database/sql"
	"fmt"
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
// A batch id counts once per account (another account may use the same
// id for its own batch): the same id with the same content returns the
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
			ON CONFLICT (account_id, batch_id) DO NOTHING`,
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
			// A free kind raced a copy of itself (one account's billable
			// batches are serialised above).
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

// replayedBatch reads b's account's recorded batch with b's id into rec
// (batch ids are unique per account, not across accounts). It reports
// whether one exists, and EUsageBatchConflict if its content differs.
func replayedBatch(ctx context.Context, tx *sqlx.Tx, b UsageBatch, rec *UsageRecord) (bool, error) {
	var prev UsageRecord
	err := tx.GetContext(ctx, &prev, `SELECT `+usageBatchCols+` FROM usage_batches WHERE account_id=$1 AND batch_id=$2`, b.AccountID, b.BatchID)
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
