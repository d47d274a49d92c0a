package views

import (
	"time"

	"webstore/billing"
)

// 帳號查詢: an account as the console's search and account page show it.

// AccountHit is one account found by a staff search, its plan by name.
type AccountHit struct {
	ID, Name, Region string
	PlanName         string
}

// StaffAccountView is an account as staff see it.
type StaffAccountView struct {
	ID, Name, Region string
	Plan             billing.Plan
	// Scheduled is the plan taking effect in ScheduledFor, nil if none.
	Scheduled    *billing.Plan
	ScheduledFor billing.Month
	// PaidThisMonth is the plan fee already paid for the current month.
	PaidThisMonth billing.Money
	// NextRenewal is the next month start when a paid plan renews; zero on
	// a free plan (不適用).
	NextRenewal time.Time
	Methods     []MethodRow
	Invoice     *billing.InvoiceDetails
	Code        *HeldCode // the latest code registered, nil if none
	Month       billing.Month
	// Free and Additional are the daily snapshot the account's admins see,
	// as of RefreshedAt (zero: not refreshed this month).
	Free, Additional int
	RefreshedAt      time.Time
	// LiveFree and LiveAdditional are the month's running totals.
	LiveFree, LiveAdditional int64
	Daily                    BarChart
	Charges                  []ChargeRow
	Catalog                  billing.Catalog // names the charges' plans
	Audit                    []AuditRow
}

// MethodRow is a payment method as listed: its label in the page's
// language, and whether it is the main one.
type MethodRow struct {
	Label string
	Main  bool
}

// HeldCode is an account's promo code and its campaign.
type HeldCode struct {
	Display              string
	Status               billing.CodeStatus // as of now
	CampaignID, Campaign string
	Registered, Redeemed time.Time // Redeemed zero: not yet
	ValidFrom, Until     time.Time
}

// ChargeRow is a charge with every line, as staff see it.
type ChargeRow struct {
	ID                                         int64
	CreatedAt                                  time.Time
	Kind                                       billing.ChargeKind
	Month                                      billing.Month
	FromPlan, Plan                             billing.PlanID
	Amount, Offset, Forfeited, Net, Tax, Total billing.Money
	Code                                       string // as issued
	Status                                     billing.ChargeStatus
	// Reason is why it failed or was voided, in the page's language.
	Reason    string
	Attempts  int
	NextRetry time.Time // zero: none
	// Retryable is a failed charge staff may retry (one still owed).
	Retryable bool
}
