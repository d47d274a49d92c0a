package mig_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"webstore/billing"
	"webstore/billing/mig"
	"webstore/billing/mig/migcheck"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

var (
	novDec = billing.InvoicePeriod{Year: 2026, Month: time.November}
	books  = []billing.BookRange{{Period: novDec, Track: "AB", Begin: 12345600, End: 12345649}}
	seller = mig.Party{Identifier: "04595252", Name: "台灣連線股份有限公司"}
	// 2026-10-31 16:00 UTC is 2026-11-01 00:00 Taiwan time: period 11512.
	firstInstant = time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC)
	december     = billing.Month{Year: 2026, Month: time.December}
)

// memberType is a member carrier type as configuration would set it.
const memberType = "EJ0113"

func invoiceFor(t *testing.T, d billing.InvoiceDetails, paid time.Time) mig.F0401 {
	t.Helper()
	buyer, carrier, npoban := mig.Buyer(d.Normalize(), "王小明的店", memberType, "M0000042")
	amounts, err := billing.InvoiceAmountsFor(400, 20, 420, d.Kind == billing.InvoiceCompany)
	if err != nil {
		t.Fatal(err)
	}
	return mig.F0401{
		InvoiceNumber: "AB12345600",
		Issued:        paid,
		Seller:        seller,
		Buyer:         buyer,
		Carrier:       carrier,
		NPOBAN:        npoban,
		RandomNumber:  "0420",
		Description:   mig.ItemDescription("高用量", december, ""),
		Amounts:       amounts,
	}
}

var kinds = map[string]billing.InvoiceDetails{
	"mobile barcode":      {Kind: billing.InvoiceMobileBarcode, Carrier: "/abc+123"},
	"citizen certificate": {Kind: billing.InvoiceCitizenCertificate, Carrier: "AB12345678901234"},
	"member carrier":      {Kind: billing.InvoiceMember},
	"donation":            {Kind: billing.InvoiceDonation, DonationCode: "25885"},
	"B2B":                 {Kind: billing.InvoiceCompany, TaxID: "22099131", CompanyTitle: "小明有限公司"},
}

func mustPass(t *testing.T, name string, m mig.Message) []byte {
	t.Helper()
	out, err := m.XML()
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if ps := migcheck.CheckAs(m.Type(), out, books); len(ps) != 0 {
		t.Errorf("%s: the checker refuses the writer's output:\n%v\n%s", name, ps, out)
	}
	return out
}

func TestInvoicesPassTheChecker(t *testing.T) {
	for name, d := range kinds {
		for _, paid := range []time.Time{firstInstant, time.Date(2026, 12, 31, 15, 59, 59, 0, time.UTC)} {
			out := mustPass(t, name, invoiceFor(t, d, paid))
			if name == "B2B" && !bytes.Contains(out, []byte("<TaxAmount>20</TaxAmount>")) {
				t.Errorf("B2B invoice without its tax:\n%s", out)
			}
		}
	}
	// Taiwan time: the first instant of the period is written as its first day.
	out, _ := invoiceFor(t, kinds["member carrier"], firstInstant).XML()
	for _, want := range []string{"<InvoiceDate>20261101</InvoiceDate>", "<InvoiceTime>00:00:00</InvoiceTime>", "<CarrierType>EJ0113</CarrierType>", "<CarrierId2>M0000042</CarrierId2>"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("F0401 lacks %s:\n%s", want, out)
		}
	}
	// One second earlier is the previous period, outside the 11512 book.
	late := invoiceFor(t, kinds["member carrier"], firstInstant.Add(-time.Second))
	out, _ = late.XML()
	if ps := migcheck.Check(out, books); len(ps) == 0 {
		t.Error("an invoice dated 2026-10-31 passed with a number of period 11512")
	}
}

// Names are escaped, not cut short or broken: the checker reads them back
// whole.
func TestInvoiceEscapesNames(t *testing.T) {
	m := invoiceFor(t, kinds["B2B"], firstInstant)
	m.Buyer.Name = `A&B <台灣> "公司"`
	out := mustPass(t, "escaped name", m)
	if !bytes.Contains(out, []byte("<Name>A&amp;B &lt;台灣&gt; &#34;公司&#34;</Name>")) {
		t.Errorf("name not escaped:\n%s", out)
	}
}

