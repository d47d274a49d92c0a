package billing

import (
	"testing"
	"time"
)

func TestChargeMoves(t *testing.T) {
	all := []ChargeStatus{StatusPending, StatusPaid, StatusFailed, StatusVoid}
	allowed := map[[2]ChargeStatus]bool{
		{StatusPending, StatusPaid}: true, {StatusPending, StatusFailed}: true, {StatusPending, StatusVoid}: true,
		{StatusFailed, StatusPending}: true, {StatusFailed, StatusPaid}: true, {StatusFailed, StatusVoid}: true,
	}
	for _, from := range all {
		for _, to := range all {
			if got := CanMove(from, to); got != allowed[[2]ChargeStatus{from, to}] {
				t.Errorf("CanMove(%s, %s) = %v", from, to, got)
			}
		}
	}
	if InitialStatus(0) != StatusPaid || InitialStatus(1) != StatusPending {
		t.Error("a total of 0 is paid at once; anything else is pending")
	}
	if StatusFailed.HoldsCode() || StatusVoid.HoldsCode() || !StatusPending.HoldsCode() || !StatusPaid.HoldsCode() {
		t.Error("only a pending (reserved) or paid (redeemed) charge holds a code")
	}
}

// A renewal may run only inside its month: from 00:00 JST on the 1st, which
// is 23:00 Taiwan time the evening before, to 22:59:59 Taiwan time on the
// last day.
func TestMayRenewAtTheMonthsEdges(t *testing.T) {
	july := MonthOf(tw("2024-07-10 12:00:00"))
	for _, c := range []struct {
		at   time.Time
		want bool
	}{
		{tw("2024-06-30 22:59:00").Add(59 * time.Second), false}, // 23:59:59 JST on 6/30: June still runs
		{tw("2024-06-30 23:00:00"), true},                        // 00:00 JST on 7/1
		{tw("2024-07-31 22:59:00"), true},
		{tw("2024-07-31 23:00:00"), false}, // 00:00 JST on 8/1: July has ended
		{time.Date(2025, 1, 15, 0, 0, 0, 0, JST), false},
	} {
		err := MayRenew(july, c.at)
		if (err == nil) != c.want || err != nil && ErrorCode(err) != EMonthNotCurrent {
			t.Errorf("MayRenew(July) at %s: %v, want allowed %v", c.at.In(Taipei), err, c.want)
		}
	}
}

func TestPayableAndSettled(t *testing.T) {
	cat := testCatalog(t)
	june := MonthOf(tw("2024-06-11 10:00:00"))
	now := tw("2024-06-20 10:00:00")
	medPaid := Account{ID: "a", Region: "TW", Plan: Medium, Payment: CreditCard, PaidMonth: june, PaidFee: 800}
	highPaid := Account{ID: "a", Region: "TW", Plan: High, Payment: CreditCard, PaidMonth: june, PaidFee: 1200}
	unpaidMed := Account{ID: "a", Region: "TW", Plan: Medium, Payment: CreditCard, PaidMonth: june}
	for _, c := range []struct {
		name  string
		ch    Charge
		a     Account
		at    time.Time
		stale bool
	}{
		{"an upgrade from the plan held", Charge{Kind: KindUpgrade, Month: june, FromPlan: Medium, Plan: High, Amount: 400}, medPaid, now, false},
		{"an upgrade from a plan no longer held", Charge{Kind: KindUpgrade, Month: june, FromPlan: Light, Plan: Medium, Amount: 800}, medPaid, now, true},
		{"a renewal that would lower the plan", Charge{Kind: KindRenewal, Month: june, FromPlan: Medium, Plan: Medium, Amount: 800}, Account{ID: "a", Plan: High, PaidMonth: june}, now, true},
		{"a renewal of a month already paid", Charge{Kind: KindRenewal, Month: june, FromPlan: High, Plan: High, Amount: 1200}, highPaid, now, true},
		{"a renewal of an unpaid month", Charge{Kind: KindRenewal, Month: june, FromPlan: Medium, Plan: Medium, Amount: 800}, unpaidMed, now, false},
		{"a charge whose month has ended (23:00 Taiwan time on the last day)", Charge{Kind: KindRenewal, Month: june, FromPlan: Medium, Plan: Medium, Amount: 800}, unpaidMed, tw("2024-06-30 23:00:00"), true},
		{"the same at 22:59", Charge{Kind: KindRenewal, Month: june, FromPlan: Medium, Plan: Medium, Amount: 800}, unpaidMed, tw("2024-06-30 22:59:00"), false},
		{"a usage charge, always", Charge{Kind: KindUsage, Month: june, Amount: 99}, highPaid, tw("2024-08-02 10:00:00"), false},
	} {
		err := cat.Payable(c.ch, c.a, c.at)
		if (err != nil) != c.stale || err != nil && ErrorCode(err) != EChargeStale {
			t.Errorf("%s: Payable = %v, want stale %v", c.name, err, c.stale)
		}
	}
	after, err := cat.Settled(Charge{Kind: KindUpgrade, Month: june, FromPlan: Medium, Plan: High, Amount: 400},
		Account{ID: "a", Plan: Medium, PaidMonth: june, PaidFee: 800, ScheduledPlan: Light, ScheduledFor: june.Next()})
	if err != nil || after.Plan != High || after.PaidFor(june) != 1200 || after.ScheduledPlan != "" {
		t.Errorf("settled upgrade: %+v, %v; want high, 1,200 paid, the downgrade replaced", after, err)
	}
	after, err = cat.Settled(Charge{Kind: KindRenewal, Month: june.Next(), FromPlan: High, Plan: Medium, Amount: 800},
		Account{ID: "a", Plan: Medium, PaidMonth: june.Next(), ScheduledPlan: Light, ScheduledFor: june.Next().Next()})
	if err != nil || after.Plan != Medium || after.PaidFor(june.Next()) != 800 || after.ScheduledPlan != Light {
		t.Errorf("settled renewal: %+v, %v; want medium, 800 paid, the later downgrade kept", after, err)
	}
}

