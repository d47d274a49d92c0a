package views

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"webstore/billing"
)

// The audit trail in words: each entry's kind by name and its record (the
// JSON the store wrote before and after the change) as sentences, with
// every instant in Taiwan time, for the staff console.

// auditKinds names the kinds the store records: zh-TW, English.
var auditKinds = map[string][2]string{
	"account.created":                {"建立帳號", "Account created"},
	"account.renamed":                {"帳號更名", "Account renamed"},
	"api_token.created":              {"建立 API 權杖", "API token created"},
	"api_token.revoked":              {"撤銷 API 權杖", "API token revoked"},
	"staff_token.created":            {"建立後台權杖", "Staff token created"},
	"staff_token.revoked":            {"撤銷後台權杖", "Staff token revoked"},
	"campaign.created":               {"建立優惠活動", "Campaign created"},
	"campaign.updated":               {"修改優惠活動", "Campaign edited"},
	"codes.issued":                   {"匯入代碼", "Codes issued"},
	"codes.generated":                {"產生代碼", "Codes generated"},
	"code.registered":                {"登錄優惠活動代碼", "Promo code registered"},
	"charge.created":                 {"建立費用", "Charge created"},
	"charge.paid":                    {"付款成功", "Charge paid"},
	"charge.failed":                  {"付款失敗", "Payment failed"},
	"charge.retry":                   {"重試付款", "Payment retried"},
	"charge.voided":                  {"取消費用", "Charge voided"},
	"plan.downgrade_scheduled":       {"預定降級", "Downgrade scheduled"},
	"plan.downgrade_cancelled":       {"取消預定降級", "Downgrade withdrawn"},
	"plan.dropped_unpaid":            {"未付款改為輕用量", "Moved to Light, unpaid"},
	"einvoice.saved":                 {"儲存電子發票資訊", "E-invoice details saved"},
	"einvoice.books_imported":        {"匯入發票號碼", "Invoice numbers imported"},
	"einvoice.allowance_agreed":      {"同意折讓", "Allowance agreed"},
	"einvoice.allowance_link_resent": {"重新寄送折讓同意連結", "Allowance link sent again"},
	"einvoice.blanks_reported":       {"申報空白字軌", "Unused numbers reported"},
	"refund.requested":               {"申請退款", "Refund requested"},
	"refund.succeeded":               {"退款成功", "Refund succeeded"},
	"refund.failed":                  {"退款失敗", "Refund failed"},
	"invitation.created":             {"建立邀請連結", "Invitation created"},
	"invitation.revoked":             {"取消邀請連結", "Invitation cancelled"},
	"member.joined":                  {"成員加入", "Member joined"},
	"member.role_changed":            {"變更權限", "Role changed"},
	"member.removed":                 {"移除成員", "Member removed"},
	"payment_method.added":           {"新增付款方式", "Payment method added"},
	"payment_method.main":            {"設定主要付款方式", "Main payment method set"},
	"payment_method.removed":         {"刪除付款方式", "Payment method removed"},
	"session.signed_out_everywhere":  {"登出所有裝置", "Signed out everywhere"},
	"signin.throttled":               {"暫停登入", "Sign-in paused"},
	"usage_tiers.set":                {"設定加購訊息級距", "Message tiers set"},
	"user.created_with_line":         {"以 LINE 建立使用者", "User created with LINE"},
	"user.line_linked":               {"連結 LINE 帳號", "LINE account linked"},
}

// AuditKind names an audit entry's kind; an unknown kind reads as recorded.
func (l Lang) AuditKind(kind string) string {
	if n, ok := auditKinds[kind]; ok {
		return l.T(n[0], n[1])
	}
	return kind
}

