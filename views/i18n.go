// Package views holds the templ components: layouts, pages and partials,
// with typed view models shaped like the screens. No queries, no rules.
package views

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"webstore/billing"
)

// Lang is the page language: "zh-TW" (the product's) or "en".
type Lang string

// The two languages.
const (
	ZH Lang = "zh-TW"
	EN Lang = "en"
)

// T picks the sentence for the page's language; every string on a page is
// written with its translation beside it.
func (l Lang) T(zh, en string) string {
	if l == EN {
		return en
	}
	return zh
}

// Tf is T with fmt.Sprintf arguments.
func (l Lang) Tf(zh, en string, args ...any) string { return fmt.Sprintf(l.T(zh, en), args...) }

// HTML is the value of the html lang attribute.
func (l Lang) HTML() string {
	if l == EN {
		return "en"
	}
	return "zh-Hant-TW"
}

// Other is the language the switch offers.
func (l Lang) Other() Lang {
	if l == EN {
		return ZH
	}
	return EN
}

// Label names a language in itself.
func (l Lang) Label() string {
	if l == EN {
		return "English"
	}
	return "繁體中文"
}

// Err is a refusal's sentence in the page's language.
func (l Lang) Err(err error) string {
	var e *billing.Error
	if c := billing.ErrorCode(err); c != "" {
		if errors.As(err, &e) && e.Detail != "" && l == ZH && (c == billing.EInvalid || c == billing.EMonthNotCurrent) {
			return e.Detail
		}
		return billing.CodeMessage(c, string(l))
	}
	return l.T("發生錯誤,請稍後再試。", "Something went wrong. Please try again.")
}

// TWTime formats an instant in Taiwan time, as admins read it.
func TWTime(t time.Time) string { return t.In(billing.Taipei).Format("2006/01/02 15:04") }

// TWDate formats an instant's Taiwan date.
func TWDate(t time.Time) string { return t.In(billing.Taipei).Format("2006/01/02") }

// PlanName is a plan's name in the page's language.
func (l Lang) PlanName(p billing.Plan) string { return p.Name(string(l)) }

// PlanNameByID names a plan id in the catalog.
func (l Lang) PlanNameByID(c billing.Catalog, id billing.PlanID) string {
	p, err := c.Plan(id)
	if err != nil {
		return string(id)
	}
	return p.Name(string(l))
}

// RoleLabel names a role.
func (l Lang) RoleLabel(r billing.Role) string {
	switch r {
	case billing.RoleAdmin:
		return l.T("管理員", "Admin")
	case billing.RoleOperator:
		return l.T("操作人員", "Operator")
	case billing.RoleOperatorNoBroadcast:
		return l.T("操作人員(無法傳送訊息)", "Operator (no broadcasts)")
	case billing.RoleOperatorNoStats:
		return l.T("操作人員(無法查看統計資料)", "Operator (no statistics)")
	}
	return string(r)
}

// PaymentKind names a payment kind.
func (l Lang) PaymentKind(k billing.PaymentKind) string {
	switch k {
	case billing.LinePay:
		return "LINE Pay"
	case billing.CreditCard:
		return l.T("信用卡", "Credit card")
	case billing.BankTransfer:
		return l.T("銀行轉帳", "Bank transfer")
	}
	return l.T("未設定", "None")
}

// PaymentKinds lists kinds as a sentence does: 「信用卡或 LINE Pay」, "a credit card or LINE Pay".
func (l Lang) PaymentKinds(ks []billing.PaymentKind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = l.PaymentKind(k)
		if l == EN && k == billing.CreditCard {
			names[i] = "a credit card"
		}
	}
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], l.T("、", ", ")) + l.T("或 ", " or ") + names[len(names)-1]
}

// MethodLabel describes a stored payment method.
func (l Lang) MethodLabel(pm Method) string {
	switch {
	case pm.Kind == billing.CreditCard && pm.Last4 != "":
		return fmt.Sprintf("%s •••• %s", brandName(pm.Brand), pm.Last4)
	case pm.Label != "":
		return l.PaymentKind(pm.Kind) + " " + pm.Label
	}
	return l.PaymentKind(pm.Kind)
}

func brandName(b string) string {
	switch b {
	case "visa":
		return "Visa"
	case "mastercard":
		return "Mastercard"
	case "jcb":
		return "JCB"
	case "amex":
		return "American Express"
	}
	return b
}

// ChargeKind names a charge kind.
func (l Lang) ChargeKind(k billing.ChargeKind) string {
	switch k {
	case billing.KindUpgrade:
		return l.T("升級", "Upgrade")
	case billing.KindRenewal:
		return l.T("自動續約", "Renewal")
	case billing.KindUsage:
		return l.T("加購訊息", "Additional messages")
	}
	return string(k)
}

// ChargeStatus names a charge status.
func (l Lang) ChargeStatus(s billing.ChargeStatus) string {
	switch s {
	case billing.StatusPaid:
		return l.T("已付款", "Paid")
	case billing.StatusPending:
		return l.T("處理中", "Processing")
	case billing.StatusFailed:
		return l.T("付款失敗", "Failed")
	case billing.StatusVoid:
		return l.T("已取消", "Void")
	}
	return string(s)
}

// CodeStatus names a code status.
func (l Lang) CodeStatus(s billing.CodeStatus) string {
	switch s {
	case billing.CodeRegistered:
		return l.T("已登錄(尚未使用)", "Registered (not used yet)")
	case billing.CodeReserved:
		return l.T("付款處理中", "Payment in progress")
	case billing.CodeRedeemed:
		return l.T("已使用", "Redeemed")
	case billing.CodeExpired:
		return l.T("已過期", "Expired")
	}
	return string(s)
}

// Num formats an integer with thousands separators.
func Num(n int) string { return billing.Money(n).Digits() }

// InvoiceSummary is where an account's e-invoices go, in one line.
func (l Lang) InvoiceSummary(d billing.InvoiceDetails) string {
	switch d.Kind {
	case billing.InvoiceMember:
		return l.T("會員載具 ", "Member carrier ") + d.Email
	case billing.InvoiceMobileBarcode:
		return l.T("手機條碼載具 ", "Mobile barcode ") + d.Carrier
	case billing.InvoiceCitizenCertificate:
		return l.T("自然人憑證載具 ", "Citizen certificate ") + d.Carrier
	case billing.InvoiceCompany:
		return d.CompanyTitle + l.T("(統一編號 ", " (tax ID ") + d.TaxID + l.T(")", ")")
	case billing.InvoiceDonation:
		return l.T("捐贈碼 ", "Donation code ") + d.DonationCode
	}
	return ""
}

// Region is an account's country or region by name.
func (l Lang) Region(code string) string {
	switch code {
	case "TW":
		return l.T("台灣 (TW)", "Taiwan (TW)")
	case "JP":
		return l.T("日本 (JP)", "Japan (JP)")
	case "TH":
		return l.T("泰國 (TH)", "Thailand (TH)")
	}
	return code
}
