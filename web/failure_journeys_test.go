package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
	"webstore/web/mail"
	"webstore/web/mail/mailpittest"
)

// A card declined at purchase: the checkout says so in red, with the
// reason, nothing is charged and the plan stays; with another card the
// same page buys it (a failed page's key is not reused).
func TestJourneyDeclinedAtPurchase(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	if _, err := a.Store.SaveInvoiceDetails(ctx, "test", "bear", billing.InvoiceDetails{Kind: billing.InvoiceMember, Email: "bear@journey.example.tw"}); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "bear", "4000000000000341") // attaches, every charge refused for insufficient funds
	u := httpSignIn(t, a.URL, "alice", nil)
	checkout := open(t, u, a.URL+"/a/bear/checkout?plan=high")
	failed := checkout.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}})
	if failed.Status != http.StatusPaymentRequired {
		t.Fatalf("declined purchase: %d, want 402\n%s", failed.Status, failed.text())
	}
	if msg := failed.Doc.Find(`p.error[data-testid="error"]`).Text(); !strings.Contains(msg, "付款失敗") || !strings.Contains(msg, "額度不足") {
		t.Errorf("declined purchase says %q, want a red failure with the reason", msg)
	}
	if strings.Contains(failed.Doc.Find(`.notice`).Text(), "失敗") {
		t.Error("a failure is shown in a success box")
	}
	if o, _ := a.Store.FindOverview(ctx, "bear"); o.Plan.ID != billing.Light {
		t.Fatalf("plan %s after a declined purchase", o.Plan.ID)
	}

	// 變更付款方式 from the checkout, a good card, back to the checkout, buy.
	methods := follow(t, u, open(t, u, failed.link(t, "change-method")))
	newMethod := follow(t, u, open(t, u, methods.link(t, "add-method")))
	back := addMethod(t, a, u, newMethod, billing.CreditCard)
	if !strings.Contains(back.URL.Path, "/checkout") {
		t.Fatalf("after adding a card: %s, want the checkout", back.URL)
	}
	done := back.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}})
	if done.Status != http.StatusSeeOther || !strings.Contains(done.URL.RawQuery, "done=1") {
		t.Fatalf("second purchase: %d to %s\n%s", done.Status, done.URL, done.text())
	}
	if got := follow(t, u, done).testID("line-total"); got != "NT$1,260.00" {
		t.Errorf("paid %q, want NT$1,260.00", got)
	}
	if o, _ := a.Store.FindOverview(ctx, "bear"); o.Plan.ID != billing.High {
		t.Errorf("plan %s, want high", o.Plan.ID)
	}
}

// A failed renewal: the banner's 變更付款方式 leads to 付款方式 and, once a
// good card is added, back to the page the admin came from, where 立即付款
// pays it once. Before that, 立即付款 with the refused card fails in red,
// and with no payment method at all it is refused without an attempt.
func TestJourneyFailedRenewalPaidNow(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	id := declineRenewal(t, a)
	sid := strconv.FormatInt(id, 10)
	if _, err := a.Store.SaveInvoiceDetails(ctx, "test", "cat", billing.InvoiceDetails{Kind: billing.InvoiceMember, Email: "cat@journey.example.tw"}); err != nil {
		t.Fatal(err)
	}
	u := httpSignIn(t, a.URL, "alice", nil)

	plan := open(t, u, a.URL+"/a/cat/plan")
	if !plan.has("owed-banner") {
		t.Fatalf("no banner\n%s", plan.text())
	}
	// 立即付款 with the same card: a failure, said as one.
	again := follow(t, u, plan.submit(t, u, `[data-testid="owed-pay-`+sid+`"]`, nil))
	if msg := again.testID("error"); !strings.Contains(msg, "付款失敗") || again.has("notice") {
		t.Errorf("a failed 立即付款 says %q (notice %q), want a red failure", msg, again.testID("notice"))
	}
	ch, _ := a.Store.FindChargeByID(ctx, id)
	attempts := ch.Attempts

	// No payment method: refused before any attempt.
	for _, m := range mustMethods(t, a, "cat") {
		if err := a.Store.RemovePaymentMethod(ctx, "test", "cat", m.ID); err != nil {
			t.Fatal(err)
		}
	}
	none := follow(t, u, open(t, u, a.URL+"/a/cat/plan").submit(t, u, `[data-testid="owed-pay-`+sid+`"]`, nil))
	if msg := none.testID("error"); !strings.Contains(msg, "尚未設定付款方式") {
		t.Errorf("立即付款 without a method says %q", msg)
	}
	if ch, _ := a.Store.FindChargeByID(ctx, id); ch.Attempts != attempts || ch.Status != billing.StatusFailed {
		t.Errorf("without a method: %d attempts (was %d), status %s", ch.Attempts, attempts, ch.Status)
	}

	// The banner's 變更付款方式 → add a card → back to the plan page → 立即付款.
	plan = open(t, u, a.URL+"/a/cat/plan")
	methods := follow(t, u, open(t, u, plan.link(t, "owed-methods")))
	if !methods.has("methods-back") {
		t.Errorf("付款方式 offers no way back\n%s", methods.text())
	}
	back := addMethod(t, a, u, follow(t, u, open(t, u, methods.link(t, "add-method"))), billing.CreditCard)
	if back.URL.Path != "/a/cat/plan" || !back.has("owed-pay-"+sid) {
		t.Fatalf("after adding a card: %s, want the plan page with 立即付款\n%s", back.URL, back.text())
	}
	paid := follow(t, u, back.submit(t, u, `[data-testid="owed-pay-`+sid+`"]`, nil))
	if !strings.Contains(paid.testID("notice"), "付款完成") {
		t.Errorf("立即付款: notice %q error %q", paid.testID("notice"), paid.testID("error"))
	}
	if ch, _ := a.Store.FindChargeByID(ctx, id); ch.Status != billing.StatusPaid || ch.Total != 840 {
		t.Errorf("renewal %s, total %d; want paid 840", ch.Status, ch.Total)
	}
	if plan := open(t, u, a.URL+"/a/cat/plan"); plan.has("owed-banner") {
		t.Error("the banner stays after paying")
	}
}

