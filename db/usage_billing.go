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

// Additional-message price tiers and the usage charges billed after each
// month.

// UsageTiers returns the additional-message price tiers in force, by
// start (cached; see Reference).
func (s *Store) UsageTiers(ctx context.Context) ([]billing.UsageTier, error) {
	r, err := s.reference(ctx)
	if err != nil {
		return nil, err
	}
	return r.Tiers, nil
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
	cat, err := LoadCatalog(ctx, tx)
	if err != nil {
		return 0, "", err
	}
	ncs := make([]newCharge, 0, len(rows))
	msgs := make(map[string]int64, len(rows))
	for _, r := range rows {
		q, err := billing.QuoteUsage(tiers, m, r.Additional)
		if err != nil {
			return 0, "", err
		}
		msgs[r.AccountID] = int64(q.Additional)
		ncs = append(ncs, newCharge{Quote: billing.Quote{AccountID: r.AccountID, Kind: billing.KindUsage, Month: m, EffectiveAt: m.End(),
			Amount: q.Amount, Net: q.Amount, Tax: q.Tax, Total: q.Total},
			Row: accountRow{ID: r.AccountID, PaymentID: r.PaymentID, PaymentKind: r.PaymentKind}})
	}
	// from_plan and plan stay NULL: a usage charge buys no plan.
	written, err := writeCharges(ctx, tx, now, cat, ncs)
	if err != nil {
		return 0, "", fmt.Errorf("usage charges: %w", err)
	}
	if len(written) > 0 {
		var cid, cmsgs []int64
		var cacct []string
		for _, c := range written {
			sum.Charges++
			if c.Status == billing.StatusPaid {
				sum.Paid++
			} else {
				sum.Pending++
			}
			sum.Messages += msgs[c.AccountID]
			sum.Amount += int64(c.Amount)
			sum.Tax += int64(c.Tax)
			sum.Total += int64(c.Total)
			cid, cacct, cmsgs = append(cid, c.ID), append(cacct, c.AccountID), append(cmsgs, msgs[c.AccountID])
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
	return len(ids), ids[len(ids)-1], tx.Commit()
}