// InvoiceKind names how an account receives its e-invoices.
func (l Lang) InvoiceKind(k billing.InvoiceKind) string {
	switch k {
	case billing.InvoiceMember:
		return l.T("會員載具", "Member carrier")
	case billing.InvoiceMobileBarcode:
		return l.T("手機條碼載具", "Mobile barcode carrier")
	case billing.InvoiceCitizenCertificate:
		return l.T("自然人憑證載具", "Citizen certificate carrier")
	case billing.InvoiceCompany:
		return l.T("公司(三聯式,統一編號)", "Company (with a tax ID)")
	case billing.InvoiceDonation:
		return l.T("捐贈", "Donation")
	}
	return string(k)
}

// record is one side of an audit entry, read loosely: the store writes
// maps with snake_case keys and some structs with Go field names.
type record map[string]any

func parseRecord(s string) record {
	var r record
	if s == "" || json.Unmarshal([]byte(s), &r) != nil {
		return nil
	}
	return r
}

// has reports whether the record holds key with a value.
func (r record) has(key string) bool {
	v, ok := r[key]
	return ok && v != nil
}

// str is a field as text: strings as they are, numbers without exponent,
// a nullable column ({"Time"|"Int64"…, "Valid"}) as its value.
func (r record) str(key string) string {
	v := r[key]
	if m, ok := v.(map[string]any); ok {
		if valid, _ := m["Valid"].(bool); !valid {
			return ""
		}
		for k, x := range m {
			if k != "Valid" {
				v = x
			}
		}
	}
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case float64:
		return fmt.Sprintf("%.0f", x)
	case bool:
		if x {
			return "true"
		}
		return "false"
	}
	b, _ := json.Marshal(v)
	return string(b)
}

func (r record) money(key string) billing.Money {
	f, _ := r[key].(float64)
	return billing.Money(int64(f))
}

func (r record) num(key string) int64 {
	f, _ := r[key].(float64)
	return int64(f)
}

// when is a time field in Taiwan time, "" when it is not one.
func (r record) when(key string) string {
	t, err := time.Parse(time.RFC3339Nano, r.str(key))
	if err != nil || t.IsZero() {
		return ""
	}
	return TWTime(t)
}

