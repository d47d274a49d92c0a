package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"webstore/billing"
	"webstore/db"
	"webstore/web/mail"
	"webstore/web/mail/mailpittest"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

// doc parses a page for data-testid look-ups.
func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testid selects by data-testid.
func testid(id string) string { return `[data-testid="` + id + `"]` }

// A failed upgrade's charge page offers 重新購買 (the checkout for that
// plan, on the surface it is read on), never a 立即付款 that cannot work;
// once the plan is bought, and to an operator, it offers nothing.
func TestFailedUpgradeChargePageOffersBuyAgain(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	storeCard(t, a, "bear", "4000000000000341") // added, but every charge fails
	failed, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k1"})
	if billing.ErrorCode(err) != billing.EPaymentFailed {
		t.Fatalf("upgrade: %v, want payment_failed", err)
	}
	id := strconv.FormatInt(failed.ID, 10)
	alice := httpSignIn(t, a.URL, "alice", nil)
	for _, surface := range []string{"a", "m"} {
		status, body := alice.do(t, "GET", a.URL+"/"+surface+"/bear/charges/"+id, "", nil)
		d := doc(t, body)
		href, _ := d.Find(testid("rebuy-link")).Attr("href")
		if status != http.StatusOK || href != "/"+surface+"/bear/checkout?plan=high" || !strings.Contains(d.Find(testid("rebuy-link")).Text(), "重新購買") {
			t.Errorf("/%s charge page: %d, 重新購買 → %q, want /%s/bear/checkout?plan=high", surface, status, href, surface)
		}
		if d.Find(`[data-testid^="pay-now-"]`).Length() != 0 || strings.Contains(body, "立即付款") {
			t.Errorf("/%s: a failed upgrade's page offers 立即付款", surface)
		}
		if status, _ := alice.do(t, "GET", a.URL+href, "", nil); status != http.StatusOK {
			t.Errorf("/%s: 重新購買 opens %d, want the checkout", surface, status)
		}
	}
	oscar := httpSignIn(t, a.URL, "oscar", nil) // an operator of bear
	if _, body := oscar.do(t, "GET", a.URL+"/a/bear/charges/"+id, "", nil); doc(t, body).Find(testid("rebuy")).Length() != 0 {
		t.Error("an operator is offered 重新購買")
	}
	// Bought with a good card: the old charge's page offers it no more.
	storeCard(t, a, "bear", "4242424242424242")
	if ch, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k2"}); err != nil || ch.Status != billing.StatusPaid {
		t.Fatalf("second purchase: %+v %v", ch, err)
	}
	if _, body := alice.do(t, "GET", a.URL+"/a/bear/charges/"+id, "", nil); doc(t, body).Find(testid("rebuy")).Length() != 0 {
		t.Error("重新購買 offered for a plan already held")
	}
}

// userLang is a user's stored language ("" when never chosen).
func userLang(t *testing.T, a app, login string) string {
	t.Helper()
	var l *string
	if err := a.Store.DB.Get(&l, `SELECT lang FROM users WHERE login=$1`, login); err != nil {
		t.Fatal(err)
	}
	if l == nil {
		return ""
	}
	return *l
}

