package db

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// Refunds: staff give back all or part of a paid charge through the
// provider that took it. Like a payment, a refund is written pending first
// (under the charge's lock, so refunds never add up to more than it paid),
// then asked of the provider outside any transaction, then settled: a
// refusal fails it, a refund succeeds it and cancels or allows against the
// charge's invoice (einvoice_refunds.go), no answer leaves it pending to be
// asked again under the same key (CollectRefunds).
//
// Decided (README, "E-invoices and refunds"): a refund changes neither the plan nor a
// redeemed code, and a refunded renewal still counts as its month's
// charge. The charge stays paid; its refunds are their own records.

// Refund is a refunds row.
type Refund struct {
	ID            int64                `db:"id" json:"id"`
	ChargeID      int64                `db:"charge_id" json:"charge_id"`
	AccountID     string               `db:"account_id" json:"account_id"`
	Amount        billing.Money        `db:"amount" json:"amount"`
	Reason        string               `db:"reason" json:"reason"`
	Status        billing.RefundStatus `db:"status" json:"status"`
	Key           string               `db:"idempotency_key" json:"key"`
	RequestedBy   string               `db:"requested_by" json:"requested_by"`
	PaymentKind   billing.PaymentKind  `db:"payment_kind" json:"payment_kind"`
	Attempts      int                  `db:"attempts" json:"attempts"`
	ProviderRef   string               `db:"provider_ref" json:"provider_ref,omitempty"`
	Failure       string               `db:"failure" json:"failure,omitempty"`
	FailureDetail string               `db:"failure_detail" json:"failure_detail,omitempty"`
	CreatedAt     time.Time            `db:"created_at" json:"created_at"`
	AskedAt       *time.Time           `db:"asked_at" json:"asked_at,omitempty"`
	SettledAt     *time.Time           `db:"settled_at" json:"settled_at,omitempty"`
}

const refundCols = `id, charge_id, account_id, amount, reason, status, idempotency_key, requested_by, payment_kind, attempts,
	provider_ref, failure, failure_detail, created_at, asked_at, settled_at`

// RefundRequest asks for a refund of a paid charge. Amount 0 refunds all
// that is left. Key identifies the request: the same request again (a
// double-click, a rerun command) answers with the first refund.
type RefundRequest struct {
	ChargeID int64
	Amount   billing.Money
	Reason   string
	Key      string
}

// refundKey is the provider's key for a refund.
func refundKey(id int64) string { return fmt.Sprintf("refund-%d", id) }

// Refund refunds a paid charge (RefundRequest) and returns the refund as
// it stands: succeeded, failed (with the provider's reason, and
// EPaymentFailed), or pending when the provider did not answer
// (EPaymentPending: it is asked again by CollectRefunds).
func (s *Store) Refund(ctx context.Context, actor Actor, req RefundRequest) (Refund, error) {
	reason, err := billing.RefundReason(req.Reason)
	if err != nil {
		return Refund{}, err
	}
	if req.Key == "" {
		return Refund{}, billing.Errorf(billing.EInvalid, "退款缺少識別碼。")
	}
	var r Refund
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		ch, err := lockCharge(ctx, tx, req.ChargeID)
		if err != nil {
			return err
		}
		// The same request again is answered with its refund.
		err = tx.GetContext(ctx, &r, `SELECT `+refundCols+` FROM refunds WHERE idempotency_key=$1`, req.Key)
		if err == nil {
			if r.ChargeID != req.ChargeID || (req.Amount != 0 && r.Amount != req.Amount) || r.Reason != reason {
				return billing.Errorf(billing.EKeyReused, "此退款識別碼已用於另一筆退款,本次未退款。")
			}
			return nil
		} else if !isNoRows(err) {
			return err
		}
		if ch.Status != billing.StatusPaid {
			return billing.Errorf(billing.EInvalid, "只有已付款的款項可以退款。")
		}
		var held struct {
			Refunded billing.Money `db:"refunded"`
			Pending  bool          `db:"pending"`
			Waiting  bool          `db:"waiting"`
		}
		if err := tx.GetContext(ctx, &held, `SELECT
			coalesce((SELECT sum(amount) FROM refunds WHERE charge_id=$1 AND status <> 'failed'), 0) AS refunded,
			EXISTS (SELECT 1 FROM refunds WHERE charge_id=$1 AND status='pending') AS pending,
			EXISTS (SELECT 1 FROM einvoices WHERE charge_id=$1 AND status='waiting') AS waiting`, ch.ID); err != nil {
			return err
		}
		if held.Pending {
			return billing.Errorf(billing.EConflict, "這筆付款已有一筆退款處理中,完成後才能再退款。")
		}
		if held.Waiting {
			return billing.Errorf(billing.EInvalid, "這筆付款的電子發票尚待配號,請先匯入發票號碼再退款。")
		}
		amount, err := billing.RefundAmount(ch.Total, held.Refunded, req.Amount)
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, `INSERT INTO refunds (charge_id, account_id, amount, reason, status, idempotency_key, requested_by, payment_kind, created_at)
			VALUES ($1, $2, $3, $4, 'pending', $5, $6, $7, $8) RETURNING `+refundCols,
			ch.ID, ch.AccountID, amount, reason, req.Key, string(actor), ch.PaymentKind, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, ch.AccountID, "refund.requested", nil, r)
	})
	if err != nil {
		return r, err
	}
	if r.Status != billing.RefundPending {
		return r, refundErr(r)
	}
	return s.askRefund(ctx, actor, r.ID)
}