// AuditSentences tells an audit entry of kind in sentences, from the
// records before and after (JSON texts, "" for none); cat names the
// plans. Every instant is in Taiwan time. A kind it does not know is told
// field by field.
func (l Lang) AuditSentences(kind, before, after string, cat billing.Catalog) []string {
	b, a := parseRecord(before), parseRecord(after)
	plan := func(id string) string {
		if id == "" {
			return l.T("(無)", "(none)")
		}
		return l.PlanNameByID(cat, billing.PlanID(id))
	}
	role := func(r string) string { return l.RoleLabel(billing.Role(r)) }
	tw := func(s string) string { return l.Tf("%s(台灣時間)", "%s (Taiwan time)", s) }
	user := func(r record) string {
		if r.has("login") {
			return r.str("login")
		}
		return l.Tf("使用者 #%s", "user #%s", r.str("user_id"))
	}
	s := func(zh, en string, args ...any) []string { return []string{l.Tf(zh, en, args...)} }
	switch kind {
	case "account.created":
		return s("建立帳號「%s」:%s,方案為%s。", "Created the account \"%s\": %s, on %s.", a.str("name"), l.Region(a.str("region")), plan(a.str("plan")))
	case "account.renamed":
		return s("帳號名稱由「%s」改為「%s」。", "Renamed from \"%s\" to \"%s\".", b.str("name"), a.str("name"))
	case "api_token.created", "staff_token.created":
		return s("建立權杖「%s」(編號 %s)。", "Created the token \"%s\" (id %s).", a.str("label"), a.str("token_id"))
	case "api_token.revoked":
		return s("撤銷權杖「%s」(編號 %s)。", "Revoked the token \"%s\" (id %s).", a.str("label"), a.str("token_id"))
	case "staff_token.revoked":
		return s("撤銷權杖(編號 %s)。", "Revoked the token with id %s.", a.str("token_id"))
	case "campaign.created", "campaign.updated":
		return l.campaignSentences(kind, b, a, cat)
	case "codes.issued":
		return s("為活動 %s 匯入 %d 組代碼。", "Issued %[2]d codes for the campaign %[1]s.", a.str("campaign"), a.num("count"))
	case "codes.generated":
		return s("為活動 %s 產生 %d 組代碼(第 %s 號工作)。", "Generated %[2]d codes for the campaign %[1]s (job %[3]s).", a.str("campaign"), a.num("count"), a.str("job"))
	case "code.registered":
		return s("登錄優惠活動代碼 %s(活動 %s)。", "Registered the promo code %s (campaign %s).", a.str("code"), a.str("campaign"))
	case "charge.created", "charge.paid", "charge.failed", "charge.retry", "charge.voided":
		return l.chargeSentences(kind, b, a, cat)
	case "plan.downgrade_scheduled":
		return s("預定自 %s 起由%s降級為%s。", "Scheduled a downgrade from %[2]s to %[3]s from %[1]s.", a.str("scheduled_for"), plan(b.str("plan")), plan(a.str("scheduled_plan")))
	case "plan.downgrade_cancelled":
		return s("取消預定的降級(原定降級為%s),方案維持%s。", "Withdrew the scheduled downgrade to %s; the plan stays %s.", plan(b.str("scheduled_plan")), plan(a.str("plan")))
	case "plan.dropped_unpaid":
		return s("%s 的續約費用(第 %s 筆)未付款,方案由%s改為%s。", "The renewal for %s (charge %s) went unpaid; the plan moved from %s to %s.",
			a.str("month"), a.str("charge"), plan(b.str("plan")), plan(a.str("plan")))
	case "einvoice.saved":
		d := billing.InvoiceDetails{Kind: billing.InvoiceKind(a.str("Kind")), Carrier: a.str("Carrier"), CompanyTitle: a.str("CompanyTitle"),
			TaxID: a.str("TaxID"), DonationCode: a.str("DonationCode"), Email: a.str("Email")}
		var out []string
		if d.Kind == billing.InvoiceCompany {
			out = s("電子發票改為%s:%s。", "E-invoices now go as %s: %s.", l.InvoiceKind(d.Kind), l.InvoiceSummary(d))
		} else {
			// The summary starts with the kind's name.
			out = s("電子發票改為%s。", "E-invoices now go to: %s.", strings.TrimSpace(l.InvoiceSummary(d)))
		}
		if d.Email != "" {
			out = append(out, l.Tf("通知寄至 %s。", "Notices go to %s.", d.Email))
		}
		if b != nil {
			out = append(out, l.Tf("先前為%s。", "Before: %s.", l.InvoiceKind(billing.InvoiceKind(b.str("Kind")))))
		}
		return out
	case "refund.requested":
		return s("申請退款 %s(第 %s 筆付款),原因:%s。", "Asked for a refund of %s (charge %s), reason: %s.", a.money("amount"), a.str("charge_id"), a.str("reason"))
	case "refund.succeeded":
		return s("退款 %s(第 %s 筆付款)已完成,付款服務編號 %s。", "The refund of %s (charge %s) went through, provider reference %s.", a.money("amount"), a.str("charge_id"), a.str("provider_ref"))
	case "refund.failed":
		return s("退款 %s(第 %s 筆付款)遭付款服務拒絕:%s。", "The provider refused the refund of %s (charge %s): %s.", a.money("amount"), a.str("charge_id"), a.str("failure_detail"))
	case "einvoice.books_imported":
		return s("匯入 %d 本發票號碼(共 %d 個號碼),%d 本先前已匯入;%d 張等待號碼的發票因此開立。", "Imported %d books (%d numbers); %d were there already; %d waiting invoices were issued.",
			a.num("added"), a.num("numbers"), a.num("already"), a.num("issued"))
	case "einvoice.allowance_agreed":
		return s("同意發票 %s 的折讓 %s(折讓單號 %s)。", "Agreed to the allowance of %[2]s against invoice %[1]s (number %[3]s).", a.str("invoice_number"), a.money("total"), a.str("number"))
	case "einvoice.allowance_link_resent":
		return s("重新寄送發票 %s 的折讓 %s 同意連結(折讓單號 %s),有效至 %s。", "Sent a new link to agree to the allowance of %[2]s against invoice %[1]s (number %[3]s), valid until %[4]s.",
			a.str("invoice_number"), a.money("total"), a.str("number"), tw(a.when("consent_expires")))
	case "einvoice.blanks_reported":
		return s("申報 %s 期的空白字軌。", "Reported the unused numbers of period %s.", a.str("period"))
	case "invitation.created":
		return s("建立一個「%s」權限的邀請連結,有效至 %s。", "Created an invitation link for the role %s, valid until %s.", role(a.str("role")), tw(a.when("expires_at")))
	case "invitation.revoked":
		return s("取消一個「%s」權限的邀請連結。", "Cancelled an invitation link for the role %s.", role(b.str("role")))
	case "member.joined":
		return s("%s 透過邀請連結以「%s」權限加入(邀請人為使用者 #%s)。", "%s joined through an invitation link as %s (invited by user #%s).",
			user(a), role(a.str("role")), a.str("invited_by"))
	case "member.role_changed":
		out := s("%s 的權限由「%s」改為「%s」。", "%s's role changed from %s to %s.", user(a), role(b.str("role")), role(a.str("role")))
		if n := a.num("invitations_cancelled"); n > 0 {
			out = append(out, l.Tf("其建立的 %d 個邀請連結一併取消。", "The %d invitation links they made were cancelled.", n))
		}
		return out
	case "member.removed":
		out := s("移除成員 %s(「%s」權限,自 %s 起)。", "Removed %s (%s, a member since %s).", user(b), role(b.str("role")), tw(b.when("since")))
		if n := a.num("invitations_cancelled"); n > 0 {
			out = append(out, l.Tf("其建立的 %d 個邀請連結一併取消。", "The %d invitation links they made were cancelled.", n))
		}
		return out
	case "payment_method.added":
		what := l.PaymentKind(billing.PaymentKind(a.str("kind")))
		if a.str("last4") != "" {
			what = fmt.Sprintf("%s %s •••• %s", what, brandName(a.str("brand")), a.str("last4"))
		}
		if a.str("main") == "true" {
			return s("新增付款方式 %s(#%s),並設為主要付款方式。", "Added %s (#%s) as the main payment method.", what, a.str("id"))
		}
		return s("新增付款方式 %s(#%s)。", "Added %s (#%s).", what, a.str("id"))
	case "payment_method.main":
		return s("將付款方式 #%s 設為主要付款方式。", "Made payment method #%s the main one.", a.str("id"))
	case "payment_method.removed":
		what := l.PaymentKind(billing.PaymentKind(b.str("kind")))
		if b.str("last4") != "" {
			what += " •••• " + b.str("last4")
		}
		return s("刪除付款方式 %s(#%s)。", "Removed %s (#%s).", what, b.str("id"))
	case "session.signed_out_everywhere":
		return s("使用者 #%s 登出所有裝置,結束 %d 個工作階段。", "User #%s signed out everywhere, ending %d sessions.", a.str("user_id"), a.num("sessions"))
	case "signin.throttled":
		return s("登入失敗次數過多:%s「%s」暫停登入至 %s。", "Too many failed sign-ins: %s \"%s\" is paused until %s.", a.str("scope"), a.str("key"), tw(a.when("until")))
	case "usage_tiers.set":
		return s("更新加購訊息的計費級距。", "Updated the additional-message price tiers.")
	case "user.created_with_line":
		return s("以 LINE 帳號建立使用者「%s」(%s)。", "Created the user \"%s\" (%s) from a LINE account.", a.str("display_name"), a.str("login"))
	case "user.line_linked":
		return s("使用者 %s 連結了 LINE 帳號。", "%s linked a LINE account.", user(a))
	}
	return l.fieldSentences(b, a)
}

