package web_test

import (
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
)

// The admin's pages show a charge's Taiwan e-invoice and its refunds:
// bought through the rendered forms, refunded with the store as staff
// refund, read back from the charge page, the receipt and 付款記錄 on both
// surfaces.

// buyWithInvoice saves the account's 電子發票資訊 through the rendered form
// and buys from → to with a stored card; it returns the charge's id.
func buyWithInvoice(t *testing.T, a app, u httpUser, from, to billing.PlanID, details url.Values) int64 {
	t.Helper()
	j := journey{from: from, to: to, pay: billing.CreditCard}
	storeCard(t, a, j.account(), "4242424242424242")
	form := open(t, u, a.URL+"/a/"+j.account()+"/einvoice")
	if saved := form.submit(t, u, `[data-testid="save-einvoice"]`, details); saved.Status != http.StatusSeeOther {
		t.Fatalf("save 電子發票資訊 %v: %d\n%s", details, saved.Status, saved.text())
	}
	_, id := buy(t, a, u, j, "")
	return id
}

// chargePages are a charge's page and receipt on the webstore and the
// manager.
func chargePages(t *testing.T, a app, u httpUser, acct string, id int64) map[string]htmlPage {
	t.Helper()
	pages := map[string]htmlPage{}
	for _, s := range []string{"a", "m"} {
		for _, suffix := range []string{"", "/receipt"} {
			path := "/" + s + "/" + acct + "/charges/" + strconv.FormatInt(id, 10) + suffix
			p := open(t, u, a.URL+path)
			if p.Status != http.StatusOK {
				t.Fatalf("GET %s: %d\n%s", path, p.Status, p.text())
			}
			pages[path] = p
		}
	}
	return pages
}

var (
	invoiceNumber = regexp.MustCompile(`^[A-Z]{2}[0-9]{8}$`)
	randomNumber  = regexp.MustCompile(`^[0-9]{4}$`)
)

