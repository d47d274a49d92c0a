package db_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
)

// gateway records payments; tokens starting with "decline" are declined;
// while down, every payment ends without an answer (as a timeout does).
type gateway struct {
	calls atomic.Int64
	down  atomic.Bool
	keys  sync.Map // idempotency keys seen
}

func (g *gateway) Pay(_ context.Context, p billing.Payment) (string, error) {
	g.calls.Add(1)
	g.keys.Store(p.Key, true)
	if g.down.Load() {
		return "", fmt.Errorf("POST /payments: %w", context.DeadlineExceeded)
	}
	if len(p.Token) >= 7 && p.Token[:7] == "decline" {
		return "", &billing.DeclineError{Reason: "信用卡授權失敗"}
	}
	return "ref-" + p.Key, nil
}

func tw(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, billing.Taipei)
	if err != nil {
		panic(err)
	}
	return t
}

type fixture struct {
	s   *db.Store
	clk *billingtest.Clock
	gw  *gateway
	ctx context.Context
}

func newFixture(t *testing.T) fixture {
	t.Helper()
	d, _ := dbtest.New(t)
	clk := billingtest.NewClock(tw("2024-06-11 10:00"))
	gw := &gateway{}
	f := fixture{s: db.New(d, clk, gw), clk: clk, gw: gw, ctx: context.Background()}
	if _, err := f.s.CreateCampaign(f.ctx, "test", billing.Campaign{ID: "summer-2024", FaceValue: 800,
		ValidFrom: tw("2024-06-07 00:00"), ValidUntil: tw("2024-08-31 23:59").Add(59 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f fixture) account(t *testing.T, id string, plan billing.PlanID, pay billing.PaymentKind, token string) {
	t.Helper()
	if err := f.s.CreateAccount(f.ctx, "test", db.NewAccount{ID: id, Region: "TW", Plan: plan, PaidMonth: billing.MonthOf(f.clk.Now())}); err != nil {
		t.Fatal(err)
	}
	if pay != "" {
		if _, err := f.s.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: id, Kind: pay, Token: token}, true); err != nil {
			t.Fatal(err)
		}
	}
}

func (f fixture) codes(t *testing.T, codes ...string) {
	t.Helper()
	if err := f.s.AddCodes(f.ctx, "test", "summer-2024", codes); err != nil {
		t.Fatal(err)
	}
}

func count(t *testing.T, f fixture, q string, args ...any) int {
	t.Helper()
	var n int
	if err := f.s.DB.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRaceOneCodeManyAccounts(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "RACE-0001")
	for i := range 50 {
		f.account(t, fmt.Sprintf("a%02d", i), billing.Light, billing.LinePay, "tok")
	}
	var ok, taken atomic.Int64
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.s.RegisterCode(f.ctx, "test", fmt.Sprintf("a%02d", i), "race-0001")
			switch billing.ErrorCode(err) {
			case "":
				if err != nil {
					t.Error(err)
					return
				}
				ok.Add(1)
			case billing.ECodeTaken:
				taken.Add(1)
			default:
				t.Errorf("unexpected: %v", err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 1 || taken.Load() != 49 {
		t.Errorf("registered %d, taken %d; want 1 and 49", ok.Load(), taken.Load())
	}
	if n := count(t, f, `SELECT count(*) FROM code_events WHERE kind='registered'`); n != 1 {
		t.Errorf("ledger has %d registrations, want 1", n)
	}
}

func TestRaceIdenticalPurchases(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light, billing.CreditCard, "tok")
	var wg sync.WaitGroup
	ids := make([]int64, 50)
	for i := range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "checkout-1"})
			if err != nil && billing.ErrorCode(err) != billing.EPaymentPending {
				t.Errorf("purchase %d: %v", i, err)
			}
			ids[i] = ch.ID
		}()
	}
	wg.Wait()
	if n := count(t, f, `SELECT count(*) FROM charges`); n != 1 {
		t.Fatalf("%d charges, want 1", n)
	}
	if f.gw.calls.Load() != 1 {
		t.Errorf("gateway charged %d times, want 1", f.gw.calls.Load())
	}
	// A refresh after the purchase returns the same charge.
	ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "checkout-1"})
	if err != nil || ch.Status != "paid" || ch.Total != 840 {
		t.Errorf("replay: %+v %v", ch, err)
	}
}

