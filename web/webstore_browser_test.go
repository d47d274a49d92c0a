package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/db"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

const phoneW, phoneH = 375, 812

func demoCode(n int) string {
	m := billing.MonthOf(testNow)
	return fmt.Sprintf("DEMO-%02d%02d-%04d", m.Year%100, int(m.Month), n)
}

func countCharges(t *testing.T, a app, account string) int {
	t.Helper()
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM charges WHERE account_id=$1`, account); err != nil {
		t.Fatal(err)
	}
	return n
}

// (1) A light account's first purchase at phone width: e-invoice details,
// LINE Pay through the sandbox, the code registered at checkout, NT$0, and
// the plan page then shows 中用量 with 3,000 messages.
func TestPhoneFirstPurchaseWithLinePayAndCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, phoneW, phoneH)
	do(t, ctx, chromedp.Navigate(a.URL+"/signin"), chromedp.WaitVisible(tid("login")))
	shot(t, ctx, "phone-signin")
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/a/bear/menu"),
		chromedp.Click(tid("menu-plan")),
		chromedp.WaitVisible(tid("plan-name")),
	)
	if got := text(t, ctx, tid("plan-name")); got != "輕用量" {
		t.Fatalf("plan = %q, want 輕用量", got)
	}
	shot(t, ctx, "phone-plan")
	do(t, ctx, chromedp.Click(tid("upgrade-medium")), chromedp.WaitVisible(tid("first-purchase")))
	if got := text(t, ctx, tid("total")); got != "NT$840.00" {
		t.Errorf("checkout total before the code = %q, want NT$840.00", got)
	}
	shot(t, ctx, "phone-checkout-first")
	// Step 1: e-invoice details.
	do(t, ctx,
		chromedp.Click(tid("set-einvoice")),
		chromedp.Click(tid("inv-mobile_barcode")),
		chromedp.SendKeys(tid("carrier"), "/abc+123"),
		chromedp.SendKeys(tid("email"), "owner@bear.example.tw"),
		chromedp.Click(tid("save-einvoice")),
		chromedp.WaitVisible(tid("add-method")),
	)
	// Step 2: LINE Pay through the sandbox: "open LINE on your phone", then the phone.
	do(t, ctx,
		chromedp.Click(tid("add-method")),
		chromedp.Click(tid("kind-linepay")),
		chromedp.Click(tid("method-next")),
		chromedp.WaitVisible(chromedp.CSS(`a.btn`)),
	)
	shot(t, ctx, "phone-linepay-wait")
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`a.btn`)),
		chromedp.Click(chromedp.CSS(`input[name=card][value="`+linepay.CardCathayVisa+`"]`)),
		chromedp.Click(chromedp.CSS(`form.section button[type=submit]`)),
		chromedp.WaitVisible(chromedp.CSS(`form[action*="/app/payment/approve"] button[type=submit]`)),
	)
	shot(t, ctx, "phone-linepay-confirm")
	do(t, ctx,
		chromedp.Click(chromedp.CSS(`form[action*="/app/payment/approve"] button[type=submit]`)),
		chromedp.WaitVisible(tid("main-method")),
	)
	if got := text(t, ctx, tid("main-method")); !strings.Contains(got, "LINE Pay") {
		t.Errorf("main method = %q, want LINE Pay", got)
	}
	// Step 3: the code, registered in the checkout's box.
	do(t, ctx,
		chromedp.SendKeys(tid("code-input"), strings.ToLower(demoCode(1))),
		chromedp.Click(tid("code-submit")),
		chromedp.WaitVisible(tid("code-applied")),
	)
	if got := text(t, ctx, tid("offset")); got != "-NT$800.00" {
		t.Errorf("offset = %q", got)
	}
	if got := text(t, ctx, tid("total")); got != "NT$0.00" {
		t.Errorf("total = %q, want NT$0.00", got)
	}
	shot(t, ctx, "phone-checkout-code")
	// Step 4: agree and buy.
	do(t, ctx,
		chromedp.Click(tid("terms")),
		chromedp.Click(tid("buy")),
		chromedp.WaitVisible(tid("result-title")),
	)
	if got := text(t, ctx, tid("line-total")); got != "NT$0.00" {
		t.Errorf("charged total = %q", got)
	}
	shot(t, ctx, "phone-result")
	do(t, ctx, chromedp.Click(tid("to-plan")), chromedp.WaitVisible(tid("plan-name")))
	if got := text(t, ctx, tid("plan-name")); got != "中用量" {
		t.Errorf("plan after purchase = %q, want 中用量", got)
	}
	if got := text(t, ctx, tid("free-count")); !strings.HasSuffix(got, "/ 3,000") {
		t.Errorf("free messages = %q, want n / 3,000", got)
	}
	if n := countCharges(t, a, "bear"); n != 1 {
		t.Errorf("%d charges, want 1", n)
	}
	// The menu's other pages after the purchase, as the README shows them.
	for _, pg := range []struct{ path, ready, name string }{
		{"/menu", "menu-plan", "phone-menu"},
		{"/history", "charge-1", "phone-history"},
		{"/scheduled", "next-renewal-card", "phone-scheduled"},
		{"/payment-methods", "add-method", "phone-methods"},
		{"/promo", "promo-state", "phone-promo"},
		{"/einvoice", "save-einvoice", "phone-einvoice"},
	} {
		do(t, ctx, chromedp.Navigate(a.URL+"/a/bear"+pg.path), chromedp.WaitVisible(tid(pg.ready)))
		shot(t, ctx, pg.name)
	}
}

// setUpLinePay gives an account e-invoice details and a LINE Pay method
// bound through the sandbox, as an admin would have done before.
func setUpLinePay(t *testing.T, a app, account, card string) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.Store.SaveInvoiceDetails(ctx, "test", account, billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "919", Email: "a@b.example.tw"}); err != nil {
		t.Fatal(err)
	}
	gw := a.LinePay
	res, err := gw.Request(ctx, linepay.RequestParams{Amount: 1, OrderID: "setup-" + account, ProductName: "setup",
		ConfirmURL: a.URL + "/confirm", CancelURL: a.URL + "/cancel"})
	if err != nil {
		t.Fatal(err)
	}
	back, err := sandboxtest.ApproveLinePay(ctx, http.DefaultClient, res.PaymentURL.Web, card)
	if err != nil {
		t.Fatal(err)
	}
	conf, err := gw.Confirm(ctx, back.Query().Get("transactionId"), 1, "TWD")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.AddPaymentMethod(ctx, "test", db.PaymentMethod{AccountID: account, Kind: billing.LinePay, Token: conf.RegKey}, true); err != nil {
		t.Fatal(err)
	}
}

// (2) An account already set up upgrades medium → high with a code: NT$0,
// and NT$400 shown as forfeited.
func TestPhoneUpgradeMediumToHighForfeits(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setUpLinePay(t, a, "cat", linepay.CardCathayVisa)
	ctx := browser(t, phoneW, phoneH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/a/cat/plan"),
		chromedp.Click(tid("upgrade-high")),
		chromedp.WaitVisible(tid("code-input")),
		chromedp.SendKeys(tid("code-input"), demoCode(2)),
		chromedp.Click(tid("code-submit")),
		chromedp.WaitVisible(tid("code-applied")),
	)
	for id, want := range map[string]string{"amount": "NT$400.00", "offset": "-NT$400.00", "forfeited": "NT$400.00", "tax": "NT$0.00", "total": "NT$0.00"} {
		if got := text(t, ctx, tid(id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	shot(t, ctx, "phone-checkout-forfeit")
	do(t, ctx, chromedp.Click(tid("terms")), chromedp.Click(tid("buy")), chromedp.WaitVisible(tid("result-title")))
	if got := text(t, ctx, tid("line-forfeited")); got != "NT$400.00" {
		t.Errorf("forfeited line = %q", got)
	}
}

// (3) An expired code and a declined card show their messages and charge nothing.
func TestPhoneExpiredCodeAndDeclinedPayment(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setUpLinePay(t, a, "cat", linepay.CardDeclinedLater) // binds fine, every later payment fails
	ctx := browser(t, phoneW, phoneH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/a/cat/checkout?plan=high"),
		chromedp.SendKeys(tid("code-input"), "SUMMER-2024-0001"),
		chromedp.Click(tid("code-submit")),
		chromedp.WaitVisible(tid("code-error")),
	)
	if got := text(t, ctx, tid("code-error")); got != "此優惠活動代碼已過期" {
		t.Errorf("code error = %q", got)
	}
	if got, _ := chromedp.Run(ctx, chromedp.Value(tid("code-input"))); got != "SUMMER-2024-0001" {
		t.Errorf("typed code not kept: %q", got)
	}
	shot(t, ctx, "phone-code-expired")
	do(t, ctx, chromedp.Click(tid("terms")), chromedp.Click(tid("buy")), chromedp.WaitVisible(tid("error")))
	if got := text(t, ctx, tid("error")); !strings.Contains(got, "付款失敗") {
		t.Errorf("decline message = %q", got)
	}
	shot(t, ctx, "phone-declined")
	var paid int
	a.Store.DB.Get(&paid, `SELECT count(*) FROM charges WHERE account_id='cat' AND status='paid'`)
	if paid != 0 {
		t.Errorf("%d paid charges after a decline", paid)
	}
}

// (4) An operator sees the pages read-only and cannot purchase.
func TestPhoneOperatorCannotPurchase(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, phoneW, phoneH)
	signIn(t, ctx, a.URL, "oscar")
	do(t, ctx, chromedp.Navigate(a.URL+"/a/bear/plan"), chromedp.WaitVisible(tid("readonly")))
	if n, _ := chromedp.Run(ctx, chromedp.Nodes(tid("upgrade-medium"), chromedp.AtLeast(0))); len(n) != 0 {
		t.Error("an operator sees the upgrade link")
	}
	shot(t, ctx, "phone-operator")
	do(t, ctx, chromedp.Navigate(a.URL+"/a/bear/checkout?plan=medium"), chromedp.WaitVisible(tid("readonly")))
	if n, _ := chromedp.Run(ctx, chromedp.Nodes(tid("buy"), chromedp.AtLeast(0))); len(n) != 0 {
		t.Error("an operator sees 購買")
	}
	// Posting the purchase form anyway is refused.
	status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
		const f = new FormData(); f.append("plan", "medium"); f.append("key", "x"); f.append("terms", "yes");
		f.append("expect_total", "840"); f.append("expect_offset", "0");
		const r = await fetch("/a/bear/checkout", {method: "POST", body: new URLSearchParams(f)}); return r.status; })()`,
		chromedp.EvalAwaitPromise))
	if err != nil || status != http.StatusForbidden {
		t.Errorf("operator purchase POST: status %d, %v; want 403", status, err)
	}
	// Another account's pages are a plain 404.
	do(t, ctx, chromedp.Navigate(a.URL+"/a/dog/plan"), chromedp.WaitVisible(tid("error-page")))
	if got := text(t, ctx, chromedp.CSS("h1")); got != "404" {
		t.Errorf("another account's page: %q, want 404", got)
	}
	if n := countCharges(t, a, "bear"); n != 0 {
		t.Errorf("%d charges", n)
	}
}

