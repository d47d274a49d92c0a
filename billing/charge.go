package billing

import (
	"slices"
	"time"
)

// ChargeStatus is where a charge stands in its lifecycle:
//
//	pending ──paid──▶ paid                      (terminal)
//	   │  └──refused──▶ failed ──retry──▶ pending
//	   │                  │
//	   └──stale──▶ void ◀─┘ superseded, nothing owed, given up   (terminal)
//
// A charge with nothing to pay is written paid at once. PostgreSQL refuses
// any other move (migration 007), so a bug is an error, never a wrong bill.
type ChargeStatus string

// The charge statuses.
const (
	StatusPending ChargeStatus = "pending" // asked of (or about to be asked of) a provider; outcome not known
	StatusPaid    ChargeStatus = "paid"    // the provider took the payment, or there was nothing to pay
	StatusFailed  ChargeStatus = "failed"  // the provider refused; nothing was taken; may be retried
	StatusVoid    ChargeStatus = "void"    // no longer owed; never paid, never retried
)

// Valid reports whether s is a known status.
func (s ChargeStatus) Valid() bool {
	switch s {
	case StatusPending, StatusPaid, StatusFailed, StatusVoid:
		return true
	}
	return false
}

// Settled reports whether s is final: paid or void.
func (s ChargeStatus) Settled() bool { return s == StatusPaid || s == StatusVoid }

// HoldsCode reports whether a charge in status s may hold a promo code:
// reserved while pending, redeemed once paid. A failed or void charge
// never holds one.
func (s ChargeStatus) HoldsCode() bool { return s == StatusPending || s == StatusPaid }

// CanMove reports whether a charge may move from status from to status to.
func CanMove(from, to ChargeStatus) bool {
	switch from {
	case StatusPending:
		return to == StatusPaid || to == StatusFailed || to == StatusVoid
	case StatusFailed:
		return to == StatusPending || to == StatusPaid || to == StatusVoid
	}
	return false
}

// InitialStatus is a new charge's status: a total of 0 is paid at once,
// whatever a provider would answer; anything else is pending.
func InitialStatus(total Money) ChargeStatus {
	if total == 0 {
		return StatusPaid
	}
	return StatusPending
}

// Failure says why a provider refused a charge (the charge's `failure`).
type Failure string

// Failures. Only these fail a charge; an unclear answer leaves it pending.
const (
	FailDeclined          Failure = "declined"
	FailInsufficientFunds Failure = "insufficient_funds"
	FailNoPaymentMethod   Failure = "no_payment_method"
)

// VoidReason says why a charge was voided (kept in the charge's `failure`).
type VoidReason string

// Void reasons.
const (
	// VoidStale: the charge no longer matches the account (its month ended
	// or its plan is no longer the one to pay for) before it was asked of
	// a provider.
	VoidStale VoidReason = "stale"
	// VoidSuperseded: another charge paid the month (an upgrade in a month
	// whose renewal failed pays the new plan's full fee).
	VoidSuperseded VoidReason = "superseded"
	// VoidNothingOwed: a retry found the month already paid.
	VoidNothingOwed VoidReason = "nothing_owed"
	// VoidGivenUp: the renewal failed MaxAttempts times, or its month ended
	// unpaid; the account was moved to the free plan.
	VoidGivenUp VoidReason = "given_up"
)

// Charge is what the lifecycle rules need to know of a stored charge.
type Charge struct {
	Kind        ChargeKind
	Month       Month
	EffectiveAt time.Time
	FromPlan    PlanID
	Plan        PlanID
	Amount      Money // pre-tax plan amount before any offset
	Status      ChargeStatus
	Attempts    int // payment attempts that got an answer (paid or refused)
}

// Payable checks, at now, that a pending plan-fee charge not yet asked of a
// provider still matches account a (loaded for the charge's month: its
// plan now and the fee already paid for that month). It returns nil, or an
// EChargeStale error saying why the charge must be voided instead: its
// month has ended, paying it would lower the plan held, an upgrade no
// longer starts from the plan held, or the month would be paid more than
// the plan's fee. Usage charges are always payable.
func (c Catalog) Payable(ch Charge, a Account, now time.Time) error {
	if ch.Kind == KindUsage {
		return nil
	}
	if MonthOf(now) != ch.Month {
		return Errorf(EChargeStale, "%s 已結束,此筆付款不再收取", ch.Month)
	}
	a = a.Settle(now)
	if ch.Kind == KindUpgrade && a.Plan != ch.FromPlan {
		return Errorf(EChargeStale, "方案已不是%s,此筆升級不再收取", ch.FromPlan)
	}
	_, err := c.Settled(ch, a)
	return err
}