// Mail goes in its reader's language: the language the user who gave the
// e-invoice address last chose in the pages (the switch, or before signing
// in), read when the message is written, so a later switch counts.
func TestMailInTheLanguageTheUserChose(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	mp := mailpittest.Start(t)
	smtp, err := mail.NewSMTP(mp.SMTP)
	if err != nil {
		t.Fatal(err)
	}
	w := &mail.Worker{Store: a.Store, Sender: smtp, From: "LINE官方帳號 <no-reply@webstore.test>", BaseURL: a.URL}
	send := func() mailpittest.Message {
		t.Helper()
		before := len(mp.Messages(t))
		if n, err := w.RunOnce(ctx); err != nil || n != 1 {
			t.Fatalf("sent %d (%v), want 1", n, err)
		}
		ms := mp.Messages(t)
		if len(ms) != before+1 {
			t.Fatalf("%d messages, want %d", len(ms), before+1)
		}
		return ms[0] // newest first
	}
	alice := httpSignIn(t, a.URL, "alice", nil)
	if got := userLang(t, a, "alice"); got != "" {
		t.Fatalf("alice's language before she chose one: %q", got)
	}
	if status, _ := alice.do(t, "GET", a.URL+"/lang?to=en&next=/a/bear/menu", "", nil); status != http.StatusSeeOther {
		t.Fatalf("switch: %d", status)
	}
	if got := userLang(t, a, "alice"); got != "en" {
		t.Fatalf("alice's language after switching to English: %q", got)
	}
	form := url.Values{"kind": {"donation"}, "donation_code": {"919"}, "email": {"owner@bear.example.tw"}}
	if status, _ := alice.do(t, "POST", a.URL+"/a/bear/einvoice", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); status != http.StatusSeeOther {
		t.Fatalf("save e-invoice: %d", status)
	}
	storeCard(t, a, "bear", "4242424242424242")
	if _, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k1"}); err != nil {
		t.Fatal(err)
	}
	m := send()
	if m.Subject != "[熊美服飾店] Receipt NT$840.00" || !strings.Contains(m.Text, "We have received your payment") || strings.Contains(m.Text, "我們已收到") {
		t.Errorf("alice chose English; the receipt reads %q:\n%s", m.Subject, m.Text)
	}
	// Another admin saving the other details leaves the address alice's.
	if _, err := a.Store.SaveInvoiceDetails(ctx, "user:staff", "bear", billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "7000", Email: "owner@bear.example.tw"}); err != nil {
		t.Fatal(err)
	}
	// An event queued while she reads English, sent after she switched
	// back: the message is written in her language as it is when written.
	if _, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k2"}); err != nil {
		t.Fatal(err)
	}
	if status, _ := alice.do(t, "GET", a.URL+"/lang?to=zh-TW", "", nil); status != http.StatusSeeOther {
		t.Fatalf("switch back: %d", status)
	}
	if m := send(); m.Subject != "【熊美服飾店】付款收據 NT$420.00" || !strings.Contains(m.Text, "我們已收到您的付款") {
		t.Errorf("alice switched back to 中文; the receipt reads %q:\n%s", m.Subject, m.Text)
	}

	// A language switched before signing in is stored at sign-in.
	jar, _ := cookiejar.New(nil)
	base, _ := url.Parse(a.URL)
	jar.SetCookies(base, []*http.Cookie{{Name: "ws_lang", Value: "en", Path: "/"}})
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(a.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	tok := csrfField.FindSubmatch(body)
	if tok == nil {
		t.Fatal("no CSRF token on the sign-in page")
	}
	res, err = c.PostForm(a.URL+"/signin", url.Values{"login": {"oscar"}, "password": {db.DemoPassword}, "_csrf": {string(tok[1])}})
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || userLang(t, a, "oscar") != "en" {
		t.Errorf("oscar signed in with English chosen: %s, stored %q, want en", res.Status, userLang(t, a, "oscar"))
	}
}

// The 優惠活動代碼 page prints the registered code's campaign's own terms,
// as staff set them in the console (and as they change them), not the
// document's default terms.
func TestPromoPagePrintsTheCampaignsTerms(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	ctx := context.Background()
	staff := httpSignIn(t, a.URL, "staff", nil)
	form := url.Values{"id": {"winter-lp"}, "name": {"冬季 LINE Pay 活動"}, "face": {"500"}, "from": {"2026-11-01T00:00"}, "until": {"2026-12-31T22:59"},
		"zone": {"Asia/Taipei"}, "regions": {"TW"}, "kinds": {"line_pay"}, "upgrades": {"light>high"}, "renewals": {"high"}}
	if status, body := staff.do(t, "POST", a.URL+"/staff/campaigns", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); status != http.StatusSeeOther {
		t.Fatalf("create campaign: %d\n%s", status, body)
	}
	if err := a.Store.AddCodes(ctx, "test", "winter-lp", []string{"WINTER0001"}); err != nil {
		t.Fatal(err)
	}
	alice := httpSignIn(t, a.URL, "alice", nil)
	if status, _ := alice.do(t, "POST", a.URL+"/a/bear/promo", "application/x-www-form-urlencoded", strings.NewReader("code=WINTER0001")); status != http.StatusSeeOther {
		t.Fatalf("register: %d", status)
	}
	terms := func(want map[string]string) {
		t.Helper()
		status, body := alice.do(t, "GET", a.URL+"/a/bear/promo", "", nil)
		d := doc(t, body)
		if status != http.StatusOK || d.Find(testid("campaign-terms")).Length() != 1 {
			t.Fatalf("promo page %d without the campaign's terms", status)
		}
		for id, w := range want {
			if got := strings.TrimSpace(d.Find(testid(id)).Text()); got != w {
				t.Errorf("%s: %q, want %q", id, got, w)
			}
		}
		if rules := d.Find(testid("code-rules")).Text(); strings.Contains(rules, "信用卡") || strings.Contains(rules, "credit card") {
			t.Errorf("the page still prints the default terms: %q", rules)
		}
	}
	terms(map[string]string{"terms-regions": "台灣 (TW)", "terms-payments": "LINE Pay", "terms-upgrades": "輕用量 → 高用量", "terms-renewals": "高用量"})

	form.Set("kinds", "credit_card")
	form.Add("kinds", "line_pay")
	form.Set("renewals", "medium")
	form.Add("renewals", "high")
	if status, body := staff.do(t, "POST", a.URL+"/staff/campaigns/winter-lp", "application/x-www-form-urlencoded", strings.NewReader(form.Encode())); status != http.StatusSeeOther {
		t.Fatalf("update campaign: %d\n%s", status, body)
	}
	terms(map[string]string{"terms-payments": "信用卡、LINE Pay", "terms-upgrades": "輕用量 → 高用量", "terms-renewals": "中用量、高用量"})
	if status, _ := alice.do(t, "GET", a.URL+"/lang?to=en", "", nil); status != http.StatusSeeOther {
		t.Fatal("switch to English")
	}
	terms(map[string]string{"terms-regions": "Taiwan (TW)", "terms-payments": "Credit card, LINE Pay", "terms-upgrades": "Light → High", "terms-renewals": "Medium, High"})
}