func mustMethods(t *testing.T, a app, account string) []db.PaymentMethod {
	t.Helper()
	ms, err := a.Store.PaymentMethods(context.Background(), account)
	if err != nil {
		t.Fatal(err)
	}
	return ms
}

// A failed upgrade, journey from the e-mail: two declined tries of the
// same purchase send one message; it offers 重新購買, not 立即付款; its
// link opens the checkout for that plan, which buys it with a good card.
func TestJourneyFailedUpgradeMailBuyAgain(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	mp := mailpittest.Start(t)
	smtp, err := mail.NewSMTP(mp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	w := &mail.Worker{Store: a.Store, Sender: smtp, From: "LINE官方帳號 <no-reply@webstore.test>", BaseURL: a.URL}
	if _, err := a.Store.SaveInvoiceDetails(ctx, "test", "bear", billing.InvoiceDetails{Kind: billing.InvoiceMember, Email: "bear@journey.example.tw"}); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "bear", "4000000000000341") // every charge refused for insufficient funds
	u := httpSignIn(t, a.URL, "alice", nil)
	page := open(t, u, a.URL+"/a/bear/checkout?plan=high")
	for try := 1; try <= 2; try++ {
		page = page.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}})
		if page.Status != http.StatusPaymentRequired {
			t.Fatalf("try %d: %d, want 402\n%s", try, page.Status, page.text())
		}
	}
	var failed int
	if err := a.Store.DB.Get(&failed, `SELECT count(*) FROM charges WHERE account_id='bear' AND status='failed'`); err != nil || failed != 2 {
		t.Fatalf("%d failed charges (%v), want 2 tries", failed, err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	ms := mp.Messages(t)
	if len(ms) != 1 {
		t.Fatalf("%d messages for one purchase tried twice, want 1", len(ms))
	}
	m := ms[0]
	if !strings.HasPrefix(m.Subject, "【熊美服飾店】") || !strings.Contains(m.Subject, "NT$1,260.00") || strings.Contains(m.Text+m.HTML, "立即付款") {
		t.Errorf("failed upgrade mail %q:\n%s", m.Subject, m.Text)
	}
	rebuy := doc(t, m.HTML).Find(`a:contains("重新購買")`)
	href, _ := rebuy.Attr("href")
	if href != a.URL+"/a/bear/checkout?plan=high" {
		t.Fatalf("重新購買 links to %q\n%s", href, m.HTML)
	}

	storeCard(t, a, "bear", "4242424242424242")
	checkout := open(t, u, href)
	if checkout.Status != http.StatusOK {
		t.Fatalf("重新購買: %d", checkout.Status)
	}
	done := checkout.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}})
	if done.Status != http.StatusSeeOther {
		t.Fatalf("bought again: %d\n%s", done.Status, done.text())
	}
	if got := follow(t, u, done).testID("line-total"); got != "NT$1,260.00" {
		t.Errorf("paid %q, want NT$1,260.00", got)
	}
	if o, _ := a.Store.FindOverview(ctx, "bear"); o.Plan.ID != billing.High {
		t.Errorf("plan %s, want high", o.Plan.ID)
	}
}
