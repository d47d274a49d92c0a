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

// Payment is one request to a payment provider.
type Payment struct {
	ChargeID  int64
	AccountID string
	Kind      billing.PaymentKind
	Token     string // the provider's token for the stored method
	Amount    billing.Money
	// Key identifies the payment to the provider; a retry with the same key
	// must not pay twice.
	Key string
}

// Gateway takes payments. Implementations talk to LINE Pay or the card
// gateway; a decline is reported as a *DeclineError.
type Gateway interface {
	Pay(ctx context.Context, p Payment) (ref string, err error)
}

// DeclineError is a payment the provider refused, with its reason in the
// user's words.
type DeclineError struct {
	Reason string
}

func (e *DeclineError) Error() string { return "declined: " + e.Reason }

// declined reports whether a payment error is a refusal of the payer's
// method (a decline, or no method to charge): the charge has failed and
// nothing was taken. Anything else leaves the outcome unknown.
func declined(err error) bool {
	var de *DeclineError
	return errors.As(err, &de) || billing.ErrorCode(err) == billing.ENoPaymentMethod
}

// Charge is a stored charge with its lines.
type Charge struct {
	ID          int64              `db:"id"`
	AccountID   string             `db:"account_id"`
	Kind        billing.ChargeKind `db:"kind"`
	MonthDate   time.Time          `db:"month"`
	EffectiveAt time.Time          `db:"effective_at"`
	FromPlan    billing.PlanID     `db:"from_plan"`
	Plan        billing.PlanID     `db:"plan"`
	Amount      billing.Money      `db:"amount"`
	Offset      billing.Money      `db:"offset_amount"`
	Forfeited   billing.Money      `db:"forfeited"`
	Net         billing.Money      `db:"net"`
	Tax         billing.Money      `db:"tax"`
	Total       billing.Money      `db:"total"`
	Code        string             `db:"code"`
	CodeDisplay string             `db:"code_display"` // the code as issued, e.g. BEAR-0611-AAAA
	Status      string             `db:"status"`
	Failure     string             `db:"failure"`
	Attempts    int                `db:"attempts"`
	PaymentID   sql.NullInt64      `db:"payment_method_id"`
	PaymentKind string             `db:"payment_kind"`
	PaymentRef  string             `db:"payment_ref"`
	Invoice     string             `db:"invoice_number"`
	CreatedAt   time.Time          `db:"created_at"`
	PaidAt      sql.NullTime       `db:"paid_at"`
}

// Month is the billing month the charge pays for.
func (c Charge) Month() billing.Month { return billing.MonthFromDate(c.MonthDate) }

const chargeCols = `id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
	amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code,
	coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS code_display, status, failure, attempts,
	payment_method_id, coalesce(payment_kind,'') AS payment_kind, payment_ref, coalesce(invoice_number,'') AS invoice_number, created_at, paid_at`

// FindChargeByID reads one charge.
func (s *Store) FindChargeByID(ctx context.Context, id int64) (Charge, error) {
	var c Charge
	err := s.DB.GetContext(ctx, &c, `SELECT `+chargeCols+` FROM charges WHERE id=$1`, id)
	if isNoRows(err) {
		return c, billing.Errorf(billing.EInvalid, "找不到這筆付款記錄")
	}
	return c, err
}

// FindCharges lists an account's charges, newest first.
func (s *Store) FindCharges(ctx context.Context, accountID string) ([]Charge, error) {
	var cs []Charge
	err := s.DB.SelectContext(ctx, &cs, `SELECT `+chargeCols+` FROM charges WHERE account_id=$1 ORDER BY created_at DESC, id DESC`, accountID)
	return cs, err
}

// quoteIn gathers what billing.Quote needs for an account at now, reading
// (and, with lock, locking) the account.
func quoteIn(ctx context.Context, tx *sqlx.Tx, now time.Time, accountID string, kind billing.ChargeKind, to billing.PlanID, lock bool) (billing.Catalog, billing.QuoteInput, accountRow, error) {
	var in billing.QuoteInput
	cat, err := LoadCatalog(ctx, tx)
	if err != nil {
		return cat, in, accountRow{}, err
	}
	m := billing.MonthOf(now)
	row, err := loadAccount(ctx, tx, accountID, m, lock)
	if err != nil {
		return cat, in, row, err
	}
	in = billing.QuoteInput{Kind: kind, Account: row.billing(m), To: to, At: now}
	in.Code, in.Campaign, err = heldCode(ctx, tx, accountID)
	if in.Code != nil && in.Code.Status != billing.CodeRegistered {
		in.Code = nil // reserved by a payment in flight
	}
	return cat, in, row, err
}

