package db_test

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"pgregory.net/rapid"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/sim"
)

// TestMoneyFaults is the randomized fault campaign: model-checked timelines
// over three accounts and several months, mixing code registration,
// upgrades, downgrades, renewal runs (some killed between batches),
// collections, retries (by the admin and on schedule), payment-method
// removal and additions, provider refusals, timeouts and lost answers, and
// processes killed while waiting on the provider. After every step the
// money invariants are checked against the database and the provider's
// own ledger.
//
// Each case is one seed: a failing case prints its seed and the shrunk
// timeline (rapid), and `go test -run TestMoneyFaults -rapid.seed=N ./db/`
// replays it exactly. `make test` runs MONEY_SEEDS (default 340) cases of
// 40 to 60 steps from fixed seeds; `make fuzz-money` runs 10,000 random
// ones.
func TestMoneyFaults(t *testing.T) {
	seeds, workers := 340, 2
	if v, err := strconv.Atoi(os.Getenv("MONEY_SEEDS")); err == nil && v > 0 {
		seeds = v
	}
	if v, err := strconv.Atoi(os.Getenv("MONEY_WORKERS")); err == nil && v > 0 {
		workers = v
	}
	// The seeds are fixed unless MONEY_SEED says otherwise (0: random, as
	// make fuzz-money runs them), so make test checks the same timelines
	// on every run; each worker starts a million seeds from the last.
	base := uint64(20261130)
	if v, err := strconv.ParseUint(os.Getenv("MONEY_SEED"), 10, 64); err == nil {
		base = v
	}
	if flagGiven("rapid.seed") || flagGiven("rapid.failfile") {
		workers, base = 1, 0 // a replay of the seed given
	} else if f := flag.Lookup("rapid.checks"); f != nil && !flagGiven("rapid.checks") {
		f.Value.Set(strconv.Itoa((seeds + workers - 1) / workers))
	}
	// Each worker runs its share of the seeds against a database of its
	// own, at the same time as the others.
	for w := range workers {
		seed := uint64(0)
		if base != 0 {
			seed = base + uint64(w)*1_000_000
		}
		t.Run(fmt.Sprintf("worker%d", w), func(t *testing.T) {
			t.Parallel()
			faultCampaign(t, seed)
		})
	}
}

// seedMu hands rapid's (global) seed setting to one worker at a time: it
// is held from setting the seed until rapid has read it and run the first
// case.
var seedMu sync.Mutex

func faultCampaign(t *testing.T, seed uint64) {
	d, _ := dbtest.New(t)
	faultCampaignOn(t, seed, d, d)
}

