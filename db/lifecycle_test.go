package db_test

import (
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
)

// Regression tests for the defects of issue #9, each of which failed
// before the charge lifecycle.

// A month that has ended, or not begun, is never renewed: the console's
// claim and the store's Renew refuse it and charge nothing.
func TestEndedMonthIsNotRenewed(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.High, billing.CreditCard, "tok")
	jan2025 := billing.Month{Year: 2025, Month: 1}
	f.clk.Set(tw("2026-11-30 10:00"))
	for _, m := range []billing.Month{jan2025, billing.MonthOf(f.clk.Now()).Next()} {
		if err := f.s.ClaimRenewalRun(f.ctx, "staff:s", m); billing.ErrorCode(err) != billing.EMonthNotCurrent {
			t.Errorf("claim %s: got %v, want month_not_current", m, err)
		}
		if _, err := f.s.Renew(f.ctx, "staff:s", m.Start(), db.RenewOptions{}); billing.ErrorCode(err) != billing.EMonthNotCurrent {
			t.Errorf("renew %s: got %v, want month_not_current", m, err)
		}
	}
	if n := count(t, f, `SELECT count(*) FROM charges`); n != 0 || f.gw.calls.Load() != 0 {
		t.Errorf("%d charges, %d payments after refused renewals", n, f.gw.calls.Load())
	}
}

// A medium account's renewal is declined; the admin adds a good card and
// upgrades to high, paying the full fee (nothing was paid for the month);
// the old renewal is void, so staff retrying it charge nothing and the
// plan stays high with the month paid once, at 1,200.
func TestStaleRetryNeitherRollsBackNorOvercharges(t *testing.T) {
	f := newFixture(t)
	f.clk.Set(tw("2024-06-20 10:00"))
	f.account(t, "bear", billing.Medium, billing.CreditCard, "decline-me")
	july := tw("2024-07-01 09:00")
	f.runRenewal(t, july)
	var renewal db.Charge
	if err := f.s.DB.Get(&renewal, `SELECT id, status, attempts FROM charges WHERE kind='renewal'`); err != nil || renewal.Status != billing.StatusFailed {
		t.Fatalf("renewal %+v, %v; want failed", renewal, err)
	}
	if _, err := f.s.AddPaymentMethod(f.ctx, "user:alice", db.PaymentMethod{AccountID: "bear", Kind: billing.CreditCard, Token: "good"}, true); err != nil {
		t.Fatal(err)
	}
	up, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k"})
	if err != nil || up.Status != billing.StatusPaid || up.Total != 1260 {
		t.Fatalf("upgrade %+v, %v; want 1,260 paid (the month's full fee)", up, err)
	}
	old, err := f.s.FindChargeByID(f.ctx, renewal.ID)
	if err != nil || old.Status != billing.StatusVoid || old.Failure != string(billing.VoidSuperseded) {
		t.Fatalf("old renewal %+v, %v; want void (superseded)", old, err)
	}
	if _, err := f.s.RetryCharge(f.ctx, "staff:s", renewal.ID); billing.ErrorCode(err) != billing.ENothingToRetry {
		t.Errorf("staff retry of the old renewal: %v, want nothing_to_retry", err)
	}
	var plan string
	var paid int64
	if err := f.s.DB.QueryRow(`SELECT a.plan, m.fee_paid FROM accounts a JOIN account_months m ON m.account_id = a.id AND m.month = '2024-07-01'
		WHERE a.id = 'bear'`).Scan(&plan, &paid); err != nil || plan != "high" || paid != 1200 {
		t.Errorf("plan %s, July paid %d (%v); want high, 1,200", plan, paid, err)
	}
}