func TestRetrySchedule(t *testing.T) {
	at := tw("2024-07-01 00:30:00")
	july := MonthOf(at)
	renewal := func(attempts int) Charge { return Charge{Kind: KindRenewal, Month: july, Attempts: attempts} }
	if next, ok := NextRetry(renewal(1), at); !ok || !next.Equal(at.Add(24*time.Hour)) {
		t.Errorf("after the first refusal: %s %v, want a day later", next, ok)
	}
	if next, ok := NextRetry(renewal(2), at); !ok || !next.Equal(at.Add(72*time.Hour)) {
		t.Errorf("after the second refusal: %s %v, want three days later", next, ok)
	}
	if _, ok := NextRetry(renewal(MaxAttempts), at); ok {
		t.Error("no automatic retry after the last attempt")
	}
	if _, ok := NextRetry(Charge{Kind: KindUpgrade, Month: july, Attempts: 1}, at); ok {
		t.Error("an upgrade is never retried automatically")
	}
	// Refused at 23:00 Taiwan time on 7/30: a day later July has ended
	// (00:00 JST on 8/1 is 23:00 on 7/31 in Taiwan), so no retry is
	// promised; the renewal is given up when the month ends.
	if next, ok := NextRetry(renewal(1), tw("2024-07-30 23:00:00")); ok {
		t.Errorf("a retry promised at %s, after the month ends", next.In(Taipei))
	}
	if _, ok := NextRetry(renewal(1), tw("2024-07-30 22:59:00")); !ok {
		t.Error("a retry at 7/31 22:59 is still inside July")
	}
	if !Owed(KindRenewal) || !Owed(KindUsage) || Owed(KindUpgrade) {
		t.Error("renewals and usage are owed; a failed upgrade is not")
	}
	failed := Charge{Kind: KindRenewal, Month: july, Status: StatusFailed, Attempts: 2}
	if GiveUp(failed, tw("2024-07-31 22:59:00")) {
		t.Error("two refusals inside the month: not given up yet")
	}
	if !GiveUp(failed, tw("2024-07-31 23:00:00")) {
		t.Error("the month has ended (00:00 JST on 8/1): given up")
	}
	failed.Attempts = MaxAttempts
	if !GiveUp(failed, at) {
		t.Error("refused MaxAttempts times: given up")
	}
}

// Only a failed charge of money owed may be paid again; a failed upgrade,
// or a charge in any other status, may not.
func TestChargeRetryable(t *testing.T) {
	for _, tc := range []struct {
		kind   ChargeKind
		status ChargeStatus
		want   bool
	}{
		{KindRenewal, StatusFailed, true},
		{KindUsage, StatusFailed, true},
		{KindUpgrade, StatusFailed, false},
		{KindRenewal, StatusPaid, false},
		{KindRenewal, StatusPending, false},
		{KindUsage, StatusVoid, false},
	} {
		if got := (Charge{Kind: tc.kind, Status: tc.status}).Retryable(); got != tc.want {
			t.Errorf("%s %s: Retryable() = %v, want %v", tc.status, tc.kind, got, tc.want)
		}
	}
}
