package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/db"
)

// lines is how many lines the text of the first element matching sel takes.
func lines(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	js := `(() => { const el = document.querySelector(` + strconv.Quote(sel) + `); if (!el) return -1;
		const r = document.createRange(); r.selectNodeContents(el);
		return new Set([...r.getClientRects()].filter(x => x.width > 0).map(x => Math.round(x.top))).size; })()`
	n, err := chromedp.Run(ctx, chromedp.Evaluate[int](js))
	if err != nil {
		t.Fatal(err)
	}
	if n < 0 {
		t.Fatalf("no %s on the page", sel)
	}
	return n
}

// The screens issue 12 found different from the document, at 375 px: the
// renewal date is the 1st (下個月1日) with its Taiwan-time note, the 2023/9/1
// notice and its 更多詳細內容, 專屬ID in the menu, a receipt link on 付款記錄,
// confirmations before a downgrade and before removing the only payment
// method of a paid plan, labels that do not wrap mid-word, amounts written
// NT$800.00, and the e-invoice form showing the chosen type's fields.
func TestPhoneDocumentScreens(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	storeCard(t, a, "cat", "4242424242424242")
	if _, err := a.Store.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "cat", Plan: billing.High, Key: "screens-1"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.RegisterCode(ctx, "test", "cat", "DEMO-2611-0002"); err != nil {
		t.Fatal(err)
	}
	b := browser(t, 375, 812)
	signIn(t, b, a.URL, "alice")

	// 優惠活動代碼: the labels whole, the renewal on the 1st, NT$800.00.
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/promo"), chromedp.WaitVisible(tid("next-offset")))
	if got := text(t, b, tid("next-offset")); !strings.Contains(got, "2026/12/01") || !strings.Contains(got, "NT$800.00") {
		t.Errorf("promo %q, want the renewal of 2026/12/01 offset by NT$800.00", got)
	}
	if n := lines(t, b, `[data-testid="promo-state"] dt:nth-of-type(4)`); n != 1 {
		t.Errorf("登錄時間 takes %d lines at 375 px, want 1", n)
	}
	if n := lines(t, b, `[data-testid="promo-state"] dt:nth-of-type(3)`); n > 2 {
		t.Errorf("有效期間(台灣時間) takes %d lines at 375 px, want at most 2 (有效期間 / (台灣時間))", n)
	}
	shot(t, b, "phone-promo-registered")

	// 方案: 2026/12/01, not 2026/11/30 23:00.
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/plan"), chromedp.WaitVisible(tid("next-renewal")))
	if got := text(t, b, tid("next-renewal")); got != "2026/12/01" {
		t.Errorf("next renewal %q, want 2026/12/01", got)
	}
	if got := text(t, b, tid("next-renewal-note")); !strings.Contains(got, "下個月1日") || !strings.Contains(got, "台灣時間 2026/11/30 23:00") {
		t.Errorf("renewal note %q", got)
	}
	for _, label := range []string{`[data-testid="current-plan"] dt:nth-of-type(2)`, `[data-testid="current-plan"] dt:nth-of-type(3)`} {
		if n := lines(t, b, label); n != 1 {
			t.Errorf("%s takes %d lines at 375 px, want 1", label, n)
		}
	}
	shot(t, b, "phone-plan-paid")
	do(t, b, chromedp.Click(tid("plan-change-more")), chromedp.WaitVisible(tid("plan-news")))
	if got := text(t, b, tid("plan-news")); !strings.Contains(got, "NT$800.00") || !strings.Contains(got, "2023年9月1日") {
		t.Errorf("plan news %q", got)
	}

	// Downgrade: asked first, nothing scheduled on 取消.
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/plan"), chromedp.Click(tid("downgrade-light")), chromedp.WaitVisible(tid("confirm-downgrade")))
	if got := text(t, b, tid("confirm-downgrade")); !strings.Contains(got, "2026/12/01") || !strings.Contains(got, "取消自動續約") {
		t.Errorf("downgrade confirmation %q", got)
	}
	shot(t, b, "phone-downgrade-confirm")
	do(t, b, chromedp.Click(tid("confirm-downgrade-no")), chromedp.WaitVisible(tid("plan-name")))
	if n, _ := chromedp.Run(b, chromedp.Nodes(tid("scheduled"), chromedp.AtLeast(0))); len(n) != 0 {
		t.Fatal("a downgrade was scheduled without confirmation")
	}
	do(t, b, chromedp.Click(tid("downgrade-medium")), chromedp.WaitVisible(tid("confirm-downgrade-yes")),
		chromedp.Click(tid("confirm-downgrade-yes")), chromedp.WaitVisible(tid("scheduled")))
	if got := text(t, b, tid("scheduled")); !strings.Contains(got, "2026/12/01") || !strings.Contains(got, "中用量") {
		t.Errorf("scheduled %q", got)
	}

	// 專屬ID from the menu.
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/menu"), chromedp.Click(tid("menu-premium-id")), chromedp.WaitVisible(tid("basic-id")))
	if got := text(t, b, tid("basic-id")); got != "@cat" {
		t.Errorf("basic ID %q, want @cat", got)
	}

	// 付款記錄 → 收據.
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/history"), chromedp.Click(tid("receipt-link")), chromedp.WaitVisible(tid("receipt")))
	if got := text(t, b, tid("receipt")); !strings.Contains(got, "NT$420.00") {
		t.Errorf("receipt %q, want the upgrade's NT$420.00", got)
	}

	// The only card of a paid plan: asked first.
	var card int64
	if err := a.Store.DB.Get(&card, `SELECT id FROM payment_methods WHERE account_id='cat' AND removed_at IS NULL`); err != nil {
		t.Fatal(err)
	}
	remove := tid("remove-method-" + strconv.FormatInt(card, 10))
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/payment-methods"), chromedp.Click(remove), chromedp.WaitVisible(tid("confirm-remove-method")))
	if got := text(t, b, tid("confirm-remove-method")); !strings.Contains(got, "2026/12/01") {
		t.Errorf("removal confirmation %q", got)
	}
	shot(t, b, "phone-remove-method-confirm")
	do(t, b, chromedp.Click(tid("confirm-remove-method-no")), chromedp.WaitVisible(remove))
	do(t, b, chromedp.Click(remove), chromedp.WaitVisible(tid("confirm-remove-method-yes")),
		chromedp.Click(tid("confirm-remove-method-yes")), chromedp.WaitVisible(tid("no-methods")))

	// 電子發票資訊: only the chosen type's fields.
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/einvoice"), chromedp.WaitVisible(tid("inv-company")))
	do(t, b, chromedp.Click(tid("inv-company")), chromedp.WaitVisible(tid("tax-id")), chromedp.WaitNotVisible(tid("carrier")),
		chromedp.WaitNotVisible(tid("donation-code")))
	do(t, b, chromedp.Click(tid("inv-donation")), chromedp.WaitVisible(tid("donation-code")), chromedp.WaitNotVisible(tid("tax-id")))
	do(t, b, chromedp.Click(tid("inv-mobile_barcode")), chromedp.WaitVisible(tid("carrier")), chromedp.WaitNotVisible(tid("company-title")))
	shot(t, b, "phone-einvoice-barcode")
}

