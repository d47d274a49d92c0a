package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// Taking payment for charges: every path that pays a charge (a purchase, a
// collection, a retry, the automatic retries) goes through payCharge, which
// moves the charge along billing's lifecycle and nowhere else.

// paymentKey is the provider's idempotency key for a charge's next payment
// after attempts answered tries: every path that pays a charge derives it
// from the row, so two of them racing send the same key and the provider
// takes one payment. A refused try counts, so a retry does not replay the
// refusal.
func paymentKey(chargeID int64, attempts int) string {
	if attempts == 0 {
		return fmt.Sprintf("charge-%d", chargeID)
	}
	return fmt.Sprintf("charge-%d-%d", chargeID, attempts)
}

// lockCharge takes the charge's account lock, then the charge's own (the
// lock order everywhere: the account, then its charges and codes).
func lockCharge(ctx context.Context, tx *sqlx.Tx, id int64) (Charge, error) {
	var ch Charge
	if _, err := tx.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = (SELECT account_id FROM charges WHERE id=$1) FOR UPDATE`, id); err != nil {
		return ch, err
	}
	err := tx.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM charges WHERE id=$1 FOR UPDATE`, id)
	if isNoRows(err) {
		return ch, billing.Errorf(billing.EInvalid, "找不到這筆付款記錄")
	}
	return ch, err
}

// payCharge takes payment for a pending charge and settles it:
//
//  1. Under the account's lock, a charge never yet asked of a provider is
//     checked against the account (billing.Payable): one gone stale is
//     voided and its code released, and nothing is asked. Otherwise it is
//     marked asked, so from then on only the provider's answer settles it.
//  2. The provider is asked under the charge's key, with the method the
//     charge was made with (kept even if since removed).
//  3. A refusal fails the charge (its code released; a renewal refused
//     billing.MaxAttempts times is given up); a payment pays it and settles
//     the account; no clear answer leaves it pending (EPaymentPending), to
//     be asked again under the same key.
//
// Returns the charge; EPaymentFailed if refused.
func (s *Store) payCharge(ctx context.Context, actor Actor, id int64) (Charge, error) {
	var ch Charge
	var p billing.Payment
	var ask bool
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var err error
		if ch, err = lockCharge(ctx, tx, id); err != nil {
			return err
		}
		if ch.Status != billing.StatusPending {
			return nil
		}
		if !ch.AskedAt.Valid {
			cat, a, err := chargeAccount(ctx, tx, now, ch)
			if err != nil {
				return err
			}
			if err := cat.Payable(ch.Lifecycle(), a, now); err != nil {
				if billing.ErrorCode(err) != billing.EChargeStale {
					return err
				}
				return voidCharge(ctx, tx, now, actor, &ch, billing.VoidStale)
			}
			if _, err := tx.ExecContext(ctx, `UPDATE charges SET asked_at=$2 WHERE id=$1`, id, now); err != nil {
				return err
			}
		}
		ask = true
		p = billing.Payment{ChargeID: ch.ID, AccountID: ch.AccountID, Amount: ch.Total, Key: paymentKey(ch.ID, ch.Attempts)}
		var pm struct {
			Kind  string `db:"kind"`
			Token string `db:"token"`
		}
		if ch.PaymentID.Valid {
			if err := tx.GetContext(ctx, &pm, `SELECT kind, token FROM payment_methods WHERE id=$1`, ch.PaymentID.Int64); err != nil {
				return err
			}
		}
		p.Kind, p.Token = billing.PaymentKind(pm.Kind), pm.Token
		return nil
	})
	if err != nil || !ask {
		return ch, err
	}

	var ref string
	var payErr error
	switch {
	case p.Kind == "":
		payErr = &billing.DeclineError{Failure: billing.FailNoPaymentMethod}
	case s.Payments == nil:
		payErr = errors.New("no payment gateway is configured")
	default:
		ref, payErr = s.Payments.Pay(ctx, p)
	}
	refused := billing.Refusal(payErr)
	if payErr != nil && refused == nil {
		// The provider did not answer, or answered something that is not a
		// refusal (a timeout, a 5xx, a configuration error): the money may
		// or may not have moved. The charge stays pending with its code
		// reserved, and the next attempt uses the same key, so the provider
		// answers with the first payment instead of taking a second one.
		ch, err := s.FindChargeByID(context.WithoutCancel(ctx), id)
		if err != nil {
			return ch, err
		}
		return ch, fmt.Errorf("charge %d: payment outcome unknown, left pending: %v: %w", id, payErr,
			billing.Errorf(billing.EPaymentPending, ""))
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var err error
		if ch, err = lockCharge(ctx, tx, id); err != nil {
			return err
		}
		if ch.Status != billing.StatusPending || paymentKey(ch.ID, ch.Attempts) != p.Key {
			return nil // settled by someone else meanwhile
		}
		if refused != nil {
			return failCharge(ctx, tx, now, actor, &ch, refused)
		}
		return s.payOff(ctx, tx, now, actor, &ch, ref)
	})
	if err == nil && ch.Status == billing.StatusFailed {
		err = billing.Errorf(billing.EPaymentFailed, "%s", ch.Reason())
	}
	return ch, err
}

// chargeAccount reads the catalog and the charge's account as the rules see
// it at now for the charge's month (its plan now, what is paid for that
// month), the account already locked by the caller.
func chargeAccount(ctx context.Context, tx *sqlx.Tx, now time.Time, ch Charge) (billing.Catalog, billing.Account, error) {
	cat, err := LoadCatalog(ctx, tx)
	if err != nil {
		return cat, billing.Account{}, err
	}
	row, err := loadAccount(ctx, tx, ch.AccountID, ch.Month(), false)
	if err != nil {
		return cat, billing.Account{}, err
	}
	return cat, row.billing(ch.Month()).Settle(now), nil
}