// A mobile-barcode purchase of NT$420: its number, date and time (Taiwan),
// random number and carrier on the charge page and receipt; then a part
// refund, and the rest.
func TestChargeInvoiceAndRefunds(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	u := httpSignIn(t, a.URL, "alice", nil)
	id := buyWithInvoice(t, a, u, billing.Medium, billing.High,
		url.Values{"kind": {"mobile_barcode"}, "carrier": {"/abc+123"}, "email": {"alice@example.tw"}})
	ch, err := a.Store.FindChargeByID(ctx, id)
	if err != nil || ch.Total != 420 || !invoiceNumber.MatchString(ch.Invoice) {
		t.Fatalf("charge %+v (%v), want NT$420 paid with an invoice number", ch, err)
	}
	var random string
	if err := a.Store.DB.GetContext(ctx, &random, `SELECT random_number FROM einvoices WHERE charge_id=$1`, id); err != nil {
		t.Fatal(err)
	}
	for path, p := range chargePages(t, a, u, "cat", id) {
		for tid, want := range map[string]string{
			"einvoice-number": ch.Invoice,
			"einvoice-at":     "2026/11/23 12:00:00", // testNow, Taiwan time
			"einvoice-random": random,
			"einvoice-to":     "手機條碼載具 /ABC+123",
			"einvoice-state":  "已開立",
		} {
			if got := p.testID(tid); got != want {
				t.Errorf("%s: %s %q, want %q", path, tid, got, want)
			}
		}
		if !randomNumber.MatchString(p.testID("einvoice-random")) {
			t.Errorf("%s: random number %q is not 4 digits", path, p.testID("einvoice-random"))
		}
		if p.has("einvoice-proof-link") || p.has("refunds") {
			t.Errorf("%s: a person's invoice with no refund offers a proof or shows refunds\n%s", path, p.text())
		}
	}
	// A person's invoice has no 電子發票證明聯.
	if p := open(t, u, a.URL+"/a/cat/charges/"+strconv.FormatInt(id, 10)+"/einvoice"); p.Status != http.StatusNotFound {
		t.Errorf("a B2C invoice's proof: %d, want 404", p.Status)
	}

	// A part refund: given back at once by the card sandbox; the allowance
	// for it waits for the admin's agreement (a person's invoice).
	if _, err := a.Store.Refund(ctx, "staff:test", db.RefundRequest{ChargeID: id, Amount: 150, Reason: "部分退款測試", Key: "part-1"}); err != nil {
		t.Fatal(err)
	}
	for path, p := range chargePages(t, a, u, "cat", id) {
		if got := p.testID("refund-line"); !strings.Contains(got, "已退款") || !strings.Contains(got, "NT$150") {
			t.Errorf("%s: refund line %q, want 已退款 NT$150", path, got)
		}
		if got := p.testID("refund-net"); got != "NT$270.00" {
			t.Errorf("%s: paid after refunds %q, want NT$270.00", path, got)
		}
		if got := p.testID("refund-part"); got != "部分退款" {
			t.Errorf("%s: refund tag %q, want 部分退款", path, got)
		}
		receipt := strings.HasSuffix(path, "/receipt")
		if got := p.testID("allowance-consent"); !receipt && (!strings.Contains(got, "同意") || !strings.Contains(got, "電子郵件")) {
			t.Errorf("%s: allowance notice %q, want it to point to the e-mail to agree", path, got)
		}
		if p.testID("einvoice-state") != "已開立" {
			t.Errorf("%s: a part refund changed the invoice's state to %q", path, p.testID("einvoice-state"))
		}
	}
	for _, s := range []string{"a", "m"} {
		hist := open(t, u, a.URL+"/"+s+"/cat/history")
		row := hist.Doc.Find(`[data-testid="charge-` + strconv.FormatInt(id, 10) + `"]`)
		if got := row.Find(`[data-testid="refund-line"]`).Text(); !strings.Contains(got, "已退款") || !strings.Contains(got, "NT$150") {
			t.Errorf("/%s history: refund %q, want 已退款 NT$150\n%s", s, got, hist.text())
		}
		if !strings.Contains(row.Find(`[data-testid="refund-net"]`).Text(), "NT$270") {
			t.Errorf("/%s history: no net paid NT$270 in %q", s, row.Text())
		}
	}

	// The rest: the charge reads refunded in full, and pays NT$0 net.
	if _, err := a.Store.Refund(ctx, "staff:test", db.RefundRequest{ChargeID: id, Reason: "全額退款測試", Key: "rest-1"}); err != nil {
		t.Fatal(err)
	}
	for path, p := range chargePages(t, a, u, "cat", id) {
		if got := p.testID("refund-full"); got != "已全額退款" {
			t.Errorf("%s: %q, want 已全額退款\n%s", path, got, p.text())
		}
		if got := p.Doc.Find(`[data-testid="refund-line"]`).Length(); got != 2 {
			t.Errorf("%s: %d refund lines, want 2", path, got)
		}
		if got := p.testID("refund-net"); got != "NT$0.00" {
			t.Errorf("%s: paid after refunds %q, want NT$0.00", path, got)
		}
	}
	hist := open(t, u, a.URL+"/m/cat/history")
	if got := hist.Doc.Find(`[data-testid="charge-` + strconv.FormatInt(id, 10) + `"] [data-testid="refund-full"]`).Text(); got != "已全額退款" {
		t.Errorf("history: %q, want 已全額退款", got)
	}
}

// A donated invoice, chosen on the 電子發票資訊 form, refunded in full in
// the cancel window: the invoice is cancelled (已作廢, with its date).
func TestDonatedInvoiceCancelled(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	u := httpSignIn(t, a.URL, "alice", nil)

	// The form refuses a code that is not 3 to 7 digits, with its reason.
	form := open(t, u, a.URL+"/a/bear/einvoice")
	bad := form.submit(t, u, `[data-testid="save-einvoice"]`, url.Values{"kind": {"donation"}, "donation_code": {"12"}, "email": {"bear@example.tw"}})
	if bad.Status != http.StatusUnprocessableEntity || !strings.Contains(bad.text(), "捐贈碼格式不正確") {
		t.Fatalf("a 2-digit donation code: %d, want 422 naming the rule\n%s", bad.Status, bad.text())
	}

	id := buyWithInvoice(t, a, u, billing.Light, billing.Medium,
		url.Values{"kind": {"donation"}, "donation_code": {"8585"}, "email": {"bear@example.tw"}})
	for path, p := range chargePages(t, a, u, "bear", id) {
		if got := p.testID("einvoice-to"); got != "捐贈 愛心碼 8585" {
			t.Errorf("%s: issued to %q, want 捐贈 愛心碼 8585", path, got)
		}
	}
	a.Clock.Add(2 * time.Hour)
	u = httpSignIn(t, a.URL, "alice", nil) // the first session has idled out
	if _, err := a.Store.Refund(ctx, "staff:test", db.RefundRequest{ChargeID: id, Reason: "取消購買", Key: "full-1"}); err != nil {
		t.Fatal(err)
	}
	for path, p := range chargePages(t, a, u, "bear", id) {
		if got := p.testID("einvoice-state"); got != "已作廢" {
			t.Errorf("%s: state %q, want 已作廢", path, got)
		}
		if got := p.testID("einvoice-cancelled"); !strings.Contains(got, "2026/11/23 14:00") {
			t.Errorf("%s: cancelled %q, want its date 2026/11/23 14:00", path, got)
		}
		if got := p.testID("refund-full"); got != "已全額退款" {
			t.Errorf("%s: %q, want 已全額退款", path, got)
		}
		if got := p.testID("refund-line"); !strings.Contains(got, "NT$840") {
			t.Errorf("%s: refund line %q, want NT$840", path, got)
		}
		if p.has("allowance-consent") {
			t.Errorf("%s: a cancelled invoice asks for an allowance's agreement", path)
		}
	}
	hist := open(t, u, a.URL+"/m/bear/history")
	if got := hist.Doc.Find(`[data-testid="charge-` + strconv.FormatInt(id, 10) + `"] [data-testid="invoice"]`).Text(); !strings.Contains(got, "已作廢") {
		t.Errorf("history: invoice %q, want it marked 已作廢", got)
	}
}

