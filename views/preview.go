package views

import (
	"errors"
	"strings"
	"time"

	"webstore/billing"
)

// 費用試算: the charge preview and its reasons, in sentences.

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
