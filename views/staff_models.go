package views

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
	"time"

	"webstore/billing"
	"webstore/db"
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

// StaffAccountView is an account as staff see it.
type StaffAccountView struct {
	Overview db.Overview
	Charges  []db.Charge
	Usage    db.Usage // the daily snapshot the account's admins see
	// LiveFree and LiveAdditional are the month's running totals.
	LiveFree, LiveAdditional int64
	Month                    billing.Month
	Daily                    BarChart
	Audit                    []db.AuditEntry
}

// CampaignForm is the campaign form's values, as typed.
type CampaignForm struct {
	ID, Name, Face, From, Until, Zone, Regions string
	Kinds, Upgrades, Renewals                  map[string]bool
	Editing                                    bool
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
	Report   db.CampaignReport
	Chart    BarChart
	Jobs     []db.CodeJob
}

// JobPercent is a code job's progress in percent.
func JobPercent(j db.CodeJob) int {
	if j.Status == "done" {
		return 100
	}
	return int(int64(j.Done) * 100 / int64(max(j.Requested, 1)))
}

// RunPercent is a renewal run's progress in percent.
func RunPercent(r db.RenewalRun) int {
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
	Estimate *db.RenewalEstimate
	Run      *db.RenewalRun
	Runs     []db.RenewalRun
}

// StaffRunView is one month's run: progress, result, failures.
type StaffRunView struct {
	Month   billing.Month
	Run     db.RenewalRun
	Outcome db.RenewalOutcome
}

// PreviewForm is the charge preview's form, as typed.
type PreviewForm struct {
	Account, At, Action, Plan, Code string
}

// StaffPreviewView is the charge preview page.
type StaffPreviewView struct {
	Form    PreviewForm
	Result  *db.Preview
	Catalog billing.Catalog
}

// SimulateView is the scenario simulator page.
type SimulateView struct {
	Input  string
	Output *db.SimOutput
	Err    string
	// Samples are the public scenario files, name → JSON, for the picker.
	Samples [][2]string
}

// AuditView is the audit page.
type AuditView struct {
	Filter  [5]string // account, actor, kind, from, to (as typed)
	Entries []db.AuditEntry
}

