package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/db"
	"webstore/web/payments/linepay"
)

const deskW, deskH = 1280, 900

// The desktop manager (設定 → 帳務專區): an admin upgrades light → high with
// a code from 推廣方案 (NT$1,200 − NT$800 = NT$400, +5% = NT$420), finds the
// charge in 付款記錄 with its lines and e-invoice number, and opens its
// receipt.
func TestDesktopUpgradeWithCodeHistoryAndReceipt(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setUpLinePay(t, a, "bear", linepay.CardCathayVisa)
	ctx := browser(t, deskW, deskH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/accounts"),
		chromedp.Click(tid("manager-bear")),
		chromedp.WaitVisible(tid("plan-table")),
	)
	if got := text(t, ctx, tid("next-renewal")); got != "不適用" {
		t.Errorf("預定續繳日期 on light = %q, want 不適用", got)
	}
	shot(t, ctx, "desktop-plan")
	do(t, ctx,
		chromedp.Click(tid("upgrade-high")),
		chromedp.WaitVisible(tid("code-input")),
		chromedp.SendKeys(tid("code-input"), demoCode(2)),
		chromedp.Click(tid("code-submit")),
		chromedp.WaitVisible(tid("code-applied")),
	)
	if got := text(t, ctx, tid("total")); got != "NT$420.00" {
		t.Fatalf("checkout total = %q, want NT$420.00", got)
	}
	shot(t, ctx, "desktop-checkout")
	do(t, ctx,
		chromedp.Click(tid("terms")),
		chromedp.Click(tid("buy")),
		chromedp.WaitVisible(tid("result-title")),
		chromedp.Click(tid("side-history")),
		chromedp.WaitVisible(tid("history-table")),
	)
	row := text(t, ctx, chromedp.CSS(`[data-testid="history-table"] tbody tr`))
	for _, want := range []string{"升級", "NT$1,200.00", "-NT$800.00", "NT$20.00", "NT$420.00", "已付款"} {
		if !strings.Contains(row, want) {
			t.Errorf("history row %q lacks %q", row, want)
		}
	}
	inv := text(t, ctx, chromedp.CSS(`[data-testid="history-table"] [data-testid="invoice"]`))
	if !strings.HasPrefix(inv, "AB") {
		t.Errorf("e-invoice number = %q", inv)
	}
	shot(t, ctx, "desktop-history")
	do(t, ctx, chromedp.Click(tid("receipt-link")), chromedp.WaitVisible(tid("receipt")))
	if got := text(t, ctx, tid("receipt-invoice")); got != inv {
		t.Errorf("receipt e-invoice %q, want %q", got, inv)
	}
	shot(t, ctx, "desktop-receipt")

	// The other screens of 帳務專區, as the README shows them.
	for _, page := range []struct{ path, ready, name string }{
		{"/payment-methods", "add-method", "desktop-methods"},
		{"/einvoice", "save-einvoice", "desktop-einvoice"},
		{"/promo", "promo-state", "desktop-promo"},
		{"/account", "account-region", "desktop-account"},
	} {
		do(t, ctx, chromedp.Navigate(a.URL+"/m/bear"+page.path), chromedp.WaitVisible(tid(page.ready)))
		shot(t, ctx, page.name)
	}
	do(t, ctx,
		chromedp.Navigate(a.URL+"/m/bear/payment-methods/new"),
		chromedp.Click(tid("kind-linepay")),
		chromedp.Click(tid("method-next")),
		chromedp.WaitVisible(chromedp.CSS(`a.btn`)),
	)
	shot(t, ctx, "desktop-linepay-wait")
}

// An invalid 統一編號 is refused with a clear sentence and nothing is saved.
func TestDesktopInvalidTaxIDRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, deskW, deskH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/m/bear/einvoice"),
		chromedp.Click(tid("inv-company")),
		chromedp.SendKeys(tid("company-title"), "熊美服飾有限公司"),
		chromedp.SendKeys(tid("tax-id"), "88117126"),
		chromedp.SendKeys(tid("email"), "owner@bear.example.tw"),
		chromedp.Click(tid("save-einvoice")),
		chromedp.WaitVisible(tid("error")),
	)
	if got := text(t, ctx, tid("error")); !strings.Contains(got, "統一編號") {
		t.Errorf("refusal = %q, want a sentence about 統一編號", got)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Value(tid("tax-id"))); got != "88117126" {
		t.Errorf("what was typed is not kept: %q", got)
	}
	shot(t, ctx, "desktop-einvoice-refused")
	o, err := a.Store.FindOverview(context.Background(), "bear")
	if err != nil {
		t.Fatal(err)
	}
	if o.Invoice != nil {
		t.Errorf("e-invoice details saved: %+v", *o.Invoice)
	}
}

// An operator sees 推廣方案 read-only: no 升級 / 降級 links, a note saying
// why.
func TestDesktopOperatorReadOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, deskW, deskH)
	signIn(t, ctx, a.URL, "oscar")
	do(t, ctx, chromedp.Navigate(a.URL+"/m/bear/plan"), chromedp.WaitVisible(tid("plan-table")), chromedp.WaitVisible(tid("readonly")))
	if n, _ := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(`[data-testid^="upgrade-"], [data-testid^="downgrade-"]`), chromedp.AtLeast(0))); len(n) != 0 {
		t.Errorf("an operator sees %d plan-change buttons", len(n))
	}
	shot(t, ctx, "desktop-operator-plan")
	do(t, ctx, chromedp.Navigate(a.URL+"/m/bear/account"), chromedp.WaitVisible(tid("account-region")))
	if n, _ := chromedp.Run(ctx, chromedp.Nodes(tid("account-save"), chromedp.AtLeast(0))); len(n) != 0 {
		t.Error("an operator can rename the account")
	}
}

// A month's additional messages on high are billed after it ends as their
// own charge (kind usage, 5% tax, no code) and show in 付款記錄: 1,000
// additional messages at NT$0.20 = NT$200, +5% = NT$210.
func TestDesktopHistoryShowsUsageCharge(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	oct := time.Date(2026, 10, 15, 12, 0, 0, 0, billing.Taipei)
	for i, n := range []int{6000, 1000} {
		if _, err := a.Store.RecordUsage(ctx, "test", db.UsageBatch{BatchID: fmt.Sprintf("oct-%d", i), AccountID: "dog",
			Kind: billing.MsgPush, Messages: n, SentAt: oct}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Store.BillUsage(ctx, "test", billing.MonthOf(oct)); err != nil {
		t.Fatal(err)
	}
	b := browser(t, deskW, deskH)
	signIn(t, b, a.URL, "alice")
	do(t, b, chromedp.Navigate(a.URL+"/m/dog/history"), chromedp.WaitVisible(tid("history-table")))
	row := text(t, b, chromedp.CSS(`[data-testid="history-table"] tbody tr`))
	for _, want := range []string{"加購訊息", "2026-10", "NT$200.00", "NT$10.00", "NT$210.00"} {
		if !strings.Contains(row, want) {
			t.Errorf("usage charge row %q lacks %q", row, want)
		}
	}
	shot(t, b, "desktop-history-usage")
}