// faultCampaignOn runs the campaign with the store on d, and its renewal
// runs, which hold a session-level advisory lock, on jobs (d itself, or a
// connection that keeps its session when d is behind a transaction
// pooler).
func faultCampaignOn(t *testing.T, seed uint64, d, jobs *sqlx.DB) {
	d.SetMaxOpenConns(8)
	var tables []string
	if err := d.Select(&tables, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
		AND tablename NOT IN ('plans', 'schema_migrations', 'usage_tiers', 'reference_version')`); err != nil {
		t.Fatal(err)
	}
	truncate := emptyTables(tables)
	release := func() {}
	if seed != 0 {
		seedMu.Lock()
		flag.Set("rapid.seed", strconv.FormatUint(seed, 10))
		var once sync.Once
		release = func() { once.Do(seedMu.Unlock) }
		defer release()
	}
	rapid.Check(t, func(rt *rapid.T) {
		release()
		if _, err := d.Exec(truncate); err != nil {
			rt.Fatal(err)
		}
		newCampaign(rt, d, jobs).run(rt)
	})
}

// emptyTables is the statement that empties the tables before each case:
// what TRUNCATE … RESTART IDENTITY CASCADE of them all leaves (every table
// empty, the sequences they own back at their start), in one round trip,
// but truncating only the tables that have rows. A case leaves most of
// the tables empty, and truncating one costs new files for it and each
// of its indexes.
func emptyTables(tables []string) string {
	quoted := make([]string, len(tables))
	for i, t := range tables {
		quoted[i] = "'" + strings.ReplaceAll(t, "'", "''") + "'"
	}
	return `DO $reset$
DECLARE
	t text;
	filled text[] := '{}';
	empty text[] := '{}';
	has boolean;
BEGIN
	FOREACH t IN ARRAY ARRAY[` + strings.Join(quoted, ", ") + `]::text[] LOOP
		EXECUTE format('SELECT EXISTS (SELECT FROM %I)', t) INTO has;
		IF has THEN
			filled := filled || t;
		ELSE
			empty := empty || t;
		END IF;
	END LOOP;
	IF cardinality(filled) > 0 THEN
		EXECUTE (SELECT 'TRUNCATE ' || string_agg(format('%I', x), ', ') || ' RESTART IDENTITY CASCADE' FROM unnest(filled) x);
	END IF;
	-- An empty table's sequences may have moved (rows deleted, inserts
	-- rolled back): back to their start, as RESTART IDENTITY puts them.
	PERFORM setval(s.seqrelid, s.seqstart, false)
		FROM pg_sequence s
		JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = s.seqrelid
			AND d.refclassid = 'pg_class'::regclass AND d.deptype IN ('a', 'i')
		WHERE d.refobjid IN (SELECT format('%I', x)::regclass FROM unnest(empty) x);
END
$reset$`
}

func flagGiven(name string) bool {
	given := false
	flag.Visit(func(f *flag.Flag) { given = given || f.Name == name })
	return given
}

var faultAccounts = []struct {
	id   string
	plan billing.PlanID
	kind billing.PaymentKind
}{{"cat", billing.Light, billing.CreditCard}, {"dog", billing.Medium, billing.LinePay}, {"owl", billing.High, billing.CreditCard}}

var faultCodes = []string{"FAULT-0001", "FAULT-0002", "FAULT-0003", "FAULT-0004", "FAULT-0005", "FAULT-0006"}

// campaign is one timeline: the store over a shared database (emptied
// before each case), the simulated provider with its ledger, and the clock.
type campaign struct {
	d     *sqlx.DB
	s     *db.Store
	jobs  *db.Store // the renewal runs' store: s's database, maybe another connection
	prov  *sim.Provider
	clk   *billingtest.Clock
	ctx   context.Context
	seed  map[string]billing.Month // the month each paid account starts paid for
	cat   billing.Catalog
	steps []string
}

func newCampaign(t *rapid.T, d, jobs *sqlx.DB) *campaign {
	c := &campaign{d: d, prov: sim.NewProvider(), clk: billingtest.NewClock(tw("2024-06-05 10:00")), ctx: context.Background(),
		seed: map[string]billing.Month{}}
	c.s = db.New(d, c.clk, c.prov)
	c.jobs = c.s
	if jobs != d {
		c.jobs = db.New(jobs, c.clk, c.prov)
	}
	var err error
	if c.cat, err = c.s.Catalog(c.ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := c.s.CreateCampaign(c.ctx, "test", billing.Campaign{ID: "summer-2024", FaceValue: 800,
		ValidFrom: tw("2024-06-07 00:00"), ValidUntil: tw("2024-08-31 23:59").Add(59 * time.Second)}); err != nil {
		t.Fatal(err)
	}
	if err := c.s.AddCodes(c.ctx, "test", "summer-2024", faultCodes); err != nil {
		t.Fatal(err)
	}
	// Numbers for every e-invoice period the campaign's clock can reach.
	var books []billing.BookRange
	for p, i := billing.InvoicePeriodOf(c.clk.Now()), 0; i < 16; p, i = p.Next(), i+1 {
		books = append(books, billing.BookRange{Period: p, Track: "FT", Begin: 0, End: 999})
	}
	if _, err := c.s.ImportBooks(c.ctx, "test", books); err != nil {
		t.Fatal(err)
	}
	for _, a := range faultAccounts {
		m := billing.MonthOf(c.clk.Now())
		if err := c.s.CreateAccount(c.ctx, "test", db.NewAccount{ID: a.id, Region: "TW", Plan: a.plan, PaidMonth: m}); err != nil {
			t.Fatal(err)
		}
		if a.plan != billing.Light {
			c.seed[a.id] = m
		}
		c.addMethod(t, a.id, a.kind)
	}
	return c
}

func (c *campaign) addMethod(t *rapid.T, id string, kind billing.PaymentKind) {
	if _, err := c.s.AddPaymentMethod(c.ctx, "test", db.PaymentMethod{AccountID: id, Kind: kind, Token: "tok-" + id}, true); err != nil {
		t.Fatal(err)
	}
}

// step names, index 0 first: rapid shrinks a choice towards it, so a shrunk
// timeline is a few real steps among "wait"s.
var stepNames = []string{"wait", "advance", "register", "upgrade", "downgrade", "cancel_downgrade", "renew", "renew_killed",
	"renew_wrong_month", "collect", "retry", "retry_due", "remove_method", "add_method", "outcome", "upgrade_killed",
	"refund", "refund_killed", "refund_race", "collect_refunds", "agree_allowance"}

var outcomes = []sim.Outcome{sim.OutcomeOK, sim.OutcomeDeclined, sim.OutcomeInsufficientFunds, sim.OutcomeTimeout, sim.OutcomeLostAnswer}

func (c *campaign) run(t *rapid.T) {
	n := rapid.IntRange(40, 60).Draw(t, "steps")
	for i := range n {
		name := rapid.SampledFrom(stepNames).Draw(t, fmt.Sprintf("step%d", i))
		if name == "wait" {
			continue
		}
		desc := c.step(t, name)
		c.steps = append(c.steps, fmt.Sprintf("%s %s", c.clk.Now().In(billing.Taipei).Format("01-02 15:04"), desc))
		c.check(t)
	}
}

// expected reports whether err is a refusal the product states (a coded
// billing error) rather than a failure of the store.
func expected(err error) bool { return err == nil || billing.ErrorCode(err) != "" }

func (c *campaign) fail(t *rapid.T, format string, args ...any) {
	t.Fatalf("%s\ntimeline:\n  %s", fmt.Sprintf(format, args...), strings.Join(c.steps, "\n  "))
}

func (c *campaign) step(t *rapid.T, name string) string {
	acct := faultAccounts[rapid.IntRange(0, len(faultAccounts)-1).Draw(t, "account")].id
	switch name {
	case "advance":
		d := rapid.SampledFrom([]time.Duration{time.Hour, 25 * time.Hour, 4 * 24 * time.Hour, 11 * 24 * time.Hour}).Draw(t, "by")
		c.clk.Set(c.clk.Now().Add(d))
		return "advance " + d.String()
	case "register":
		code := rapid.SampledFrom(faultCodes).Draw(t, "code")
		_, err := c.s.RegisterCode(c.ctx, "test", acct, code)
		c.must(t, err, name)
		return fmt.Sprintf("%s registers %s: %v", acct, code, err)
	case "upgrade", "upgrade_killed":
		plan := rapid.SampledFrom([]billing.PlanID{billing.Medium, billing.High}).Draw(t, "plan")
		if name == "upgrade_killed" {
			// The process dies while the provider is being asked: the
			// provider acts on the request or not, and nothing comes back.
			was := c.prov.Outcome(acct)
			c.prov.SetOutcome(acct, rapid.SampledFrom([]sim.Outcome{sim.OutcomeTimeout, sim.OutcomeLostAnswer}).Draw(t, "dies"))
			defer c.prov.SetOutcome(acct, was)
		}
		ch, err := c.s.Upgrade(c.ctx, "test", db.UpgradeRequest{AccountID: acct, Plan: plan})
		c.must(t, err, name)
		return fmt.Sprintf("%s %s to %s: charge %d %s %v", acct, name, plan, ch.ID, ch.Status, err)
	case "downgrade":
		plan := rapid.SampledFrom([]billing.PlanID{billing.Light, billing.Medium}).Draw(t, "plan")
		_, err := c.s.ScheduleDowngrade(c.ctx, "test", acct, plan)
		c.must(t, err, name)
		return fmt.Sprintf("%s downgrades to %s: %v", acct, plan, err)
	case "cancel_downgrade":
		_, err := c.s.CancelDowngrade(c.ctx, "test", acct)
		c.must(t, err, name)
		return fmt.Sprintf("%s cancels its downgrade: %v", acct, err)
	case "renew":
		collect := rapid.Bool().Draw(t, "collect")
		m := billing.MonthOf(c.clk.Now())
		err := c.jobs.ClaimRenewalRun(c.ctx, "test", m)
		if err == nil {
			_, err = c.jobs.RunRenewal(c.ctx, "test", m, collect)
		}
		c.must(t, err, name)
		return fmt.Sprintf("renew %s (collect %v): %v", m, collect, err)
	case "renew_killed":
		// The process dies after k batches of one account each; the next
		// run resumes.
		k := rapid.IntRange(1, 2).Draw(t, "batches")
		ctx, cancel := context.WithCancel(c.ctx)
		defer cancel()
		_, err := c.jobs.Renew(ctx, "test", c.clk.Now(), db.RenewOptions{BatchSize: 1, Progress: func(done int64) {
			if done >= int64(k) {
				cancel()
			}
		}})
		if !expected(err) && !errors.Is(err, context.Canceled) {
			c.fail(t, "renew killed: %v", err)
		}
		return fmt.Sprintf("renew killed after %d batches: %v", k, err)
	case "renew_wrong_month":
		m := billing.MonthOf(c.clk.Now()).Prev()
		if rapid.Bool().Draw(t, "next") {
			m = billing.MonthOf(c.clk.Now()).Next()
		}
		before := c.count(t, `SELECT count(*) FROM charges`)
		err := c.jobs.ClaimRenewalRun(c.ctx, "test", m)
		if billing.ErrorCode(err) != billing.EMonthNotCurrent {
			c.fail(t, "renewing %s at %s: got %v, want month_not_current", m, c.clk.Now(), err)
		}
		if _, err := c.jobs.Renew(c.ctx, "test", m.Start(), db.RenewOptions{}); billing.ErrorCode(err) != billing.EMonthNotCurrent {
			c.fail(t, "Renew(%s) at %s: got %v, want month_not_current", m, c.clk.Now(), err)
		}
		if after := c.count(t, `SELECT count(*) FROM charges`); after != before {
			c.fail(t, "a refused renewal of %s wrote %d charges", m, after-before)
		}
		return fmt.Sprintf("renew %s refused", m)
	case "collect":
		healthy := c.healthy()
		sum, err := c.s.Collect(c.ctx, "test", 0)
		c.must(t, err, name)
		if healthy {
			if n := c.count(t, `SELECT count(*) FROM charges WHERE status='pending'`); n != 0 {
				c.fail(t, "after a collection against a healthy provider, %d charges are still pending (%+v)", n, sum)
			}
		}
		return fmt.Sprintf("collect: %+v", sum)
	case "retry":
		ch, err := sim.RetryLatest(c.ctx, c.s, "test", acct)
		c.must(t, err, name)
		return fmt.Sprintf("%s pays now: charge %d %s %v", acct, ch.ID, ch.Status, err)
	case "retry_due":
		sum, err := c.s.RetryDue(c.ctx, "test")
		c.must(t, err, name)
		return fmt.Sprintf("automatic retries: %+v", sum)
	case "remove_method":
		pms, err := c.s.PaymentMethods(c.ctx, acct)
		if err != nil || len(pms) == 0 {
			return acct + " has no method to remove"
		}
		pending := c.count(t, `SELECT count(*) FROM charges WHERE status='pending' AND account_id=$1`, acct)
		err = c.s.RemovePaymentMethod(c.ctx, "test", acct, pms[0].ID)
		if pending > 0 && billing.ErrorCode(err) != billing.EPaymentPending {
			c.fail(t, "removing %s's method under a pending charge: got %v, want payment_pending", acct, err)
		}
		c.must(t, err, name)
		return fmt.Sprintf("%s removes its method: %v", acct, err)
	case "add_method":
		kind := rapid.SampledFrom([]billing.PaymentKind{billing.CreditCard, billing.LinePay}).Draw(t, "kind")
		c.addMethod(t, acct, kind)
		return fmt.Sprintf("%s adds %s", acct, kind)
	case "refund", "refund_killed", "refund_race":
		return c.refund(t, name, acct)
	case "collect_refunds":
		sum, err := c.s.CollectRefunds(c.ctx, "test", c.clk.Now())
		c.must(t, err, name)
		return fmt.Sprintf("collect refunds: %+v", sum)
	case "agree_allowance":
		// The admin agrees to every allowance waiting: the links are
		// hashed in the store, so the campaign finds them in the outbox.
		var links []string
		if err := c.d.Select(&links, `SELECT params->>'link' FROM outbox WHERE kind = 'allowance_consent'`); err != nil {
			t.Fatal(err)
		}
		agreed := 0
		for _, l := range links {
			_, err := c.s.AgreeAllowance(c.ctx, "test", strings.TrimPrefix(l, "/einvoice/allowances/"))
			c.must(t, err, name)
			if err == nil {
				agreed++
			}
		}
		return fmt.Sprintf("the admins agree to %d allowances", agreed)
	case "outcome":
		o := rapid.SampledFrom(outcomes).Draw(t, "outcome")
		c.prov.SetOutcome(acct, o)
		return fmt.Sprintf("provider answers %s for %s", o, acct)
	}
	panic(name)
}

// refund refunds all or part of one of acct's paid charges: plainly, with
// the process dying while the provider is asked (refund_killed), or racing
// a collection of unanswered refunds (refund_race).
func (c *campaign) refund(t *rapid.T, name, acct string) string {
	var paid []struct {
		ID    int64 `db:"id"`
		Total int64 `db:"total"`
	}
	if err := c.d.Select(&paid, `SELECT id, total FROM charges WHERE account_id = $1 AND status = 'paid' AND total > 0 ORDER BY id`, acct); err != nil {
		t.Fatal(err)
	}
	if len(paid) == 0 {
		return acct + " has nothing to refund"
	}
	ch := paid[rapid.IntRange(0, len(paid)-1).Draw(t, "charge")]
	amount := billing.Money(0) // all that is left
	if rapid.Bool().Draw(t, "partial") {
		amount = billing.Money(rapid.Int64Range(1, ch.Total).Draw(t, "amount"))
	}
	req := db.RefundRequest{ChargeID: ch.ID, Amount: amount, Reason: "模擬退款", Key: fmt.Sprintf("refund-%d-%d", ch.ID, len(c.steps))}
	if name == "refund_killed" {
		was := c.prov.Outcome(acct)
		c.prov.SetOutcome(acct, rapid.SampledFrom([]sim.Outcome{sim.OutcomeTimeout, sim.OutcomeLostAnswer}).Draw(t, "dies"))
		defer c.prov.SetOutcome(acct, was)
	}
	var r db.Refund
	var err error
	if name == "refund_race" {
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, cerr := c.s.CollectRefunds(c.ctx, "test", c.clk.Now().Add(time.Hour))
			if !expected(cerr) {
				err = cerr
			}
		}()
		r, err = c.s.Refund(c.ctx, "test", req)
		wg.Wait()
	} else {
		r, err = c.s.Refund(c.ctx, "test", req)
	}
	c.must(t, err, name)
	return fmt.Sprintf("%s %s charge %d (%d of %d): refund %d %s %v", acct, name, ch.ID, amount, ch.Total, r.ID, r.Status, err)
}

func (c *campaign) must(t *rapid.T, err error, what string) {
	if !expected(err) {
		c.fail(t, "%s: %v", what, err)
	}
}

// healthy reports whether the provider answers every account's payments.
func (c *campaign) healthy() bool {
	for _, a := range faultAccounts {
		if o := c.prov.Outcome(a.id); o != sim.OutcomeOK {
			return false
		}
	}
	return true
}

func (c *campaign) count(t *rapid.T, q string, args ...any) int64 {
	var n int64
	if err := c.d.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// check asserts the money invariants.
func (c *campaign) check(t *rapid.T) {
	now := c.clk.Now()
	// 1. Per account and month, the plan fee paid equals the fee of the
	// plan held, never more, and is exactly what its paid charges add up
	// to (plus the month each account started paid for).
	var months []struct {
		Account string `db:"account_id"`
		Month   string `db:"month"`
		Plan    string `db:"plan"`
		Fee     int64  `db:"fee_paid"`
		Charged int64  `db:"charged"`
		PlanFee int64  `db:"plan_fee"`
	}
	if err := c.d.Select(&months, `SELECT am.account_id, to_char(am.month, 'YYYY-MM') AS month, am.plan, am.fee_paid,
		coalesce((SELECT sum(amount) FROM charges c WHERE c.account_id = am.account_id AND c.month = am.month
			AND c.status = 'paid' AND c.kind = ANY($1)), 0) AS charged,
		(SELECT fee FROM plans WHERE id = am.plan) AS plan_fee
		FROM account_months am`, planFeeKinds()); err != nil {
		t.Fatal(err)
	}
	paidMonth := map[string]string{}
	for _, m := range months {
		seeded := int64(0)
		if sm, ok := c.seed[m.Account]; ok && sm.String() == m.Month {
			seeded = int64(c.cat.MustPlan(faultPlan(m.Account)).Fee)
		}
		if m.Fee != m.PlanFee || m.Fee != m.Charged+seeded {
			c.fail(t, "%s %s: paid %d for %s (fee %d), its paid charges add up to %d (+%d seeded)",
				m.Account, m.Month, m.Fee, m.Plan, m.PlanFee, m.Charged, seeded)
		}
		if m.Month == billing.MonthOf(now).String() {
			paidMonth[m.Account] = m.Plan
		}
	}
	// 2. The account's plan is the one its paid charges imply: the plan
	// paid for this month, or, while this month's renewal has not been made
	// or is still owed (failed or pending), the plan it carries over.
	var accts []struct {
		ID      string `db:"id"`
		Plan    string `db:"plan"`
		Fee     int64  `db:"fee"`
		Renewal string `db:"renewal"`
	}
	if err := c.d.Select(&accts, `SELECT a.id, a.plan, p.fee,
		coalesce((SELECT status FROM charges c WHERE c.account_id = a.id AND c.kind = 'renewal' AND c.month = $1), '') AS renewal
		FROM accounts a JOIN plans p ON p.id = a.plan`, billing.MonthOf(now).Date()); err != nil {
		t.Fatal(err)
	}
	for _, a := range accts {
		if p, ok := paidMonth[a.ID]; ok {
			if p != a.Plan {
				c.fail(t, "%s holds %s but paid for %s this month", a.ID, a.Plan, p)
			}
			continue
		}
		if a.Fee > 0 && (a.Renewal == "paid" || a.Renewal == "void") {
			c.fail(t, "%s holds %s with nothing paid this month, yet its renewal is %s", a.ID, a.Plan, a.Renewal)
		}
	}
	// 3. Every payment the provider took maps to exactly one paid charge
	// (or one still pending, whose answer was lost), and every paid charge
	// with something to pay to exactly one payment.
	var charges []struct {
		ID     int64  `db:"id"`
		Status string `db:"status"`
		Total  int64  `db:"total"`
		Ref    string `db:"payment_ref"`
	}
	if err := c.d.Select(&charges, `SELECT id, status, total, payment_ref FROM charges`); err != nil {
		t.Fatal(err)
	}
	byID := make(map[int64]int, len(charges))
	for i, ch := range charges {
		byID[ch.ID] = i
	}
	byCharge := map[int64]int{}
	for _, p := range c.prov.Taken() {
		byCharge[p.ChargeID]++
		i, ok := byID[p.ChargeID]
		if !ok {
			c.fail(t, "the provider took %d (%s) for charge %d, which does not exist", p.Amount, p.Ref, p.ChargeID)
		}
		ch := charges[i]
		if !(ch.Status == "paid" && ch.Ref == p.Ref && ch.Total == int64(p.Amount)) && ch.Status != "pending" {
			c.fail(t, "the provider took %d (%s) for charge %d, which is %s (ref %q, total %d)", p.Amount, p.Ref, p.ChargeID, ch.Status, ch.Ref, ch.Total)
		}
	}
	for id, n := range byCharge {
		if n > 1 {
			c.fail(t, "the provider took %d payments for charge %d", n, id)
		}
	}
	for _, ch := range charges {
		if ch.Status == "paid" && ch.Total > 0 && byCharge[ch.ID] != 1 {
			c.fail(t, "charge %d is paid but the provider took %d payments for it", ch.ID, byCharge[ch.ID])
		}
	}
	// 4. A code is redeemed at most once, offsets at most its face value,
	// and is held by no failed or void charge.
	var codes []struct {
		Code   string `db:"code"`
		Paid   int64  `db:"paid"`
		Offset int64  `db:"offset_sum"`
		Held   int64  `db:"held_by_dead"`
		Redeem int64  `db:"redeemed_events"`
	}
	if err := c.d.Select(&codes, `SELECT p.code,
		(SELECT count(*) FROM charges c WHERE c.code = p.code AND c.status = 'paid') AS paid,
		(SELECT coalesce(sum(offset_amount), 0) FROM charges c WHERE c.code = p.code AND c.status = 'paid') AS offset_sum,
		(SELECT count(*) FROM charges c WHERE c.id = p.charge_id AND c.status IN ('failed', 'void')) AS held_by_dead,
		(SELECT count(*) FROM code_events e WHERE e.code = p.code AND e.kind = 'redeemed') AS redeemed_events
		FROM promo_codes p`); err != nil {
		t.Fatal(err)
	}
	for _, cd := range codes {
		if cd.Paid > 1 || cd.Redeem > 1 || cd.Offset > 800 || cd.Held > 0 {
			c.fail(t, "code %s: %d paid charges, redeemed %d times, offset %d in all, held by %d failed or void charges",
				cd.Code, cd.Paid, cd.Redeem, cd.Offset, cd.Held)
		}
	}
	c.checkRefunds(t, charges)
}

// checkRefunds asserts the refund invariants: (5) the refunds of a charge
// never add up to more than it paid; (6) every succeeded refund matches
// one refund the provider made, of its amount, and the provider made none
// the store does not know (or still has pending, its answer lost); (7)
// every refunded invoice has its F0501 or its G0401 (or, for a person, an
// allowance waiting for the admin's agreement).
func (c *campaign) checkRefunds(t *rapid.T, charges []struct {
	ID     int64  `db:"id"`
	Status string `db:"status"`
	Total  int64  `db:"total"`
	Ref    string `db:"payment_ref"`
}) {
	var refunds []struct {
		ID       int64  `db:"id"`
		ChargeID int64  `db:"charge_id"`
		Amount   int64  `db:"amount"`
		Status   string `db:"status"`
		Ref      string `db:"provider_ref"`
		Invoice  string `db:"invoice"`
		Message  string `db:"message"`
	}
	if err := c.d.Select(&refunds, `SELECT r.id, r.charge_id, r.amount, r.status, r.provider_ref,
		coalesce((SELECT status FROM einvoices e WHERE e.charge_id = r.charge_id), '') AS invoice,
		coalesce((SELECT type FROM einvoice_messages m WHERE m.refund_id = r.id), (SELECT 'awaiting' FROM einvoice_allowances a WHERE a.refund_id = r.id AND a.status = 'awaiting_consent'), '') AS message
		FROM refunds r`); err != nil {
		t.Fatal(err)
	}
	total := map[int64]int64{}
	for _, ch := range charges {
		total[ch.ID] = ch.Total
	}
	refunded := map[int64]int64{}
	byKey := map[string]sim.Refund{}
	for _, pr := range c.prov.Refunds() {
		byKey[pr.Key] = pr
	}
	for _, r := range refunds {
		if r.Status != "failed" {
			refunded[r.ChargeID] += r.Amount
		}
		pr, made := byKey[fmt.Sprintf("refund-%d", r.ID)]
		switch {
		case r.Status == "succeeded" && (!made || pr.Ref != r.Ref || int64(pr.Amount) != r.Amount):
			c.fail(t, "refund %d succeeded (%s, %d) but the provider made %+v", r.ID, r.Ref, r.Amount, pr)
		case r.Status == "failed" && made:
			c.fail(t, "refund %d failed but the provider made it: %+v", r.ID, pr)
		case r.Status == "succeeded" && r.Invoice != "" && r.Message != "F0501" && r.Message != "G0401" && r.Message != "awaiting":
			c.fail(t, "refund %d of charge %d (invoice %s) has no F0501 or G0401 (%q)", r.ID, r.ChargeID, r.Invoice, r.Message)
		}
		delete(byKey, fmt.Sprintf("refund-%d", r.ID))
	}
	for id, n := range refunded {
		if n > total[id] {
			c.fail(t, "charge %d paid %d and was refunded %d", id, total[id], n)
		}
	}
	for k, pr := range byKey {
		c.fail(t, "the provider made refund %s (%+v) that the store does not know", k, pr)
	}
}

func faultPlan(id string) billing.PlanID {
	for _, a := range faultAccounts {
		if a.id == id {
			return a.plan
		}
	}
	return ""
}

// planFeeKinds is billing.PlanFeeKinds as a query parameter.
func planFeeKinds() pq.StringArray {
	var ks pq.StringArray
	for _, k := range billing.PlanFeeKinds {
		ks = append(ks, string(k))
	}
	return ks
}