// The downgrade confirmation names a registered code that the renewal
// after the downgrade would not use, with its face value and expiry; it
// says nothing when the lower plan's renewal still uses the code, or when
// there is no code.
func TestDowngradeConfirmationNamesAnUnusedCode(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	alice := httpSignIn(t, a.URL, "alice", nil)
	confirm := func(acct, plan string) *goquery.Selection {
		t.Helper()
		status, body := alice.do(t, "POST", a.URL+"/a/"+acct+"/plan/downgrade", "application/x-www-form-urlencoded", strings.NewReader("plan="+plan))
		d := doc(t, body)
		if status != http.StatusOK || d.Find(testid("confirm-downgrade")).Length() != 1 {
			t.Fatalf("downgrade %s to %s: %d without the confirmation", acct, plan, status)
		}
		return d.Find(testid("confirm-downgrade-code"))
	}
	if n := confirm("cat", "light").Length(); n != 0 {
		t.Error("a confirmation without a code names one")
	}
	register := func(acct, code string) {
		t.Helper()
		if status, _ := alice.do(t, "POST", a.URL+"/a/"+acct+"/promo", "application/x-www-form-urlencoded", strings.NewReader("code="+code)); status != http.StatusSeeOther {
			t.Fatalf("register %s to %s: %d", code, acct, status)
		}
	}
	register("cat", "DEMO-2611-0001")
	got := strings.TrimSpace(confirm("cat", "light").Text())
	for _, w := range []string{"DEMO-2611-0001", "NT$800.00", "2026/12/31 22:59", "不會在續約時折抵"} {
		if !strings.Contains(got, w) {
			t.Errorf("medium → light with a code: %q, want %q", got, w)
		}
	}
	// Nothing was scheduled by asking.
	if o, err := a.Store.FindOverview(ctx, "cat"); err != nil || o.Account.ScheduledPlan != "" {
		t.Errorf("asking scheduled %q (%v)", o.Account.ScheduledPlan, err)
	}
	// High → medium: medium's renewal on the 1st still uses the code.
	storeCard(t, a, "bear", "4242424242424242")
	if _, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k"}); err != nil {
		t.Fatal(err)
	}
	register("bear", "DEMO-2611-0002")
	if n := confirm("bear", "medium").Length(); n != 0 {
		t.Error("high → medium names the code, which medium's renewal uses")
	}
	if got := confirm("bear", "light").Text(); !strings.Contains(got, "DEMO-2611-0002") {
		t.Errorf("high → light: %q, want the code named", got)
	}
	if status, _ := alice.do(t, "GET", a.URL+"/lang?to=en", "", nil); status != http.StatusSeeOther {
		t.Fatal("switch to English")
	}
	if got := confirm("bear", "light").Text(); !strings.Contains(got, "will not offset the renewal") || !strings.Contains(got, "2026/12/31 22:59") {
		t.Errorf("in English: %q", got)
	}
}

// mainMethod is the account's main method: kind and last four digits (a
// card) or label (LINE Pay).
func mainMethod(t *testing.T, a app, account string) string {
	t.Helper()
	var m string
	if err := a.Store.DB.Get(&m, `SELECT kind || ' ' || last4 || label FROM payment_methods WHERE account_id=$1 AND is_main AND removed_at IS NULL`, account); err != nil {
		t.Fatal(err)
	}
	return m
}

