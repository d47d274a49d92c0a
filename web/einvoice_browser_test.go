package web_test

import (
	"context"
	"os"
	"strconv"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/db"
)

// A charge with its e-invoice and a part refund, and a company's
// 電子發票證明聯, in Chromium at 375 px (webstore) and 1280 px (manager):
// each fits its window, the invoice number and amounts stay on one line,
// the proof prints without the page's buttons, and axe-core finds no
// serious or critical violation on either page.
func TestInvoiceScreens(t *testing.T) {
	t.Parallel()
	axe, err := os.ReadFile("../testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t)
	ctx := context.Background()
	upgrade := func(acct string, d billing.InvoiceDetails) int64 {
		t.Helper()
		storeCard(t, a, acct, "4242424242424242")
		if _, err := a.Store.SaveInvoiceDetails(ctx, "test", acct, d); err != nil {
			t.Fatal(err)
		}
		ch, err := a.Store.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: acct, Plan: billing.High, Key: "screens-" + acct})
		if err != nil {
			t.Fatal(err)
		}
		return ch.ID
	}
	refunded := upgrade("cat", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode, Carrier: "/ABC+123", Email: "alice@example.tw"})
	if _, err := a.Store.Refund(ctx, "staff:test", db.RefundRequest{ChargeID: refunded, Amount: 150, Reason: "部分退款", Key: "screens-refund"}); err != nil {
		t.Fatal(err)
	}
	company := upgrade("bear", billing.InvoiceDetails{Kind: billing.InvoiceCompany, CompanyTitle: "範例科技股份有限公司", TaxID: "04595252", Email: "ap@example.tw"})

	for _, tc := range []struct {
		name    string
		surface string
		width   int64
	}{
		{"phone", "a", phoneW},
		{"desktop", "m", deskW},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			b := browser(t, tc.width, 900)
			signIn(t, b, a.URL, "alice")
			where := tc.name + " charge page"
			do(t, b, chromedp.Navigate(a.URL+"/"+tc.surface+"/cat/charges/"+strconv.FormatInt(refunded, 10)), chromedp.WaitVisible(tid("einvoice")))
			fits(t, b, where, `[data-testid="einvoice"] dd`, `[data-testid="refunds"] li`, `[data-testid="allowance-consent"]`)
			for _, sel := range []string{`[data-testid="einvoice-number"]`, `[data-testid="einvoice-at"]`, `[data-testid="einvoice-to"]`} {
				if n := lines(t, b, sel); n != 1 {
					t.Errorf("%s: %s takes %d lines, want 1", where, sel, n)
				}
			}
			// 已退款 NT$150 and its date: one line (its tag and date are
			// other sizes, so measured by height rather than by lines).
			if !evalBool(t, b, `(() => { const e = document.querySelector('[data-testid="refund-line"]');
				return e.getBoundingClientRect().height < 1.6 * parseFloat(getComputedStyle(e).lineHeight); })()`) {
				t.Errorf("%s: the refund line wraps", where)
			}
			report(t, where, axeCheck(t, b, string(axe)))
			shot(t, b, tc.name+"-charge-refund")
			// The receipt and 付款記錄 with the same refund fit too.
			do(t, b, chromedp.Navigate(a.URL+"/"+tc.surface+"/cat/charges/"+strconv.FormatInt(refunded, 10)+"/receipt"), chromedp.WaitVisible(tid("einvoice")))
			fits(t, b, tc.name+" receipt", `[data-testid="einvoice"] dd`, `[data-testid="refunds"] li`)
			do(t, b, chromedp.Navigate(a.URL+"/"+tc.surface+"/cat/history"), chromedp.WaitVisible(`[data-testid="refund-line"]`))
			fits(t, b, tc.name+" 付款記錄", `[data-testid="refund-line"]`, `[data-testid="refund-net"]`)
			if !evalBool(t, b, `[...document.querySelectorAll('.table-wrap')].every(w => w.scrollWidth <= w.clientWidth)`) {
				t.Errorf("%s 付款記錄: the table scrolls sideways with a refund (明細 and 收據 are cut off)", tc.name)
			}

			where = tc.name + " 電子發票證明聯"
			do(t, b, chromedp.Navigate(a.URL+"/"+tc.surface+"/bear/charges/"+strconv.FormatInt(company, 10)), chromedp.Click(tid("einvoice-proof-link")),
				chromedp.WaitVisible(tid("einvoice-proof")))
			fits(t, b, where, `.einvoice-proof`, `.proof-kv dd`, `.proof-items td`)
			for _, sel := range []string{`[data-testid="proof-number"]`, `[data-testid="proof-at"]`, `[data-testid="proof-total"]`, `.einvoice-proof h1`} {
				if n := lines(t, b, sel); n != 1 {
					t.Errorf("%s: %s takes %d lines, want 1", where, sel, n)
				}
			}
			report(t, where, axeCheck(t, b, string(axe)))
			shot(t, b, tc.name+"-einvoice-proof")

			// Printed: the slip alone, no buttons.
			do(t, b, printMedia())
			if evalBool(t, b, `getComputedStyle(document.querySelector('.proof-actions')).display !== 'none'`) {
				t.Errorf("%s: the print and back buttons print", where)
			}
			if tc.name == "desktop" {
				shot(t, b, "print-einvoice-proof")
			}
		})
	}
}

// printMedia lays the page out as it prints.
func printMedia() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: "print"})
		return chromedp.Void{}, err
	}
}