// chargeSentences tells a charge's audit entry: the record is the charge
// (db.Charge's fields) after the change.
func (l Lang) chargeSentences(kind string, b, a record, cat billing.Catalog) []string {
	id := a.str("ID")
	what := l.ChargeKind(billing.ChargeKind(a.str("Kind")))
	if l == EN {
		what = strings.ToLower(what)
	}
	plans := l.PlanNameByID(cat, billing.PlanID(a.str("Plan")))
	if a.str("Kind") == string(billing.KindUpgrade) {
		plans = l.PlanNameByID(cat, billing.PlanID(a.str("FromPlan"))) + " → " + plans
	}
	month := billing.MonthFromDate(parseTime(a.str("MonthDate"))).String()
	var out []string
	switch kind {
	case "charge.created":
		out = append(out, l.Tf("建立第 %s 筆費用:%s %s(%s),總計 %s,狀態為「%s」。", "Created charge %s: %s %s (%s), total %s, %s.",
			id, what, plans, month, a.money("Total"), l.ChargeStatus(billing.ChargeStatus(a.str("Status")))))
		if a.money("Offset") > 0 {
			line := l.Tf("代碼 %s 折抵 %s", "The code %s offsets %s", a.str("CodeDisplay"), a.money("Offset"))
			if a.money("Forfeited") > 0 {
				line += l.Tf(",失效 %s", ", %s forfeited", a.money("Forfeited"))
			}
			out = append(out, line+l.T("。", "."))
		}
	case "charge.paid":
		out = append(out, l.Tf("第 %s 筆費用(%s %s)已付款,總計 %s。", "Charge %s (%s %s) was paid: %s.", id, what, plans, a.money("Total")))
		if t := a.when("PaidAt"); t != "" {
			out[0] = l.Tf("第 %s 筆費用(%s %s)於 %s(台灣時間)付款,總計 %s。", "Charge %s (%s %s) was paid at %s (Taiwan time): %s.", id, what, plans, t, a.money("Total"))
		}
	case "charge.failed":
		out = append(out, l.Tf("第 %s 筆費用(%s %s,總計 %s)付款失敗:%s", "Charge %s (%s %s, total %s) failed: %s", id, what, plans, a.money("Total"),
			billing.CodeMessage(billing.Code(a.str("Failure")), string(l))))
		line := l.Tf("已嘗試 %d 次", "Attempts so far: %d", a.num("Attempts"))
		if t := a.when("NextRetryAt"); t != "" {
			line += l.Tf(",下次自動重試於 %s(台灣時間)", "; the next automatic retry is at %s (Taiwan time)", t)
		}
		out = append(out, line+l.T("。", "."))
	case "charge.retry":
		out = append(out, l.Tf("重試第 %s 筆費用(%s %s,總計 %s)的付款,第 %d 次嘗試。", "Retried charge %s (%s %s, total %s): attempt %d.",
			id, what, plans, a.money("Total"), a.num("Attempts")))
	case "charge.voided":
		out = append(out, l.Tf("第 %s 筆費用(%s %s,總計 %s)已取消:%s", "Charge %s (%s %s, total %s) was voided: %s", id, what, plans, a.money("Total"),
			billing.CodeMessage(billing.Code(a.str("Failure")), string(l))))
	}
	if b != nil && b.str("Status") != "" && b.str("Status") != a.str("Status") {
		out = append(out, l.Tf("狀態由「%s」變為「%s」。", "Status: %s → %s.", l.ChargeStatus(billing.ChargeStatus(b.str("Status"))), l.ChargeStatus(billing.ChargeStatus(a.str("Status")))))
	}
	return out
}

