package db_test

import (
	"context"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
)

// The writes that move money make the round trips their transactions
// need, no more: each is held to the count it makes today, so a change
// that adds a statement to a purchase or a code registration is seen.
var countCtx = context.Background()

func TestWriteRoundTrips(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light, billing.CreditCard, "tok_bear")
	f.codes(t, "SUMMER-2024-0001") // offsets the whole upgrade: reserved, redeemed and settled in one transaction
	f.account(t, "lion", billing.Light, billing.CreditCard, "tok_lion")
	if _, err := f.s.ImportBooks(f.ctx, "test", []billing.BookRange{db.DemoBook(billing.InvoicePeriodOf(f.clk.Now()))}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name   string
		budget int
		run    func() error
	}{
		{"register a code", 11, func() error {
			_, err := f.s.RegisterCode(countCtx, "test", "bear", "SUMMER-2024-0001")
			return err
		}},
		{"save e-invoice details", 6, func() error {
			_, err := f.s.SaveInvoiceDetails(countCtx, "test", "bear", billing.InvoiceDetails{Kind: billing.InvoiceMember, Email: "a@example.com"})
			return err
		}},
		{"upgrade, paid in full by the code", 18, func() error {
			_, err := f.s.Upgrade(countCtx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "rt-1"})
			return err
		}},
		{"upgrade paid by card, its e-invoice issued", 34, func() error {
			_, err := f.s.Upgrade(countCtx, "test", db.UpgradeRequest{AccountID: "lion", Plan: billing.Medium, Key: "rt-2"})
			return err
		}},
		{"the same upgrade again (a double-click)", 6, func() error {
			_, err := f.s.Upgrade(countCtx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "rt-1"})
			return err
		}},
		{"schedule a downgrade", 6, func() error {
			_, err := f.s.ScheduleDowngrade(countCtx, "test", "bear", billing.Light)
			return err
		}},
	}
	for _, st := range steps {
		var n *db.StatementCounter
		countCtx, n = db.WithStatementCounter(f.ctx)
		if err := st.run(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		t.Logf("%-40s %d", st.name, n.N())
		if n.N() > st.budget {
			t.Errorf("%s: %d round trips, budget %d:\n  %s", st.name, n.N(), st.budget, strings.Join(n.Statements(), "\n  "))
		}
	}
}