func TestCancelsAndAllowancesPassTheChecker(t *testing.T) {
	issued := time.Date(2026, 12, 15, 9, 30, 0, 0, billing.Taipei)
	for name, d := range kinds {
		inv := invoiceFor(t, d, issued)
		mustPass(t, name+" F0501", mig.F0501{
			InvoiceNumber: inv.InvoiceNumber, Issued: issued, BuyerID: inv.Buyer.Identifier,
			SellerID: seller.Identifier, Cancelled: novDec.CancelDeadline().Add(-time.Second), Reason: "全額退款",
		})
		dec, err := billing.DecideRefund(issued, 420, 210, issued.Add(24*time.Hour), inv.B2B())
		if err != nil || dec.Message != billing.RefundAllowance {
			t.Fatalf("DecideRefund = %+v, %v", dec, err)
		}
		number, _ := billing.AllowanceNumber(inv.InvoiceNumber, 1)
		when := issued.Add(24 * time.Hour)
		mustPass(t, name+" G0401", mig.G0401{
			AllowanceNumber: number, Date: when, Seller: seller, Buyer: inv.Buyer,
			InvoiceNumber: inv.InvoiceNumber, InvoiceIssued: issued, InvoiceDescription: inv.Description,
			Net: dec.Net, Tax: dec.Tax,
		})
		mustPass(t, name+" G0501", mig.G0501{
			AllowanceNumber: number, AllowanceDate: when, BuyerID: inv.Buyer.Identifier,
			SellerID: seller.Identifier, Cancelled: when.Add(time.Hour), Reason: "折讓開立錯誤",
		})
	}
	// A cancel at the deadline is too late for F0501: the checker says so.
	late, err := mig.F0501{InvoiceNumber: "AB12345600", Issued: issued, BuyerID: billing.B2CBuyerID,
		SellerID: seller.Identifier, Cancelled: novDec.CancelDeadline(), Reason: "全額退款"}.XML()
	if err != nil {
		t.Fatal(err)
	}
	if ps := migcheck.Check(late, books); len(ps) != 1 || !strings.Contains(ps[0].Message, "已過期限") {
		t.Errorf("F0501 at the deadline: %v", ps)
	}
}

func TestBlankReportPassesTheChecker(t *testing.T) {
	used := []billing.InvoiceNumber{"AB12345600", "AB12345601", "AB12345610"}
	reports := mig.BlankReports(seller.Identifier, seller.Identifier, novDec, books, used)
	if len(reports) != 1 || len(reports[0].Blanks) != 2 {
		t.Fatalf("BlankReports = %+v", reports)
	}
	out := mustPass(t, "E0402", reports[0])
	for _, want := range []string{"<YearMonth>11512</YearMonth>", "<InvoiceBeginNo>12345602</InvoiceBeginNo>", "<InvoiceEndNo>12345609</InvoiceEndNo>", "<InvoiceBeginNo>12345611</InvoiceBeginNo>"} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("E0402 lacks %s:\n%s", want, out)
		}
	}
}

func TestWriterRefusals(t *testing.T) {
	good := invoiceFor(t, kinds["mobile barcode"], firstInstant)
	for name, m := range map[string]mig.Message{
		"bad number":      func() mig.F0401 { m := good; m.InvoiceNumber = "AB123"; return m }(),
		"long name":       func() mig.F0401 { m := good; m.Buyer.Name = strings.Repeat("店", 61); return m }(),
		"no description":  func() mig.F0401 { m := good; m.Description = " "; return m }(),
		"no seller ID":    func() mig.F0401 { m := good; m.Seller.Identifier = ""; return m }(),
		"long reason":     mig.F0501{InvoiceNumber: "AB12345600", Reason: strings.Repeat("退", 21)},
		"no reason":       mig.G0501{AllowanceNumber: "ALAB1234560001"},
		"long allowance":  mig.G0401{AllowanceNumber: "ALAB123456000199", InvoiceNumber: "AB12345600"},
		"zero allowance":  mig.G0401{AllowanceNumber: "AL1", InvoiceNumber: "AB12345600", Seller: seller, Buyer: seller, InvoiceDescription: "x"},
		"no blanks":       mig.E0402{Period: novDec, Track: "AB"},
		"bad blank track": mig.E0402{Period: novDec, Track: "ab", Blanks: []mig.Blank{{1, 2}}},
	} {
		if _, err := m.XML(); billing.ErrorCode(err) != billing.EInvalid {
			t.Errorf("%s: error %v, want EInvalid", name, err)
		}
	}
}

// The golden F0401 makes any change to the written bytes visible in review.
// Run with -update to rewrite it after a deliberate change.
func TestF0401Golden(t *testing.T) {
	out, err := invoiceFor(t, kinds["mobile barcode"], firstInstant).XML()
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "F0401_b2c_mobile_barcode.xml")
	if *update {
		if err := os.WriteFile(path, out, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out, want) {
		t.Errorf("F0401 differs from %s:\n got:\n%s\nwant:\n%s", path, out, want)
	}
}
