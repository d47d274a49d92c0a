package db_test

import (
	"strings"
	"testing"

	"webstore/billing"
)

// Names a person types are stored trimmed, and refused (nothing written)
// when they are only invisible characters, carry a bidi control or are too
// long: the account name at LINE's 20 characters, the e-invoice title at
// the platform's 60.
func TestTypedNamesBounded(t *testing.T) {
	f := newFixture(t)
	f.account(t, "a", billing.Light, billing.CreditCard, "tok")
	for _, name := range []string{"\u200b", "\u202e", " \u2066\u2069 ", "熊\u202e美", strings.Repeat("熊", 21)} {
		if err := f.s.RenameAccount(f.ctx, "test", "a", name); billing.ErrorCode(err) != billing.EInvalid {
			t.Errorf("rename to %q: %v, want invalid_input", name, err)
		}
	}
	if err := f.s.RenameAccount(f.ctx, "test", "a", "\u200b "+strings.Repeat("熊", 20)+" "); err != nil {
		t.Fatalf("a 20-character name with spaces around: %v", err)
	}
	var name string
	if err := f.s.DB.Get(&name, `SELECT name FROM accounts WHERE id = 'a'`); err != nil || name != strings.Repeat("熊", 20) {
		t.Errorf("stored name %q (%v), want it trimmed", name, err)
	}

	company := billing.InvoiceDetails{Kind: billing.InvoiceCompany, TaxID: "22099131", Email: "a@b.tw"}
	for _, title := range []string{strings.Repeat("範", 60000), strings.Repeat("範", 61), "\u200b\u200b", "範例\u202e公司"} {
		company.CompanyTitle = title
		if _, err := f.s.SaveInvoiceDetails(f.ctx, "test", "a", company); billing.ErrorCode(err) != billing.EInvalid {
			t.Errorf("e-invoice title of %d characters: %v, want invalid_input", len([]rune(title)), err)
		}
	}
	var n int
	if err := f.s.DB.Get(&n, `SELECT count(*) FROM einvoice_details WHERE account_id = 'a'`); err != nil || n != 0 {
		t.Errorf("%d refused e-invoice details stored (%v)", n, err)
	}
	company.CompanyTitle = " " + strings.Repeat("範", 60) + " "
	if _, err := f.s.SaveInvoiceDetails(f.ctx, "test", "a", company); err != nil {
		t.Errorf("a 60-character title: %v", err)
	}
}