// campaignSentences tells a campaign created or edited (the record is
// billing.Campaign).
func (l Lang) campaignSentences(kind string, b, a record, cat billing.Catalog) []string {
	window := l.Tf("%s 至 %s(台灣時間)", "%s to %s (Taiwan time)", a.when("ValidFrom"), a.when("ValidUntil"))
	verb := l.T("建立", "Created")
	if kind == "campaign.updated" {
		verb = l.T("修改", "Edited")
	}
	out := []string{l.Tf("%s優惠活動「%s」(%s):面額 %s,有效期間 %s。", "%s the campaign \"%s\" (%s): face value %s, valid %s.",
		verb, a.str("Name"), a.str("ID"), a.money("FaceValue"), window)}
	if b != nil {
		var changed []string
		for _, f := range [][3]string{{"Name", "名稱", "name"}, {"FaceValue", "面額", "face value"}, {"ValidFrom", "開始時間", "start"},
			{"ValidUntil", "結束時間", "end"}, {"Regions", "適用地區", "regions"}, {"PaymentKinds", "付款方式", "payment kinds"},
			{"Upgrades", "適用升級", "upgrades"}, {"RenewalPlans", "適用續約方案", "renewal plans"}} {
			if b.str(f[0]) != a.str(f[0]) {
				changed = append(changed, l.T(f[1], f[2]))
			}
		}
		if len(changed) > 0 {
			out = append(out, l.Tf("變更了:%s。", "Changed: %s.", strings.Join(changed, l.T("、", ", "))))
		}
	}
	var kinds []string
	for _, k := range strings.Split(strings.Trim(a.str("PaymentKinds"), `[]`), ",") {
		if k = strings.Trim(k, `"`); k != "" {
			kinds = append(kinds, l.PaymentKind(billing.PaymentKind(k)))
		}
	}
	if len(kinds) > 0 {
		out = append(out, l.Tf("限以%s付款。", "Paid by %s only.", strings.Join(kinds, l.T("或", " or "))))
	}
	return out
}

