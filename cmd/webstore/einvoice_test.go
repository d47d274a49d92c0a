package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/billing/mig/migcheck"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/sandboxtest"
)

// The commands of e-invoices and refunds, end to end on one database: the
// platform's numbers imported from a CSV, a card purchase invoiced with
// the first of them, a full refund by command that reaches the card
// sandbox and cancels the invoice (F0501), and an export that writes each
// message once, even when rerun after a run killed before it recorded
// what it wrote.
func TestEInvoiceAndRefundCommands(t *testing.T) {
	ctx := context.Background()
	d, dsn := dbtest.New(t)
	t.Setenv("DATABASE_URL", dsn)
	t.Setenv("WEBSTORE_ENV", "development")
	for _, k := range []string{"CARDGW_API_URL", "LINEPAY_API_URL", "SELLER_BAN", "SELLER_NAME", "EINVOICE_MEMBER_CARRIER_TYPE"} {
		t.Setenv(k, "")
	}
	dir := t.TempDir()
	period := billing.InvoicePeriodOf(billing.SystemClock.Now()).String()
	csv := filepath.Join(dir, "books.csv")
	if err := os.WriteFile(csv, []byte("\ufeffyear_month,track,begin,end\r\n"+period+",AB,12345600,12345649\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var out, errs bytes.Buffer
	if code := run(ctx, []string{"einvoice", "numbers", "import", csv}, &out, &errs); code != 0 || !strings.Contains(out.String(), `"added":1`) {
		t.Fatalf("import: exit %d, %s %s", code, out.String(), errs.String())
	}
	bad := filepath.Join(dir, "bad.csv")
	os.WriteFile(bad, []byte("year_month,track,begin,end\n"+period+",AB,12345610,12345649\n"), 0o644)
	out.Reset()
	errs.Reset()
	if code := run(ctx, []string{"einvoice", "numbers", "import", bad}, &out, &errs); code != 2 || !strings.Contains(errs.String(), "第 2 行") {
		t.Fatalf("a range not of whole books: exit %d, %q", code, errs.String())
	}

	// bear buys with a card, its invoice kept in a mobile barcode.
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	gw, stop, err := loopbackProviders(ctx, cfg, d)
	if err != nil {
		t.Fatal(err)
	}
	defer stop()
	s := db.New(d, billing.SystemClock, gw)
	month := billing.MonthOf(s.Clock.Now())
	if err := s.CreateAccount(ctx, "test", db.NewAccount{ID: "bear", Name: "熊美服飾店", Region: "TW", Plan: billing.Light, PaidMonth: month}); err != nil {
		t.Fatal(err)
	}
	p, err := sandboxtest.EnterCard(ctx, http.DefaultClient, cardgw.FieldsURL(gw.Cards.BaseURL, "pk_sandbox", "http://merchant.test/return"),
		sandboxtest.Card{Number: "4242 4242 4242 4242", Expiry: "12/30", CVC: "123", Name: "林小美"})
	if err != nil || p.Location == nil {
		t.Fatalf("enter card: %v", err)
	}
	card, err := gw.Cards.AttachCard(ctx, p.Location.Query().Get("card_token"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddPaymentMethod(ctx, "test", db.PaymentMethod{AccountID: "bear", Kind: billing.CreditCard, Token: card.ID}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveInvoiceDetails(ctx, "test", "bear", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode, Carrier: "/ABC+123", Email: "bear@example.com"}); err != nil {
		t.Fatal(err)
	}
	ch, err := s.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "buy-1"})
	if err != nil || ch.Invoice != "AB12345600" {
		t.Fatalf("purchase: %+v, %v", ch, err)
	}

	out.Reset()
	errs.Reset()
	args := []string{"refund", "--charge", strconv.FormatInt(ch.ID, 10), "--reason", "重複扣款", "--by", "ann"}
	if code := run(ctx, args, &out, &errs); code != 0 {
		t.Fatalf("refund: exit %d, %s", code, errs.String())
	}
	var r db.Refund
	if err := json.Unmarshal(out.Bytes(), &r); err != nil || r.Status != billing.RefundSucceeded || r.Amount != ch.Total || r.ProviderRef == "" {
		t.Fatalf("refund: %+v, %v", r, err)
	}
	found, err := gw.Cards.FindRefunds(ctx, cardgw.RefundFilter{Charge: ch.PaymentRef})
	if err != nil || len(found) != 1 || found[0].ID != r.ProviderRef || found[0].Amount != ch.Total {
		t.Fatalf("the card sandbox holds %+v, %v", found, err)
	}
	out.Reset()
	if code := run(ctx, args, &out, &errs); code != 0 || !strings.Contains(out.String(), `"id":`+strconv.FormatInt(r.ID, 10)+`,`) {
		t.Fatalf("the same command again: exit %d, %s", code, out.String())
	}
	if found, _ := gw.Cards.FindRefunds(ctx, cardgw.RefundFilter{Charge: ch.PaymentRef}); len(found) != 1 {
		t.Fatalf("refunded %d times", len(found))
	}

	turnkey := filepath.Join(dir, "turnkey")
	out.Reset()
	if code := run(ctx, []string{"einvoice", "export", "--dir", turnkey}, &out, &errs); code != 0 {
		t.Fatalf("export: exit %d, %s", code, errs.String())
	}
	want := []string{filepath.Join(turnkey, "F0401", "AB12345600.xml"), filepath.Join(turnkey, "F0501", "AB12345600.xml")}
	if got := strings.Fields(out.String()); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("export wrote %v, want %v", got, want)
	}
	books := []billing.BookRange{{Period: billing.InvoicePeriodOf(s.Clock.Now()), Track: "AB", Begin: 12345600, End: 12345649}}
	for _, path := range want {
		body, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if problems := migcheck.Check(body, books); len(problems) > 0 {
			t.Errorf("%s: %v", path, problems)
		}
	}
	f0401, _ := os.ReadFile(want[0])
	for _, s := range []string{"<CarrierType>3J0002</CarrierType>", "<CarrierId1>/ABC+123</CarrierId1>", "<Identifier>0000000000</Identifier>",
		"<TaxAmount>0</TaxAmount>", "<TotalAmount>" + ch.Total.Plain() + "</TotalAmount>"} {
		if !strings.Contains(string(f0401), s) {
			t.Errorf("F0401 lacks %s:\n%s", s, f0401)
		}
	}
	// A run killed after its renames, before it recorded them: the rerun
	// finds the files in place and writes none again.
	info, _ := os.Stat(want[0])
	if _, err := d.ExecContext(ctx, `UPDATE einvoice_messages SET written_at = NULL`); err != nil {
		t.Fatal(err)
	}
	out.Reset()
	if code := run(ctx, []string{"einvoice", "export", "--dir", turnkey}, &out, &errs); code != 0 || out.Len() != 0 {
		t.Fatalf("rerun: exit %d, wrote %q", code, out.String())
	}
	if again, _ := os.Stat(want[0]); !again.ModTime().Equal(info.ModTime()) {
		t.Fatal("the rerun wrote a file again")
	}
	var unwritten int
	if err := d.GetContext(ctx, &unwritten, `SELECT count(*) FROM einvoice_messages WHERE written_at IS NULL`); err != nil || unwritten != 0 {
		t.Fatalf("%d messages left unwritten, %v", unwritten, err)
	}
}
