package billing

import (
	"bytes"
	"testing"
	"time"
)

func TestInvoiceAmountsFor(t *testing.T) {
	for _, c := range []struct {
		name            string
		net, tax, total Money
		b2b             bool
		want            InvoiceAmounts
	}{
		{"B2C NT$420", 400, 20, 420, false, InvoiceAmounts{UnitPrice: 420, Amount: 420, SalesAmount: 420, TaxAmount: 0, TotalAmount: 420}},
		{"B2B NT$420", 400, 20, 420, true, InvoiceAmounts{UnitPrice: 400, Amount: 400, SalesAmount: 400, TaxAmount: 20, TotalAmount: 420}},
		{"B2B NT$1,260", 1200, 60, 1260, true, InvoiceAmounts{UnitPrice: 1200, Amount: 1200, SalesAmount: 1200, TaxAmount: 60, TotalAmount: 1260}},
		{"B2C odd", 333, 17, 350, false, InvoiceAmounts{UnitPrice: 350, Amount: 350, SalesAmount: 350, TotalAmount: 350}},
	} {
		got, err := InvoiceAmountsFor(c.net, c.tax, c.total, c.b2b)
		if err != nil || got != c.want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, c.want)
		}
	}
	for _, bad := range [][3]Money{{400, 20, 421}, {0, 0, 0}, {-10, 0, -10}, {400, -20, 380}} {
		if _, err := InvoiceAmountsFor(bad[0], bad[1], bad[2], true); ErrorCode(err) != EInvalid {
			t.Errorf("InvoiceAmountsFor(%v) error = %v, want EInvalid", bad, err)
		}
	}
}

func TestSplitRefund(t *testing.T) {
	for _, c := range []struct{ refund, net, tax Money }{
		{420, 400, 20},
		{1260, 1200, 60},
		{100, 95, 5}, // 95.238 → 95
		{21, 20, 1},  // 20.0
		{22, 21, 1},  // 20.952 → 21
		{1, 1, 0},    // 0.952 → 1
		{2, 2, 0},    // 1.905 → 2
		{52, 50, 2},  // 49.524 → 50
		{315, 300, 15},
		{0, 0, 0},
	} {
		net, tax := SplitRefund(c.refund)
		if net != c.net || tax != c.tax {
			t.Errorf("SplitRefund(%d) = %d + %d, want %d + %d", c.refund, net, tax, c.net, c.tax)
		}
	}
	// A full refund of any B2B charge splits back into its own net and tax.
	for net := Money(1); net <= 20000; net++ {
		tax := TaxOn(net)
		if n, x := SplitRefund(net + tax); n != net || x != tax {
			t.Fatalf("SplitRefund(%d) = %d + %d, want %d + %d", net+tax, n, x, net, tax)
		}
	}
}

func TestUploadDeadline(t *testing.T) {
	at := tw("2026-12-31 23:30:00")
	if got, want := UploadDeadline(at, false), tw("2027-01-02 23:30:00"); !got.Equal(want) {
		t.Errorf("B2C deadline = %s, want %s", got, want)
	}
	if got, want := UploadDeadline(at, true), tw("2027-01-07 23:30:00"); !got.Equal(want) {
		t.Errorf("B2B deadline = %s, want %s", got, want)
	}
}

func TestRandomNumber(t *testing.T) {
	seen := map[string]bool{}
	for range 200 {
		s, err := NewRandomNumber()
		if err != nil || len(s) != 4 || !allDigits(s) {
			t.Fatalf("NewRandomNumber = %q, %v", s, err)
		}
		seen[s] = true
	}
	if len(seen) < 150 {
		t.Errorf("200 draws gave only %d distinct numbers", len(seen))
	}
	// Small values are zero-padded; a failing source is an error.
	if s, err := randomNumber(bytes.NewReader([]byte{0, 7, 0, 7, 0, 7, 0, 7})); err != nil || s != "0007" {
		t.Errorf("randomNumber(7) = %q, %v", s, err)
	}
	if _, err := randomNumber(bytes.NewReader(nil)); err == nil {
		t.Error("randomNumber on an empty source succeeded")
	}
}

func TestDecideRefund(t *testing.T) {
	issued := tw("2026-12-15 10:00:00") // period 11512, deadline 2027-01-13 00:00
	for _, c := range []struct {
		name     string
		refund   Money
		at       time.Time
		b2b      bool
		want     RefundMessage
		agree    bool
		net, tax Money
	}{
		{"full, inside window", 420, tw("2027-01-12 23:59:59"), false, RefundCancel, false, 0, 0},
		{"full, at deadline", 420, tw("2027-01-13 00:00:00"), false, RefundAllowance, true, 400, 20},
		{"full, at deadline, B2B", 420, tw("2027-01-13 00:00:00"), true, RefundAllowance, false, 400, 20},
		{"full, same day, B2B", 420, tw("2026-12-15 11:00:00"), true, RefundCancel, false, 0, 0},
		{"partial, inside window", 210, tw("2026-12-20 00:00:00"), false, RefundAllowance, true, 200, 10},
		{"partial, B2B", 100, tw("2026-12-20 00:00:00"), true, RefundAllowance, false, 95, 5},
	} {
		got, err := DecideRefund(issued, 420, c.refund, c.at, c.b2b)
		want := RefundDecision{Message: c.want, NeedsAgreement: c.agree, Net: c.net, Tax: c.tax}
		if err != nil || got != want {
			t.Errorf("%s: got %+v, %v; want %+v", c.name, got, err, want)
		}
	}
	for _, bad := range []Money{0, -1, 421} {
		if _, err := DecideRefund(issued, 420, bad, issued, false); ErrorCode(err) != EInvalid {
			t.Errorf("refund %d: error %v, want EInvalid", bad, err)
		}
	}
}

func TestAllowanceNumber(t *testing.T) {
	got, err := AllowanceNumber("AB12345600", 1)
	if err != nil || got != "ALAB1234560001" || len(got) > MaxAllowanceNumber {
		t.Errorf("AllowanceNumber = %q, %v", got, err)
	}
	if got, _ := AllowanceNumber("AB12345600", 99); got != "ALAB1234560099" {
		t.Errorf("AllowanceNumber(99) = %q", got)
	}
	for _, c := range []struct {
		n   InvoiceNumber
		seq int
	}{{"AB1234560", 1}, {"AB12345600", 0}, {"AB12345600", 100}} {
		if _, err := AllowanceNumber(c.n, c.seq); ErrorCode(err) != EInvalid {
			t.Errorf("AllowanceNumber(%q, %d) error = %v", c.n, c.seq, err)
		}
	}
}