// refundErr is the error a settled or pending refund answers with.
func refundErr(r Refund) error {
	switch r.Status {
	case billing.RefundFailed:
		return billing.Errorf(billing.EPaymentFailed, "退款失敗:%s", r.FailureDetail)
	case billing.RefundPending:
		return billing.Errorf(billing.EPaymentPending, "退款已送出,付款服務尚未回覆;系統會再次查詢並更新結果。")
	}
	return nil
}

// askRefund asks the provider for a pending refund and settles what it
// answers.
func (s *Store) askRefund(ctx context.Context, actor Actor, id int64) (Refund, error) {
	var r Refund
	var rp billing.RefundPayment
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		// The lock order everywhere: the account, its charge, then the
		// refund (writing a refund also bumps its account's overview
		// version, migration 020, so taking the refund's row first could
		// deadlock with a refund settling).
		var chargeID int64
		if err := tx.GetContext(ctx, &chargeID, `SELECT charge_id FROM refunds WHERE id=$1`, id); err != nil {
			return err
		}
		if _, err := lockCharge(ctx, tx, chargeID); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, `UPDATE refunds SET attempts = attempts + 1, asked_at = coalesce(asked_at, $2)
			WHERE id=$1 AND status='pending' RETURNING `+refundCols, id, now); err != nil {
			if isNoRows(err) {
				return tx.GetContext(ctx, &r, `SELECT `+refundCols+` FROM refunds WHERE id=$1`, id)
			}
			return err
		}
		rp = billing.RefundPayment{RefundID: r.ID, ChargeID: r.ChargeID, AccountID: r.AccountID, Kind: r.PaymentKind,
			Amount: r.Amount, Key: refundKey(r.ID), Retry: r.Attempts > 1}
		if err := tx.GetContext(ctx, &rp.PaymentRef, `SELECT payment_ref FROM charges WHERE id=$1`, r.ChargeID); err != nil {
			return err
		}
		var known []string
		if err := tx.SelectContext(ctx, &known, `SELECT provider_ref FROM refunds WHERE charge_id=$1 AND status='succeeded'`, r.ChargeID); err != nil {
			return err
		}
		rp.Known = known
		return nil
	})
	if err != nil || r.Status != billing.RefundPending {
		return r, errors.Join(err, refundErr(r))
	}
	var ref string
	var askErr error
	if rf, ok := s.Payments.(billing.Refunder); ok {
		ref, askErr = rf.Refund(context.WithoutCancel(ctx), rp)
	} else {
		askErr = errors.New("the payment gateway cannot refund")
	}
	refused := billing.Refusal(askErr)
	if askErr != nil && refused == nil {
		return r, fmt.Errorf("refund %d: outcome unknown, left pending: %v: %w", r.ID, askErr, refundErr(r))
	}
	err = s.inTx(context.WithoutCancel(ctx), func(tx *sqlx.Tx, now time.Time) error {
		if _, err := lockCharge(ctx, tx, r.ChargeID); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &r, `SELECT `+refundCols+` FROM refunds WHERE id=$1 FOR UPDATE`, id); err != nil {
			return err
		}
		if r.Status != billing.RefundPending {
			return nil // settled by another collector meanwhile
		}
		before := r
		if refused != nil {
			failure := billing.RefundDeclined
			if refused.Failure == billing.RefundAlreadyRefunded {
				failure = billing.RefundAlreadyRefunded
			}
			if err := tx.GetContext(ctx, &r, `UPDATE refunds SET status='failed', failure=$2, failure_detail=$3, settled_at=$4
				WHERE id=$1 RETURNING `+refundCols, id, string(failure), refused.Reason, now); err != nil {
				return err
			}
			return audit(ctx, tx, now, actor, r.AccountID, "refund.failed", before, r)
		}
		if err := tx.GetContext(ctx, &r, `UPDATE refunds SET status='succeeded', provider_ref=$2, settled_at=$3
			WHERE id=$1 RETURNING `+refundCols, id, ref, now); err != nil {
			return err
		}
		if err := s.refundInvoice(ctx, tx, now, r); err != nil {
			return err
		}
		if err := queueMail(ctx, tx, now, MailRefund, []string{r.AccountID}, []string{"refund:" + itoa(r.ID)},
			[]MailParams{{ChargeID: r.ChargeID, RefundID: r.ID, Total: int64(r.Amount)}}); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, r.AccountID, "refund.succeeded", before, r)
	})
	if err != nil {
		return r, err
	}
	return r, refundErr(r)
}

// CollectRefunds asks the provider again for every refund still pending
// that was first asked before before (or never asked): the answer was
// lost, or the process died between asking and settling.
func (s *Store) CollectRefunds(ctx context.Context, actor Actor, before time.Time) (CollectSummary, error) {
	var ids []int64
	if err := s.DB.SelectContext(ctx, &ids, `SELECT id FROM refunds WHERE status='pending' AND (asked_at IS NULL OR asked_at < $1) ORDER BY id`, before); err != nil {
		return CollectSummary{}, err
	}
	var sum CollectSummary
	for _, id := range ids {
		sum.Attempted++
		r, err := s.askRefund(ctx, actor, id)
		switch {
		case r.Status == billing.RefundSucceeded:
			sum.Paid++
		case r.Status == billing.RefundFailed:
			sum.Failed++
		case err != nil && billing.ErrorCode(err) != billing.EPaymentPending:
			return sum, err
		default:
			sum.Unknown++
		}
	}
	return sum, nil
}

// RefundsOf lists the refunds of the given charges, oldest first.
func (s *Store) RefundsOf(ctx context.Context, chargeIDs ...int64) ([]Refund, error) {
	var rs []Refund
	err := s.DB.SelectContext(ctx, &rs, `SELECT `+refundCols+` FROM refunds WHERE charge_id = ANY($1) ORDER BY id`, pq.Int64Array(chargeIDs))
	return rs, err
}
