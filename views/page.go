package views

import (
	"net/url"
	"strings"

	"webstore/billing"
)

// Page is what every page's layout needs.
type Page struct {
	Lang  Lang
	Title string
	CSRF  string
	// Path is the current path, for the language switch to come back to.
	Path string
	User *User
	// Account is the official account the page is about, with the user's
	// role in it; nil outside an account.
	Account *Membership
	// Desktop is the desktop manager's surface (/m/), else the phone
	// webstore's (/a/).
	Desktop bool
	// Refresh reloads the page after this many seconds (0: never), for a
	// result still being processed.
	Refresh int
	// Notice and Error are one-line messages at the top of the page.
	Notice string
	Error  string
}

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
	{"einvoices", "/staff/einvoices", "電子發票", "E-invoices"},
	{"audit", "/staff/audit", "稽核紀錄", "Audit log"},
	{"tokens", "/staff/tokens", "API 權杖", "API tokens"},
}

// IsAdmin reports whether the user may change the account's billing.
func (p Page) IsAdmin() bool { return p.Account != nil && p.Account.Role == billing.RoleAdmin }

// A returns the URL of an account page on the page's surface:
// A("/plan") → /a/bear/plan on the phone, /m/bear/plan on the desktop.
func (p Page) A(path string) string {
	if p.Account == nil {
		return path
	}
	if p.Desktop {
		return "/m/" + p.Account.AccountID + path
	}
	return "/a/" + p.Account.AccountID + path
}

// Here reports whether the page is the account page at path or below it
// (the desktop sidebar marks it).
func (p Page) Here(path string) bool {
	under := func(path string) bool {
		a := p.A(path)
		return p.Path == a || strings.HasPrefix(p.Path, a+"/") || strings.HasPrefix(p.Path, a+"?")
	}
	alias, ok := sideAlias[path]
	return under(path) || ok && under(alias)
}

// sideAlias is the page under each sidebar entry that is not below its
// path: checkout belongs to 推廣方案, a charge to 付款記錄.
var sideAlias = map[string]string{"/plan": "/checkout", "/history": "/charges"}

// topNav is the manager's top bar before 設定: parts of LINE Official
// Account Manager this product does not recreate, shown inactive.
var topNav = [][2]string{
	{"主頁", "Home"}, {"分析", "Insights"}, {"聊天", "Chats"}, {"基本檔案", "Profile"},
	{"LINE VOOM", "LINE VOOM"}, {"擴充功能", "Extensions"}, {"開店幫手", "Shop Helper"},
}

// LangSwitch is the link to the other language that comes back to this
// page, query included.
func (p Page) LangSwitch() string {
	return "/lang?to=" + string(p.Lang.Other()) + "&next=" + url.QueryEscape(p.Path)
}

// backLabel names the page a 返回 link goes back to (the page that sent the
// admin to change the payment method).
func backLabel(p Page, next string) string {
	switch {
	case strings.Contains(next, "/checkout"):
		return p.Lang.T("返回結帳", "Back to checkout")
	case strings.Contains(next, "/charges/"):
		return p.Lang.T("返回付款明細並立即付款", "Back to the charge to pay now")
	}
	return p.Lang.T("返回並立即付款", "Back to pay now")
}

// codeAppliesTo says what a campaign's codes offset, from its own terms
// (TermsOf, as the promo page prints them), and until when.
func codeAppliesTo(p Page, cat billing.Catalog, c billing.Campaign) string {
	t := p.Lang.TermsOf(cat, c)
	s := p.Lang.Tf("升級 %s;續約 %s", "upgrades %s; renewals of %s", t.Upgrades, t.Renewals)
	if !c.ValidUntil.IsZero() {
		s += p.Lang.Tf("(有效期限至 %s)", " (valid until %s)", TWTime(c.ValidUntil))
	}
	return s + p.Lang.T("。", ".")
}
