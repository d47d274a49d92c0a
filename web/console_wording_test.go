package web_test

import (
	"fmt"
	"html"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
)

// staffGet GETs a staff page, returning its status and body.
func staffGet(t *testing.T, c *http.Client, target string) (int, string) {
	t.Helper()
	res, err := c.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

var lineTotal = regexp.MustCompile(`data-testid="line-total">([^<]*)<`)
var lineOffset = regexp.MustCompile(`data-testid="line-offset">([^<]*)<`)

// "What will my first purchase with this code cost?": for an account with
// no payment method, the preview assuming a card gives the total and the
// offset that registering the code, adding a card and buying then charge.
// Without the assumption the code does not offset and the reasons say
// why in a sentence; an assumption other than a card or LINE Pay is
// refused with a message.
func TestStaffPreviewAssumingACardEqualsTheFirstPurchase(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := t.Context()
	if err := a.Store.CreateAccount(ctx, "test", db.NewAccount{ID: "fresh", Name: "新開的店", Region: "TW", Plan: billing.Light}); err != nil {
		t.Fatal(err)
	}
	code := "DEMO-2611-0007"
	staff := signedInClient(t, a.URL, "staff")
	q := url.Values{"account": {"fresh"}, "action": {"upgrade"}, "plan": {"high"}, "code": {code}}
	status, body := staffGet(t, staff, a.URL+"/staff/preview?"+q.Encode())
	if status != http.StatusOK || lineTotal.FindStringSubmatch(body)[1] != "NT$1,260" {
		t.Fatalf("preview without a method: %d, total %v", status, lineTotal.FindStringSubmatch(body))
	}
	if !strings.Contains(html.UnescapeString(body), "帳號尚未設定付款方式,而此活動僅限以信用卡或 LINE Pay 付款") {
		t.Error("the reasons do not say the account has no payment method")
	}
	q.Set("assume", string(billing.CreditCard))
	status, body = staffGet(t, staff, a.URL+"/staff/preview?"+q.Encode())
	if status != http.StatusOK || !strings.Contains(body, `data-testid="pv-assumed"`) {
		t.Fatalf("preview assuming a card: %d", status)
	}
	total, offset := lineTotal.FindStringSubmatch(body)[1], lineOffset.FindStringSubmatch(body)[1]
	if total != "NT$420" || offset != "−NT$800" {
		t.Errorf("assuming a card: total %s, offset %s; want NT$420 after −NT$800", total, offset)
	}
	if !strings.Contains(html.UnescapeString(body), "帳號目前沒有付款方式;以下假設先新增信用卡") {
		t.Error("the reasons do not say a card is assumed")
	}

	// Then for real: register, add a card through the sandbox, buy.
	if _, err := a.Store.RegisterCode(ctx, "user:alice", "fresh", code); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "fresh", "4242424242424242")
	ch, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "fresh", Plan: billing.High, Key: "first-fresh"})
	if err != nil {
		t.Fatal(err)
	}
	if ch.Total.String() != total || "−"+ch.Offset.String() != offset || ch.Status != billing.StatusPaid {
		t.Errorf("the first purchase: total %s offset %s (%s); the preview said %s after %s", ch.Total, ch.Offset, ch.Status, total, offset)
	}

	q.Set("assume", string(billing.BankTransfer))
	status, body = staffGet(t, staff, a.URL+"/staff/preview?"+q.Encode())
	if status != http.StatusUnprocessableEntity || !strings.Contains(body, "只能假設新增信用卡或 LINE Pay。") || strings.Contains(body, `data-testid="preview-result"`) {
		t.Errorf("assuming a bank transfer: %d", status)
	}
}

var auditSentences = regexp.MustCompile(`(?s)data-testid="audit-sentences">(.*?)</ul>`)
var auditKind = regexp.MustCompile(`data-testid="audit-kind">([^<]*)<`)

