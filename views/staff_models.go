package views

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"reflect"
	"slices"
	"strings"
	"time"

	"webstore/billing"
)

// StaffPage is the staff console's page: the common page plus which section
// of the left nav it is, and, for a page watching a job without JavaScript,
// how often to reload.
type StaffPage struct {
	Page
	Section string
	Refresh int // seconds; 0: none
}

// staffNav is the console's left nav: section id, path, zh-TW, English.
var staffNav = [][4]string{
	{"accounts", "/staff/accounts", "帳號查詢", "Accounts"},
	{"preview", "/staff/preview", "費用試算", "Charge preview"},
	{"simulate", "/staff/simulate", "情境模擬", "Scenarios"},
	{"campaigns", "/staff/campaigns", "優惠活動", "Campaigns"},
	{"renewals", "/staff/renewals", "續約作業", "Renewals"},
	{"audit", "/staff/audit", "稽核紀錄", "Audit log"},
	{"tokens", "/staff/tokens", "API 權杖", "API tokens"},
}

// AccountHit is one account found by a staff search.
type AccountHit struct {
	ID, Name, Region string
	Plan             billing.PlanID
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

// AuditRow is one line of the audit trail; Before and After are JSON
// texts, "" for none.
type AuditRow struct {
	At                     time.Time
	Actor, AccountID, Kind string
	Before, After          string
}

// CampaignRow is one campaign in the list.
type CampaignRow struct {
	ID, Name              string
	FaceValue             billing.Money
	ValidFrom, ValidUntil time.Time
	Issued                int64
}

// CampaignForm is the campaign form's values, as typed, and the choices
// it offers.
type CampaignForm struct {
	ID, Name, Face, From, Until, Zone, Regions string
	Kinds, Upgrades, Renewals                  map[string]bool
	Editing                                    bool
	Choices                                    CampaignChoices
}

// CampaignChoices are the plan changes a campaign may be made to offset:
// the catalog's upgrades and paid plans, named by Catalog.
type CampaignChoices struct {
	Upgrades []billing.Transition
	Renewals []billing.PlanID
	Catalog  billing.Catalog
}

// CampaignFormFrom fills the form from a campaign, in zone.
func CampaignFormFrom(c billing.Campaign, zone string) CampaignForm {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc, zone = billing.Taipei, "Asia/Taipei"
	}
	f := CampaignForm{ID: c.ID, Name: c.Name, Face: fmt.Sprint(int64(c.FaceValue)), Zone: zone, Regions: strings.Join(c.Regions, ", "),
		Kinds: map[string]bool{}, Upgrades: map[string]bool{}, Renewals: map[string]bool{}, Editing: true}
	if !c.ValidFrom.IsZero() {
		f.From = c.ValidFrom.In(loc).Format("2006-01-02T15:04:05")
		f.Until = c.ValidUntil.In(loc).Format("2006-01-02T15:04:05")
	}
	for _, k := range c.PaymentKinds {
		f.Kinds[string(k)] = true
	}
	for _, t := range c.Upgrades {
		f.Upgrades[t.String()] = true
	}
	for _, p := range c.RenewalPlans {
		f.Renewals[string(p)] = true
	}
	return f
}

// CampaignZones are the zones a window may be typed in.
var CampaignZones = [][3]string{{"Asia/Taipei", "台灣時間 (UTC+8)", "Taiwan (UTC+8)"}, {"Asia/Tokyo", "日本時間 (UTC+9)", "Japan (UTC+9)"}, {"UTC", "UTC", "UTC"}}

// StaffCampaignView is one campaign's page.
type StaffCampaignView struct {
	Campaign billing.Campaign
	Form     CampaignForm
	Report   CampaignReport
	Chart    BarChart
	Jobs     []CodeJob
	// MaxCodes is the most codes one job may generate.
	MaxCodes int
}

// CampaignReport is a campaign's codes in numbers.
type CampaignReport struct {
	Issued, Registered, Redeemed, Expired int64
	Offset, Forfeited                     billing.Money
	AtUpgrade, AtRenewal                  int64
}

