package billing

import (
	"slices"
	"time"
)

// ChargeKind says what a charge is for.
type ChargeKind string

// Charge kinds. Usage charges (additional messages) are never offset by a code.
const (
	KindUpgrade ChargeKind = "upgrade"
	KindRenewal ChargeKind = "renewal"
	KindUsage   ChargeKind = "usage"
)

// PlanFeeKinds are the kinds of charge that pay a month's plan fee: what
// they add up to is the month's fee paid, and a failed one is superseded
// when the month is paid another way.
var PlanFeeKinds = []ChargeKind{KindUpgrade, KindRenewal}

// OwedKinds are the kinds of charge that are money owed (Owed).
var OwedKinds = []ChargeKind{KindRenewal, KindUsage}

// QuoteInput is everything a plan-fee charge depends on.
type QuoteInput struct {
	Kind    ChargeKind // KindUpgrade or KindRenewal
	Account Account
	// To is the upgrade's target plan (ignored for a renewal, whose plan is
	// the account's plan for the month, after any scheduled change).
	To PlanID
	// At is the instant of the request. An upgrade takes effect at At; a
	// renewal is for the billing month containing At and takes effect at
	// that month's start.
	At time.Time
	// Code is the account's registered, unused code (nil if none) and
	// Campaign its campaign.
	Code     *PromoCode
	Campaign Campaign
}

// Quote is what a charge will be, line by line. Preview and purchase both
// come from Catalog.Quote, so what a page shows is what is charged.
type Quote struct {
	AccountID   string
	Kind        ChargeKind
	Month       Month
	EffectiveAt time.Time
	FromPlan    PlanID
	Plan        PlanID
	Fee         Money // the plan's monthly fee
	Paid        Money // plan fee already paid for Month
	Payment     PaymentKind

	Amount    Money // pre-tax plan amount before the offset
	Offset    Money
	Forfeited Money
	Net       Money // Amount - Offset
	Tax       Money
	Total     Money // Net + Tax

	// Code is the code applied, "" when none.
	Code string
	// CodeRefusal says why the account's code does not offset this charge
	// ("" when it does or there is none).
	CodeRefusal Code
}

// Chargeable reports whether the quote makes a charge at all (a light renewal
// or an already-paid month does not).
func (q Quote) Chargeable() bool { return q.Amount > 0 }

// Quote computes a plan-fee charge. It is the single place where the rules of
// upgrades, renewals, offsets, forfeiture and tax are applied.
//
// Returns EUnknownPlan for a plan not in the catalog, ENotAnUpgrade for an
// upgrade that does not go to a higher plan, and ENoPaymentMethod (with the
// quote's lines filled in) for an upgrade by an account without a payment
// method. A renewal without a payment method is quoted; collecting it fails.
func (c Catalog) Quote(in QuoteInput) (Quote, error) {
	var q Quote
	a := in.Account
	q.AccountID = a.ID
	q.Kind = in.Kind
	q.Payment = a.Payment
	switch in.Kind {
	case KindUpgrade:
		a = a.Settle(in.At)
		q.Month = MonthOf(in.At)
		q.EffectiveAt = in.At
		q.FromPlan = a.Plan
		q.Plan = in.To
		from, err := c.Plan(a.Plan)
		if err != nil {
			return q, err
		}
		to, err := c.Plan(in.To)
		if err != nil {
			return q, err
		}
		if !from.IsUpgradeTo(to) {
			return q, Errorf(ENotAnUpgrade, "")
		}
		q.Fee = to.Fee
	case KindRenewal:
		q.Month = MonthOf(in.At)
		q.EffectiveAt = q.Month.Start()
		q.FromPlan = a.Plan
		q.Plan = a.PlanFor(q.Month)
		p, err := c.Plan(q.Plan)
		if err != nil {
			return q, err
		}
		q.Fee = p.Fee
	default:
		return q, Errorf(EInvalid, "不支援的費用種類 %q", in.Kind)
	}
	q.Paid = a.PaidFor(q.Month)
	q.Amount = max(q.Fee-q.Paid, 0)
	if q.Amount > 0 && in.Code != nil {
		if why := codeRefusal(q, in.Code, in.Campaign, a.Region); why != "" {
			q.CodeRefusal = why
		} else {
			q.Code = in.Code.Code
			q.Offset = min(in.Campaign.FaceValue, q.Amount)
			q.Forfeited = in.Campaign.FaceValue - q.Offset
		}
	}
	q.Net = q.Amount - q.Offset
	q.Tax = TaxOn(q.Net)
	q.Total = q.Net + q.Tax
	if in.Kind == KindUpgrade && a.Payment == "" {
		// The lines are still filled in so a checkout can show them while
		// asking for a payment method first.
		return q, Errorf(ENoPaymentMethod, "")
	}
	return q, nil
}

// codeRefusal says why a held code does not offset the charge q, or "".
func codeRefusal(q Quote, code *PromoCode, c Campaign, region string) Code {
	if code.Status != CodeRegistered {
		return ECodeExpired
	}
	if q.EffectiveAt.Before(c.ValidFrom) {
		return ECodeNotYetValid
	}
	if q.EffectiveAt.After(c.ValidUntil) {
		return EWindowClosed
	}
	if !slices.Contains(c.Regions, region) {
		return ERegionNotEligible
	}
	if !slices.Contains(c.PaymentKinds, q.Payment) {
		return EPaymentIneligble
	}
	switch q.Kind {
	case KindUpgrade:
		if !slices.Contains(c.Upgrades, Transition{q.FromPlan, q.Plan}) {
			return ETransitionNotEl
		}
	case KindRenewal:
		if !slices.Contains(c.RenewalPlans, q.Plan) {
			return ETransitionNotEl
		}
	}
	return ""
}

// Apply returns the account after the charge q is paid: on the quoted plan,
// the month paid up to the plan's fee, and no scheduled change left (a
// renewal has settled it; an upgrade replaces it).
func (q Quote) Apply(a Account) Account {
	a = a.Settle(q.EffectiveAt)
	a.ScheduledPlan, a.ScheduledFor = "", Month{}
	a.Plan = q.Plan
	a.PaidMonth = q.Month
	a.PaidFee = q.Paid + q.Amount
	return a
}

// NextRenewalOffset quotes the account's next renewal after t with its held
// code, so a page can say what the code will offset next and when. It
// reports false when that renewal would not use the code.
func (c Catalog) NextRenewalOffset(a Account, code *PromoCode, camp Campaign, t time.Time) (Quote, bool) {
	q, err := c.Quote(QuoteInput{Kind: KindRenewal, Account: a, At: MonthOf(t).Next().Start(), Code: code, Campaign: camp})
	if err != nil || q.Code == "" {
		return q, false
	}
	return q, true
}
