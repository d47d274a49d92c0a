package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/db"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/sandboxtest"
)

// storeCard keeps a card through the sandbox's hosted fields, as an admin
// does, and makes it the account's main method.
func storeCard(t *testing.T, a app, account, number string) {
	t.Helper()
	ctx := context.Background()
	cards := &cardgw.Client{BaseURL: a.URL + "/sandbox/card", SecretKey: "sk_sandbox"}
	p, err := sandboxtest.EnterCard(ctx, http.DefaultClient, cardgw.FieldsURL(cards.BaseURL, "pk_sandbox", a.URL+"/card"),
		sandboxtest.Card{Number: number, Expiry: "12/30", CVC: "123", Name: "林小美"})
	if err != nil || p.Location == nil {
		t.Fatalf("enter card %s: %v", number, err)
	}
	card, err := cards.AttachCard(ctx, p.Location.Query().Get("card_token"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.AddPaymentMethod(ctx, "test", db.PaymentMethod{AccountID: account, Kind: billing.CreditCard, Token: card.ID,
		Brand: card.Brand, Last4: card.Last4}, true); err != nil {
		t.Fatal(err)
	}
}

// A renewal refused for insufficient funds shows its reason and 立即付款 to
// the admin; with a good card, paying now pays it once, at the month's fee.
// An operator cannot.
func TestAdminPaysAFailedRenewalNow(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	ctx := context.Background()
	ch, err := a.Store.FindChargeByID(ctx, declineRenewal(t, a)) // the card is added, but every charge fails for insufficient funds
	if err != nil || ch.Status != billing.StatusFailed || ch.Failure != string(billing.FailInsufficientFunds) {
		t.Fatalf("cat's renewal %+v (%v), want failed for insufficient funds", ch, err)
	}
	alice := httpSignIn(t, a.URL, "alice", nil)
	page := a.URL + "/a/cat/charges/" + strconv.FormatInt(ch.ID, 10)
	status, body := alice.do(t, "GET", page, "", nil)
	if status != http.StatusOK || !strings.Contains(body, `data-testid="pay-now-`) || !strings.Contains(body, "額度不足") {
		t.Fatalf("charge page: %d, want the reason and 立即付款", status)
	}
	storeCard(t, a, "cat", "4242424242424242")
	status, _ = alice.do(t, "POST", page+"/pay", "application/x-www-form-urlencoded", strings.NewReader(""))
	if status != http.StatusSeeOther {
		t.Fatalf("pay now: %d, want 303 to the charge page", status)
	}
	paid, err := a.Store.FindChargeByID(ctx, ch.ID)
	if err != nil || paid.Status != billing.StatusPaid || paid.Total != 840 || paid.Attempts != 2 {
		t.Errorf("after pay now: %+v (%v), want paid 840 on the second attempt", paid, err)
	}
	var fee int64
	if err := a.Store.DB.Get(&fee, `SELECT fee_paid FROM account_months WHERE account_id='cat' AND month='2026-12-01'`); err != nil || fee != 800 {
		t.Errorf("December paid %d (%v), want 800", fee, err)
	}
	// Again: nothing is owed, nothing is charged, and the page says so.
	if status, _ := alice.do(t, "POST", page+"/pay", "application/x-www-form-urlencoded", strings.NewReader("")); status != http.StatusSeeOther {
		t.Errorf("pay now again: %d, want 303 back to the charge", status)
	}
	if _, body := alice.do(t, "GET", page+"?notice=nothing-owed", "", nil); !strings.Contains(body, "不需付款") {
		t.Error("the charge page does not say nothing is owed")
	}
	if again, _ := a.Store.FindChargeByID(ctx, ch.ID); again.Attempts != 2 {
		t.Errorf("pay now again made attempt %d", again.Attempts)
	}
	// alice is only an operator of dog: she may not pay its charges.
	if status, _ := alice.do(t, "POST", a.URL+"/a/dog/charges/"+strconv.FormatInt(ch.ID, 10)+"/pay", "application/x-www-form-urlencoded",
		strings.NewReader("")); status != http.StatusForbidden {
		t.Errorf("operator pay now: %d, want 403", status)
	}
}

// In a browser at phone and desktop width: the failed renewal's page shows
// why and 立即付款; paying with a good card shows it paid.
func TestPhoneAndDesktopPayNow(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	id := declineRenewal(t, a)
	path := "/charges/" + strconv.FormatInt(id, 10)

	desk := browser(t, 1280, 900)
	signIn(t, desk, a.URL, "alice")
	do(t, desk, chromedp.Navigate(a.URL+"/m/cat"+path), chromedp.WaitVisible(tid("pay-now-"+strconv.FormatInt(id, 10))))
	shot(t, desk, "desktop-pay-now")

	b := browser(t, 375, 812)
	signIn(t, b, a.URL, "alice")
	do(t, b, chromedp.Navigate(a.URL+"/a/cat"+path), chromedp.WaitVisible(tid("charge-reason")))
	if got := text(t, b, tid("charge-reason")); !strings.Contains(got, "額度不足") {
		t.Errorf("reason %q", got)
	}
	shot(t, b, "phone-pay-now")
	storeCard(t, a, "cat", "4242424242424242")
	do(t, b, chromedp.Click(tid("pay-now-"+strconv.FormatInt(id, 10))), chromedp.WaitVisible(tid("notice")))
	if got := text(t, b, tid("charge-"+strconv.FormatInt(id, 10))); !strings.Contains(got, "已付款") || !strings.Contains(got, "840") {
		t.Errorf("after paying now: %q", got)
	}
	shot(t, b, "phone-pay-now-paid")
}
