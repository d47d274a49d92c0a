package db

import (
	"context"
	"database/sql"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// Charge is a stored charge with its lines. The page statement's charges
// decode into it from JSON (account_overview, migration 021) by the json
// tags, which are the field names: the audit log has always stored charges
// under them (charge.created, charge.paid), so they stay, whatever a field
// is renamed to.
type Charge struct {
	ID          int64                `db:"id" json:"ID"`
	AccountID   string               `db:"account_id" json:"AccountID"`
	Kind        billing.ChargeKind   `db:"kind" json:"Kind"`
	MonthDate   time.Time            `db:"month" json:"MonthDate"`
	EffectiveAt time.Time            `db:"effective_at" json:"EffectiveAt"`
	FromPlan    billing.PlanID       `db:"from_plan" json:"FromPlan"`
	Plan        billing.PlanID       `db:"plan" json:"Plan"`
	Amount      billing.Money        `db:"amount" json:"Amount"`
	Offset      billing.Money        `db:"offset_amount" json:"Offset"`
	Forfeited   billing.Money        `db:"forfeited" json:"Forfeited"`
	Net         billing.Money        `db:"net" json:"Net"`
	Tax         billing.Money        `db:"tax" json:"Tax"`
	Total       billing.Money        `db:"total" json:"Total"`
	Code        string               `db:"code" json:"Code"`
	CodeDisplay string               `db:"code_display" json:"CodeDisplay"` // the code as issued, e.g. BEAR-0611-AAAA
	Status      billing.ChargeStatus `db:"status" json:"Status"`
	// Failure is why a failed charge was refused (billing.Failure) or a void
	// one voided (billing.VoidReason); FailureDetail the provider's words.
	Failure       string    `db:"failure" json:"Failure"`
	FailureDetail string    `db:"failure_detail" json:"FailureDetail"`
	Attempts      int       `db:"attempts" json:"Attempts"`
	AskedAt       NullTime  `db:"asked_at" json:"AskedAt"`
	NextRetryAt   NullTime  `db:"next_retry_at" json:"NextRetryAt"`
	PaymentID     NullInt64 `db:"payment_method_id" json:"PaymentID"`
	PaymentKind   string    `db:"payment_kind" json:"PaymentKind"`
	PaymentRef    string    `db:"payment_ref" json:"PaymentRef"`
	Invoice       string    `db:"invoice_number" json:"Invoice"`
	CreatedAt     time.Time `db:"created_at" json:"CreatedAt"`
	PaidAt        NullTime  `db:"paid_at" json:"PaidAt"`
}

// Month is the billing month the charge pays for.
func (c Charge) Month() billing.Month { return billing.MonthFromDate(c.MonthDate) }

// Lifecycle is the charge as billing's lifecycle rules see it.
func (c Charge) Lifecycle() billing.Charge {
	return billing.Charge{Kind: c.Kind, Month: c.Month(), EffectiveAt: c.EffectiveAt, FromPlan: c.FromPlan, Plan: c.Plan,
		Amount: c.Amount, Status: c.Status, Attempts: c.Attempts}
}

// Reason is why the charge failed or was voided, in the user's words
// (zh-TW): the provider's own when it gave one.
func (c Charge) Reason() string { return c.ReasonIn("zh-TW") }

// ReasonIn is Reason in lang ("zh-TW" or "en"); the provider's words, which
// are zh-TW, follow the English sentence in brackets.
func (c Charge) ReasonIn(lang string) string {
	if c.Failure == "" {
		return c.FailureDetail
	}
	msg := billing.CodeMessage(billing.Code(c.Failure), lang)
	switch {
	case c.FailureDetail == "":
		return msg
	case lang == "en":
		return msg + " (" + c.FailureDetail + ")"
	}
	return c.FailureDetail
}

// chargeCols: account_overview (migration 021) spells these out too.
const chargeCols = `id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
	amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code,
	coalesce((SELECT p.display FROM promo_codes p WHERE p.code = charges.code), '') AS code_display, status, failure, failure_detail, attempts,
	asked_at, next_retry_at, payment_method_id, coalesce(payment_kind,'') AS payment_kind, payment_ref, coalesce(invoice_number,'') AS invoice_number, created_at, paid_at`

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
// month, offset by the account's registered code if it applies. A charge
// with nothing to pay is paid at once; others reserve the code and are
// paid through the gateway (see payCharge). Returns the charge;
// EPaymentFailed (with the charge) if the provider refused;
// EPaymentPending if the account already has a payment in flight, or (with
// the charge) if the provider gave no clear answer.
func (s *Store) Upgrade(ctx context.Context, actor Actor, req UpgradeRequest) (Charge, error) {
	ch, _, err := s.UpgradeOnce(ctx, actor, req)
	return ch, err
}

// UpgradeOnce is Upgrade, also reporting whether the request's key had
// already made the charge returned (a double-click, a refresh, a replay).
// A key that made a charge for another plan, or another account's, is
// refused with EKeyReused, with that earlier charge when it is the
// account's own: never its result dressed as this request's.
func (s *Store) UpgradeOnce(ctx context.Context, actor Actor, req UpgradeRequest) (Charge, bool, error) {
	var ch Charge
	var replay bool
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		cat, in, row, err := quoteIn(ctx, tx, now, req.AccountID, billing.KindUpgrade, req.Plan, true)
		if err != nil {
			return err
		}
		if req.Key != "" {
			err := tx.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM charges WHERE idempotency_key=$1`, req.Key)
			if err == nil {
				if ch.AccountID != req.AccountID {
					ch = Charge{}
					return billing.Errorf(billing.EKeyReused, "")
				}
				if ch.Kind != billing.KindUpgrade || ch.Plan != req.Plan {
					return billing.Errorf(billing.EKeyReused, "")
				}
				replay = true
				return nil
			} else if !isNoRows(err) {
				return err
			}
		}
		if err := refuseIfPending(ctx, tx, req.AccountID); err != nil {
			return err
		}
		q, err := cat.Quote(in)
		if err != nil {
			return err
		}
		if e := req.Expect; e != nil && (e.Plan != q.Plan || e.Total != q.Total || e.Offset != q.Offset || e.Code != q.Code || e.FromPlan != q.FromPlan) {
			return billing.Errorf(billing.EQuoteChanged, "")
		}
		written, err := writeCharges(ctx, tx, now, cat, []newCharge{{Quote: q, Row: row, Key: req.Key}})
		if err != nil {
			return err
		}
		if len(written) != 1 {
			return billing.Errorf(billing.EPaymentPending, "")
		}
		if err := tx.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM charges WHERE id=$1`, written[0].ID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, ch.AccountID, "charge.created", nil, ch)
	})
	if err != nil || replay || ch.Status != billing.StatusPending {
		if err == nil && ch.Status == billing.StatusFailed {
			err = billing.Errorf(billing.EPaymentFailed, "%s", ch.Reason())
		}
		return ch, replay, err
	}
	// The charge is on record: take the payment and settle it even if the
	// person's request goes away meanwhile (a double-click aborts the first
	// request), so no charge is left pending by a closed tab.
	pctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	ch, err = s.payCharge(pctx, actor, ch.ID)
	return ch, false, err
}

// settleTimeout bounds a payment and its settlement once a charge exists.
const settleTimeout = 2 * time.Minute

// refuseIfPending returns EPaymentPending if the account (locked by the
// caller) has a charge whose payment is in flight: a second upgrade, a
// retry or removing the method it is paid with waits until it is settled.
func refuseIfPending(ctx context.Context, tx *sqlx.Tx, accountID string) error {
	var pending bool
	if err := tx.GetContext(ctx, &pending, `SELECT EXISTS (SELECT 1 FROM charges WHERE account_id=$1 AND status='pending')`, accountID); err != nil {
		return err
	}
	if pending {
		return billing.Errorf(billing.EPaymentPending, "")
	}
	return nil
}

// kinds is a list of charge kinds as a statement's parameter, so the
// kinds a rule names are the ones billing names.
func kinds(ks []billing.ChargeKind) pq.StringArray {
	out := make(pq.StringArray, len(ks))
	for i, k := range ks {
		out[i] = string(k)
	}
	return out
}
