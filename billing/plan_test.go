package billing

import (
	"slices"
	"testing"
	"time"
)

// The catalog's upgrades are its changes to a higher rank; its paid plans
// those with a fee. For the catalog in force they are the document's
// campaign terms.
func TestCatalogUpgradesAndPaidPlans(t *testing.T) {
	c := testCatalog(t)
	if got, want := c.Upgrades(), DefaultCampaignTerms(Campaign{}).Upgrades; !slices.Equal(got, want) {
		t.Errorf("Upgrades() = %v, want %v", got, want)
	}
	if got, want := c.PaidPlans(), DefaultCampaignTerms(Campaign{}).RenewalPlans; !slices.Equal(got, want) {
		t.Errorf("PaidPlans() = %v, want %v", got, want)
	}
}

// A plan change goes up or down by rank, and the store's refusals follow
// the same rule: Quote refuses exactly the changes that are no upgrade,
// Downgrade exactly those that are no downgrade, and Upgrades lists exactly
// the upgrades.
func TestPlanChangeDirection(t *testing.T) {
	c := testCatalog(t)
	at := time.Date(2026, 6, 10, 12, 0, 0, 0, Taipei)
	for _, tc := range []struct {
		from, to       PlanID
		upgrade, downg bool
	}{
		{Light, Light, false, false},
		{Light, Medium, true, false},
		{Light, High, true, false},
		{Medium, Light, false, true},
		{Medium, Medium, false, false},
		{Medium, High, true, false},
		{High, Light, false, true},
		{High, Medium, false, true},
		{High, High, false, false},
	} {
		from, to := c.MustPlan(tc.from), c.MustPlan(tc.to)
		if got := from.IsUpgradeTo(to); got != tc.upgrade {
			t.Errorf("%s.IsUpgradeTo(%s) = %v, want %v", tc.from, tc.to, got, tc.upgrade)
		}
		if got := from.IsDowngradeTo(to); got != tc.downg {
			t.Errorf("%s.IsDowngradeTo(%s) = %v, want %v", tc.from, tc.to, got, tc.downg)
		}
		a := Account{ID: "bear", Region: "TW", Plan: tc.from, Payment: LinePay}
		_, err := c.Quote(QuoteInput{Kind: KindUpgrade, Account: a, To: tc.to, At: at})
		if refused := ErrorCode(err) == ENotAnUpgrade; refused == tc.upgrade {
			t.Errorf("Quote upgrade %s→%s: err %v, want refused %v", tc.from, tc.to, err, !tc.upgrade)
		}
		_, err = c.Downgrade(a, tc.to, at)
		if refused := ErrorCode(err) == ENotADowngrade; refused == tc.downg {
			t.Errorf("Downgrade %s→%s: err %v, want refused %v", tc.from, tc.to, err, !tc.downg)
		}
		if listed := slices.Contains(c.Upgrades(), Transition{From: tc.from, To: tc.to}); listed != tc.upgrade {
			t.Errorf("Upgrades() lists %s→%s: %v, want %v", tc.from, tc.to, listed, tc.upgrade)
		}
	}
}

func TestPlanFree(t *testing.T) {
	c := testCatalog(t)
	for _, tc := range []struct {
		id   PlanID
		want bool
	}{{Light, true}, {Medium, false}, {High, false}} {
		if got := c.MustPlan(tc.id).Free(); got != tc.want {
			t.Errorf("%s.Free() = %v, want %v", tc.id, got, tc.want)
		}
	}
}
