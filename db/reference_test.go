package db_test

import (
	"testing"

	"webstore/billing"
	"webstore/db"
)

// Two app processes over one database: a change to the usage tiers or a
// campaign made through one is seen by the other at its next request,
// through the version its session statement reads, though both cache the
// reference data.
func TestReferenceCacheFollowsChangesFromAnotherProcess(t *testing.T) {
	f := newMemberFixture(t)
	other := db.New(f.s.DB, f.clk, nil) // a second process: its own cache
	tok, err := f.s.CreateSession(f.ctx, f.user(t, "staff"))
	if err != nil {
		t.Fatal(err)
	}
	// request is what a page does: the session statement, then reads
	// under the version it returned.
	request := func() ([]billing.UsageTier, billing.Campaign) {
		t.Helper()
		sess, err := f.s.FindSessionIn(f.ctx, tok, "")
		if err != nil {
			t.Fatal(err)
		}
		ctx := db.WithReferenceVersion(f.ctx, sess.ReferenceVersion)
		tiers, err := f.s.UsageTiers(ctx)
		if err != nil {
			t.Fatal(err)
		}
		c, err := f.s.FindCampaignByID(ctx, "summer-2024")
		if err != nil {
			t.Fatal(err)
		}
		return tiers, c
	}
	tiers, camp := request()
	if len(tiers) != 4 || camp.FaceValue != 800 {
		t.Fatalf("seeded: %d tiers, face value %d", len(tiers), camp.FaceValue)
	}
	// Cached: the same answer again without reading the tables.
	ctx, n := db.WithStatementCounter(f.ctx)
	sess, err := f.s.FindSessionIn(ctx, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.UsageTiers(db.WithReferenceVersion(ctx, sess.ReferenceVersion)); err != nil || n.N() != 1 {
		t.Fatalf("cached tiers: %d round trips (%v), want only the session's", n.N(), err)
	}

	if err := other.SetUsageTiers(f.ctx, "test", []billing.UsageTier{{From: 1, PriceMilli: 300}}); err != nil {
		t.Fatal(err)
	}
	camp.Name = "renamed elsewhere"
	if _, err := other.UpdateCampaign(f.ctx, "test", camp); err != nil {
		t.Fatal(err)
	}
	tiers, camp = request()
	if len(tiers) != 1 || tiers[0].PriceMilli != 300 {
		t.Errorf("tiers after the other process's change: %+v", tiers)
	}
	if camp.Name != "renamed elsewhere" {
		t.Errorf("campaign after the other process's change: %q", camp.Name)
	}

	// A plan edited in SQL (a migration, an operator) is seen too.
	if _, err := f.s.DB.Exec(`UPDATE plans SET name_en = 'Light plan' WHERE id = 'light'`); err != nil {
		t.Fatal(err)
	}
	sess, err = f.s.FindSessionIn(f.ctx, tok, "")
	if err != nil {
		t.Fatal(err)
	}
	cat, err := f.s.Catalog(db.WithReferenceVersion(f.ctx, sess.ReferenceVersion))
	if err != nil {
		t.Fatal(err)
	}
	if p, _ := cat.Plan(billing.Light); p.NameEN != "Light plan" {
		t.Errorf("plan after an edit in SQL: %q", p.NameEN)
	}
}