// While a renewal awaits its provider's answer, an upgrade is refused (it
// would settle the renewal's stale quote afterwards), and so is removing
// the method the provider must be asked about; collecting it then pays it
// once, with that method.
func TestPendingChargeBlocksUpgradeAndMethodRemoval(t *testing.T) {
	f := newFixture(t)
	f.clk.Set(tw("2024-06-20 10:00"))
	f.account(t, "bear", billing.Medium, billing.CreditCard, "tok")
	july := tw("2024-07-01 09:00")
	f.gw.down.Store(true)
	f.runRenewal(t, july)
	if _, err := f.s.Upgrade(f.ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k"}); billing.ErrorCode(err) != billing.EPaymentPending {
		t.Errorf("upgrade under a pending renewal: %v, want payment_pending", err)
	}
	pms, _ := f.s.PaymentMethods(f.ctx, "bear")
	if err := f.s.RemovePaymentMethod(f.ctx, "user:alice", "bear", pms[0].ID); billing.ErrorCode(err) != billing.EPaymentPending {
		t.Errorf("removing the method under a pending renewal: %v, want payment_pending", err)
	}
	f.clk.Set(july.Add(10 * 60 * 1e9))
	if sum, err := f.s.CollectStalePurchases(f.ctx, "system:sweep", f.clk.Now()); err != nil || sum.Attempted != 0 {
		t.Errorf("the purchase sweep touched the renewal: %+v, %v", sum, err)
	}
	f.gw.down.Store(false)
	sum, err := f.s.Collect(f.ctx, "system:collect", 0)
	if err != nil || sum.Paid != 1 {
		t.Fatalf("collect: %+v, %v", sum, err)
	}
	var key string
	if err := f.s.DB.Get(&key, `SELECT payment_ref FROM charges WHERE kind='renewal'`); err != nil || key != "ref-charge-1" {
		t.Errorf("paid under %q (%v), want the charge's first key", key, err)
	}
	if err := f.s.RemovePaymentMethod(f.ctx, "user:alice", "bear", pms[0].ID); err != nil {
		t.Errorf("removing the method once nothing is pending: %v", err)
	}
}

// A renewal refused MaxAttempts times is given up: void, and the account
// moves to the free plan at once; the automatic retries come on schedule.
func TestRepeatedRefusalsDropToFreePlan(t *testing.T) {
	f := newFixture(t)
	f.clk.Set(tw("2024-06-20 10:00"))
	f.account(t, "bear", billing.Medium, billing.CreditCard, "decline-me")
	july := tw("2024-07-01 09:00")
	f.runRenewal(t, july)
	for i, wait := range billing.RetryAfter {
		f.clk.Set(f.clk.Now().Add(wait - 1e9))
		if sum, _ := f.s.RetryDue(f.ctx, "system:retry"); sum.Attempted != 0 {
			t.Fatalf("retry %d came early: %+v", i+1, sum)
		}
		f.clk.Set(f.clk.Now().Add(1e9))
		if sum, _ := f.s.RetryDue(f.ctx, "system:retry"); sum.Attempted != 1 {
			t.Fatalf("retry %d did not come on time: %+v", i+1, sum)
		}
	}
	var status, failure, plan string
	var attempts int
	if err := f.s.DB.QueryRow(`SELECT c.status, c.failure, c.attempts, a.plan FROM charges c JOIN accounts a ON a.id = c.account_id`).
		Scan(&status, &failure, &attempts, &plan); err != nil {
		t.Fatal(err)
	}
	if status != "void" || failure != "given_up" || attempts != billing.MaxAttempts || plan != "light" {
		t.Errorf("after %d refusals: %s (%s), %d attempts, plan %s; want void (given_up), light", billing.MaxAttempts, status, failure, attempts, plan)
	}
}

// runRenewal runs the renewal of the month containing at, at that instant,
// as the console does (with collection).
func (f fixture) runRenewal(t *testing.T, at time.Time) {
	t.Helper()
	f.clk.Set(at)
	m := billing.MonthOf(at)
	if err := f.s.ClaimRenewalRun(f.ctx, "system", m); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.RunRenewal(f.ctx, "system", m, true); err != nil {
		t.Fatal(err)
	}
}
