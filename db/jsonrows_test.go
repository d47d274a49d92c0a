package db_test

import (
	"database/sql"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
)

// The page statement's charges decode into db.Charge, by its json tags,
// to what FindCharges scans from the same rows.
func TestOverviewChargesAsScanned(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light, billing.CreditCard, "tok")
	f.codes(t, "SUMMER-2024-0001")
	if _, err := f.s.RegisterCode(f.ctx, "test", "bear", "SUMMER-2024-0001"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k1"}); err != nil {
		t.Fatal(err)
	}
	scanned, err := f.s.FindCharges(f.ctx, "bear")
	if err != nil || len(scanned) != 1 {
		t.Fatalf("FindCharges: %d charges, %v", len(scanned), err)
	}
	o, err := f.s.FindOverviewWith(f.ctx, "bear", db.OverviewWith{Charges: true, Charge: scanned[0].ID, CodeCharge: true})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.Charges) != 1 || o.Charge == nil || o.CodeCharge == nil {
		t.Fatalf("overview: %d charges, charge %v, the code's %v", len(o.Charges), o.Charge, o.CodeCharge)
	}
	want := inUTC(scanned[0])
	if !want.PaidAt.Valid || !want.PaymentID.Valid || want.Offset == 0 || want.CodeDisplay == "" || want.FromPlan == "" {
		t.Fatalf("the paid upgrade with a code has no paid_at, method, offset or code: %+v", want)
	}
	for name, got := range map[string]db.Charge{"charges": o.Charges[0], "charge": *o.Charge, "code's charge": *o.CodeCharge} {
		if got := inUTC(got); got != want {
			t.Errorf("the overview's %s:\n%+v\nwant as scanned:\n%+v", name, got, want)
		}
	}
}

// inUTC is c with its times in UTC (scanned and decoded times may differ
// in their location, not in the instant).
func inUTC(c db.Charge) db.Charge {
	c.MonthDate, c.EffectiveAt, c.CreatedAt = c.MonthDate.UTC(), c.EffectiveAt.UTC(), c.CreatedAt.UTC()
	for _, n := range []*db.NullTime{&c.AskedAt, &c.NextRetryAt, &c.PaidAt} {
		n.Time = n.Time.UTC()
	}
	return c
}

// A charge encodes as the audit log has always stored it (charge.created,
// charge.paid): Go's field names, nullable values as {"Time"/"Int64",
// "Valid"}. It decodes from what PostgreSQL writes, money exactly.
func TestChargeJSON(t *testing.T) {
	paid := time.Date(2026, 12, 1, 1, 2, 3, 0, time.UTC)
	c := db.Charge{ID: 7, Kind: billing.KindRenewal, MonthDate: time.Date(2026, 12, 1, 0, 0, 0, 0, time.UTC),
		PaidAt: db.NullTime{NullTime: sql.NullTime{Time: paid, Valid: true}}, PaymentID: db.NullInt64{NullInt64: sql.NullInt64{Int64: 3, Valid: true}}}
	b, err := json.Marshal(c)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ID":7,`, `"Kind":"renewal"`, `"MonthDate":"2026-12-01T00:00:00Z"`, `"Offset":0`, `"CodeDisplay":""`,
		`"AskedAt":{"Time":"0001-01-01T00:00:00Z","Valid":false}`, `"PaymentID":{"Int64":3,"Valid":true}`,
		`"PaidAt":{"Time":"2026-12-01T01:02:03Z","Valid":true}`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("encoded charge %s lacks %s", b, want)
		}
	}

	var got db.Charge
	if err := json.Unmarshal([]byte(`{"ID": 9007199254740993, "Total": 9007199254740993, "MonthDate": "2026-12-01T00:00:00Z",
		"AskedAt": null, "PaidAt": "2026-12-01T09:02:03+08:00", "PaymentID": 9007199254740993}`), &got); err != nil {
		t.Fatal(err)
	}
	if got.ID != 9007199254740993 || got.Total != 9007199254740993 || got.PaymentID != (db.NullInt64{NullInt64: sql.NullInt64{Int64: 9007199254740993, Valid: true}}) {
		t.Errorf("int64s lost precision: %d %d %+v", got.ID, got.Total, got.PaymentID)
	}
	if got.AskedAt.Valid || !got.PaidAt.Valid || !got.PaidAt.Time.Equal(paid) {
		t.Errorf("AskedAt %+v, PaidAt %+v", got.AskedAt, got.PaidAt)
	}
}
