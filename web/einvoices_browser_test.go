package web_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/db"
)

// The console's 電子發票 page and a charge's refund, at 1280 px: the books,
// a waiting allowance, the messages; a partial refund from the form.
func TestStaffEInvoicesAndRefundBrowser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := t.Context()
	if _, err := a.Store.SaveInvoiceDetails(ctx, "user:alice", "cat", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode,
		Carrier: "/ABC+123", Email: "cafe@example.com"}); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "screens-refund")
	if _, err := a.Store.Refund(ctx, "staff:staff", db.RefundRequest{ChargeID: ch.ID, Amount: 100, Reason: "服務中斷補償", Key: "screens-r1"}); err != nil {
		t.Fatal(err)
	}
	// The next period's numbers not imported yet: the page asks for them.
	if _, err := a.Store.DB.Exec(`DELETE FROM einvoice_books WHERE period = '11602'`); err != nil {
		t.Fatal(err)
	}
	b := browser(t, staffW, staffH)
	signIn(t, b, a.URL, "staff")
	do(t, b, chromedp.Navigate(a.URL+"/staff"), chromedp.Click(tid("nav-einvoices")), chromedp.WaitVisible(tid("books")), chromedp.WaitVisible(tid("allowances")))
	if got := text(t, b, tid("einvoice-alerts")); !strings.Contains(got, "116年1–2月(11602)沒有可用的發票號碼") {
		t.Errorf("alerts %q", got)
	}
	if got := text(t, b, tid("allowances")); !strings.Contains(got, ch.Invoice) || !strings.Contains(got, "NT$100") {
		t.Errorf("waiting allowances %q", got)
	}
	axeClean(t, b, "/staff/einvoices")
	shot(t, b, "staff-einvoices")
	do(t, b, chromedp.SendKeys(tid("books-csv"), "year_month,track,begin,end\n11602,CD,00000001,00000049\n11601,CD,00000050,00000099\n"),
		chromedp.Click(tid("books-import")), chromedp.WaitVisible(tid("error")))
	if got := text(t, b, tid("error")); !strings.Contains(got, "第 2 行") || !strings.Contains(got, "第 3 行") {
		t.Errorf("refused import %q", got)
	}
	shot(t, b, "staff-einvoices-refused")

	do(t, b, chromedp.Navigate(a.URL+"/staff/accounts/cat"), chromedp.Click(tid("charge-link-"+itoa(ch.ID))), chromedp.WaitVisible(tid("refund-form")),
		chromedp.SendKeys(tid("refund-amount"), "50"), chromedp.SendKeys(tid("refund-reason"), "客戶要求部分退款"),
		chromedp.Click(tid("refund-submit")), chromedp.WaitVisible(tid("refund-outcome")))
	if got := text(t, b, tid("refund-outcome")); got != "已退款 NT$50。" {
		t.Errorf("outcome %q", got)
	}
	if got := text(t, b, tid("refund-left")); got != (ch.Total - 150).String() {
		t.Errorf("left %q, want %s", got, ch.Total-150)
	}
	axeClean(t, b, "/staff/charges/…")
	shot(t, b, "staff-charge-refund")
}

// The admin's consent page at 375 px: the allowance in words, one button,
// then the confirmation; nothing wider than the phone.
func TestPhoneAllowanceConsentBrowser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := t.Context()
	if _, err := a.Store.SaveInvoiceDetails(ctx, "user:alice", "cat", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode,
		Carrier: "/ABC+123", Email: "cafe@example.com"}); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "phone-consent")
	if _, err := a.Store.Refund(ctx, "staff:staff", db.RefundRequest{ChargeID: ch.ID, Amount: 120, Reason: "補償", Key: "phone-r1"}); err != nil {
		t.Fatal(err)
	}
	tok := consentToken(t, a)
	b := browser(t, phoneW, phoneH)
	do(t, b, chromedp.Navigate(a.URL+"/einvoice/allowances/"+tok), chromedp.WaitVisible(tid("allowance-agree")))
	if got := text(t, b, tid("allowance-total")); got != "NT$120" {
		t.Errorf("total %q", got)
	}
	wide := func() {
		t.Helper()
		if w, err := chromedp.Run(b, chromedp.Evaluate[int](`document.documentElement.scrollWidth`)); err != nil || w > phoneW {
			t.Errorf("page is %d px wide at %d (%v)", w, phoneW, err)
		}
	}
	wide()
	axeClean(t, b, "/einvoice/allowances/…")
	shot(t, b, "phone-allowance-consent")
	// The same link opened on a desktop.
	d := browser(t, 1280, 800)
	do(t, d, chromedp.Navigate(a.URL+"/einvoice/allowances/"+tok), chromedp.WaitVisible(tid("allowance-agree")))
	shot(t, d, "desktop-allowance-consent")
	do(t, b, chromedp.Click(tid("allowance-agree")), chromedp.WaitVisible(tid("allowance-agreed")))
	wide()
	shot(t, b, "phone-allowance-agreed")
}

// axeClean fails the test on any WCAG 2.1 AA violation axe finds on the
// page the browser shows (as TestAccessibility checks the other pages).
func axeClean(t *testing.T, b context.Context, name string) {
	t.Helper()
	src, err := os.ReadFile("../testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	report(t, name, axeCheck(t, b, string(src)))
}