// Quote previews the charge an upgrade to plan would make now, or the next
// renewal would make at the next month start. It writes nothing.
func (s *Store) Quote(ctx context.Context, accountID string, kind billing.ChargeKind, to billing.PlanID) (billing.Quote, error) {
	at := s.Clock.Now()
	if kind == billing.KindRenewal {
		at = billing.MonthOf(at).Next().Start()
	}
	return s.QuoteAt(ctx, accountID, kind, to, at)
}

// QuoteAt previews, as of at, the charge an upgrade to plan would make, or
// the renewal of the month containing at. It writes nothing.
func (s *Store) QuoteAt(ctx context.Context, accountID string, kind billing.ChargeKind, to billing.PlanID, at time.Time) (billing.Quote, error) {
	tx, err := s.DB.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return billing.Quote{}, err
	}
	defer tx.Rollback()
	cat, in, _, err := quoteIn(ctx, tx, at, accountID, kind, to, false)
	if err != nil {
		return billing.Quote{}, err
	}
	return cat.Quote(in)
}

// UpgradeRequest is a purchase of a higher plan.
type UpgradeRequest struct {
	AccountID string
	Plan      billing.PlanID
	// Key is the checkout's idempotency key: a repeated request with the same
	// key returns the first one's charge and charges nothing more.
	Key string
	// Expect, when set, is the quote the buyer saw; if the charge would
	// differ, the purchase is refused with EQuoteChanged.
	Expect *billing.Quote
}

// Upgrade buys a higher plan now: the difference with what is paid for this
// month, offset by the account's registered code if it applies. Free charges
// settle at once; others reserve the code, ask the gateway, then settle or
// release. Returns the charge, and EPaymentFailed (with the charge) if the
// payment was declined.
func (s *Store) Upgrade(ctx context.Context, actor Actor, req UpgradeRequest) (Charge, error) {
	var ch Charge
	var replay bool
	var pay Payment
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		cat, in, row, err := quoteIn(ctx, tx, now, req.AccountID, billing.KindUpgrade, req.Plan, true)
		if err != nil {
			return err
		}
		if req.Key != "" {
			err := tx.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM charges WHERE idempotency_key=$1`, req.Key)
			if err == nil {
				if ch.AccountID != req.AccountID {
					return billing.Errorf(billing.EConflict, "")
				}
				replay = true
				return nil
			} else if !isNoRows(err) {
				return err
			}
		}
		var inFlight bool
		if err := tx.GetContext(ctx, &inFlight, `SELECT EXISTS (SELECT 1 FROM charges WHERE account_id=$1 AND kind='upgrade' AND status='pending')`, req.AccountID); err != nil {
			return err
		}
		if inFlight {
			return billing.Errorf(billing.EPaymentPending, "")
		}
		q, err := cat.Quote(in)
		if err != nil {
			return err
		}
		if e := req.Expect; e != nil && (e.Plan != q.Plan || e.Total != q.Total || e.Offset != q.Offset || e.Code != q.Code || e.FromPlan != q.FromPlan) {
			return billing.Errorf(billing.EQuoteChanged, "")
		}
		ch, err = insertCharge(ctx, tx, now, q, row, req.Key)
		if err != nil {
			return err
		}
		if ch.Total == 0 {
			return settle(ctx, tx, now, actor, &ch, "", nil)
		}
		pay = Payment{ChargeID: ch.ID, AccountID: ch.AccountID, Kind: billing.PaymentKind(row.PaymentKind.String),
			Token: row.PaymentToken.String, Amount: ch.Total, Key: paymentKey(ch.ID, ch.Attempts)}
		return audit(ctx, tx, now, actor, ch.AccountID, "charge.created", nil, ch)
	})
	if err != nil || replay || ch.Status != "pending" {
		if err == nil && ch.Status == "failed" {
			err = billing.Errorf(billing.EPaymentFailed, "%s", ch.Failure)
		}
		return ch, err
	}
	// The charge is on record: take the payment and settle it even if the
	// person's request goes away meanwhile (a double-click aborts the first
	// request), so no charge is left pending by a closed tab.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	return s.collect(pctx, actor, ch.ID, pay)
}

// settleTimeout bounds a payment and its settlement once a charge exists.
const settleTimeout = 2 * time.Minute

// insertCharge writes a charge from a quote, reserving its code.
func insertCharge(ctx context.Context, tx *sqlx.Tx, now time.Time, q billing.Quote, row accountRow, key string) (Charge, error) {
	var ch Charge
	var code, idem *string
	if q.Code != "" {
		code = &q.Code
	}
	if key != "" {
		idem = &key
	}
	status := "pending"
	if q.Total == 0 {
		status = "paid"
	}
	var paidAt *time.Time
	if status == "paid" {
		paidAt = &now
	}
	err := tx.GetContext(ctx, &ch, `INSERT INTO charges (account_id, kind, month, effective_at, from_plan, plan, amount, offset_amount,
		forfeited, net, tax, total, code, status, payment_method_id, payment_kind, idempotency_key, created_at, paid_at)
		VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12,$13,$14,$15,$16,$17,$18,$19) RETURNING `+chargeCols,
		q.AccountID, string(q.Kind), q.Month.Date(), q.EffectiveAt, string(q.FromPlan), string(q.Plan), int64(q.Amount), int64(q.Offset),
		int64(q.Forfeited), int64(q.Net), int64(q.Tax), int64(q.Total), code, status, row.PaymentID, row.PaymentKind, idem, now, paidAt)
	if err != nil {
		return ch, err
	}
	if code != nil {
		res, err := tx.ExecContext(ctx, `UPDATE promo_codes SET status='reserved', charge_id=$1 WHERE code=$2 AND account_id=$3 AND status='registered'`,
			ch.ID, q.Code, q.AccountID)
		if err != nil {
			return ch, err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			// The code expired or was taken since it was quoted.
			return ch, billing.Errorf(billing.EQuoteChanged, "")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO code_events (code, account_id, kind, charge_id, offset_amount, forfeited, at) VALUES ($1,$2,'reserved',$3,$4,$5,$6)`,
			q.Code, q.AccountID, ch.ID, int64(q.Offset), int64(q.Forfeited), now); err != nil {
			return ch, err
		}
	}
	return ch, nil
}

