package views

import (
	"time"

	"webstore/billing"
)

// 續約作業: a month's renewal estimate, its runs and their outcome.

// RenewalRun is a month's renewal run as the console shows it.
type RenewalRun struct {
	Month          billing.Month
	Phase          string
	Running        bool
	Done, Expected int64 // accounts examined, of
	StartedBy      string
	StartedAt      time.Time
	FinishedAt     time.Time // zero: not finished
	Error          string
	Result         *RunResult // once finished
}

// RunResult is what a finished run did.
type RunResult struct {
	AlreadyDone                 bool // the month had been renewed before
	Charges, PlanChanges, Codes int64
	Deferred                    int64 // accounts skipped while a payment was in flight
	Total                       billing.Money
	UsageMonth                  string
	UsageCharges                int64
	UsageTotal                  billing.Money
	Attempted, Paid, Failed     int64 // collection
	Unknown, Void               int64
}

// RunPercent is a renewal run's progress in percent.
func RunPercent(r RenewalRun) int {
	switch r.Phase {
	case "finished":
		return 100
	case "billing_usage":
		return 92
	case "collecting":
		return 96
	}
	if r.Expected == 0 {
		return 0
	}
	return int(min(r.Done*90/r.Expected, 90))
}

// PhaseLabel names a renewal run's phase.
func (l Lang) PhaseLabel(p string) string {
	switch p {
	case "renewing":
		return l.T("續約中", "Renewing")
	case "billing_usage":
		return l.T("計算加購訊息費用", "Billing additional messages")
	case "collecting":
		return l.T("請款中", "Collecting payments")
	case "finished":
		return l.T("已完成", "Finished")
	case "failed":
		return l.T("失敗", "Failed")
	}
	return p
}

// StaffRenewalsView is the renewals page: a month, its estimate, past runs.
type StaffRenewalsView struct {
	Month    billing.Month
	Estimate *RenewalEstimate
	Runs     []RenewalRun
}

// RenewalEstimate is a month's renewal previewed, in numbers.
type RenewalEstimate struct {
	Month                            string
	Candidates, Charges, PlanChanges int64
	Amount, Offset, Tax, Total       billing.Money
	Codes, NoPayment                 int64
	AlreadyDone                      int64 // accounts already renewed for the month
	AlreadyTotal                     billing.Money
	Seconds                          float64
}

// StaffRunView is one month's run: progress, result, failures.
type StaffRunView struct {
	Month   billing.Month
	Run     RenewalRun
	Outcome RenewalOutcome
	Catalog billing.Catalog
}

// RenewalOutcome is a month's renewal charges in numbers, the failed ones
// listed.
type RenewalOutcome struct {
	Charges, Paid, Pending, Failed int64
	Total, Collected               billing.Money
	Codes                          int64
	Failures                       []FailedRenewal
}

// FailedRenewal is a renewal charge the provider refused.
type FailedRenewal struct {
	ChargeID               int64
	AccountID, AccountName string
	Total                  billing.Money
	Reason                 string // in the page's language
	Attempts               int
	NextRetry              time.Time // zero: attempts spent
}
