package db_test

import (
	"fmt"
	"sort"
	"strings"
	"sync"
	"testing"

	"webstore/billing"
	"webstore/db"
)

func (f fixture) invoice(t *testing.T, chargeID int64) (status, number, buyer, carrierType, carrierID, npoban string) {
	t.Helper()
	err := f.s.DB.QueryRowxContext(f.ctx, `SELECT status, coalesce(number,''), buyer_ban, carrier_type, carrier_id, npoban FROM einvoices WHERE charge_id=$1`,
		chargeID).Scan(&status, &number, &buyer, &carrierType, &carrierID, &npoban)
	if err != nil {
		t.Fatalf("invoice of charge %d: %v", chargeID, err)
	}
	return
}

func book(p billing.InvoicePeriod, track string, begin, end int) billing.BookRange {
	return billing.BookRange{Period: p, Track: track, Begin: begin, End: end}
}

// A charge paid while its period has no number left is paid all the same;
// its invoice waits and is issued, first, when numbers are imported.
func TestInvoiceWaitsForNumbersThenIsIssued(t *testing.T) {
	f := newFixture(t)
	p := billing.InvoicePeriodOf(f.clk.Now())
	if p.String() != "11306" {
		t.Fatalf("period of %v = %s, want 11306", f.clk.Now(), p)
	}
	f.account(t, "bear", billing.Light, billing.CreditCard, "tok")
	if _, err := f.s.SaveInvoiceDetails(f.ctx, "test", "bear", billing.InvoiceDetails{Kind: billing.InvoiceMobileBarcode, Carrier: "/ABC+123", Email: "a@example.com"}); err != nil {
		t.Fatal(err)
	}
	first, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k1"})
	if err != nil || first.Status != billing.StatusPaid || first.Invoice != "" {
		t.Fatalf("paid with no numbers: %+v, %v", first, err)
	}
	if st, n, _, _, _, _ := f.invoice(t, first.ID); st != "waiting" || n != "" {
		t.Fatalf("invoice %s %q, want waiting", st, n)
	}
	res, err := f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{book(p, "AB", 12345600, 12345649)})
	if err != nil || res != (db.BookImport{Added: 1, Numbers: 50, Issued: 1}) {
		t.Fatalf("import: %+v, %v", res, err)
	}
	st, n, buyer, ct, cid, _ := f.invoice(t, first.ID)
	if st != "issued" || n != "AB12345600" || buyer != billing.B2CBuyerID || ct != "3J0002" || cid != "/ABC+123" {
		t.Fatalf("issued invoice: %s %s %s %s %s", st, n, buyer, ct, cid)
	}
	if got, err := f.s.FindChargeByID(f.ctx, first.ID); err != nil || got.Invoice != "AB12345600" {
		t.Fatalf("charge's invoice number %q, %v", got.Invoice, err)
	}
	// The same file again changes nothing; an overlapping range refuses it all.
	if res, err := f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{book(p, "AB", 12345600, 12345649)}); err != nil || res.Already != 1 || res.Added != 0 {
		t.Fatalf("re-import: %+v, %v", res, err)
	}
	_, err = f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{book(p, "AC", 100, 149), book(p, "AB", 12345500, 12345649)})
	if billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("overlap: %v", err)
	}
	var books int
	if err := f.s.DB.GetContext(f.ctx, &books, `SELECT count(*) FROM einvoice_books`); err != nil || books != 1 {
		t.Fatalf("books after a refused import: %d, %v", books, err)
	}
	// The next charge takes the next number, as B2B when the account is a company.
	f.account(t, "lion", billing.Light, billing.CreditCard, "tok")
	if _, err := f.s.SaveInvoiceDetails(f.ctx, "test", "lion", billing.InvoiceDetails{Kind: billing.InvoiceCompany, CompanyTitle: "獅子股份有限公司", TaxID: "04595257", Email: "b@example.com"}); err != nil {
		t.Fatal(err)
	}
	second, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "lion", Plan: billing.High, Key: "k2"})
	if err != nil || second.Invoice != "AB12345601" {
		t.Fatalf("second: %+v, %v", second, err)
	}
	if _, _, buyer, ct, _, _ := f.invoice(t, second.ID); buyer != "04595257" || ct != "" {
		t.Fatalf("B2B buyer %s carrier %q", buyer, ct)
	}
}