func TestRaceTwoRenewals(t *testing.T) {
	f := newFixture(t)
	for i := range 30 {
		plan := []billing.PlanID{billing.Light, billing.Medium, billing.High}[i%3]
		f.account(t, fmt.Sprintf("r%02d", i), plan, billing.LinePay, "tok")
	}
	f.clk.Set(time.Date(2024, 7, 1, 0, 0, 0, 0, billing.JST))
	var wg sync.WaitGroup
	sums := make([]db.RenewSummary, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			sums[i], err = f.s.Renew(f.ctx, "test", f.clk.Now(), db.RenewOptions{BatchSize: 7})
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := sums[0].Charges + sums[1].Charges; got != 20 {
		t.Errorf("runs created %d + %d charges, want 20 in all", sums[0].Charges, sums[1].Charges)
	}
	if n := count(t, f, `SELECT count(*) FROM charges WHERE kind='renewal'`); n != 20 {
		t.Errorf("%d renewal charges, want 20", n)
	}
	if n := count(t, f, `SELECT count(*) FROM (SELECT account_id FROM charges GROUP BY account_id, month HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d accounts charged twice", n)
	}
	again, err := f.s.Renew(f.ctx, "test", f.clk.Now(), db.RenewOptions{})
	if err != nil || again.Charges != 0 || !again.AlreadyDone {
		t.Errorf("third run: %+v %v", again, err)
	}
}

func TestDeclinedUpgradeChargesNothingAndKeepsCode(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "KEEP-0001")
	f.account(t, "bear", billing.Light, billing.CreditCard, "decline-me")
	if _, err := f.s.RegisterCode(f.ctx, "test", "bear", "KEEP-0001"); err != nil {
		t.Fatal(err)
	}
	ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k1"})
	if billing.ErrorCode(err) != billing.EPaymentFailed || ch.Status != billing.StatusFailed || ch.Failure != string(billing.FailDeclined) || ch.Reason() != "信用卡授權失敗" {
		t.Fatalf("got %+v, %v; want a failed charge with the reason", ch, err)
	}
	rc, _, _ := f.s.AccountCode(f.ctx, "bear")
	if rc.Status != billing.CodeRegistered {
		t.Errorf("code status %s after a decline, want registered", rc.Status)
	}
	q, _ := f.s.Quote(f.ctx, "bear", billing.KindUpgrade, billing.High)
	if q.FromPlan != billing.Light || q.Offset != 800 {
		t.Errorf("account changed after a decline: %+v", q)
	}
	if n := count(t, f, `SELECT count(*) FROM account_months WHERE account_id='bear'`); n != 0 {
		t.Errorf("month marked paid after a decline")
	}
}

// A payment whose outcome is unknown (no answer) neither fails the charge
// nor frees its code: the charge stays pending, and the next collection
// asks again with the same key, so a payment that did go through is not
// taken twice.
func TestUnknownPaymentOutcomeStaysPending(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "WAIT-0001")
	f.account(t, "bear", billing.Light, billing.CreditCard, "tok")
	if _, err := f.s.RegisterCode(f.ctx, "test", "bear", "WAIT-0001"); err != nil {
		t.Fatal(err)
	}
	f.gw.down.Store(true)
	ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k1"})
	if billing.ErrorCode(err) != billing.EPaymentPending || ch.Status != "pending" {
		t.Fatalf("got %+v, %v; want the charge pending", ch, err)
	}
	if n := count(t, f, `SELECT count(*) FROM promo_codes WHERE code='WAIT0001' AND status='reserved'`); n != 1 {
		t.Errorf("the code is not held for the pending charge")
	}
	f.gw.down.Store(false)
	if sum, err := f.s.CollectStalePurchases(f.ctx, "test", f.clk.Now()); err != nil || sum.Attempted != 0 {
		t.Fatalf("a purchase pending since now is not stale yet: %+v, %v", sum, err)
	}
	f.clk.Set(f.clk.Now().Add(10 * time.Minute))
	sum, err := f.s.CollectStalePurchases(f.ctx, "test", f.clk.Now().Add(-5*time.Minute))
	if err != nil || sum.Paid != 1 {
		t.Fatalf("collect: %+v, %v", sum, err)
	}
	n := 0
	f.gw.keys.Range(func(any, any) bool { n++; return true })
	if n != 1 {
		t.Errorf("%d idempotency keys used for one charge, want 1", n)
	}
	if got := count(t, f, `SELECT count(*) FROM promo_codes WHERE code='WAIT0001' AND status='redeemed'`); got != 1 {
		t.Errorf("the code was not redeemed by the collected charge")
	}
}

func TestPurchaseRefusedWhenQuoteChanged(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "GONE-0001")
	f.account(t, "bear", billing.Light, billing.LinePay, "tok")
	if _, err := f.s.RegisterCode(f.ctx, "test", "bear", "GONE-0001"); err != nil {
		t.Fatal(err)
	}
	seen, err := f.s.Quote(f.ctx, "bear", billing.KindUpgrade, billing.Medium)
	if err != nil || seen.Total != 0 {
		t.Fatalf("%+v %v", seen, err)
	}
	f.clk.Set(tw("2024-09-01 00:00")) // the code's window has closed meanwhile
	_, err = f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "k", Expect: &seen})
	if billing.ErrorCode(err) != billing.EQuoteChanged {
		t.Fatalf("got %v, want quote_changed", err)
	}
	if n := count(t, f, `SELECT count(*) FROM charges`); n != 0 || f.gw.calls.Load() != 0 {
		t.Errorf("something was charged")
	}
}

// Preview equals the charge actually made, across generated cases; no code
// is ever redeemed twice; re-running a renewal adds nothing.
func TestPreviewEqualsChargeProperty(t *testing.T) {
	f := newFixture(t)
	rng := rand.New(rand.NewPCG(1, 2))
	plans := []billing.PlanID{billing.Light, billing.Medium, billing.High}
	kinds := []billing.PaymentKind{billing.CreditCard, billing.LinePay, billing.BankTransfer}
	const n = 60
	var codes []string
	for i := range n {
		codes = append(codes, fmt.Sprintf("PROP-%04d", i))
	}
	f.codes(t, codes...)
	start := tw("2024-06-01 09:00")
	f.clk.Set(start)
	for i := range n {
		f.account(t, fmt.Sprintf("p%02d", i), plans[rng.IntN(3)], kinds[rng.IntN(3)], "tok")
	}
	checked := 0
	for i := range n {
		id := fmt.Sprintf("p%02d", i)
		// Register (sometimes) at a random instant in June, maybe before the window opens.
		f.clk.Set(start.Add(time.Duration(rng.IntN(29*24)) * time.Hour))
		if rng.IntN(3) > 0 {
			f.s.RegisterCode(f.ctx, "test", id, codes[i])
		}
		to := plans[rng.IntN(3)]
		q, qerr := f.s.Quote(f.ctx, id, billing.KindUpgrade, to)
		ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: id, Plan: to, Key: "prop-" + id})
		if billing.ErrorCode(qerr) != billing.ErrorCode(err) {
			t.Errorf("%s→%s: preview error %v, purchase error %v", id, to, qerr, err)
			continue
		}
		if err != nil {
			continue
		}
		checked++
		if ch.Amount != q.Amount || ch.Offset != q.Offset || ch.Forfeited != q.Forfeited || ch.Tax != q.Tax || ch.Total != q.Total || ch.Code != q.Code {
			t.Errorf("%s→%s: preview %+v, charge %+v", id, to, q, ch)
		}
	}
	// Renewal previews equal the renewal charges.
	july := time.Date(2024, 7, 1, 0, 0, 0, 0, billing.JST)
	f.clk.Set(tw("2024-06-30 22:00"))
	previews := map[string]billing.Quote{}
	for i := range n {
		id := fmt.Sprintf("p%02d", i)
		q, err := f.s.Quote(f.ctx, id, billing.KindRenewal, "")
		if err != nil {
			t.Fatal(err)
		}
		previews[id] = q
	}
	f.clk.Set(july)
	if _, err := f.s.Renew(f.ctx, "test", july, db.RenewOptions{BatchSize: 9}); err != nil {
		t.Fatal(err)
	}
	var renewals []db.Charge
	for i := range n {
		cs, err := f.s.FindCharges(f.ctx, fmt.Sprintf("p%02d", i))
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range cs {
			if c.Kind == billing.KindRenewal {
				renewals = append(renewals, c)
			}
		}
	}
	chargeable := 0
	for _, q := range previews {
		if q.Chargeable() {
			chargeable++
		}
	}
	if len(renewals) != chargeable {
		t.Errorf("%d renewal charges, %d previews said there would be", len(renewals), chargeable)
	}
	for _, c := range renewals {
		q := previews[c.AccountID]
		if c.Amount != q.Amount || c.Offset != q.Offset || c.Tax != q.Tax || c.Total != q.Total || c.Code != q.Code || c.Plan != q.Plan {
			t.Errorf("%s renewal: preview %+v, charge %+v", c.AccountID, q, c)
		}
	}
	before := count(t, f, `SELECT count(*) FROM charges`)
	if sum, err := f.s.Renew(f.ctx, "test", july.Add(3*time.Hour), db.RenewOptions{}); err != nil || sum.Charges != 0 {
		t.Errorf("re-run: %+v %v", sum, err)
	}
	if after := count(t, f, `SELECT count(*) FROM charges`); after != before {
		t.Errorf("re-run added %d charges", after-before)
	}
	if _, err := f.s.Collect(f.ctx, "test", 0); err != nil {
		t.Fatal(err)
	}
	if n := count(t, f, `SELECT count(*) FROM (SELECT code FROM code_events WHERE kind='redeemed' GROUP BY code HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d codes redeemed twice", n)
	}
	if n := count(t, f, `SELECT count(*) FROM (SELECT code FROM charges WHERE code IS NOT NULL AND status='paid' GROUP BY code HAVING count(*) > 1) d`); n != 0 {
		t.Errorf("%d codes offset two paid charges", n)
	}
	if checked < 10 {
		t.Errorf("only %d purchases checked; the generator is too narrow", checked)
	}
}

// Sessions run in UTC whatever the server's default zone, so billing
// months (DATE) compare with Month.Date() the same everywhere.
func TestSessionsRunInUTC(t *testing.T) {
	ctx := context.Background()
	d, dsn := dbtest.New(t)
	if _, err := d.Exec(`DO $$ BEGIN EXECUTE format('ALTER DATABASE %I SET TimeZone = %L', current_database(), 'Asia/Taipei'); END $$`); err != nil {
		t.Fatal(err)
	}
	raw, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	var zone string
	if err := raw.Get(&zone, `SHOW TimeZone`); err != nil || zone != "Asia/Taipei" {
		t.Fatalf("the database's default zone = %q, %v; the test needs Asia/Taipei", zone, err)
	}
	opened, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer opened.Close()
	if err := opened.Get(&zone, `SHOW TimeZone`); err != nil {
		t.Fatal(err)
	}
	if zone != "UTC" {
		t.Fatalf("session TimeZone = %q, want UTC", zone)
	}
}

// TestRenewWorkersAgree: a run of one worker and a run of four, in batches
// of 3 over the same accounts (three plans, codes, a scheduled change),
// write the same charges, codes and plan changes, and say so alike.
func TestRenewWorkersAgree(t *testing.T) {
	type out struct {
		Sum     db.RenewSummary
		Charges []string
	}
	run := func(workers int) out {
		f := newFixture(t)
		var codes []string
		for i := range 12 {
			codes = append(codes, fmt.Sprintf("WORK-%04d", i))
		}
		f.codes(t, codes...)
		for i := range 40 {
			id := fmt.Sprintf("w%02d", i)
			plan := []billing.PlanID{billing.Light, billing.Medium, billing.High, billing.Medium}[i%4]
			f.account(t, id, plan, billing.CreditCard, "tok")
			if i%3 == 0 && i/3 < len(codes) {
				if _, err := f.s.RegisterCode(f.ctx, "test", id, codes[i/3]); err != nil {
					t.Fatal(err)
				}
			}
		}
		if _, err := f.s.DB.Exec(`UPDATE accounts SET scheduled_plan = 'light', scheduled_for = '2024-07-01' WHERE id IN ('w05', 'w22')`); err != nil {
			t.Fatal(err)
		}
		f.clk.Set(time.Date(2024, 7, 1, 0, 0, 0, 0, billing.JST))
		sum, err := f.s.Renew(f.ctx, "test", f.clk.Now(), db.RenewOptions{BatchSize: 3, Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		sum.Seconds = 0
		var o out
		o.Sum = sum
		if err := f.s.DB.Select(&o.Charges, `SELECT concat_ws(' ', c.account_id, c.plan, c.amount, c.offset_amount, c.total, c.status, c.code, p.status, a.plan)
			FROM charges c JOIN accounts a ON a.id = c.account_id LEFT JOIN promo_codes p ON p.code = c.code
			WHERE c.kind = 'renewal' ORDER BY c.account_id`); err != nil {
			t.Fatal(err)
		}
		return o
	}
	one, four := run(1), run(4)
	if one.Sum != four.Sum {
		t.Errorf("summaries differ:\n one worker   %+v\n four workers %+v", one.Sum, four.Sum)
	}
	if strings.Join(one.Charges, "\n") != strings.Join(four.Charges, "\n") {
		t.Errorf("charges differ:\n one worker:\n%s\n four workers:\n%s", strings.Join(one.Charges, "\n"), strings.Join(four.Charges, "\n"))
	}
	if one.Sum.Charges < 25 || one.Sum.CodesRedeemed == 0 || one.Sum.PlanChanges != 2 {
		t.Errorf("the fixture renews too little to compare: %+v", one.Sum)
	}
}