// JobStatus is where a code generation job stands.
type JobStatus string

// The job statuses.
const (
	JobRunning JobStatus = "running"
	JobDone    JobStatus = "done"
	JobFailed  JobStatus = "failed"
)

// CodeJob is a code generation job and its progress.
type CodeJob struct {
	ID              int64
	CampaignID      string
	Requested, Done int
	Status          JobStatus
	Error           string
	StartedBy       string
	StartedAt       time.Time
}

// JobPercent is a code job's progress in percent.
func JobPercent(j CodeJob) int {
	if j.Status == JobDone {
		return 100
	}
	return int(int64(j.Done) * 100 / int64(max(j.Requested, 1)))
}

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

// PreviewForm is the charge preview's form, as typed.
type PreviewForm struct {
	Account, At, Action, Plan, Code string
}

// StaffPreviewView is the charge preview page.
type StaffPreviewView struct {
	Form    PreviewForm
	Result  *PreviewResult
	Catalog billing.Catalog
}

// PreviewResult is a staff preview's answer: the quote exactly as the
// purchase or renewal would make it, and what happened to the code.
type PreviewResult struct {
	Quote billing.Quote
	// Next is the renewal that would follow an upgrade; nil otherwise.
	Next *billing.Quote
	// At is the instant previewed (and of registering a typed code).
	At time.Time
	// Code is the code as shown: as issued, or as typed (normalised);
	// "" when none was typed and the account holds none.
	Code string
	// Typed reports whether a code to register was typed.
	Typed bool
	// Registration is why the typed code would not be registered; nil
	// when it would be.
	Registration error
	// Held reports whether the quote considered a code (registered in the
	// preview, or already held); Campaign is its campaign.
	Held     bool
	Campaign billing.Campaign
	// QuoteErr is why the purchase would be refused, if it would.
	QuoteErr error
}

// SimulateView is the scenario simulator page.
type SimulateView struct {
	Input  string
	Output *SimOutput
	Err    string
	// Samples are the public scenario files, name → JSON, for the picker.
	Samples [][2]string
}

// SimOutput is a simulated scenario's outcome, event by event.
type SimOutput struct {
	Name       string
	Passed     bool
	Mismatches int // expectations that did not hold
	Results    []SimResult
	Accounts   []SimAccount
	// AccountMismatches are the final-state expectations that did not hold.
	AccountMismatches []string
}

// SimResult is one event's outcome.
type SimResult struct {
	At, Do, Account string
	OK              bool
	Error, Message  string
	Charges         []SimCharge
	Mismatch        []string
}

// SimCharge is a charge an event made, its lines in whole NT$ as the
// scenario's JSON has them.
type SimCharge struct {
	Account, Kind, FromPlan, Plan              string
	Amount, Offset, Forfeited, Net, Tax, Total int64
	Code                                       string
	Status                                     billing.ChargeStatus
	Failure                                    string
}

// SimAccount is an account's state after the last event.
type SimAccount struct {
	ID, Plan, Scheduled string
	Quota               int
	Code, CodeStatus    string // "" for none
}

// AuditView is the audit page.
type AuditView struct {
	Filter  [5]string // account, actor, kind, from, to (as typed)
	Entries []AuditRow
}

// TokensView is the API tokens page; New is a just-made token, shown once.
type TokensView struct {
	Tokens []TokenRow
	New    string
}

// TokenRow is a staff API token as listed (never the token itself).
type TokenRow struct {
	ID, Label, Login string
	CreatedAt        time.Time
	RevokedAt        time.Time // zero: live
}

// PrettyJSON indents a JSON text for display; "" for none.
func PrettyJSON(s string) string {
	if s == "" {
		return ""
	}
	var v any
	if json.Unmarshal([]byte(s), &v) != nil {
		return s
	}
	b, _ := json.MarshalIndent(v, "", " ")
	return string(b)
}

