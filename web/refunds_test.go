package web_test

import (
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
)

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// paidUpgrade buys High for account (which has a card) and returns the
// paid charge.
func paidUpgrade(t *testing.T, a app, account, key string) db.Charge {
	t.Helper()
	ch, err := a.Store.Upgrade(t.Context(), "user:alice", db.UpgradeRequest{AccountID: account, Plan: billing.High, Key: key})
	if err != nil || ch.Status != billing.StatusPaid {
		t.Fatalf("upgrade %s: %+v %v", account, ch, err)
	}
	return ch
}

func countRefunds(t *testing.T, a app, chargeID int64) int {
	t.Helper()
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM refunds WHERE charge_id=$1`, chargeID); err != nil {
		t.Fatal(err)
	}
	return n
}

// Staff reach a charge from the account page and refund all of it with
// the form (amount left blank): the page says it succeeded, lists the
// refund and shows the invoice cancelled; nothing is left to refund.
func TestStaffRefundsAChargeInFull(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "full-1")
	staff := httpSignIn(t, a.URL, "staff", nil)
	acct := open(t, staff, a.URL+"/staff/accounts/cat")
	page := open(t, staff, acct.link(t, "charge-link-"+itoa(ch.ID)))
	if page.Status != http.StatusOK || page.testID("refund-left") != ch.Total.String() || page.testID("charge-invoice") != ch.Invoice {
		t.Fatalf("charge page %d: left %q, invoice %q\n%s", page.Status, page.testID("refund-left"), page.testID("charge-invoice"), page.text())
	}
	got := follow(t, staff, page.submit(t, staff, `[data-testid="refund-form"]`, url.Values{"reason": {"客戶重複購買"}}))
	if want := "已退款 " + ch.Total.String() + "。"; got.testID("refund-outcome") != want {
		t.Errorf("outcome %q, want %q", got.testID("refund-outcome"), want)
	}
	if got.testID("refund-status") != "已退款" || got.testID("refund-left") != "NT$0" || !got.has("not-refundable") || got.has("refund-form") {
		t.Errorf("after a full refund: status %q, left %q\n%s", got.testID("refund-status"), got.testID("refund-left"), got.text())
	}
	if inv := got.testID("charge-invoice"); !strings.Contains(inv, ch.Invoice+" 已作廢") {
		t.Errorf("invoice %q, want cancelled", inv)
	}
	row := strings.Join(strings.Fields(got.Doc.Find(`[data-testid="refunds"] tbody tr`).Text()), " ")
	if !strings.Contains(row, "客戶重複購買") || !strings.Contains(row, "帳務人員 staff") {
		t.Errorf("refund row %q", row)
	}
}

// The rendered form refunds once however often it is sent (a double
// click, a refresh); an amount over what is left, or not a whole number,
// is refused in words and changes nothing.
func TestStaffRefundFormIsIdempotentAndRefusesOverAmounts(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "twice-1")
	staff := httpSignIn(t, a.URL, "staff", nil)
	page := open(t, staff, a.URL+"/staff/charges/"+itoa(ch.ID))
	set := url.Values{"amount": {"100"}, "reason": {"服務中斷補償"}}
	first := page.submit(t, staff, `[data-testid="refund-form"]`, set)
	second := page.submit(t, staff, `[data-testid="refund-form"]`, set)
	if first.Status != http.StatusSeeOther || second.URL.String() != first.URL.String() {
		t.Fatalf("two sends: %d %s, %d %s", first.Status, first.URL, second.Status, second.URL)
	}
	if n := countRefunds(t, a, ch.ID); n != 1 {
		t.Fatalf("%d refunds after sending one form twice, want 1", n)
	}
	got := follow(t, staff, second)
	left := ch.Total - 100
	if got.testID("refunded") != "NT$100" || got.testID("refund-left") != left.String() {
		t.Errorf("refunded %q, left %q", got.testID("refunded"), got.testID("refund-left"))
	}
	if inv := got.testID("charge-invoice"); !strings.Contains(inv, "已折讓 NT$100") {
		t.Errorf("invoice after a partial refund %q", inv)
	}

	for _, c := range []struct{ amount, want string }{
		{"99999", "退款金額 NT$99,999 超過可退款金額 " + left.String() + "。本次未退款。"},
		{"12.5", "須為新台幣整數金額"},
		{"0", "退款金額須大於 0"},
	} {
		bad := got.submit(t, staff, `[data-testid="refund-form"]`, url.Values{"amount": {c.amount}, "reason": {"再退一次"}})
		if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.testID("error"), c.want) {
			t.Errorf("amount %s: %d, error %q, want %q", c.amount, bad.Status, bad.testID("error"), c.want)
		}
		if v, _ := bad.Doc.Find(`[data-testid="refund-amount"]`).Attr("value"); v != c.amount {
			t.Errorf("amount %s not shown again (%q)", c.amount, v)
		}
	}
	if bad := got.submit(t, staff, `[data-testid="refund-form"]`, url.Values{"reason": {"  "}}); bad.Status != http.StatusUnprocessableEntity ||
		!strings.Contains(bad.testID("error"), "請填寫退款原因") {
		t.Errorf("no reason: %d %q", bad.Status, bad.testID("error"))
	}
	// The first form's key with another amount: refused, not a refund.
	if bad := page.submit(t, staff, `[data-testid="refund-form"]`, url.Values{"amount": {"50"}, "reason": {"服務中斷補償"}}); bad.Status != http.StatusConflict ||
		!strings.Contains(bad.testID("error"), "本次未退款") {
		t.Errorf("reused key: %d %q", bad.Status, bad.testID("error"))
	}
	if n := countRefunds(t, a, ch.ID); n != 1 {
		t.Errorf("%d refunds after refusals, want 1", n)
	}
}

// A refund the provider refuses reads as failed, with the provider's
// reason, and leaves the amount refundable.
func TestStaffRefundRefusedByTheProvider(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	storeCard(t, a, "cat", "4000000000005126")
	ch := paidUpgrade(t, a, "cat", "declined-1")
	staff := httpSignIn(t, a.URL, "staff", nil)
	page := open(t, staff, a.URL+"/staff/charges/"+itoa(ch.ID))
	got := follow(t, staff, page.submit(t, staff, `[data-testid="refund-form"]`, url.Values{"reason": {"測試"}}))
	if out := got.testID("refund-outcome"); !strings.HasPrefix(out, "退款失敗,未退還任何款項。付款服務的回覆:") || len(out) <= len("退款失敗,未退還任何款項。付款服務的回覆:") {
		t.Errorf("outcome %q", out)
	}
	if got.testID("refund-status") != "退款失敗" || got.testID("refund-left") != ch.Total.String() || !got.has("refund-form") {
		t.Errorf("after a refusal: %q, left %q", got.testID("refund-status"), got.testID("refund-left"))
	}
}

// consentToken is the link the allowance consent mail carries, before it
// is sent.
func consentToken(t *testing.T, a app) string {
	t.Helper()
	var link string
	if err := a.Store.DB.Get(&link, `SELECT params->>'link' FROM outbox WHERE kind='allowance_consent' AND sent_at IS NULL ORDER BY id DESC LIMIT 1`); err != nil {
		t.Fatal(err)
	}
	return strings.TrimPrefix(link, "/einvoice/allowances/")
}

// After a partial refund, the e-mailed link opens the allowance in words
// for anyone holding it; agreeing issues it once and says so; staff stop
// seeing it waiting. An expired link and a made-up one are clear pages.
func TestAllowanceConsentPage(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	storeCard(t, a, "cat", "4242424242424242")
	if _, err := a.Store.SaveInvoiceDetails(t.Context(), "user:alice", "cat", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode,
		Carrier: "/ABC+123", Email: "cafe@example.com"}); err != nil {
		t.Fatal(err)
	}
	ch := paidUpgrade(t, a, "cat", "allow-1")
	if _, err := a.Store.Refund(t.Context(), "staff:staff", db.RefundRequest{ChargeID: ch.ID, Amount: 200, Reason: "補償", Key: "allow-r1"}); err != nil {
		t.Fatal(err)
	}
	tok := consentToken(t, a)
	staff := httpSignIn(t, a.URL, "staff", nil)
	if p := open(t, staff, a.URL+"/staff/einvoices"); !strings.Contains(p.testID("allowances"), ch.Invoice) {
		t.Errorf("staff do not see the allowance waiting: %q", p.testID("allowances"))
	}

	visitor := anonymous(t)
	page := open(t, visitor, a.URL+"/einvoice/allowances/"+tok)
	if page.Status != http.StatusOK || page.testID("allowance-total") != "NT$200" || page.testID("allowance-invoice") != ch.Invoice ||
		page.testID("allowance-account") != "貓咪咖啡" {
		t.Fatalf("consent page %d\n%s", page.Status, page.text())
	}
	got := follow(t, visitor, page.submit(t, visitor, `[data-testid="allowance-agree"]`, nil))
	if !strings.Contains(got.testID("allowance-agreed"), "已收到您的同意") || got.has("allowance-agree") {
		t.Fatalf("after agreeing: %d\n%s", got.Status, got.text())
	}
	var g0401 int
	if err := a.Store.DB.Get(&g0401, `SELECT count(*) FROM einvoice_messages WHERE type='G0401' AND charge_id=$1`, ch.ID); err != nil || g0401 != 1 {
		t.Errorf("%d G0401 (%v), want 1", g0401, err)
	}
	var who string
	if err := a.Store.DB.Get(&who, `SELECT actor FROM audit_log WHERE kind='einvoice.allowance_agreed'`); err != nil || who != "link" {
		t.Errorf("agreed by %q (%v), want link", who, err)
	}
	if again := page.submit(t, visitor, `[data-testid="allowance-agree"]`, nil); again.Status != http.StatusSeeOther {
		t.Errorf("agreeing twice: %d", again.Status)
	}
	if p := open(t, staff, a.URL+"/staff/einvoices"); p.has("allowances") {
		t.Errorf("an agreed allowance is still listed as waiting")
	}

	// A second partial refund, its link left 72 hours.
	if _, err := a.Store.Refund(t.Context(), "staff:staff", db.RefundRequest{ChargeID: ch.ID, Amount: 100, Reason: "補償", Key: "allow-r2"}); err != nil {
		t.Fatal(err)
	}
	late := consentToken(t, a)
	a.Clock.Set(testNow.Add(73 * time.Hour))
	staff = httpSignIn(t, a.URL, "staff", nil) // the console's session has ended meanwhile
	if p := open(t, staff, a.URL+"/staff/einvoices"); !strings.Contains(p.testID("allowances"), "連結已過期") {
		t.Errorf("staff do not see the link expired: %q", p.testID("allowances"))
	}
	expired := open(t, visitor, a.URL+"/einvoice/allowances/"+late)
	if expired.Status != http.StatusGone || !strings.Contains(expired.testID("error"), "此連結已過期") || expired.has("allowance-agree") {
		t.Errorf("expired link: %d %q", expired.Status, expired.testID("error"))
	}
	if bogus := open(t, visitor, a.URL+"/einvoice/allowances/not-a-token"); bogus.Status != http.StatusNotFound || !strings.Contains(bogus.testID("error"), "此連結無效") {
		t.Errorf("bogus link: %d %q", bogus.Status, bogus.testID("error"))
	}

	// Staff send a new link from the list: the old one stops working, the
	// new one works for 72 hours from now and opens the same allowance.
	list := open(t, staff, a.URL+"/staff/einvoices")
	number := "AL" + ch.Invoice + "02"
	resent := follow(t, staff, list.submit(t, staff, `form:has([data-testid="resend-`+number+`"])`, nil))
	if !strings.Contains(resent.testID("notice"), number) || strings.Contains(resent.testID("allowances"), "連結已過期") {
		t.Fatalf("after resending: notice %q, list %q", resent.testID("notice"), resent.testID("allowances"))
	}
	fresh := consentToken(t, a)
	if fresh == late {
		t.Fatal("no new link was e-mailed")
	}
	if old := open(t, visitor, a.URL+"/einvoice/allowances/"+late); old.Status != http.StatusNotFound {
		t.Errorf("the old link after a new one: %d", old.Status)
	}
	page = open(t, visitor, a.URL+"/einvoice/allowances/"+fresh)
	if page.Status != http.StatusOK || page.testID("allowance-total") != "NT$100" {
		t.Fatalf("the new link: %d\n%s", page.Status, page.text())
	}
	follow(t, visitor, page.submit(t, visitor, `[data-testid="allowance-agree"]`, nil))
	if p := open(t, staff, a.URL+"/staff/einvoices"); p.has("allowances") {
		t.Errorf("the allowance agreed through the new link is still listed as waiting")
	}
	again := list.submit(t, staff, `form:has([data-testid="resend-`+number+`"])`, nil)
	if again.Status != http.StatusUnprocessableEntity || !strings.Contains(again.testID("error"), "已開立") {
		t.Errorf("resending for an issued allowance: %d %q", again.Status, again.testID("error"))
	}
}

// anonymous is a visitor's client: cookies kept, nobody signed in.
func anonymous(t *testing.T) httpUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	return httpUser{c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// A refund whose answer never came reads as sent and waiting, in words,
// and the form stays closed until it settles.
func TestStaffRefundPendingOutcome(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "pending-1")
	var rid int64
	if err := a.Store.DB.Get(&rid, `INSERT INTO refunds (charge_id, account_id, amount, reason, status, idempotency_key, requested_by, payment_kind, created_at)
		VALUES ($1, 'cat', 100, '測試', 'pending', 'pending-r1', 'staff:staff', 'credit_card', now()) RETURNING id`, ch.ID); err != nil {
		t.Fatal(err)
	}
	staff := httpSignIn(t, a.URL, "staff", nil)
	page := open(t, staff, a.URL+"/staff/charges/"+itoa(ch.ID)+"?refund="+itoa(rid))
	if got := page.testID("refund-outcome"); got != "退款已送出,付款服務尚未回覆;系統會再次查詢並更新結果。" {
		t.Errorf("pending outcome %q", got)
	}
	if st := getStatus(t, staff, a.URL+"/staff/charges/999999"); st != http.StatusNotFound {
		t.Errorf("no such charge: %d, want 404", st)
	}
	if page.testID("refund-status") != "處理中" || page.has("refund-form") || !strings.Contains(page.testID("not-refundable"), "有一筆退款處理中") {
		t.Errorf("pending refund: status %q, form shown %v", page.testID("refund-status"), page.has("refund-form"))
	}
}

// A signed-in admin who agrees is named in the audit trail; the console's
// new pages read in English too, every sentence filled in.
func TestAllowanceAgreedSignedInAndPagesInEnglish(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	if _, err := a.Store.SaveInvoiceDetails(t.Context(), "user:alice", "cat", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode,
		Carrier: "/ABC+123", Email: "cafe@example.com"}); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "cat", "4242424242424242")
	ch := paidUpgrade(t, a, "cat", "english-1")
	if _, err := a.Store.Refund(t.Context(), "staff:staff", db.RefundRequest{ChargeID: ch.ID, Amount: 100, Reason: "補償", Key: "english-r1"}); err != nil {
		t.Fatal(err)
	}
	tok := consentToken(t, a)
	alice := httpSignIn(t, a.URL, "alice", nil)
	page := open(t, alice, a.URL+"/einvoice/allowances/"+tok)
	follow(t, alice, page.submit(t, alice, `[data-testid="allowance-agree"]`, nil))
	var who string
	if err := a.Store.DB.Get(&who, `SELECT actor FROM audit_log WHERE kind='einvoice.allowance_agreed'`); err != nil || who != "user:alice" {
		t.Errorf("agreed by %q (%v), want user:alice", who, err)
	}
	staff := httpSignIn(t, a.URL, "staff", nil)
	open(t, staff, a.URL+"/lang?to=en&next=/staff")
	for _, path := range []string{"/staff/einvoices", "/staff/charges/" + itoa(ch.ID), "/staff/audit?account=cat", "/einvoice/allowances/" + tok} {
		p := open(t, staff, a.URL+path)
		if p.Status != http.StatusOK || strings.Contains(p.Body, "%!") || p.Doc.Find("html").AttrOr("lang", "") != "en" {
			t.Errorf("%s in English: %d, lang %q\n%s", path, p.Status, p.Doc.Find("html").AttrOr("lang", ""), p.text())
		}
	}
}