// (5) A double-submit makes one charge.
func TestPhoneDoubleSubmitChargesOnce(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setUpLinePay(t, a, "cat", linepay.CardCathayVisa)
	ctx := browser(t, phoneW, phoneH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/a/cat/checkout?plan=high"),
		chromedp.Click(tid("terms")),
		// Two submits of the same form, as a double-click sends them.
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.querySelector('[data-testid="buy-form"]'); f.requestSubmit(); setTimeout(() => f.requestSubmit(), 5); })()`),
		chromedp.WaitVisible(tid("result-title")),
	)
	if n := countCharges(t, a, "cat"); n != 1 {
		t.Errorf("%d charges after a double submit, want 1", n)
	}
	if got := text(t, ctx, tid("line-total")); got != "NT$420.00" {
		t.Errorf("total = %q, want NT$420.00 (400 + 20 tax)", got)
	}
}

// The 方案 page shows this month's real counts as of the daily refresh,
// and on high the additional messages with their estimated charge:
// 1,000 additional messages at NT$0.20 = NT$200, +5% = NT$210.
func TestPhonePlanShowsUsage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	for i, n := range []int{6000, 1000} {
		if _, err := a.Store.RecordUsage(ctx, "test", db.UsageBatch{BatchID: fmt.Sprintf("dog-%d", i), AccountID: "dog",
			Kind: billing.MsgBroadcast, Messages: n, SentAt: testNow.Add(-time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	// Free messages never count.
	if _, err := a.Store.RecordUsage(ctx, "test", db.UsageBatch{BatchID: "dog-chat", AccountID: "dog",
		Kind: billing.MsgChat, Messages: 500, SentAt: testNow.Add(-time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.RefreshUsage(ctx, testNow); err != nil {
		t.Fatal(err)
	}
	b := browser(t, phoneW, phoneH)
	signIn(t, b, a.URL, "alice")
	do(t, b, chromedp.Navigate(a.URL+"/a/dog/plan"), chromedp.WaitVisible(tid("additional-estimate")))
	for id, want := range map[string]string{"free-count": "6,000 / 6,000", "additional-count": "1,000", "additional-estimate": "NT$210.00"} {
		if got := text(t, b, tid(id)); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	shot(t, b, "phone-plan-usage")
}

// addCard enters a card on the card gateway sandbox's hosted fields, from
// the account's 新增付款方式 page.
func addCard(t *testing.T, ctx context.Context, base, account, number string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/a/"+account+"/payment-methods/new"),
		chromedp.Click(tid("kind-card")),
		chromedp.Click(tid("method-next")),
		chromedp.WaitVisible(chromedp.ID("number")),
	)
	shot(t, ctx, "phone-card-fields")
	do(t, ctx,
		chromedp.SendKeys(chromedp.ID("number"), number),
		chromedp.SendKeys(chromedp.ID("exp"), "12/30"),
		chromedp.SendKeys(chromedp.ID("cvc"), "123"),
		chromedp.SendKeys(chromedp.ID("name"), "LIN ALICE"),
		chromedp.Click(chromedp.CSS(`form button[type=submit]:not([name])`)),
		chromedp.WaitNotPresent(chromedp.ID("number")),
	)
}

// Cards go only to the card gateway sandbox: a card declined when added is
// refused with its reason and nothing is stored; a good card becomes the
// main method (brand and last four digits only) and pays the upgrade.
func TestPhoneCardMethodAndPurchase(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, err := a.Store.SaveInvoiceDetails(context.Background(), "test", "cat",
		billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "919", Email: "a@b.example.tw"}); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, phoneW, phoneH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx, chromedp.Navigate(a.URL+"/a/cat/payment-methods/new"), chromedp.WaitVisible(tid("kind-card")))
	shot(t, ctx, "phone-add-method")
	addCard(t, ctx, a.URL, "cat", "4000 0000 0000 0002")
	do(t, ctx, chromedp.WaitVisible(tid("error")))
	if got := text(t, ctx, tid("error")); !strings.Contains(got, "信用卡") {
		t.Errorf("declined card: %q", got)
	}
	if ms, _ := a.Store.PaymentMethods(context.Background(), "cat"); len(ms) != 0 {
		t.Fatalf("a declined card was stored: %+v", ms)
	}
	addCard(t, ctx, a.URL, "cat", "4242 4242 4242 4242")
	ms, err := a.Store.PaymentMethods(context.Background(), "cat")
	if err != nil || len(ms) != 1 || ms[0].Last4 != "4242" || !ms[0].IsMain || strings.Contains(ms[0].Token, "4242424242424242") {
		t.Fatalf("stored methods: %+v, %v", ms, err)
	}
	do(t, ctx,
		chromedp.Navigate(a.URL+"/a/cat/checkout?plan=high"),
		chromedp.WaitVisible(tid("main-method")),
		chromedp.Click(tid("terms")),
		chromedp.Click(tid("buy")),
		chromedp.WaitVisible(tid("result-title")),
	)
	if got := text(t, ctx, tid("line-total")); got != "NT$420.00" {
		t.Errorf("charged %q, want NT$420.00", got)
	}
	shot(t, ctx, "phone-result-card")
}