// collect asks the gateway for a pending charge's payment and settles it.
func (s *Store) collect(ctx context.Context, actor Actor, chargeID int64, p Payment) (Charge, error) {
	var ref string
	var payErr error
	if p.Token == "" && p.Kind == "" {
		payErr = billing.Errorf(billing.ENoPaymentMethod, "")
	} else if s.Payments == nil {
		payErr = errors.New("no payment gateway is configured")
	} else {
		ref, payErr = s.Payments.Pay(ctx, p)
	}
	var ch Charge
	if payErr != nil && !declined(payErr) {
		// The provider did not answer, or answered something that is not a
		// decline (a timeout, a 5xx, a configuration error): the money may
		// or may not have moved. The charge stays pending with its code
		// reserved, and the next attempt uses the same key, so the provider
		// answers with the first payment instead of taking a second one.
		ch, err := s.FindChargeByID(ctx, chargeID)
		if err != nil {
			return ch, err
		}
		return ch, fmt.Errorf("charge %d: payment outcome unknown, left pending: %v: %w", chargeID, payErr,
			billing.Errorf(billing.EPaymentPending, ""))
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		// Lock order everywhere: the account, then its charges and codes.
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM accounts WHERE id = (SELECT account_id FROM charges WHERE id=$1) FOR UPDATE`, chargeID); err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM charges WHERE id=$1 FOR UPDATE`, chargeID); err != nil {
			return err
		}
		if ch.Status != "pending" {
			return nil // settled by someone else meanwhile
		}
		return settle(ctx, tx, now, actor, &ch, ref, payErr)
	})
	if err == nil && ch.Status == "failed" {
		err = billing.Errorf(billing.EPaymentFailed, "%s", ch.Failure)
	}
	return ch, err
}