// AuditChanges summarises an audit entry: for objects, each field that
// changed as "field: before → after" (or "field: value" when there was no
// before), in key order; otherwise the after value as it is.
func AuditChanges(before, after string) []string {
	var b, a map[string]any
	if after == "" || json.Unmarshal([]byte(after), &a) != nil {
		if after == "" {
			return nil
		}
		return []string{after}
	}
	if before != "" {
		json.Unmarshal([]byte(before), &b)
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	show := func(v any) string {
		// A nullable column written as {"Time"|"Int64"|..., "Valid"} reads as
		// its value, or ∅ when not valid.
		if m, ok := v.(map[string]any); ok && len(m) == 2 {
			if valid, ok := m["Valid"].(bool); ok {
				v = nil
				for k, x := range m {
					if k != "Valid" && valid {
						v = x
					}
				}
			}
		}
		if v == nil {
			return "∅"
		}
		if s, ok := v.(string); ok {
			if s == "" {
				return `""`
			}
			return s
		}
		j, _ := json.Marshal(v)
		return string(j)
	}
	var out []string
	for _, k := range keys {
		av, inA := a[k]
		bv, inB := b[k]
		switch {
		case b == nil:
			out = append(out, k+": "+show(av))
		case !inA:
			out = append(out, k+": "+show(bv)+" → ∅")
		case !inB || !reflect.DeepEqual(av, bv):
			out = append(out, k+": "+show(bv)+" → "+show(av))
		}
	}
	return out
}

// PreviewReasons explains a staff preview line by line: why the code was or
// would not be registered, how the amount comes about, why the code offsets
// the charge or not, what is forfeited, and the tax.
func (l Lang) PreviewReasons(p PreviewResult, cat billing.Catalog) []string {
	var out []string
	q := p.Quote
	code := p.Code
	if p.Typed {
		if p.Registration != nil {
			out = append(out, l.Tf("代碼 %s 無法於 %s 登錄:%s", "Code %s cannot be registered at %s: %s", code, TWTime(p.At), l.regErr(p.Registration)))
		} else {
			c := p.Campaign
			out = append(out, l.Tf("代碼 %s 將於 %s 登錄(活動「%s」,面額 %s,有效期間 %s 至 %s 台灣時間)。",
				"Code %s would be registered at %s (campaign \"%s\", face value %s, valid %s to %s Taiwan time).",
				code, TWTime(p.At), c.Name, c.FaceValue, TWTime(c.ValidFrom), TWTime(c.ValidUntil)))
		}
	}
	planName := func(id billing.PlanID) string { return l.PlanNameByID(cat, id) }
	switch q.Kind {
	case billing.KindUpgrade:
		if q.Fee > 0 {
			out = append(out, l.Tf("差額 = %s %s − 本月已付 %s = %s。", "Difference = %s %s − already paid this month %s = %s.",
				planName(q.Plan), q.Fee, q.Paid, q.Amount))
		}
	case billing.KindRenewal:
		if !q.Chargeable() {
			if q.Fee == 0 {
				out = append(out, l.Tf("%s 月的方案為%s:不收費。", "The plan for %s is %s: no charge.", q.Month, planName(q.Plan)))
			} else {
				out = append(out, l.Tf("%s 月已付 %s:不再收費。", "%s is already paid (%s): no charge.", q.Month, q.Paid))
			}
		} else {
			out = append(out, l.Tf("%s 自動續約(生效 %s 台灣時間):%s 月費 %s。", "Renewal for %s (effective %s Taiwan time): %s fee %s.",
				q.Month, TWTime(q.EffectiveAt), planName(q.Plan), q.Amount))
		}
	}
	if q.Chargeable() {
		switch {
		case q.Code != "":
			out = append(out, l.Tf("折抵 %s = min(面額 %s, 本次方案金額 %s)。", "Offset %s = min(face value %s, this plan amount %s).",
				q.Offset, p.Campaign.FaceValue, q.Amount))
			if q.Forfeited > 0 {
				out = append(out, l.Tf("剩餘 %s 作廢:代碼整組使用,餘額不保留。", "The remaining %s is forfeited: a code is used whole, nothing carries over.", q.Forfeited))
			}
		case p.Held && q.CodeRefusal != "":
			out = append(out, l.Tf("代碼 %s 不折抵:%s", "Code %s does not offset this charge: %s", code, l.refusal(q, p.Campaign, cat)))
		case !p.Held:
			out = append(out, l.T("沒有可用的優惠活動代碼:不折抵。", "No usable promo code: no offset."))
		}
		out = append(out, l.Tf("消費稅 %d%%:%s × %d%% = %s(四捨五入);總計 %s。", "Tax %d%%: %s × %d%% = %s (rounded half up); total %s.",
			billing.TaxRatePercent, q.Net, billing.TaxRatePercent, q.Tax, q.Total))
	}
	if n := p.Next; n != nil && n.Chargeable() {
		line := l.Tf("之後 %s(台灣時間)的續約:%s %s", "The renewal after, at %s (Taiwan time): %s %s", TWTime(n.EffectiveAt), planName(n.Plan), n.Amount)
		if n.Offset > 0 {
			line += l.Tf(" − 折抵 %s", " − offset %s", n.Offset)
		}
		out = append(out, line+l.Tf(",總計 %s。", ", total %s.", n.Total))
	}
	if p.QuoteErr != nil {
		out = append(out, l.Tf("實際購買會被拒絕:%s", "The purchase would be refused: %s", l.Err(p.QuoteErr)))
	}
	return out
}

// regErr is a registration refusal's sentence; a not-yet-valid code says
// from when (its detail, in zh-TW).
func (l Lang) regErr(err error) string {
	var e *billing.Error
	if l == ZH && errors.As(err, &e) && e.Code == billing.ECodeNotYetValid && e.Detail != "" {
		return e.Detail
	}
	return l.Err(err)
}

// refusal says in the staff's words why a held code does not offset q.
func (l Lang) refusal(q billing.Quote, c billing.Campaign, cat billing.Catalog) string {
	what := l.ChargeKind(q.Kind)
	switch q.CodeRefusal {
	case billing.EWindowClosed:
		return l.Tf("代碼的有效期間於 %s(台灣時間)結束,早於 %s 的%s。", "the code's window closes at %s (Taiwan time), before the %s %s.",
			TWTime(c.ValidUntil), TWTime(q.EffectiveAt), what)
	case billing.ECodeNotYetValid:
		return l.Tf("代碼的有效期間自 %s(台灣時間)開始,晚於 %s 的%s。", "the code's window opens at %s (Taiwan time), after the %s %s.",
			TWTime(c.ValidFrom), TWTime(q.EffectiveAt), what)
	case billing.EPaymentIneligble:
		var kinds []string
		for _, k := range c.PaymentKinds {
			kinds = append(kinds, l.PaymentKind(k))
		}
		return l.Tf("以%s付款:不適用(此活動僅限 %s)。", "paid by %s: not eligible (this campaign takes %s only).", l.PaymentKind(q.Payment), strings.Join(kinds, "、"))
	case billing.ERegionNotEligible:
		return l.Tf("帳號不在活動適用地區(%s)。", "the account is not in the campaign's regions (%s).", strings.Join(c.Regions, ", "))
	case billing.ETransitionNotEl:
		if q.Kind == billing.KindRenewal {
			return l.Tf("此活動不折抵%s的續約。", "this campaign does not offset a %s renewal.", l.PlanNameByID(cat, q.Plan))
		}
		return l.Tf("此活動不折抵 %s → %s 的升級。", "this campaign does not offset an upgrade %s → %s.", l.PlanNameByID(cat, q.FromPlan), l.PlanNameByID(cat, q.Plan))
	}
	return billing.CodeMessage(q.CodeRefusal, string(l))
}

// CampaignPath is the console's path of a campaign's page, or of one
// below it (suffix, e.g. "/codes.csv"): the id escaped as a path segment,
// so an id with '/', '?' or '#' (one stored before ids were checked) still
// names its own campaign.
func CampaignPath(id, suffix string) string {
	return "/staff/campaigns/" + url.PathEscape(id) + suffix
}