// Adding a payment method when the account has one asks 設為主要付款方式?
// and honours the answer, through the card gateway and LINE Pay alike; the
// first method is main without asking; an answer that is neither is
// refused and nothing is started.
func TestSecondMethodAsksWhetherItBecomesMain(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	if _, err := a.Store.SaveInvoiceDetails(ctx, "test", "bear", billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "919", Email: "a@bear.example.tw"}); err != nil {
		t.Fatal(err)
	}
	alice := httpSignIn(t, a.URL, "alice", nil)
	if _, body := alice.do(t, "GET", a.URL+"/a/bear/payment-methods/new", "", nil); doc(t, body).Find(testid("ask-main")).Length() != 0 {
		t.Error("the first method's page asks whether it becomes main")
	}
	storeCard(t, a, "bear", "4242424242424242")
	status, body := alice.do(t, "GET", a.URL+"/a/bear/payment-methods/new", "", nil)
	d := doc(t, body)
	ask := d.Find(testid("ask-main"))
	if status != http.StatusOK || !strings.Contains(ask.Text(), "設為主要付款方式?") || !strings.Contains(ask.Text(), "4242") {
		t.Fatalf("second method's page: %d, asks %q", status, ask.Text())
	}
	if _, yes := d.Find(testid("main-yes")).Attr("checked"); !yes {
		t.Error("yes is not the answer given")
	}
	start := func(form url.Values) (int, string) {
		t.Helper()
		form.Set("_csrf", alice.csrf)
		req, _ := http.NewRequest(http.MethodPost, a.URL+"/a/bear/payment-methods/new", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		res, err := alice.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode == http.StatusSeeOther {
			return res.StatusCode, res.Header.Get("Location")
		}
		return res.StatusCode, string(b)
	}
	addCard := func(number, answer string) {
		t.Helper()
		status, loc := start(url.Values{"kind": {"credit_card"}, "main": {answer}})
		if status != http.StatusSeeOther {
			t.Fatalf("start (main=%s): %d", answer, status)
		}
		p, err := sandboxtest.EnterCard(ctx, http.DefaultClient, loc, sandboxtest.Card{Number: number, Expiry: "12/30", CVC: "123", Name: "林小美"})
		if err != nil || p.Location == nil {
			t.Fatalf("enter card: %v", err)
		}
		if status := getStatus(t, alice, p.Location.String()); status != http.StatusSeeOther {
			t.Fatalf("card return: %d", status)
		}
	}
	addCard("5555555555554444", "no")
	if got := mainMethod(t, a, "bear"); got != "credit_card 4242" {
		t.Errorf("answered no: the main method is %q, want the first card", got)
	}
	addCard("3530111333300000", "yes")
	if got := mainMethod(t, a, "bear"); got != "credit_card 0000" {
		t.Errorf("answered yes: the main method is %q, want the new card", got)
	}

	// LINE Pay, answered no: bound, not main.
	status, loc := start(url.Values{"kind": {"line_pay"}, "main": {"no"}})
	if status != http.StatusSeeOther {
		t.Fatalf("start LINE Pay: %d", status)
	}
	back, err := sandboxtest.ApproveLinePay(ctx, http.DefaultClient, loc, linepay.CardCathayVisa)
	if err != nil {
		t.Fatal(err)
	}
	if status := getStatus(t, alice, back.String()); status != http.StatusSeeOther {
		t.Fatalf("LINE Pay return: %d", status)
	}
	if n := lineMethods(t, a, "bear"); n != 1 {
		t.Fatalf("%d LINE Pay methods, want 1", n)
	}
	if got := mainMethod(t, a, "bear"); got != "credit_card 0000" {
		t.Errorf("LINE Pay answered no: the main method is %q", got)
	}

	// Neither yes nor no: refused in words, nothing started.
	var before int
	if err := a.Store.DB.Get(&before, `SELECT count(*) FROM payment_methods WHERE account_id='bear'`); err != nil {
		t.Fatal(err)
	}
	if status, body := start(url.Values{"kind": {"credit_card"}, "main": {"maybe"}}); status != http.StatusUnprocessableEntity || !strings.Contains(body, "請選擇是否設為主要付款方式") {
		t.Errorf("main=maybe: %d", status)
	}
	var after int
	if err := a.Store.DB.Get(&after, `SELECT count(*) FROM payment_methods WHERE account_id='bear'`); err != nil || after != before {
		t.Errorf("methods %d → %d (%v)", before, after, err)
	}
}
