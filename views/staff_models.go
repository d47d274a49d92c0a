package views

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
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

// AuditRow is one line of the audit trail: its kind as recorded and in
// words, what happened in sentences (Lang.AuditSentences), and the record
// itself (Before and After, JSON texts, "" for none).
type AuditRow struct {
	At                     time.Time
	Actor, AccountID, Kind string
	KindLabel, ActorLabel  string
	Sentences              []string
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
	// Assume is the payment method to assume when the account has none:
	// "", or billing.CreditCard / billing.LinePay.
	Assume string
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
	// Assumed is the payment method the quote assumed the account adds
	// first (it has none); "" when it used the account's own.
	Assumed billing.PaymentKind
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
	// Catalog names the plans (a scenario runs on the app's catalog).
	Catalog billing.Catalog
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

// PreviewReasons explains a staff preview line by line, in sentences: the
// payment method assumed, why the code was or would not be registered, how
// the amount comes about, why the code offsets the charge or not, what is
// forfeited, and the tax.
func (l Lang) PreviewReasons(p PreviewResult, cat billing.Catalog) []string {
	var out []string
	q := p.Quote
	code := p.Code
	if p.Assumed != "" {
		out = append(out, l.Tf("帳號目前沒有付款方式;以下假設先新增%s,成為主要付款方式。", "The account has no payment method; this assumes %s is added first, as its main method.",
			l.paymentKindInText(p.Assumed)))
	}
	if p.Typed {
		if p.Registration != nil {
			out = append(out, l.Tf("代碼 %s 無法於 %s(台灣時間)登錄:%s", "Code %s cannot be registered at %s (Taiwan time): %s", code, TWTime(p.At), l.regErr(p.Registration)))
		} else {
			c := p.Campaign
			out = append(out, l.Tf("代碼 %s 可於 %s(台灣時間)登錄:活動「%s」,面額 %s,有效期間為 %s 至 %s(台灣時間)。",
				"Code %s can be registered at %s (Taiwan time): campaign \"%s\", face value %s, valid from %s to %s (Taiwan time).",
				code, TWTime(p.At), c.Name, c.FaceValue, TWTime(c.ValidFrom), TWTime(c.ValidUntil)))
		}
	}
	planName := func(id billing.PlanID) string { return l.PlanNameByID(cat, id) }
	switch q.Kind {
	case billing.KindUpgrade:
		switch {
		case q.Fee > 0 && q.Paid == 0:
			out = append(out, l.Tf("本月尚未付月費,升級收取%s的月費 %s。", "Nothing is paid for this month yet, so the upgrade charges the %s fee of %s.",
				planName(q.Plan), q.Amount))
		case q.Fee > 0:
			out = append(out, l.Tf("差額為%s的月費 %s 減去本月已付的 %s,即 %s。", "The difference is the %s fee of %s less the %s already paid this month: %s.",
				planName(q.Plan), q.Fee, q.Paid, q.Amount))
		}
	case billing.KindRenewal:
		switch {
		case q.Chargeable():
			out = append(out, l.Tf("%s 的自動續約於 %s(台灣時間)生效,收取%s的月費 %s。", "The renewal for %s takes effect at %s (Taiwan time) and charges the %s fee of %s.",
				q.Month, TWTime(q.EffectiveAt), planName(q.Plan), q.Amount))
		case q.Fee == 0:
			out = append(out, l.Tf("%s 的方案為%s,不收費。", "The plan for %s is %s, which is free: no charge.", q.Month, planName(q.Plan)))
		default:
			out = append(out, l.Tf("%s 的月費已付 %s,不再收費。", "%s is already paid (%s): no charge.", q.Month, q.Paid))
		}
	}
	if q.Chargeable() {
		switch {
		case q.Code != "":
			out = append(out, l.Tf("代碼折抵 %s:取面額 %s 與本次方案金額 %s 中較低者。", "The code offsets %s: the lower of its face value, %s, and this charge's plan amount, %s.",
				q.Offset, p.Campaign.FaceValue, q.Amount))
			if q.Forfeited > 0 {
				out = append(out, l.Tf("剩餘的 %s 失效:代碼須整組使用,餘額不保留。", "The remaining %s is forfeited: a code is used whole and nothing carries over.", q.Forfeited))
			}
		case p.Held && q.CodeRefusal != "":
			out = append(out, l.Tf("代碼 %s 不折抵這筆費用:%s", "Code %s does not offset this charge: %s", code, l.refusal(q, p.Campaign, cat)))
		case !p.Held:
			out = append(out, l.T("帳號沒有可用的優惠活動代碼,因此不折抵。", "The account holds no usable promo code, so nothing is offset."))
		}
		if q.Net == 0 {
			out = append(out, l.Tf("淨額為 %s,不收消費稅;總計 %s。", "The net is %s, so there is no tax; the total is %s.", q.Net, q.Total))
		} else {
			out = append(out, l.Tf("消費稅為淨額 %s 的 %d%%,即 %s(四捨五入);總計 %s。", "Tax is %[2]d%% of the net %[1]s: %[3]s (rounded half up); the total is %[4]s.",
				q.Net, billing.TaxRatePercent, q.Tax, q.Total))
		}
	}
	if n := p.Next; n != nil && n.Chargeable() {
		line := l.Tf("之後 %s(台灣時間)的續約:%s的月費 %s", "The renewal after that, at %s (Taiwan time): the %s fee of %s", TWTime(n.EffectiveAt), planName(n.Plan), n.Amount)
		if n.Offset > 0 {
			line += l.Tf(",折抵 %s", ", less an offset of %s", n.Offset)
		}
		out = append(out, line+l.Tf(",總計 %s。", ", %s in total.", n.Total))
	}
	if p.QuoteErr != nil {
		out = append(out, l.Tf("實際購買會被拒絕:%s", "The purchase would be refused: %s", l.Err(p.QuoteErr)))
	}
	return out
}

// joinOr lists alternatives: "信用卡或 LINE Pay ", "a credit card or LINE
// Pay" (in zh-TW a Latin name is set off by spaces on both sides, so the
// Chinese around it needs none).
func (l Lang) joinOr(items []string) string {
	if l == EN {
		return strings.Join(items, " or ")
	}
	for i, it := range items {
		if it != "" && it[0] < 0x80 {
			items[i] = " " + it + " "
		}
	}
	return strings.ReplaceAll(strings.Join(items, "或"), "  ", " ")
}

// paymentKindInText names a payment kind inside a sentence (English in
// lower case: "a credit card", "LINE Pay").
func (l Lang) paymentKindInText(k billing.PaymentKind) string {
	switch {
	case l != EN:
		return l.PaymentKind(k)
	case k == billing.CreditCard:
		return "a credit card"
	case k == billing.LinePay:
		return "LINE Pay"
	case k == billing.BankTransfer:
		return "bank transfer"
	}
	return "no payment method"
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
	if l == EN {
		what = strings.ToLower(what)
	}
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
			kinds = append(kinds, l.paymentKindInText(k))
		}
		if q.Payment == "" {
			return l.Tf("帳號尚未設定付款方式,而此活動僅限以%s付款;新增其中一種後即可折抵(可用「假設付款方式」試算)。",
				"the account has no payment method, and this campaign accepts only %s; once one is added the code offsets (preview that with \"Assume a payment method\").",
				l.joinOr(kinds))
		}
		return l.Tf("以%s付款不適用:此活動僅限以%s付款。", "paying by %s is not eligible: this campaign accepts only %s.", l.joinOr([]string{l.paymentKindInText(q.Payment)}), l.joinOr(kinds))
	case billing.ERegionNotEligible:
		var regions []string
		for _, r := range c.Regions {
			regions = append(regions, l.Region(r))
		}
		return l.Tf("帳號不在活動的適用地區(%s)。", "the account is not in the campaign's regions (%s).", strings.Join(regions, l.T("、", ", ")))
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