// payOff records a pending charge as paid by the provider (reference ref)
// and settles its account.
func (s *Store) payOff(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, ch *Charge, ref string) error {
	before := *ch
	cat, a, err := chargeAccount(ctx, tx, now, *ch)
	if err != nil {
		return err
	}
	inv, err := s.prepareInvoice(ctx, tx, now, cat, *ch)
	if err != nil {
		return err
	}
	var number sql.NullString
	if inv != nil {
		number = inv.Number
	}
	if err := moveCharge(ctx, tx, ch, billing.StatusPaid, `UPDATE charges SET status='paid', paid_at=$1, payment_ref=$2, attempts=attempts+1,
		invoice_number = $4 WHERE id=$3 RETURNING `+chargeCols, now, ref, ch.ID, number); err != nil {
		return err
	}
	if inv != nil {
		if err := s.saveInvoice(ctx, tx, now, *inv); err != nil {
			return err
		}
	}
	if err := applyPaid(ctx, tx, now, cat, []settlement{{Charge: *ch, Account: a}}); err != nil {
		return err
	}
	if ch.Code != "" {
		if err := redeemCodes(ctx, tx, now, []int64{ch.ID}); err != nil {
			return err
		}
	}
	if err := queueReceipts(ctx, tx, now, []Charge{*ch}); err != nil {
		return err
	}
	return audit(ctx, tx, now, actor, ch.AccountID, "charge.paid", before, ch)
}

// failCharge records a provider's refusal: the charge fails with its
// reason, its code goes back to the account, and an automatic retry is
// scheduled (billing.NextRetry); a renewal refused too often is given up.
func failCharge(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, ch *Charge, why *billing.DeclineError) error {
	before := *ch
	refused := ch.Lifecycle()
	refused.Attempts++
	next, ok := billing.NextRetry(refused, now)
	retryAt := sql.NullTime{Time: next, Valid: ok}
	if err := moveCharge(ctx, tx, ch, billing.StatusFailed, `UPDATE charges SET status='failed', failure=$2, failure_detail=$3, failed_at=$4, next_retry_at=$5,
		attempts=attempts+1 WHERE id=$1 RETURNING `+chargeCols, ch.ID, string(why.Failure), why.Reason, now, retryAt); err != nil {
		return err
	}
	if err := releaseCode(ctx, tx, now, *ch); err != nil {
		return err
	}
	if err := audit(ctx, tx, now, actor, ch.AccountID, "charge.failed", before, ch); err != nil {
		return err
	}
	gaveUp := billing.GiveUp(ch.Lifecycle(), now)
	if err := queueFailure(ctx, tx, now, *ch, gaveUp); err != nil {
		return err
	}
	if gaveUp {
		return giveUp(ctx, tx, now, actor, ch)
	}
	return nil
}

// moveCharge is the one way a stored charge changes status: the rule of
// the lifecycle (billing.CanMove) is asked first, from the status ch was
// read (locked) in, and then update, which sets status to to and returns
// the row's columns, is run and read back into ch. PostgreSQL's trigger
// (migration 007) is the second lock; TestLifecycleLocksAgree holds the
// two to the same moves.
func moveCharge(ctx context.Context, tx *sqlx.Tx, ch *Charge, to billing.ChargeStatus, update string, args ...any) error {
	if !billing.CanMove(ch.Status, to) {
		return fmt.Errorf("charge %d: %s → %s is no move of the charge lifecycle", ch.ID, ch.Status, to)
	}
	return tx.GetContext(ctx, ch, update, args...)
}

// voidCharge voids a pending or failed charge that is no longer owed and
// releases its code.
func voidCharge(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, ch *Charge, why billing.VoidReason) error {
	before := *ch
	if err := moveCharge(ctx, tx, ch, billing.StatusVoid, `UPDATE charges SET status='void', failure=$2, next_retry_at=NULL WHERE id=$1 RETURNING `+chargeCols,
		ch.ID, string(why)); err != nil {
		return err
	}
	if err := releaseCode(ctx, tx, now, *ch); err != nil {
		return err
	}
	return audit(ctx, tx, now, actor, ch.AccountID, "charge.voided", before, ch)
}

// giveUp ends a failed renewal that will not be paid (billing.GiveUp): the
// charge is voided and the account moves to the free plan at once, its
// scheduled change dropped. The admin may upgrade again, paying the full
// fee for the month.
func giveUp(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, ch *Charge) error {
	if err := voidCharge(ctx, tx, now, actor, ch, billing.VoidGivenUp); err != nil {
		return err
	}
	cat, err := LoadCatalog(ctx, tx)
	if err != nil {
		return err
	}
	free := cat.Unpaid().ID
	var was string
	if err := tx.GetContext(ctx, &was, `SELECT plan FROM accounts WHERE id=$1`, ch.AccountID); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE accounts SET plan=$2, scheduled_plan=NULL, scheduled_for=NULL WHERE id=$1`, ch.AccountID, string(free)); err != nil {
		return err
	}
	return audit(ctx, tx, now, actor, ch.AccountID, "plan.dropped_unpaid", map[string]any{"plan": was},
		map[string]any{"plan": free, "charge": ch.ID, "month": ch.Month().String()})
}

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