// Settled returns account a after charge ch is paid: a plan-fee charge puts
// the account on its plan (never a lower one than held) and adds its
// amount to what is paid for its month, which may never exceed that plan's
// fee; a usage charge changes neither. Returns EChargeStale when either
// rule would be broken.
func (c Catalog) Settled(ch Charge, a Account) (Account, error) {
	if ch.Kind == KindUsage {
		return a, nil
	}
	plan, err := c.Plan(ch.Plan)
	if err != nil {
		return a, err
	}
	held, err := c.Plan(a.Plan)
	if err != nil {
		return a, err
	}
	if held.IsDowngradeTo(plan) {
		return a, Errorf(EChargeStale, "付款後方案會從%s降為%s", held.ID, plan.ID)
	}
	paid := a.PaidFor(ch.Month) + ch.Amount
	if paid > plan.Fee {
		return a, Errorf(EChargeStale, "%s 已付 %s,再付 %s 會超過%s的月費 %s", ch.Month, a.PaidFor(ch.Month), ch.Amount, plan.ID, plan.Fee)
	}
	if ch.Kind == KindUpgrade || !ch.Month.Before(a.ScheduledFor) {
		a.ScheduledPlan, a.ScheduledFor = "", Month{}
	}
	a.Plan = ch.Plan
	a.PaidMonth, a.PaidFee = ch.Month, paid
	return a, nil
}

// MayRenew reports whether month m may be renewed at instant t: only the
// month containing t, while it runs (a late run inside the month is fine;
// its charges still take effect at the month start). Returns
// EMonthNotCurrent saying whether m has ended or not begun.
func MayRenew(m Month, t time.Time) error {
	cur := MonthOf(t)
	switch {
	case m.Before(cur):
		return Errorf(EMonthNotCurrent, "%s 已結束,只能續約進行中的月份(%s)", m, cur)
	case cur.Before(m):
		return Errorf(EMonthNotCurrent, "%s 尚未開始,只能續約進行中的月份(%s)", m, cur)
	}
	return nil
}

// Retry policy for failed renewals (and usage charges): tried again
// automatically RetryAfter[n-1] after the n-th refusal, at most
// MaxAttempts answers in all, counting the admin's "pay now". A renewal
// still unpaid after MaxAttempts refusals, or when its month ends, is given
// up: the charge is voided and the account moves to the free plan at once
// (the admin may upgrade again, paying the full fee). Upgrades are never
// retried automatically: the admin was there and saw the refusal.
const MaxAttempts = 3

// RetryAfter is the wait before each automatic retry.
var RetryAfter = [MaxAttempts - 1]time.Duration{24 * time.Hour, 72 * time.Hour}

// NextRetry is when charge ch, just refused (its Attempts counting the
// refusal) at failedAt, is tried again automatically; false when it is not:
// an upgrade, attempts spent, or a renewal whose month ends first (it is
// given up then).
func NextRetry(ch Charge, failedAt time.Time) (time.Time, bool) {
	if ch.Kind == KindUpgrade || ch.Attempts < 1 || ch.Attempts >= MaxAttempts {
		return time.Time{}, false
	}
	next := failedAt.Add(RetryAfter[ch.Attempts-1])
	if ch.Kind == KindRenewal && !next.Before(ch.Month.End()) {
		return time.Time{}, false
	}
	return next, true
}

// Owed reports whether a failed charge of kind is money the account owes
// (a renewal, additional messages), which "pay now" and the automatic
// retries pay; a failed upgrade is a purchase that did not happen, bought
// again from the checkout if wanted.
func Owed(kind ChargeKind) bool { return slices.Contains(OwedKinds, kind) }

// Retryable reports whether ch may be paid again, by "pay now" or an
// automatic retry: a failed charge of money owed. A failed upgrade is not:
// it was a purchase that did not happen.
func (ch Charge) Retryable() bool { return ch.Status == StatusFailed && Owed(ch.Kind) }

// GiveUp reports whether a failed charge is past help at now: a renewal
// refused MaxAttempts times, or one whose month has ended.
func GiveUp(ch Charge, now time.Time) bool {
	if ch.Status != StatusFailed || ch.Kind != KindRenewal {
		return false
	}
	return ch.Attempts >= MaxAttempts || ch.Month.Before(MonthOf(now))
}
