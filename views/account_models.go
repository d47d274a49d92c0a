package views

import (
	"time"

	"webstore/billing"
)

// The account pages' view models: an official account, its payment
// methods, promo code and charges as the screens show them. web/ builds
// them from the store's results; nothing here is a database row.

// Account is an official account as its billing pages show it.
type Account struct {
	ID     string
	Name   string
	Region string
	// Account is the billing state as of now (scheduled changes settled).
	Account billing.Account
	Plan    billing.Plan
	// Scheduled is the plan taking effect at the next month start, if any.
	Scheduled *billing.Plan
	// NextRenewal is the next month start when the account renews a paid
	// plan; zero on a free plan (不適用).
	NextRenewal time.Time
	// MonthEnd is the last minute of the current month (22:59 Taiwan time).
	MonthEnd time.Time
	// Methods are the payment methods, the main one first.
	Methods []Method
	Invoice *billing.InvoiceDetails
	// Code is the latest promo code registered, nil if none.
	Code    *Code
	Catalog billing.Catalog
	Now     time.Time
}

// MainMethod returns the main payment method, or nil.
func (a Account) MainMethod() *Method {
	for i := range a.Methods {
		if a.Methods[i].IsMain {
			return &a.Methods[i]
		}
	}
	return nil
}

// Method is a stored payment method as the pages describe it; the
// provider's token never reaches a page.
type Method struct {
	ID     int64
	Kind   billing.PaymentKind
	IsMain bool
	// Label is what the provider calls it (e.g. a LINE Pay account);
	// Brand, Last4 and Expiry describe a card.
	Label, Brand, Last4, Expiry string
	CreatedAt                   time.Time
}

// Code is a promo code registered to the account.
type Code struct {
	// Code is the normalised code (as a quote names it); Display the code
	// as issued, e.g. BEAR-0611-AAAA.
	Code, Display string
	Campaign      billing.Campaign
	// Status is as of now: a registered code past its window reads expired.
	Status     billing.CodeStatus
	Registered time.Time
	Redeemed   time.Time // zero until redeemed
}

// Charge is a charge as its card, row, receipt and the owed banner show it.
type Charge struct {
	ID       int64
	Kind     billing.ChargeKind
	Month    billing.Month // the billing month it pays for
	FromPlan billing.PlanID
	Plan     billing.PlanID
	// Amount is before the code's Offset; Forfeited is the code's value
	// left unused; Total is after tax.
	Amount, Offset, Forfeited, Tax, Total billing.Money
	CodeDisplay                           string // the code as issued
	Status                                billing.ChargeStatus
	// Retryable is whether 立即付款 may pay it (billing.Charge.Retryable):
	// a failed renewal or usage charge, never a failed upgrade.
	Retryable bool
	// Reason is why a failed charge was refused or a void one voided, in
	// the page's language ("" when neither).
	Reason   string
	Attempts int
	// NextRetryAt is the next automatic retry of a failed charge; zero for
	// none.
	NextRetryAt time.Time
	// PaymentID is the payment method it was paid with; 0 for none.
	PaymentID int64
	Invoice   string // the e-invoice number, "" when none was issued
	// EInvoice is the charge's e-invoice when the page read it (nil: none,
	// or not read); Refunds its refunds.
	EInvoice  *ChargeInvoice
	Refunds   ChargeRefunds
	CreatedAt time.Time
	PaidAt    time.Time // zero until paid
}