// 1,000 charges paid at once take 1,000 consecutive numbers: none twice,
// none skipped, across two books.
func TestInvoiceNumbersConsecutiveUnderConcurrency(t *testing.T) {
	if testing.Short() {
		t.Skip("1,000 purchases")
	}
	f := newFixture(t)
	p := billing.InvoicePeriodOf(f.clk.Now())
	if _, err := f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{book(p, "ZZ", 500, 999), book(p, "ZZ", 1000, 1499)}); err != nil {
		t.Fatal(err)
	}
	const n = 1000
	// The accounts, each with a card, in one statement: the rows and audit
	// entries f.account's CreateAccount and AddPaymentMethod write for a
	// light account (no paid month) and its first, main method.
	if _, err := f.s.DB.ExecContext(f.ctx, `WITH a AS (
			INSERT INTO accounts (id, name, region, plan, created_at)
			SELECT id, id, 'TW', 'light', $2 FROM (SELECT format('acct-%s', lpad(i::text, 4, '0')) AS id FROM generate_series(0, $1 - 1) i) ids
			RETURNING id, name, region, plan),
		pm AS (
			INSERT INTO payment_methods (account_id, kind, is_main, token, label, brand, last4, expiry, created_at)
			SELECT id, 'credit_card', true, 'tok', '', '', '', '', $2 FROM a
			RETURNING id, account_id)
		INSERT INTO audit_log (at, actor, account_id, kind, before, after)
		SELECT $2, 'test', id, 'account.created', NULL::jsonb, jsonb_build_object('name', name, 'region', region, 'plan', plan) FROM a
		UNION ALL
		SELECT $2, 'test', account_id, 'payment_method.added', NULL,
			jsonb_build_object('id', id, 'kind', 'credit_card', 'main', true, 'brand', '', 'last4', '') FROM pm`,
		n, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	work := make(chan int)
	numbers := make([]string, n)
	errs := make(chan error, n)
	for range 16 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range work {
				ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: fmt.Sprintf("acct-%04d", i), Plan: billing.Medium, Key: fmt.Sprint("k", i)})
				if err != nil {
					errs <- err
					continue
				}
				numbers[i] = ch.Invoice
			}
		}()
	}
	for i := range n {
		work <- i
	}
	close(work)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	sort.Strings(numbers)
	for i, got := range numbers {
		if want := billing.FormatInvoiceNumber("ZZ", 500+i); got != want {
			t.Fatalf("number %d: %q, want %q", i, got, want)
		}
	}
}

// Once a period has ended, its unused numbers are reported (E0402) once,
// per track, and no number of it is imported after that.
func TestBlankNumbersReportedOnceAfterThePeriod(t *testing.T) {
	f, _ := newRefundFixture(t) // the demo book of this period: AB12345600–AB12346099
	p := billing.InvoicePeriodOf(f.clk.Now())
	if _, err := f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{book(p, "AC", 0, 49)}); err != nil {
		t.Fatal(err)
	}
	f.paid(t, "bear", mobile) // AB12345600
	if n, err := f.s.ReportBlanks(f.ctx, "system:test"); err != nil || n != 0 {
		t.Fatalf("before the period ends: %d reports, %v", n, err)
	}
	f.clk.Set(p.BlankReportDay())
	n, err := f.s.ReportBlanks(f.ctx, "system:test")
	if err != nil || n != 2 {
		t.Fatalf("reports: %d, %v; want one per track", n, err)
	}
	ms := f.messages(t)["E0402"]
	if len(ms) != 2 || ms[0].Name != p.String()+"AB" || ms[1].Name != p.String()+"AC" {
		t.Fatalf("E0402: %+v", ms)
	}
	for _, want := range []string{"<InvoiceBeginNo>12345601</InvoiceBeginNo>", "<InvoiceEndNo>12346099</InvoiceEndNo>"} {
		if !strings.Contains(ms[0].Body, want) {
			t.Errorf("AB's report lacks %s:\n%s", want, ms[0].Body)
		}
	}
	if n, err := f.s.ReportBlanks(f.ctx, "system:test"); err != nil || n != 0 {
		t.Fatalf("again: %d reports, %v", n, err)
	}
	if _, err := f.s.ImportBooks(f.ctx, "staff:ann", []billing.BookRange{book(p, "AD", 0, 49)}); billing.ErrorCode(err) != billing.EInvalid {
		t.Fatalf("an import into a reported period: %v", err)
	}
}
