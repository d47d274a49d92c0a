package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

// startLinePayBind has u start adding LINE Pay to account through the app,
// approves the NT$1 authorization on the sandbox's pages with card, and
// returns the confirm URL LINE Pay sends the browser back to.
func startLinePayBind(t *testing.T, a app, u httpUser, account, card string) *url.URL {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, a.URL+"/a/"+account+"/payment-methods/new",
		strings.NewReader(url.Values{"kind": {"line_pay"}, "_csrf": {u.csrf}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	loc := res.Header.Get("Location")
	if res.StatusCode != http.StatusSeeOther || !strings.Contains(loc, "/sandbox/linepay/") {
		t.Fatalf("start LINE Pay binding: %s to %q", res.Status, loc)
	}
	back, err := sandboxtest.ApproveLinePay(context.Background(), http.DefaultClient, loc, card)
	if err != nil {
		t.Fatal(err)
	}
	if back.Query().Get("transactionId") == "" || !strings.HasPrefix(back.Query().Get("orderId"), "bind-"+account+"-") {
		t.Fatalf("LINE Pay's return: %s", back)
	}
	return back
}

// otherAuthorization is a NT$1 binding authorization requested by someone
// else (another browser, or a crafted link), approved and waiting for
// confirmation.
func otherAuthorization(t *testing.T, a app, orderID string) string {
	t.Helper()
	res, err := a.LinePay.Request(context.Background(), linepay.RequestParams{Amount: 1, OrderID: orderID, ProductName: "bind",
		ConfirmURL: a.URL + "/confirm", CancelURL: a.URL + "/cancel", AuthorizeOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandboxtest.ApproveLinePay(context.Background(), http.DefaultClient, res.PaymentURL.Web, linepay.CardCTBCMastercard); err != nil {
		t.Fatal(err)
	}
	return res.TransactionID
}

// payStatus is LINE Pay's status of an order's only transaction, "" when it
// lists none (requested or approved, not confirmed).
func payStatus(t *testing.T, a app, orderID string) string {
	t.Helper()
	d, err := a.LinePay.PaymentByOrderID(context.Background(), orderID)
	if err != nil {
		t.Fatal(err)
	}
	if len(d) == 0 {
		return ""
	}
	return d[0].PayStatus
}

func lineMethods(t *testing.T, a app, account string) int {
	t.Helper()
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM payment_methods WHERE account_id=$1 AND kind='line_pay' AND removed_at IS NULL`, account); err != nil {
		t.Fatal(err)
	}
	return n
}

func sandboxTxStatus(t *testing.T, a app, txID string) string {
	t.Helper()
	var s string
	if err := a.Store.DB.Get(&s, `SELECT status FROM sandbox_linepay_transactions WHERE transaction_id=$1`, txID); err != nil {
		t.Fatal(err)
	}
	return s
}

// getStatus follows no redirect.
func getStatus(t *testing.T, u httpUser, target string) int {
	t.Helper()
	res, err := u.c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res.StatusCode
}

// LINE Pay's return is matched against the flow this browser started (its
// state, transaction and order) before anything is confirmed; a
// confirmation that does not match the order is voided at once; the NT$1
// authorization of a binding that succeeds is voided too.
func TestLinePayBindingConfirmMatchesTheOrderFirst(t *testing.T) {
	a := newApp(t)
	u := httpSignIn(t, a.URL, "alice", nil)
	before := lineMethods(t, a, "cat")

	// A return naming another approved transaction (a link crafted with
	// someone else's authorization, carrying this browser's state): refused
	// without confirming it, so that card is not bound here.
	back := startLinePayBind(t, a, u, "cat", linepay.CardCathayVisa)
	other := otherAuthorization(t, a, "bind-cat-crafted0001")
	q := back.Query()
	q.Set("transactionId", other)
	q.Set("orderId", "bind-cat-crafted0001")
	crafted := *back
	crafted.RawQuery = q.Encode()
	if st := getStatus(t, u, crafted.String()); st != http.StatusBadRequest {
		t.Errorf("return with another transaction: HTTP %d, want 400", st)
	}
	if s := sandboxTxStatus(t, a, other); s != "approved" {
		t.Errorf("the other transaction is %s, want approved (never confirmed)", s)
	}
	// The flow ended with that return: the genuine one is refused now too.
	if st := getStatus(t, u, back.String()); st != http.StatusBadRequest {
		t.Errorf("genuine return after the flow ended: HTTP %d, want 400", st)
	}
	if s := sandboxTxStatus(t, a, back.Query().Get("transactionId")); s != "approved" {
		t.Errorf("this flow's transaction is %s after a refused return, want approved", s)
	}

	// A browser whose cookie names another transaction (it forged it) gets
	// that transaction confirmed, but LINE Pay's answer names another
	// order: the authorization is voided at once and nothing is bound.
	back = startLinePayBind(t, a, u, "cat", linepay.CardCathayVisa)
	other = otherAuthorization(t, a, "bind-cat-crafted0002")
	q = back.Query()
	forged := q.Get("state") + "." + other + "." + url.QueryEscape(q.Get("orderId"))
	base, _ := url.Parse(a.URL)
	u.c.Jar.SetCookies(base, []*http.Cookie{{Name: "ws_bind", Value: forged, Path: "/"}})
	q.Set("transactionId", other)
	crafted = *back
	crafted.RawQuery = q.Encode()
	if st := getStatus(t, u, crafted.String()); st != http.StatusBadRequest {
		t.Errorf("confirmation of another order: HTTP %d, want 400", st)
	}
	if s := payStatus(t, a, "bind-cat-crafted0002"); s != "VOIDED_AUTHORIZATION" {
		t.Errorf("the mismatched authorization is %q, want VOIDED_AUTHORIZATION", s)
	}
	if n := lineMethods(t, a, "cat"); n != before {
		t.Errorf("%d LINE Pay methods after refused returns, want %d", n, before)
	}

	// The genuine return: the method is added, its NT$1 released.
	back = startLinePayBind(t, a, u, "cat", linepay.CardCathayVisa)
	if st := getStatus(t, u, back.String()); st != http.StatusSeeOther {
		t.Fatalf("genuine return: HTTP %d, want 303", st)
	}
	if n := lineMethods(t, a, "cat"); n != before+1 {
		t.Errorf("%d LINE Pay methods, want %d", n, before+1)
	}
	order := back.Query().Get("orderId")
	deadline := time.Now().Add(5 * time.Second)
	for payStatus(t, a, order) != "VOIDED_AUTHORIZATION" && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if s := payStatus(t, a, order); s != "VOIDED_AUTHORIZATION" {
		t.Errorf("the binding's authorization is %q, want VOIDED_AUTHORIZATION", s)
	}
	// The same return again: the flow has ended.
	if st := getStatus(t, u, back.String()); st != http.StatusBadRequest {
		t.Errorf("replayed return: HTTP %d, want 400", st)
	}
}
