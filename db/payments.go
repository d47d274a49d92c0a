package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
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