// A company's invoice: its 統一編號 and title on the charge page, and a
// printable 電子發票證明聯 with the seller, the buyer and tax-exclusive
// amounts.
func TestCompanyInvoiceProof(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	u := httpSignIn(t, a.URL, "alice", nil)
	id := buyWithInvoice(t, a, u, billing.Light, billing.High,
		url.Values{"kind": {"company"}, "company_title": {"範例科技股份有限公司"}, "tax_id": {"04595252"}, "email": {"ap@example.tw"}})
	ch, err := a.Store.FindChargeByID(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var random string
	if err := a.Store.DB.GetContext(ctx, &random, `SELECT random_number FROM einvoices WHERE charge_id=$1`, id); err != nil {
		t.Fatal(err)
	}
	for path, p := range chargePages(t, a, u, "bear", id) {
		if got := p.testID("einvoice-to"); got != "統一編號 04595252 範例科技股份有限公司" {
			t.Errorf("%s: issued to %q", path, got)
		}
		proof := open(t, u, p.link(t, "einvoice-proof-link"))
		if proof.Status != http.StatusOK {
			t.Fatalf("%s: proof %d\n%s", path, proof.Status, proof.text())
		}
		if !strings.Contains(proof.URL.Path, "/charges/"+strconv.FormatInt(id, 10)+"/einvoice") {
			t.Errorf("%s: proof link %s", path, proof.URL)
		}
		for tid, want := range map[string]string{
			"proof-number":     ch.Invoice[:2] + "-" + ch.Invoice[2:],
			"proof-at":         "2026/11/23 12:00:00",
			"proof-random":     random,
			"proof-seller":     billing.DemoSeller.Name,
			"proof-seller-ban": billing.DemoSeller.BAN,
			"proof-buyer-ban":  "04595252",
			"proof-buyer-name": "範例科技股份有限公司",
			"proof-net":        "NT$1,200",
			"proof-tax":        "NT$60",
			"proof-total":      "NT$1,260",
		} {
			if got := proof.testID(tid); got != want {
				t.Errorf("%s proof: %s %q, want %q", path, tid, got, want)
			}
		}
		if got := proof.testID("proof-item"); !strings.Contains(got, "高用量") || !strings.Contains(got, "1,200") {
			t.Errorf("proof item %q, want the plan and its tax-exclusive amount", got)
		}
		if !strings.Contains(proof.Body, "電子發票證明聯") || !proof.has("einvoice-proof") {
			t.Errorf("proof page has no title")
		}
		// net + tax = total, as printed.
		if money(t, proof.testID("proof-net"))+money(t, proof.testID("proof-tax")) != money(t, proof.testID("proof-total")) {
			t.Errorf("proof: %s + %s ≠ %s", proof.testID("proof-net"), proof.testID("proof-tax"), proof.testID("proof-total"))
		}
	}
	// No proof for a charge that is not there.
	if p := open(t, u, a.URL+"/m/bear/charges/99999999/einvoice"); p.Status != http.StatusNotFound {
		t.Errorf("no such charge's proof: %d, want 404", p.Status)
	}
}

// money reads NT$1,260 as 1260.
func money(t *testing.T, s string) billing.Money {
	t.Helper()
	n, err := strconv.ParseInt(strings.NewReplacer("NT$", "", ",", "").Replace(s), 10, 64)
	if err != nil {
		t.Fatalf("money %q: %v", s, err)
	}
	return billing.Money(n)
}

// A purchase in a period with no numbers left is paid, and its invoice
// says it waits (待配號) and will be issued when numbers come.
func TestWaitingInvoice(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	if _, err := a.Store.DB.ExecContext(ctx, `DELETE FROM einvoice_books`); err != nil {
		t.Fatal(err)
	}
	u := httpSignIn(t, a.URL, "alice", nil)
	id := buyWithInvoice(t, a, u, billing.Medium, billing.High,
		url.Values{"kind": {"mobile_barcode"}, "carrier": {"/ABC+123"}, "email": {"alice@example.tw"}})
	for path, p := range chargePages(t, a, u, "cat", id) {
		if got := p.testID("einvoice-state"); got != "待配號" {
			t.Errorf("%s: state %q, want 待配號", path, got)
		}
		if got := p.testID("einvoice-waiting"); !strings.Contains(got, "取得號碼後將立即開立") {
			t.Errorf("%s: %q, want it to say the invoice is issued once numbers come", path, got)
		}
		if p.has("einvoice-number") || p.has("einvoice-random") {
			t.Errorf("%s: a waiting invoice shows a number", path)
		}
		if strings.HasSuffix(path, "/receipt") && p.testID("receipt-invoice") != "待配號" {
			t.Errorf("%s: receipt invoice %q, want 待配號", path, p.testID("receipt-invoice"))
		}
	}
	for _, s := range []string{"a", "m"} {
		hist := open(t, u, a.URL+"/"+s+"/cat/history")
		row := hist.Doc.Find(`[data-testid="charge-` + strconv.FormatInt(id, 10) + `"]`)
		if got := strings.TrimSpace(row.Find(`[data-testid="invoice"]`).Text()); got != "待配號" {
			t.Errorf("/%s history: invoice %q, want 待配號", s, got)
		}
	}
}

// A refund the provider declined gave nothing back and is not shown; one
// it has not answered yet reads 退款處理中, and the charge still paid in
// full.
func TestRefundDeclinedAndPending(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	storeCard(t, a, "cat", "4000000000005126") // charged, but every refund declined
	ch, err := a.Store.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "cat", Plan: billing.High, Key: "declined-1"})
	if err != nil || ch.Status != billing.StatusPaid {
		t.Fatalf("upgrade %+v: %v", ch, err)
	}
	if _, err := a.Store.Refund(ctx, "staff:test", db.RefundRequest{ChargeID: ch.ID, Amount: 100, Reason: "退款被拒", Key: "declined-r1"}); billing.ErrorCode(err) != billing.EPaymentFailed {
		t.Fatalf("a refund of the 5126 card: %v, want it declined", err)
	}
	u := httpSignIn(t, a.URL, "alice", nil)
	for path, p := range chargePages(t, a, u, "cat", ch.ID) {
		for _, id := range []string{"refunds", "refund-line", "refund-net", "refund-full", "refund-part", "refund-pending-tag"} {
			if p.has(id) {
				t.Errorf("%s: a declined refund shows %s: %q", path, id, p.testID(id))
			}
		}
	}
	// A refund still with the provider (its answer lost): as the store
	// leaves it until CollectRefunds asks again.
	if _, err := a.Store.DB.ExecContext(ctx, `INSERT INTO refunds (charge_id, account_id, amount, reason, status, idempotency_key, requested_by, payment_kind, attempts, created_at, asked_at)
		VALUES ($1, 'cat', 100, '處理中', 'pending', 'pending-r1', 'staff:test', 'credit_card', 1, $2, $2)`, ch.ID, a.Clock.Now()); err != nil {
		t.Fatal(err)
	}
	for path, p := range chargePages(t, a, u, "cat", ch.ID) {
		if got := p.testID("refund-pending"); !strings.Contains(got, "退款處理中") || !strings.Contains(got, "NT$100") {
			t.Errorf("%s: pending refund %q, want 退款處理中 NT$100", path, got)
		}
		if got := p.testID("refund-pending-tag"); got != "退款處理中" {
			t.Errorf("%s: tag %q, want 退款處理中", path, got)
		}
		if p.has("refund-net") || p.has("refund-line") {
			t.Errorf("%s: a pending refund reads as given back", path)
		}
	}
	hist := open(t, u, a.URL+"/m/cat/history")
	if got := hist.Doc.Find(`[data-testid="charge-` + strconv.FormatInt(ch.ID, 10) + `"] [data-testid="refund-pending"]`).Text(); !strings.Contains(got, "退款處理中") {
		t.Errorf("history: pending refund %q", got)
	}
}