// The staff account page in words: region, plan, e-invoice kind, charge
// kind and status, the 失效金額 column, and an audit trail of sentences
// with Taiwan times — no enum code, JSON key or UTC timestamp outside the
// collapsed record.
func TestStaffAccountPageInWords(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := t.Context()
	if err := a.Store.CreateAccount(ctx, "staff", db.NewAccount{ID: "fresh", Name: "新開的店", Region: "TW", Plan: billing.Light}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.SaveInvoiceDetails(ctx, "user:alice", "fresh", billing.InvoiceDetails{Kind: billing.InvoiceCompany,
		CompanyTitle: "新開股份有限公司", TaxID: "04595257", Email: "shop@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.RegisterCode(ctx, "user:alice", "fresh", "DEMO-2611-0008"); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "fresh", "4242424242424242")
	if _, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "fresh", Plan: billing.High, Key: "words"}); err != nil {
		t.Fatal(err)
	}
	staff := signedInClient(t, a.URL, "staff")
	status, body := staffGet(t, staff, a.URL+"/staff/accounts/fresh")
	if status != http.StatusOK {
		t.Fatalf("account page: %d", status)
	}
	page := html.UnescapeString(body)
	for _, want := range []string{`data-testid="acct-region">台灣 (TW)<`, `data-testid="acct-invoice-kind">公司(三聯式,統一編號)<`,
		"<th>失效金額</th>", "<td>升級</td>", "已付款"} {
		if !strings.Contains(page, want) {
			t.Errorf("the account page lacks %q", want)
		}
	}
	if strings.Contains(page, "<th>作廢</th>") {
		t.Error("the forfeited column still reads 作廢")
	}
	kinds := map[string]bool{}
	for _, m := range auditKind.FindAllStringSubmatch(page, -1) {
		kinds[m[1]] = true
	}
	for _, want := range []string{"建立帳號", "儲存電子發票資訊", "登錄優惠活動代碼", "新增付款方式", "建立費用", "付款成功"} {
		if !kinds[want] {
			t.Errorf("audit kinds %v lack %s", kinds, want)
		}
	}
	all := auditSentences.FindAllStringSubmatch(page, -1)
	if len(all) < 6 {
		t.Fatalf("%d audit entries with sentences", len(all))
	}
	text := ""
	for _, m := range all {
		text += m[1]
	}
	for _, bad := range []string{"_", "{", "\"", "T00:", "Z<", "credit_card", "company", "light", "medium"} {
		if strings.Contains(text, bad) {
			t.Errorf("audit sentences show %q: %s", bad, text)
		}
	}
	for _, want := range []string{"電子發票改為公司(三聯式,統一編號):新開股份有限公司(統一編號 04595257)。",
		"登錄優惠活動代碼 DEMO26110008", "信用卡 Visa •••• 4242", "(台灣時間)付款,總計 NT$420"} {
		if !strings.Contains(text, want) {
			t.Errorf("audit sentences lack %q:\n%s", want, text)
		}
	}
}

var (
	// The collapsed raw record, and the audit filter's help, which names
	// the codes the filter takes (e.g. "code.registered").
	hiddenParts = regexp.MustCompile(`(?s)<details.*?</details>|<script.*?</script>|<style.*?</style>|<pre.*?</pre>|<form[^>]*data-testid="audit-form".*?</form>`)
	anyTag      = regexp.MustCompile(`(?s)<[^>]*>`)
	enumCode    = regexp.MustCompile(`\b(credit_card|line_pay|bank_transfer|company|donation|mobile_barcode|citizen_certificate|member|` +
		`admin|operator|operator_no_broadcast|operator_no_stats|registered|reserved|redeemed|expired|issued|pending|failed|paid|void|` +
		`upgrade|renewal|usage|light|medium|high|declined|insufficient_funds|no_payment_method|given_up|superseded|stale|nothing_owed|` +
		`running|done|renewing|collecting|finished)\b|\b(user|staff|system|line|api):|[a-z]+\.[a-z_]+ed\b`)
)

// Every staff page, in zh-TW, shows no enum's code in its visible text
// (the collapsed raw audit record aside): after a purchase, a schedule
// change, a role change and e-invoice details, the search, account,
// audit, campaign, renewal, preview and token pages say it all in words.
func TestStaffPagesShowNoEnumCodes(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := t.Context()
	if err := a.Store.CreateAccount(ctx, "staff", db.NewAccount{ID: "fresh", Name: "新開的店", Region: "TW", Plan: billing.Light}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.SaveInvoiceDetails(ctx, "user:alice", "fresh", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode,
		Carrier: "/ABC+123", Email: "shop@example.com"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.RegisterCode(ctx, "user:alice", "fresh", "DEMO-2611-0009"); err != nil {
		t.Fatal(err)
	}
	storeCard(t, a, "fresh", "4242424242424242")
	enums, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "fresh", Plan: billing.High, Key: "enums"})
	if err != nil {
		t.Fatal(err)
	}
	// A partial refund: an allowance waiting for the admin, its messages.
	if _, err := a.Store.Refund(ctx, "staff:staff", db.RefundRequest{ChargeID: enums.ID, Amount: 100, Reason: "補償", Key: "enums-refund"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.ScheduleDowngrade(ctx, "user:alice", "fresh", billing.Medium); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.ChangeRole(ctx, "user:alice", "bear", userByLogin(t, a, "oscar"), billing.RoleOperatorNoStats); err != nil {
		t.Fatal(err)
	}
	staff := signedInClient(t, a.URL, "staff")
	for _, path := range []string{"/staff/accounts?q=a", "/staff/accounts/fresh", "/staff/accounts/bear", "/staff/accounts/cat",
		"/staff/audit", "/staff/audit?account=fresh", "/staff/campaigns", "/staff/campaigns/" + db.DemoCampaignID(testNow), "/staff/renewals",
		"/staff/preview?account=fresh&action=renewal", "/staff/tokens",
		"/staff/einvoices", fmt.Sprintf("/staff/charges/%d", enums.ID)} {
		status, body := staffGet(t, staff, a.URL+path)
		if status != http.StatusOK {
			t.Errorf("%s: %d", path, status)
			continue
		}
		text := html.UnescapeString(anyTag.ReplaceAllString(hiddenParts.ReplaceAllString(body, ""), " "))
		for _, m := range enumCode.FindAllString(text, -1) {
			i := strings.Index(text, m)
			t.Errorf("%s shows %q: …%s…", path, m, strings.Join(strings.Fields(text[max(0, i-60):min(len(text), i+60)]), " "))
		}
	}
}
