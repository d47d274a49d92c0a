package db_test

import (
	"encoding/json"
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
)

// The staff account page's one statement reads what the separate store
// methods read: the overview, the charges, the usage snapshot, the running
// totals, the daily counts and the audit trail.
func TestStaffAccountPageMatchesItsParts(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "PAGE-0001")
	f.account(t, "cat", billing.Medium, billing.CreditCard, "tok")
	f.account(t, "dog", billing.Light, "", "")
	if _, err := f.s.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: "cat", Kind: billing.LinePay, Token: "lp", Label: "LINE"}, false); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.SaveInvoiceDetails(f.ctx, "test", "cat", billing.InvoiceDetails{Kind: billing.InvoiceKind("member"), Email: "cat@example.com"}); err != nil {
		t.Logf("invoice details not saved (%v); the page reads none", err)
	}
	if _, err := f.s.RegisterCode(f.ctx, "user:alice", "cat", "page-0001"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "cat", Plan: billing.High, Key: "k"}); err != nil {
		t.Fatal(err)
	}
	for i, n := range []int{120, 340} {
		if _, err := f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: "b" + string(rune('0'+i)), AccountID: "cat",
			Kind: billing.MessageKind("broadcast"), Messages: n, SentAt: f.clk.Now().Add(time.Duration(-i) * 30 * time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.RefreshUsage(f.ctx, f.clk.Now()); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"cat", "dog"} {
		got, err := f.s.StaffAccountPage(f.ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		want := db.StaffAccountData{Month: billing.MonthOf(f.clk.Now())}
		if want.Overview, err = f.s.FindOverview(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		if want.Charges, err = f.s.FindCharges(f.ctx, id); err != nil {
			t.Fatal(err)
		}
		if want.Usage, err = f.s.FindUsage(f.ctx, id, want.Month); err != nil {
			t.Fatal(err)
		}
		if want.LiveFree, want.LiveAdditional, err = f.s.LiveUsage(f.ctx, id, want.Month); err != nil {
			t.Fatal(err)
		}
		if want.Daily, err = f.s.DailyUsage(f.ctx, id, want.Month); err != nil {
			t.Fatal(err)
		}
		if want.Audit, err = f.s.FindAudit(f.ctx, db.AuditFilter{AccountID: id, Limit: 100}); err != nil {
			t.Fatal(err)
		}
		// The page reads its usage and charges into fields of its own, not
		// the overview's banner and usage.
		want.Overview.Owed, want.Overview.Usage = nil, db.Usage{}
		// The page leaves the payment providers' tokens unread.
		for i := range want.Overview.Methods {
			want.Overview.Methods[i].Token = ""
		}
		// Compared as JSON: instants as RFC 3339, whatever their *Location.
		g, _ := json.Marshal(got)
		w, _ := json.Marshal(want)
		if string(g) != string(w) {
			t.Errorf("%s: StaffAccountPage\n%s\nwant\n%s", id, g, w)
		}
		if id == "cat" && (len(got.Charges) == 0 || got.Overview.Code == nil || len(got.Daily) == 0 || len(got.Audit) == 0 || len(got.Overview.Methods) != 2) {
			t.Errorf("cat's page is missing parts: %+v", got)
		}
	}
	if _, err := f.s.StaffAccountPage(f.ctx, "nobody"); billing.ErrorCode(err) != billing.EUnknownAccount {
		t.Errorf("unknown account: %v, want %s", err, billing.EUnknownAccount)
	}
}
