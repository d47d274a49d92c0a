package db

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// Collecting: passes that pay the charges left pending or failed (Collect,
// the automatic retries, stale purchases), giving up what has ended, and a
// staff or admin retry of one charge; each charge goes through payCharge.

// CollectSummary is what a collection pass did.
type CollectSummary struct {
	Attempted int64 `json:"attempted"`
	Paid      int64 `json:"paid"`
	Failed    int64 `json:"failed"`
	Void      int64 `json:"void"` // gone stale before they were asked of a provider
	// Unknown are payments the provider did not answer clearly: left
	// pending, tried again with the same key by the next collection.
	Unknown int64 `json:"unknown"`
}

func (c *CollectSummary) add(o CollectSummary) {
	c.Attempted += o.Attempted
	c.Paid += o.Paid
	c.Failed += o.Failed
	c.Void += o.Void
	c.Unknown += o.Unknown
}

// Collect takes payment for pending charges (renewals, usage charges, and
// purchases whose settlement was interrupted), up to limit of them (0:
// all), with a few payments in flight at once.
func (s *Store) Collect(ctx context.Context, actor Actor, limit int) (CollectSummary, error) {
	return s.collectWhere(ctx, actor, `c.status = 'pending'`, nil, limit)
}

// CollectStalePurchases takes payment for purchases still pending from
// before `before`: their provider gave no clear answer (or the process
// stopped) while the person waited. Asked again under the same key, the
// provider answers with the first payment if there was one.
func (s *Store) CollectStalePurchases(ctx context.Context, actor Actor, before time.Time) (CollectSummary, error) {
	return s.collectWhere(ctx, actor, `c.status = 'pending' AND c.kind = 'upgrade' AND c.created_at < $1`, []any{before}, 0)
}

// RetryDue retries the failed charges whose automatic retry is due at now
// (billing.NextRetry), and gives up the failed renewals of months that have
// ended (billing.GiveUp). The server runs it every few minutes.
func (s *Store) RetryDue(ctx context.Context, actor Actor) (CollectSummary, error) {
	now := s.Clock.Now()
	if err := s.giveUpEnded(ctx, actor, billing.MonthOf(now)); err != nil {
		return CollectSummary{}, err
	}
	return s.collectWhere(ctx, actor, `c.status = 'failed' AND c.next_retry_at <= $1`, []any{now}, 0)
}

// giveUpEnded gives up the failed renewals of the months before m, which
// have ended unpaid (billing.GiveUp): the automatic retries and a renewal
// run both start with it.
func (s *Store) giveUpEnded(ctx context.Context, actor Actor, m billing.Month) error {
	var ended []int64
	if err := s.DB.SelectContext(ctx, &ended, `SELECT id FROM charges WHERE status='failed' AND kind='renewal' AND month < $1 ORDER BY id`, m.Date()); err != nil {
		return err
	}
	for _, id := range ended {
		if err := s.GiveUpCharge(ctx, actor, id); err != nil {
			return err
		}
	}
	return nil
}

// GiveUpCharge gives up a failed renewal whose month has ended or whose
// attempts are spent (billing.GiveUp); other charges are left alone.
func (s *Store) GiveUpCharge(ctx context.Context, actor Actor, id int64) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		ch, err := lockCharge(ctx, tx, id)
		if err != nil || !billing.GiveUp(ch.Lifecycle(), now) {
			return err
		}
		return giveUp(ctx, tx, now, actor, &ch)
	})
}

// collectWhere pays the charges matching cond (SQL over c, the charge, with
// args): pending ones through payCharge, failed ones (due retries) through
// RetryCharge.
func (s *Store) collectWhere(ctx context.Context, actor Actor, cond string, args []any, limit int) (CollectSummary, error) {
	var sum CollectSummary
	var pend []struct {
		ID     int64                `db:"id"`
		Status billing.ChargeStatus `db:"status"`
	}
	q := `SELECT c.id, c.status FROM charges c WHERE ` + cond + ` ORDER BY c.id`
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
				var ch Charge
				var err error
				if pend[i].Status == billing.StatusFailed {
					ch, err = s.RetryCharge(ctx, actor, pend[i].ID)
				} else {
					ch, err = s.payCharge(ctx, actor, pend[i].ID)
				}
				mu.Lock()
				sum.Attempted++
				switch {
				case ch.Status == billing.StatusPaid:
					sum.Paid++
				case ch.Status == billing.StatusFailed:
					sum.Failed++
				case ch.Status == billing.StatusVoid:
					sum.Void++
				case billing.ErrorCode(err) == billing.EPaymentPending:
					sum.Unknown++
				case billing.ErrorCode(err) != "":
					// a retry refused for a reason of its own (nothing owed)
				case err != nil && firstErr == nil:
					firstErr = err
				}
				mu.Unlock()
			}
		}()
	}
	for i := range pend {
		select {
		case work <- i:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
	}
	close(work)
	wg.Wait()
	if firstErr == nil {
		firstErr = ctx.Err()
	}
	return sum, firstErr
}