// fieldSentences tells a record of a kind not described above, one field
// a line, instants in Taiwan time.
func (l Lang) fieldSentences(b, a record) []string {
	keys := make([]string, 0, len(a)+len(b))
	for k := range a {
		keys = append(keys, k)
	}
	for k := range b {
		if _, ok := a[k]; !ok {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	show := func(r record, k string) string {
		if t := r.when(k); t != "" {
			return l.Tf("%s(台灣時間)", "%s (Taiwan time)", t)
		}
		if v := r.str(k); v != "" {
			return v
		}
		return l.T("(無)", "(none)")
	}
	var out []string
	for _, k := range keys {
		switch {
		case b == nil || !b.has(k) && a.has(k):
			out = append(out, l.Tf("%s:%s。", "%s: %s.", k, show(a, k)))
		case !a.has(k):
			out = append(out, l.Tf("%s:%s(已移除)。", "%s: %s (removed).", k, show(b, k)))
		case b.str(k) != a.str(k):
			out = append(out, l.Tf("%s:由 %s 改為 %s。", "%s: from %s to %s.", k, show(b, k), show(a, k)))
		}
	}
	return out
}

func parseTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339Nano, s)
	return t
}

// AuditActor says who acted, from the actor as recorded ("user:alice",
// "staff:mei", "api:…", "system:renew-cli", "line:U…", "anonymous").
func (l Lang) AuditActor(actor string) string {
	kind, who, _ := strings.Cut(actor, ":")
	switch kind {
	case "user":
		return l.Tf("使用者 %s", "user %s", who)
	case "staff":
		return l.Tf("帳務人員 %s", "billing staff %s", who)
	case "api":
		return l.Tf("API 權杖 %s", "API token %s", who)
	case "system":
		return l.Tf("系統(%s)", "the system (%s)", who)
	case "line":
		return l.T("以 LINE 登入的訪客", "a visitor signed in with LINE")
	case "anonymous":
		return l.T("未登入的訪客", "a visitor not signed in")
	case "sim":
		return l.T("情境模擬", "the scenario simulator")
	case "link":
		return l.T("通知信連結的收件人", "the e-mailed link's recipient")
	}
	return actor
}
