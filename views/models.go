package views

import (
	"time"

	"webstore/billing"
)

// Usage is the month's message counts as last refreshed.
type Usage struct {
	FreeSent       int
	AdditionalSent int
	RefreshedAt    time.Time // zero when never refreshed
	// Estimate is what the additional messages so far would be charged
	// after the month ends (nil when there are none).
	Estimate *billing.UsageCharge
}

// PlanView is the 方案 page.
type PlanView struct {
	O     Account
	Usage Usage
	// Owed are the failed charges the banner shows.
	Owed []Charge
	// ConfirmDowngrade is the lower plan the admin asked for, to confirm
	// before it is scheduled (nil: nothing to confirm).
	ConfirmDowngrade *billing.Plan
	// CodeUnused is set, with ConfirmDowngrade, when the registered,
	// unused code (O.Code) would not offset the renewal after the
	// downgrade: the confirmation names it and when it expires.
	CodeUnused bool
}

// CheckoutView is the checkout page for one target plan.
type CheckoutView struct {
	O      Account
	Target billing.Plan
	Quote  billing.Quote
	// NeedsInvoice and NeedsMethod are the first-purchase steps still open.
	NeedsInvoice bool
	NeedsMethod  bool
	// Key is this checkout's idempotency key.
	Key string
	// CodeInput is what was typed in the code box; CodeError its refusal.
	CodeInput  string
	CodeError  string
	CodeNotice string
	// Later is when a held code that does not offset this purchase would
	// apply instead (nil if never).
	Later *billing.Quote
	// Wait is the next renewal of the current plan with the held code, when
	// it would offset more than this purchase (which forfeits the rest).
	Wait *billing.Quote
	// Pending is what the held code will offset once a payment method of
	// one of PendingKinds is added (the account has none yet).
	Pending      *billing.Quote
	PendingKinds []billing.PaymentKind
	// Renewal is the renewal the purchase commits to: the next month
	// start's charge on the target plan.
	Renewal *billing.Quote
	// Mismatch, when set, asks to confirm registering a code that does
	// not offset this purchase.
	Mismatch *CodeMismatch
	Terms    bool
	// Self is this checkout's URL (payment-method flows come back to it).
	Self string
	// Owed are the failed charges the banner shows.
	Owed []Charge
}

// ChargeView is a charge's result or receipt page.
type ChargeView struct {
	C       Charge
	Catalog billing.Catalog
	Method  string
	Just    bool // shown right after the purchase
	// Already is the page shown for a purchase made before: a replayed
	// form, a stale second tab, browser back.
	Already bool
	Plan    billing.Plan
	// Rebuy is set on a failed upgrade whose plan the account may still
	// buy: a purchase that did not happen cannot be paid later
	// (billing.Owed), so the page offers 重新購買, the checkout for it.
	Rebuy bool
	// Renewal is the next month start's renewal after a purchase, and
	// MonthEnd the last minute to downgrade instead (22:59 Taiwan time).
	Renewal  *billing.Quote
	MonthEnd time.Time
}

// CodeMismatch is a typed code that would not offset the purchase on the
// page: its campaign (what it applies to) and why not.
type CodeMismatch struct {
	Code     string
	Campaign billing.Campaign
	Why      billing.Code
}

// PromoView is the 優惠活動代碼 page.
type PromoView struct {
	O         Account
	Input     string
	Later     *billing.Quote
	UsedIn    *Charge
	CodeError string
}

// codeShown is the applied code as the admin typed it (its issued form).
func (v CheckoutView) codeShown() string {
	if v.O.Code != nil && v.O.Code.Code == v.Quote.Code && v.O.Code.Display != "" {
		return v.O.Code.Display
	}
	return v.Quote.Code
}