// RetryCharge pays a failed charge of what the account owes (a renewal or
// additional messages; billing.Owed) again. It keeps its effective instant and
// is quoted again at that instant against the account as it is now (its
// plan, what is paid for the month, a code registered since, its main
// payment method), then paid like any other (payCharge) under a new key.
// Returns ENothingToRetry, and voids the charge, when nothing is owed any
// more; EPaymentPending while another payment of the account is in flight;
// EMonthNotCurrent (the renewal given up) once the charge's month has
// ended; EPaymentFailed if refused again.
func (s *Store) RetryCharge(ctx context.Context, actor Actor, id int64) (Charge, error) {
	var ch Charge
	var refusedErr error
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var err error
		if ch, err = lockCharge(ctx, tx, id); err != nil {
			return err
		}
		if !ch.Lifecycle().Retryable() {
			return billing.Errorf(billing.ENothingToRetry, "")
		}
		if err := refuseIfPending(ctx, tx, ch.AccountID); err != nil {
			return err
		}
		if billing.GiveUp(ch.Lifecycle(), now) {
			refusedErr = billing.Errorf(billing.EMonthNotCurrent, "%s 已結束,此筆續約已取消,方案已改為免費方案", ch.Month())
			return giveUp(ctx, tx, now, actor, &ch)
		}
		cat, in, row, err := quoteIn(ctx, tx, ch.EffectiveAt, ch.AccountID, ch.Kind, ch.Plan, false)
		if err != nil {
			return err
		}
		// Like an upgrade, a retry with no payment method is refused before
		// anything changes: no attempt is counted (SCENARIOS.md, retry).
		noMethod := func(total billing.Money) bool { return total > 0 && !row.PaymentID.Valid }
		if ch.Kind == billing.KindUsage {
			if noMethod(ch.Total) {
				refusedErr = billing.Errorf(billing.ENoPaymentMethod, "")
				return nil
			}
			// Messages already sent: the amount stands, under the account's
			// main method now.
			return s.requeue(ctx, tx, now, actor, &ch, nil, row)
		}
		q, err := cat.Quote(in)
		if err == nil && !q.Chargeable() {
			refusedErr = billing.Errorf(billing.ENothingToRetry, "")
			return voidCharge(ctx, tx, now, actor, &ch, billing.VoidNothingOwed)
		}
		if err != nil {
			return err
		}
		if noMethod(q.Total) {
			refusedErr = billing.Errorf(billing.ENoPaymentMethod, "")
			return nil
		}
		return s.requeue(ctx, tx, now, actor, &ch, &q, row)
	})
	if err != nil {
		return ch, err
	}
	if refusedErr != nil {
		return ch, refusedErr
	}
	if ch.Status != billing.StatusPending {
		return ch, nil
	}
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	return s.payCharge(pctx, actor, id)
}

// requeue moves a failed charge back to pending for a new attempt, with the
// lines of q when given (a plan-fee charge quoted again) and the account's
// main payment method now; a total of 0 is paid at once.
func (s *Store) requeue(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, ch *Charge, q *billing.Quote, row accountRow) error {
	before := *ch
	lines := billing.Quote{FromPlan: ch.FromPlan, Plan: ch.Plan, Amount: ch.Amount, Net: ch.Net, Tax: ch.Tax, Total: ch.Total}
	if q != nil {
		lines = *q
	}
	var code *string
	if lines.Code != "" {
		code = &lines.Code
	}
	if err := moveCharge(ctx, tx, ch, billing.StatusPending, `UPDATE charges SET status='pending', failure='', failure_detail='', next_retry_at=NULL, asked_at=NULL,
		from_plan=nullif($2, ''), plan=nullif($3, ''), amount=$4, offset_amount=$5, forfeited=$6, net=$7, tax=$8, total=$9, code=$10,
		payment_method_id=$11, payment_kind=$12
		WHERE id=$1 RETURNING `+chargeCols, ch.ID, string(lines.FromPlan), string(lines.Plan), int64(lines.Amount), int64(lines.Offset),
		int64(lines.Forfeited), int64(lines.Net), int64(lines.Tax), int64(lines.Total), code, row.PaymentID, row.PaymentKind); err != nil {
		return err
	}
	if code != nil {
		res, err := tx.ExecContext(ctx, `UPDATE promo_codes SET status='reserved', charge_id=$1 WHERE code=$2 AND account_id=$3 AND status='registered'`,
			ch.ID, *code, ch.AccountID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return billing.Errorf(billing.EQuoteChanged, "")
		}
		if err := codeEvents(ctx, tx, now, "reserved", []int64{ch.ID}); err != nil {
			return err
		}
	}
	if err := audit(ctx, tx, now, actor, ch.AccountID, "charge.retry", before, ch); err != nil {
		return err
	}
	if billing.InitialStatus(ch.Total) == billing.StatusPaid {
		return s.payOff(ctx, tx, now, actor, ch, "")
	}
	return nil
}
