package billing

import "time"

// PaymentKind is how an account pays.
type PaymentKind string

// Payment kinds. Only credit card and LINE Pay can be charged automatically
// and are eligible for the promo campaign; bank transfer is kept because
// accounts paying that way exist and must be refused the code.
const (
	CreditCard   PaymentKind = "credit_card"
	LinePay      PaymentKind = "line_pay"
	BankTransfer PaymentKind = "bank_transfer"
)

// Valid reports whether k is a known payment kind.
func (k PaymentKind) Valid() bool {
	return k == CreditCard || k == LinePay || k == BankTransfer
}

// Addable reports whether an admin can add a method of kind k: a card or
// LINE Pay (bank transfer is only kept for the accounts that pay so).
func (k PaymentKind) Addable() bool { return k == CreditCard || k == LinePay }

// WithFirstMethod is the account once a payment method of kind k is added,
// for a quote that assumes it: an account with no method gets k as its main
// one (the first method added becomes the main one) and assumed is true;
// an account with a method keeps it.
func (a Account) WithFirstMethod(k PaymentKind) (out Account, assumed bool) {
	if a.Payment != "" || k == "" {
		return a, false
	}
	a.Payment = k
	return a, true
}

// Account is what the rules need to know about an official account.
type Account struct {
	ID     string
	Region string // ISO country code, e.g. "TW"
	Plan   PlanID
	// ScheduledPlan is a downgrade that takes effect at ScheduledFor's start;
	// empty when none is scheduled.
	ScheduledPlan PlanID
	ScheduledFor  Month
	// Payment is the kind of the account's main payment method; "" for none.
	Payment PaymentKind
	// PaidMonth and PaidFee record the plan fee already paid for a month.
	PaidMonth Month
	PaidFee   Money
}

// PaidFor is the plan fee already paid for month m.
func (a Account) PaidFor(m Month) Money {
	if a.PaidMonth == m {
		return a.PaidFee
	}
	return 0
}

// Settle returns the account as it stands at t: a scheduled change whose month
// has begun is in effect even if no renewal run has written it yet.
func (a Account) Settle(t time.Time) Account {
	if a.ScheduledPlan != "" && !MonthOf(t).Before(a.ScheduledFor) {
		a.Plan = a.ScheduledPlan
		a.ScheduledPlan = ""
		a.ScheduledFor = Month{}
	}
	return a
}

// PlanFor is the plan the account will be on in month m, counting a scheduled
// change (m is the current month or later).
func (a Account) PlanFor(m Month) PlanID {
	if a.ScheduledPlan != "" && !m.Before(a.ScheduledFor) {
		return a.ScheduledPlan
	}
	return a.Plan
}

// Downgrade checks a downgrade of a (settled at t) to plan and returns the
// account with the change scheduled for the next month start. Downgrading to
// light is how auto-renewal is cancelled. There are no refunds.
func (c Catalog) Downgrade(a Account, to PlanID, t time.Time) (Account, error) {
	a = a.Settle(t)
	target, err := c.Plan(to)
	if err != nil {
		return a, err
	}
	cur, err := c.Plan(a.Plan)
	if err != nil {
		return a, err
	}
	if !cur.IsDowngradeTo(target) {
		return a, Errorf(ENotADowngrade, "")
	}
	a.ScheduledPlan = to
	a.ScheduledFor = DowngradeMonth(t)
	return a, nil
}

// DowngradeMonth is the month a downgrade asked for at t takes effect: the
// next billing month, from its start.
func DowngradeMonth(t time.Time) Month { return MonthOf(t).Next() }

// CancelDowngrade withdraws a scheduled downgrade before it takes effect.
func (c Catalog) CancelDowngrade(a Account, t time.Time) (Account, error) {
	a = a.Settle(t)
	if a.ScheduledPlan == "" {
		return a, Errorf(ENoScheduledPlan, "")
	}
	a.ScheduledPlan = ""
	a.ScheduledFor = Month{}
	return a, nil
}