// settle records a charge's payment outcome. Paid: the account moves to the
// charge's plan, the month is paid up, the code is redeemed, and an e-invoice
// number is assigned. Failed: the reason is kept and the code is released.
func settle(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, ch *Charge, ref string, payErr error) error {
	before := *ch
	if payErr != nil {
		reason := payErr.Error()
		var de *DeclineError
		if errors.As(payErr, &de) {
			reason = de.Reason
		} else if c := billing.ErrorCode(payErr); c != "" {
			reason = billing.CodeMessage(c, "zh-TW")
		}
		if err := tx.GetContext(ctx, ch, `UPDATE charges SET status='failed', failure=$1, attempts=attempts+1 WHERE id=$2 RETURNING `+chargeCols, reason, ch.ID); err != nil {
			return err
		}
		if ch.Code != "" {
			if _, err := tx.ExecContext(ctx, `UPDATE promo_codes SET status='registered', charge_id=NULL WHERE code=$1 AND status='reserved'`, ch.Code); err != nil {
				return err
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO code_events (code, account_id, kind, charge_id, at) VALUES ($1,$2,'released',$3,$4)`, ch.Code, ch.AccountID, ch.ID, now); err != nil {
				return err
			}
			// A released code stays on the charge row as what was quoted; the
			// ledger says it was not spent.
		}
		return audit(ctx, tx, now, actor, ch.AccountID, "charge.failed", before, ch)
	}
	if err := tx.GetContext(ctx, ch, `UPDATE charges SET status='paid', paid_at=$1, payment_ref=$2, attempts=attempts+1,
		invoice_number = CASE WHEN total > 0 THEN 'WS' || lpad(nextval('invoice_seq')::text, 8, '0') END
		WHERE id=$3 RETURNING `+chargeCols, now, ref, ch.ID); err != nil {
		return err
	}
	// A usage charge pays for messages already sent: it changes neither the
	// plan nor what was paid for the month.
	if ch.Kind != billing.KindUsage {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET plan=$1,
			scheduled_plan = CASE WHEN $3 = 'upgrade' OR scheduled_for <= $4 THEN NULL ELSE scheduled_plan END,
			scheduled_for  = CASE WHEN $3 = 'upgrade' OR scheduled_for <= $4 THEN NULL ELSE scheduled_for END
			WHERE id=$2`, string(ch.Plan), ch.AccountID, string(ch.Kind), ch.MonthDate); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_months (account_id, month, plan, fee_paid) VALUES ($1,$2,$3,$4)
			ON CONFLICT (account_id, month) DO UPDATE SET plan=EXCLUDED.plan, fee_paid=account_months.fee_paid + EXCLUDED.fee_paid`,
			ch.AccountID, ch.MonthDate, string(ch.Plan), int64(ch.Amount)); err != nil {
			return err
		}
	}
	if ch.Code != "" {
		res, err := tx.ExecContext(ctx, `UPDATE promo_codes SET status='redeemed', redeemed_at=$1 WHERE code=$3 AND status='reserved' AND charge_id=$2`,
			now, ch.ID, ch.Code)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("charge %d: code %s is not reserved for it", ch.ID, ch.Code)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO code_events (code, account_id, kind, charge_id, offset_amount, forfeited, at) VALUES ($1,$2,'redeemed',$3,$4,$5,$6)`,
			ch.Code, ch.AccountID, ch.ID, int64(ch.Offset), int64(ch.Forfeited), now); err != nil {
			return err
		}
	}
	return audit(ctx, tx, now, actor, ch.AccountID, "charge.paid", before, ch)
}

// ScheduleDowngrade schedules a lower plan for the next month start (to
// light: cancels renewal). Returns ENotADowngrade or EUnknownPlan.
func (s *Store) ScheduleDowngrade(ctx context.Context, actor Actor, accountID string, to billing.PlanID) (billing.Account, error) {
	return s.changeSchedule(ctx, actor, accountID, "plan.downgrade_scheduled", func(c billing.Catalog, a billing.Account, now time.Time) (billing.Account, error) {
		return c.Downgrade(a, to, now)
	})
}

// CancelDowngrade withdraws a scheduled downgrade. Returns ENoScheduledPlan.
func (s *Store) CancelDowngrade(ctx context.Context, actor Actor, accountID string) (billing.Account, error) {
	return s.changeSchedule(ctx, actor, accountID, "plan.downgrade_cancelled", func(c billing.Catalog, a billing.Account, now time.Time) (billing.Account, error) {
		return c.CancelDowngrade(a, now)
	})
}

func (s *Store) changeSchedule(ctx context.Context, actor Actor, accountID, kind string, change func(billing.Catalog, billing.Account, time.Time) (billing.Account, error)) (billing.Account, error) {
	var out billing.Account
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		cat, err := LoadCatalog(ctx, tx)
		if err != nil {
			return err
		}
		m := billing.MonthOf(now)
		row, err := loadAccount(ctx, tx, accountID, m, true)
		if err != nil {
			return err
		}
		before := row.billing(m)
		out, err = change(cat, before, now)
		if err != nil {
			return err
		}
		var sched *string
		var schedFor *time.Time
		if out.ScheduledPlan != "" {
			p, d := string(out.ScheduledPlan), out.ScheduledFor.Date()
			sched, schedFor = &p, &d
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET plan=$1, scheduled_plan=$2, scheduled_for=$3 WHERE id=$4`,
			string(out.Plan), sched, schedFor, accountID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, kind,
			map[string]any{"plan": before.Plan, "scheduled_plan": before.ScheduledPlan},
			map[string]any{"plan": out.Plan, "scheduled_plan": out.ScheduledPlan, "scheduled_for": out.ScheduledFor.String()})
	})
	return out, err
}