// On the desktop: 開店幫手 in the top bar, 專屬ID under 帳務專區, the notice
// of the 2023/9/1 change on 推廣方案.
func TestDesktopDocumentScreens(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := browser(t, 1280, 900)
	signIn(t, b, a.URL, "alice")
	do(t, b, chromedp.Navigate(a.URL+"/m/cat/plan"), chromedp.WaitVisible(tid("plan-change-notice")))
	nav := text(t, b, chromedp.CSS(".topnav"))
	if !strings.Contains(nav, "開店幫手") || strings.Contains(nav, "購物商城") {
		t.Errorf("top bar %q, want 開店幫手", nav)
	}
	if got := text(t, b, tid("next-renewal")); got != "2026/12/01" {
		t.Errorf("next renewal %q, want 2026/12/01", got)
	}
	shot(t, b, "desktop-plan-paid")
	do(t, b, chromedp.Click(tid("side-premium-id")), chromedp.WaitVisible(tid("basic-id")))
	if got := text(t, b, tid("premium-id")); got != "尚未使用" {
		t.Errorf("專屬ID %q, want 尚未使用", got)
	}
}

// 會員載具 is offered, asks only for the e-mail address, and is kept.
func TestPhoneEinvoiceMemberCarrier(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := browser(t, 375, 812)
	signIn(t, b, a.URL, "alice")
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/einvoice"), chromedp.Click(tid("inv-member")),
		chromedp.WaitNotVisible(tid("carrier")), chromedp.WaitNotVisible(tid("tax-id")), chromedp.WaitNotVisible(tid("donation-code")),
		chromedp.SendKeys(tid("email"), "owner@cat.example.tw"), chromedp.Click(tid("save-einvoice")), chromedp.WaitVisible(tid("notice")))
	d, err := a.Store.FindOverview(context.Background(), "cat")
	if err != nil || d.Invoice == nil || d.Invoice.Kind != billing.InvoiceMember || d.Invoice.Email != "owner@cat.example.tw" {
		t.Fatalf("saved %+v (%v), want the member carrier of owner@cat.example.tw", d.Invoice, err)
	}
	shot(t, b, "phone-einvoice-member")
}