// TokensView is the API tokens page; New is a just-made token, shown once.
type TokensView struct {
	Tokens []db.StaffToken
	New    string
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
func (l Lang) PreviewReasons(p db.Preview, cat billing.Catalog) []string {
	var out []string
	q := p.Quote
	code := p.Display
	if code == "" && p.Request.Code != "" {
		code = strings.ToUpper(strings.TrimSpace(p.Request.Code))
	}
	if p.Request.Code != "" {
		if p.Registration != nil {
			out = append(out, l.Tf("代碼 %s 無法於 %s 登錄:%s", "Code %s cannot be registered at %s: %s", code, TWTime(p.Request.At), l.regErr(p.Registration)))
		} else {
			c := p.Campaign
			out = append(out, l.Tf("代碼 %s 將於 %s 登錄(活動「%s」,面額 %s,有效期間 %s 至 %s 台灣時間)。",
				"Code %s would be registered at %s (campaign \"%s\", face value %s, valid %s to %s Taiwan time).",
				code, TWTime(p.Request.At), c.Name, c.FaceValue, TWTime(c.ValidFrom), TWTime(c.ValidUntil)))
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
		case p.Code != nil && q.CodeRefusal != "":
			out = append(out, l.Tf("代碼 %s 不折抵:%s", "Code %s does not offset this charge: %s", code, l.refusal(q, p.Campaign, cat)))
		case p.Code == nil:
			out = append(out, l.T("沒有可用的優惠活動代碼:不折抵。", "No usable promo code: no offset."))
		}
		out = append(out, l.Tf("消費稅 5%%:%s × 5%% = %s(四捨五入);總計 %s。", "Tax 5%%: %s × 5%% = %s (rounded half up); total %s.", q.Net, q.Tax, q.Total))
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

// BarChart is a small bar chart drawn server-side as SVG: one group of bars
// per day, one bar per series.
type BarChart struct {
	Width, Height int
	Bars          []Bar
	Ticks         []Tick
	Legend        []Legend
	Max           int64
	Empty         bool
}

// Bar is one rectangle with its tooltip.
type Bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// Tick is an x-axis label.
type Tick struct {
	X     float64
	Label string
}

// Legend names a series.
type Legend struct {
	Class, Label string
}

const chartTop, chartBottom, chartLeft = 12.0, 20.0, 4.0

// NewBarChart lays out days (one per group, in order) with a value per
// series for each; classes style the series, names label them.
func NewBarChart(days []time.Time, series [][]int64, classes, names []string, width, height int) BarChart {
	ch := BarChart{Width: width, Height: height}
	for i := range classes {
		ch.Legend = append(ch.Legend, Legend{Class: classes[i], Label: names[i]})
	}
	for _, s := range series {
		for _, v := range s {
			ch.Max = max(ch.Max, v)
		}
	}
	ch.Empty = ch.Max == 0
	if len(days) == 0 {
		return ch
	}
	plotH := float64(height) - chartTop - chartBottom
	group := (float64(width) - chartLeft) / float64(len(days))
	barW := min(group*0.8/float64(len(series)), 14)
	every := max(1, len(days)/10)
	for i, d := range days {
		x0 := chartLeft + float64(i)*group + (group-barW*float64(len(series)))/2
		for si, s := range series {
			v := s[i]
			h := 0.0
			if ch.Max > 0 {
				h = plotH * float64(v) / float64(ch.Max)
			}
			if v > 0 && h < 1 {
				h = 1
			}
			ch.Bars = append(ch.Bars, Bar{X: x0 + float64(si)*barW, Y: chartTop + plotH - h, W: max(barW-1, 1), H: h,
				Class: classes[si], Title: fmt.Sprintf("%s %s: %d", d.Format("01/02"), names[si], v)})
		}
		if i%every == 0 {
			ch.Ticks = append(ch.Ticks, Tick{X: chartLeft + float64(i)*group + group/2, Label: d.Format("1/2")})
		}
	}
	return ch
}

// Fmt formats a chart coordinate.
func (BarChart) Fmt(v float64) string { return fmt.Sprintf("%.1f", v) }

// MonthDays lists the days of billing month m (JST dates) and places
// counts on them.
func MonthDays(m billing.Month, counts []db.DayCount) ([]time.Time, []int64) {
	var days []time.Time
	byDay := map[string]int64{}
	for _, c := range counts {
		byDay[c.Day.Format("2006-01-02")] = c.Count
	}
	var vals []int64
	for d := m.Start().In(billing.JST); d.Before(m.End()); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
		vals = append(vals, byDay[d.Format("2006-01-02")])
	}
	return days, vals
}

// CampaignDays lays a campaign's daily activity over the Taiwan days of its
// window up to today (at most a year back from the last day shown), so
// quiet days show as gaps.
func CampaignDays(daily []db.CodeDay, c billing.Campaign, now time.Time) ([]time.Time, [][]int64) {
	day := func(t time.Time) time.Time {
		t = t.In(billing.Taipei)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	by := map[string]db.CodeDay{}
	first, last := day(c.ValidFrom), day(c.ValidUntil)
	if n := day(now); n.Before(last) {
		last = n
	}
	for _, d := range daily {
		k := d.Day.Format("2006-01-02")
		by[k] = d
		dd, _ := time.Parse("2006-01-02", k)
		if dd.Before(first) {
			first = dd
		}
		if dd.After(last) {
			last = dd
		}
	}
	if last.Sub(first) > 366*24*time.Hour {
		first = last.AddDate(-1, 0, 0)
	}
	var days []time.Time
	reg, red := []int64{}, []int64{}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
		c := by[d.Format("2006-01-02")]
		reg = append(reg, c.Registered)
		red = append(red, c.Redeemed)
	}
	return days, [][]int64{reg, red}
}
