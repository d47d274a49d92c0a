package db_test

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/db/loadgen"
)

// The staff preview with a code that is not registered yet equals what
// registering that code and then buying (or renewing) for real does, across
// generated cases: regions, payment kinds, plans, instants before, inside
// and after the windows, codes that exist, are taken, are mistyped or do
// not exist, and accounts that already hold a code.
func TestStaffPreviewEqualsChargeProperty(t *testing.T) {
	f := newFixture(t)
	// A second campaign whose window closes before the July renewal.
	if _, err := f.s.CreateCampaign(f.ctx, "test", billing.Campaign{ID: "june-only", FaceValue: 500,
		ValidFrom: tw("2024-06-01 00:00"), ValidUntil: tw("2024-06-30 12:00")}); err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(7, 11))
	gen := billing.CodeGenerator{Rand: rand.NewChaCha8([32]byte{1})}
	const n = 120
	var summer, june []string
	for range n {
		c, _ := gen.Next()
		summer = append(summer, c)
		c, _ = gen.Next()
		june = append(june, c)
	}
	f.codes(t, summer...)
	if err := f.s.AddCodes(f.ctx, "test", "june-only", june); err != nil {
		t.Fatal(err)
	}
	plans := []billing.PlanID{billing.Light, billing.Medium, billing.High}
	kinds := []billing.PaymentKind{billing.CreditCard, billing.LinePay, billing.CreditCard, billing.LinePay, billing.BankTransfer, ""}
	start := tw("2024-06-05 09:00")
	f.clk.Set(start)
	regions := map[string]string{}
	for i := range n {
		id := fmt.Sprintf("s%03d", i)
		region := "TW"
		if rng.IntN(8) == 0 {
			region = "JP"
		}
		regions[id] = region
		if err := f.s.CreateAccount(f.ctx, "test", db.NewAccount{ID: id, Region: region, Plan: plans[rng.IntN(3)], PaidMonth: billing.MonthOf(start)}); err != nil {
			t.Fatal(err)
		}
		if k := kinds[rng.IntN(len(kinds))]; k != "" {
			if _, err := f.s.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: id, Kind: k, Token: "tok"}, true); err != nil {
				t.Fatal(err)
			}
		}
	}
	type renewalCase struct {
		id string
		p  db.Preview
	}
	var renewals []renewalCase
	checked, offsets := 0, 0
	at := start
	for i := range n {
		id := fmt.Sprintf("s%03d", i)
		at = at.Add(time.Duration(rng.IntN(5*60)) * time.Minute) // from before the window opens to late June
		f.clk.Set(at)
		// Sometimes the account already holds a code.
		if rng.IntN(5) == 0 {
			f.s.RegisterCode(f.ctx, "test", id, june[i])
		}
		var code string
		switch rng.IntN(8) {
		case 0:
		case 1:
			code = june[(i+1)%n]
		case 2:
			code = fmt.Sprintf("NOPE-%04d", i)
		case 3: // a typo in a generated code
			b := []byte(billing.NormalizeCode(summer[i]))
			b[3] = billing.CodeAlphabet[(len(billing.CodeAlphabet)+int(b[3]))%len(billing.CodeAlphabet)]
			if b[3] == billing.NormalizeCode(summer[i])[3] {
				b[3] = '2'
			}
			code = string(b)
		default:
			code = summer[i]
		}
		if rng.IntN(10) == 0 && i > 0 {
			code = summer[i-1] // probably taken by the previous account
		}
		req := db.PreviewRequest{AccountID: id, At: at, Kind: billing.KindUpgrade, Plan: plans[1+rng.IntN(2)], Code: code}
		if rng.IntN(4) == 0 {
			req.Kind, req.Plan = billing.KindRenewal, ""
		}
		p, err := f.s.PreviewCharge(f.ctx, req)
		if err != nil {
			t.Fatalf("%s: preview: %v", id, err)
		}
		// Nothing was written by the preview.
		if code != "" {
			if rc, ok, _ := f.s.AccountCode(f.ctx, id); ok && rc.Code == billing.NormalizeCode(code) && p.Registration == nil && rc.Registered.Equal(at) {
				t.Fatalf("%s: the preview registered %s", id, code)
			}
		}
		var regErr error
		if code != "" {
			_, regErr = f.s.RegisterCode(f.ctx, "test", id, code)
		}
		if billing.ErrorCode(regErr) != billing.ErrorCode(p.Registration) {
			t.Errorf("%s: preview says registration %v, registering says %v", id, p.Registration, regErr)
		}
		if req.Kind == billing.KindRenewal {
			renewals = append(renewals, renewalCase{id, p})
			continue
		}
		ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: id, Plan: req.Plan, Key: "staff-prop-" + id})
		if billing.ErrorCode(err) != billing.ErrorCode(p.QuoteErr) {
			t.Errorf("%s %+v: preview error %v, purchase error %v", id, req, p.QuoteErr, err)
			continue
		}
		if err != nil {
			continue
		}
		checked++
		q := p.Quote
		if q.Offset > 0 {
			offsets++
		}
		if ch.Amount != q.Amount || ch.Offset != q.Offset || ch.Forfeited != q.Forfeited || ch.Net != q.Net || ch.Tax != q.Tax ||
			ch.Total != q.Total || ch.Code != q.Code || ch.Plan != q.Plan || ch.FromPlan != q.FromPlan {
			t.Errorf("%s: preview %+v, charge %+v", id, q, ch)
		}
	}
	july := billing.MonthOf(start).Next()
	f.clk.Set(july.Start())
	if _, err := f.s.Renew(f.ctx, "test", july.Start(), db.RenewOptions{BatchSize: 7}); err != nil {
		t.Fatal(err)
	}
	for _, rc := range renewals {
		cs, err := f.s.FindCharges(f.ctx, rc.id)
		if err != nil {
			t.Fatal(err)
		}
		var got *db.Charge
		for i := range cs {
			if cs[i].Kind == billing.KindRenewal && cs[i].Month() == july {
				got = &cs[i]
			}
		}
		q := rc.p.Quote
		if got == nil {
			if q.Chargeable() {
				t.Errorf("%s: preview %+v, but the renewal made no charge", rc.id, q)
			}
			continue
		}
		checked++
		if q.Offset > 0 {
			offsets++
		}
		if got.Amount != q.Amount || got.Offset != q.Offset || got.Forfeited != q.Forfeited || got.Tax != q.Tax || got.Total != q.Total ||
			got.Code != q.Code || got.Plan != q.Plan {
			t.Errorf("%s renewal: preview %+v, charge %+v", rc.id, q, *got)
		}
	}
	t.Logf("checked %d charges (%d with an offset, %d renewal previews)", checked, offsets, len(renewals))
	if checked < 25 || offsets < 10 || len(renewals) < 10 {
		t.Errorf("checked %d charges (%d with an offset, %d renewals); the generator is too narrow", checked, offsets, len(renewals))
	}
}

// The E5 case through the staff preview: medium (paid), a code not yet
// registered, upgrade to high: 400 offset, 400 forfeited, total 0; and the
// next renewal of the document's campaign after its window says why not.
func TestStaffPreviewE5AndReasons(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "E5-0001", "E5-0002")
	f.account(t, "cat", billing.Medium, billing.CreditCard, "tok")
	f.account(t, "bank", billing.Medium, billing.BankTransfer, "tok")
	p, err := f.s.PreviewCharge(f.ctx, db.PreviewRequest{AccountID: "cat", At: tw("2024-06-11 10:00"), Kind: billing.KindUpgrade, Plan: billing.High, Code: "e5-0001"})
	if err != nil || p.Registration != nil || p.QuoteErr != nil {
		t.Fatalf("%+v %v", p, err)
	}
	if q := p.Quote; q.Amount != 400 || q.Offset != 400 || q.Forfeited != 400 || q.Total != 0 || q.Code != "E50001" {
		t.Errorf("E5 preview %+v, want 400 − 400, 400 forfeited, total 0", q)
	}
	if n := count(t, f, `SELECT count(*) FROM promo_codes WHERE account_id IS NOT NULL`); n != 0 {
		t.Errorf("the preview registered %d codes", n)
	}
	if p.Next == nil || p.Next.Total != 1260 || p.Next.Code != "" {
		t.Errorf("the renewal after E5: %+v, want 1,260 without the spent code", p.Next)
	}
	// A campaign closing 6/30 12:00: registered 6/20, the 7/1 renewal falls
	// after the window.
	if _, err := f.s.CreateCampaign(f.ctx, "test", billing.Campaign{ID: "june", FaceValue: 800,
		ValidFrom: tw("2024-06-01 00:00"), ValidUntil: tw("2024-06-30 12:00")}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddCodes(f.ctx, "test", "june", []string{"JUNE-0001"}); err != nil {
		t.Fatal(err)
	}
	p, _ = f.s.PreviewCharge(f.ctx, db.PreviewRequest{AccountID: "cat", At: tw("2024-06-20 10:00"), Kind: billing.KindRenewal, Code: "JUNE-0001"})
	if p.Registration != nil || p.Quote.CodeRefusal != billing.EWindowClosed || p.Quote.Total != 840 {
		t.Errorf("renewal after the window: %+v, registration %v", p.Quote, p.Registration)
	}
	p, _ = f.s.PreviewCharge(f.ctx, db.PreviewRequest{AccountID: "bank", At: tw("2024-06-11 10:00"), Kind: billing.KindUpgrade, Plan: billing.High, Code: "E5-0002"})
	if p.Quote.CodeRefusal != billing.EPaymentIneligble || p.Quote.Total != 420 {
		t.Errorf("bank transfer: %+v", p.Quote)
	}
}

func TestGenerateCodesRegeneratesCollisions(t *testing.T) {
	f := newFixture(t)
	seed := [32]byte{42}
	first, _ := billing.CodeGenerator{Rand: rand.NewChaCha8(seed)}.Next()
	f.codes(t, first) // the generator's first code is taken by another campaign
	if _, err := f.s.CreateCampaign(f.ctx, "test", billing.Campaign{ID: "autumn", FaceValue: 300,
		ValidFrom: tw("2024-09-01 00:00"), ValidUntil: tw("2024-11-30 23:59")}); err != nil {
		t.Fatal(err)
	}
	j, err := f.s.CreateCodeJob(f.ctx, "staff:test", "autumn", 1500)
	if err != nil {
		t.Fatal(err)
	}
	j, err = f.s.GenerateCodes(f.ctx, "staff:test", j.ID, billing.CodeGenerator{Rand: rand.NewChaCha8(seed)})
	if err != nil || j.Status != "done" || j.Done != 1500 {
		t.Fatalf("%+v %v", j, err)
	}
	if n := count(t, f, `SELECT count(*) FROM promo_codes WHERE campaign_id='autumn'`); n != 1500 {
		t.Errorf("%d codes in the campaign, want 1500", n)
	}
	seen := 0
	err = f.s.EachCampaignCode(f.ctx, "autumn", func(c db.CodeExport) error {
		seen++
		if err := billing.CheckCodeTypo(billing.NormalizeCode(c.Display)); err != nil || !billing.IsGeneratedShape(billing.NormalizeCode(c.Display)) {
			return fmt.Errorf("%s: %v", c.Display, err)
		}
		return nil
	})
	if err != nil || seen != 1500 {
		t.Errorf("export: %d codes, %v", seen, err)
	}
	if _, err := f.s.CreateCodeJob(f.ctx, "staff:test", "autumn", 0); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("0 codes: %v", err)
	}
	// A mistyped generated code is refused before any look-up.
	f.account(t, "bear", billing.Light, billing.LinePay, "tok")
	b := []byte(billing.NormalizeCode(first))
	b[0], b[1] = b[1], b[0]
	if b[0] == b[1] {
		b[0] = billing.CodeAlphabet[(1+int(b[0]))%len(billing.CodeAlphabet)]
	}
	if _, err := f.s.RegisterCode(f.ctx, "test", "bear", string(b)); billing.ErrorCode(err) != billing.ECodeMistyped {
		t.Errorf("mistyped %s: got %v, want code_mistyped", b, err)
	}
}

func TestCampaignReport(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "REP-0001", "REP-0002", "REP-0003", "REP-0004")
	f.account(t, "a", billing.Medium, billing.CreditCard, "tok")
	f.account(t, "b", billing.Light, billing.LinePay, "tok")
	f.account(t, "c", billing.High, billing.CreditCard, "tok")
	for acct, code := range map[string]string{"a": "REP-0001", "b": "REP-0002", "c": "REP-0003"} {
		if _, err := f.s.RegisterCode(f.ctx, "test", acct, code); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "a", Plan: billing.High}); err != nil { // E5: 400 + 400 forfeited
		t.Fatal(err)
	}
	july := billing.MonthOf(f.clk.Now()).Next().Start()
	f.clk.Set(july)
	if _, err := f.s.Renew(f.ctx, "test", july, db.RenewOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.Collect(f.ctx, "test", 0); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(tw("2024-09-02 00:00"))
	r, err := f.s.FindCampaignReport(f.ctx, "summer-2024")
	if err != nil {
		t.Fatal(err)
	}
	// a: upgrade 400/400; c: renewal of high 800 offset; b (light) holds it until it expires.
	if r.Issued != 4 || r.Registered != 3 || r.Redeemed != 2 || r.Expired != 1 || r.Offset != 1200 || r.Forfeited != 400 ||
		r.AtUpgrade != 1 || r.AtRenewal != 1 {
		t.Errorf("report %+v", r)
	}
	if len(r.Daily) != 2 || r.Daily[0].Registered != 3 || r.Daily[0].Redeemed != 1 || r.Daily[1].Redeemed != 1 {
		t.Errorf("daily %+v", r.Daily)
	}

	// Sums cannot overflow: two forfeits of the largest amount (what an
	// unbounded face value once allowed) sum in numeric and read as the
	// largest amount, flagged, not as a failed page. (Paid charges are
	// final, so the rows are written past the triggers.)
	tx := f.s.DB.MustBeginTx(f.ctx, nil)
	tx.MustExecContext(f.ctx, `SET LOCAL session_replication_role = replica`)
	tx.MustExecContext(f.ctx, `UPDATE charges SET forfeited = 9223372036854775807 WHERE code IS NOT NULL`)
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	r, err = f.s.FindCampaignReport(f.ctx, "summer-2024")
	if err != nil {
		t.Fatalf("report over int64 sums: %v", err)
	}
	if r.Forfeited != math.MaxInt64 || !r.Capped || r.Offset != 1200 {
		t.Errorf("report over int64 sums: forfeited %d, capped %v, offset %d", r.Forfeited, r.Capped, r.Offset)
	}
}

// A campaign's face value is at most the catalog's highest plan fee unless
// the store's cap (CAMPAIGN_MAX_FACE_VALUE) is raised; its id must fit a
// URL; nothing refused is stored.
func TestCampaignFaceValueCap(t *testing.T) {
	f := newFixture(t)
	cat, err := f.s.Catalog(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	top := cat.MaxFee()
	from := tw("2026-12-01 00:00")
	camp := func(id string, face billing.Money) billing.Campaign {
		return billing.Campaign{ID: id, FaceValue: face, ValidFrom: from, ValidUntil: from.AddDate(0, 1, 0)}
	}
	for _, c := range []billing.Campaign{camp("huge", math.MaxInt64), camp("over", top+1), camp("q?x=1#f", 100), camp("a/b", 100)} {
		if _, err := f.s.CreateCampaign(f.ctx, "test", c); billing.ErrorCode(err) != billing.EInvalid {
			t.Errorf("campaign %q of %d: %v, want invalid_input", c.ID, c.FaceValue, err)
		}
	}
	if _, err := f.s.CreateCampaign(f.ctx, "test", camp("top", top)); err != nil {
		t.Errorf("a face value of the highest fee, %d: %v", top, err)
	}
	if _, err := f.s.UpdateCampaign(f.ctx, "test", camp("top", top+1)); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("raised over the cap by an edit: %v", err)
	}
	f.s.MaxFaceValue = 5 * top
	if _, err := f.s.CreateCampaign(f.ctx, "test", camp("raised", 5*top)); err != nil {
		t.Errorf("under a raised cap: %v", err)
	}
	var n int
	if err := f.s.DB.GetContext(f.ctx, &n, `SELECT count(*) FROM campaigns WHERE id IN ('huge', 'over', 'q?x=1#f', 'a/b') OR face_value > $1`, 5*top); err != nil || n != 0 {
		t.Errorf("%d refused campaigns stored (%v)", n, err)
	}
}

// Two staff starting one month's run at once make one run; the estimate
// matches what it charges; a second run of a finished month charges
// nothing and says so.
func TestRenewalRunOnceAndEstimate(t *testing.T) {
	f := newFixture(t)
	f.codes(t, "RUN-0001")
	f.account(t, "m", billing.Medium, billing.CreditCard, "tok")
	f.account(t, "h", billing.High, billing.LinePay, "tok")
	f.account(t, "x", billing.High, billing.CreditCard, "decline-me")
	f.account(t, "l", billing.Light, billing.LinePay, "tok")
	f.account(t, "n", billing.Medium, "", "")
	if _, err := f.s.RegisterCode(f.ctx, "test", "h", "RUN-0001"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.ScheduleDowngrade(f.ctx, "test", "m", billing.Light); err != nil {
		t.Fatal(err)
	}
	july := billing.MonthOf(f.clk.Now()).Next()
	f.clk.Set(july.Start().Add(time.Hour))
	est, err := f.s.EstimateRenewal(f.ctx, july)
	if err != nil {
		t.Fatal(err)
	}
	// h: 1200 − 800 + 20 = 420; x: 1260; n: 840 (no payment method); m goes light.
	if est.Charges != 3 || est.Total != 420+1260+840 || est.Offset != 800 || est.Codes != 1 || est.PlanChanges != 1 || est.NoPayment != 1 {
		t.Errorf("estimate %+v", est)
	}
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = f.s.ClaimRenewalRun(f.ctx, db.Actor(fmt.Sprintf("staff:s%d", i)), july)
		}()
	}
	wg.Wait()
	if (errs[0] == nil) == (errs[1] == nil) || billing.ErrorCode(errs[0])+billing.ErrorCode(errs[1]) != billing.EConflict {
		t.Fatalf("two claims: %v, %v; want exactly one conflict", errs[0], errs[1])
	}
	res, err := f.s.RunRenewal(f.ctx, "staff:s", july, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Renewal.Charges != est.Charges || res.Renewal.Total != int64(est.Total) || res.Renewal.Offset != int64(est.Offset) {
		t.Errorf("run %+v, estimate %+v", res.Renewal, est)
	}
	if res.Collection.Paid != 1 || res.Collection.Failed != 2 {
		t.Errorf("collection %+v, want h paid, x declined, n without a method", res.Collection)
	}
	run, ok, err := f.s.FindRenewalRun(f.ctx, july)
	if err != nil || !ok || run.Phase != "finished" || run.Result == nil || run.Done != 4 {
		t.Errorf("run row %+v %v", run, err)
	}
	out, err := f.s.FindRenewalOutcome(f.ctx, july)
	if err != nil || out.Failed != 2 || len(out.Failures) != 2 || out.Failures[0].Failure == "" {
		t.Errorf("outcome %+v %v", out, err)
	}
	if err := f.s.ClaimRenewalRun(f.ctx, "staff:s", july); err != nil {
		t.Fatal(err)
	}
	res, err = f.s.RunRenewal(f.ctx, "staff:s", july, true)
	if err != nil || !res.Renewal.AlreadyDone || res.Renewal.Charges != 0 {
		t.Errorf("re-run %+v %v; want already done, nothing charged", res.Renewal, err)
	}
}

func TestStaffTokensAndAudit(t *testing.T) {
	f := newFixture(t)
	if _, err := f.s.DB.Exec(`INSERT INTO users (login, display_name, password_hash, is_staff, created_at) VALUES
		('bob', 'Bob', 'x', true, now()), ('eve', 'Eve', 'x', false, now())`); err != nil {
		t.Fatal(err)
	}
	var bob, eve int64
	f.s.DB.Get(&bob, `SELECT id FROM users WHERE login='bob'`)
	f.s.DB.Get(&eve, `SELECT id FROM users WHERE login='eve'`)
	if _, err := f.s.CreateStaffToken(f.ctx, "user:eve", eve, "x"); billing.ErrorCode(err) != billing.EForbidden {
		t.Errorf("a brand user got a staff token: %v", err)
	}
	tok, err := f.s.CreateStaffToken(f.ctx, "user:bob", bob, "ci")
	if err != nil {
		t.Fatal(err)
	}
	if u, err := f.s.FindStaffToken(f.ctx, tok); err != nil || u.Login != "bob" {
		t.Fatalf("%+v %v", u, err)
	}
	ts, _ := f.s.FindStaffTokens(f.ctx)
	if len(ts) != 1 {
		t.Fatalf("%d tokens", len(ts))
	}
	if err := f.s.RevokeStaffToken(f.ctx, "user:bob", ts[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.FindStaffToken(f.ctx, tok); billing.ErrorCode(err) != billing.EForbidden {
		t.Errorf("revoked token still works: %v", err)
	}
	es, err := f.s.FindAudit(f.ctx, db.AuditFilter{Actor: "user:", Kind: "staff_token."})
	if err != nil || len(es) != 2 || es[0].Kind != "staff_token.revoked" {
		t.Errorf("audit %+v %v", es, err)
	}
	es, _ = f.s.FindAudit(f.ctx, db.AuditFilter{Kind: "campaign.created", From: tw("2024-06-01 00:00"), To: tw("2024-06-12 00:00")})
	if len(es) != 1 {
		t.Errorf("time-range filter: %d entries", len(es))
	}
	hits, err := f.s.SearchAccounts(f.ctx, "nobody", 10)
	if err != nil || len(hits) != 0 {
		t.Errorf("%v %v", hits, err)
	}
}

// BenchmarkGenerate100kCodes times one job of 100,000 codes into the
// database (the requirement: under 10 s).
func BenchmarkGenerate100kCodes(b *testing.B) {
	d, _ := dbtest.New(b)
	ctx := context.Background()
	s := db.New(d, billingtest.NewClock(tw("2024-06-01 00:00")), nil)
	for i := 0; b.Loop(); i++ {
		id := fmt.Sprintf("bench-%d", i)
		if _, err := s.CreateCampaign(ctx, "bench", billing.Campaign{ID: id, FaceValue: 100,
			ValidFrom: tw("2024-06-01 00:00"), ValidUntil: tw("2024-12-31 00:00")}); err != nil {
			b.Fatal(err)
		}
		j, err := s.CreateCodeJob(ctx, "bench", id, 100_000)
		if err != nil {
			b.Fatal(err)
		}
		if j, err = s.GenerateCodes(ctx, "bench", j.ID, billing.CodeGenerator{}); err != nil || j.Done != 100_000 {
			b.Fatal(j, err)
		}
	}
}

// BenchmarkEstimateRenewal times the renewal estimate over 200,000 loadgen
// accounts (one grouped scan; the figure scales linearly to a million).
func BenchmarkEstimateRenewal(b *testing.B) {
	d, _ := dbtest.New(b)
	ctx := context.Background()
	clk := billingtest.NewClock(tw("2024-06-15 12:00"))
	s := db.New(d, clk, nil)
	if _, err := loadgen.Accounts(ctx, s.DB, s.Clock.Now(), 200_000); err != nil {
		b.Fatal(err)
	}
	if _, err := d.Exec(`ANALYZE`); err != nil {
		b.Fatal(err)
	}
	july := billing.MonthOf(clk.Now()).Next()
	for b.Loop() {
		est, err := s.EstimateRenewal(ctx, july)
		if err != nil || est.Charges == 0 {
			b.Fatal(est, err)
		}
	}
}

// "What will my first purchase with this code cost?": an account without a
// payment method, previewed with a code not yet registered and an assumed
// card or LINE Pay, gets the offset the real purchase gives once the code
// is registered and that method added — upgrades and the renewal alike.
// Without the assumption the code does not offset (no method) and the
// upgrade is refused; an account with a method of its own keeps it.
func TestStaffPreviewAssumedMethodEqualsFirstPurchase(t *testing.T) {
	f := newFixture(t)
	at := tw("2024-06-11 10:00")
	f.clk.Set(at)
	type tc struct {
		id   string
		from billing.PlanID
		kind billing.ChargeKind
		to   billing.PlanID
		pay  billing.PaymentKind
		want billing.Money // the preview's total
	}
	cases := []tc{
		{"m-card", billing.Light, billing.KindUpgrade, billing.Medium, billing.CreditCard, 0},
		{"h-card", billing.Light, billing.KindUpgrade, billing.High, billing.CreditCard, 420},
		{"h-linepay", billing.Light, billing.KindUpgrade, billing.High, billing.LinePay, 420},
		{"mh-card", billing.Medium, billing.KindUpgrade, billing.High, billing.CreditCard, 0},
		{"r-linepay", billing.High, billing.KindRenewal, "", billing.LinePay, 420},
	}
	var codes []string
	for i := range cases {
		codes = append(codes, fmt.Sprintf("FIRST-%04d", i))
	}
	f.codes(t, codes...)
	previews := map[string]db.Preview{}
	for i, c := range cases {
		f.account(t, c.id, c.from, "", "")
		req := db.PreviewRequest{AccountID: c.id, At: at, Kind: c.kind, Plan: c.to, Code: codes[i]}
		plain, err := f.s.PreviewCharge(f.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if plain.Quote.Offset != 0 || plain.Quote.CodeRefusal != billing.EPaymentIneligble || plain.Assumed {
			t.Errorf("%s without a method: %+v", c.id, plain.Quote)
		}
		if c.kind == billing.KindUpgrade && billing.ErrorCode(plain.QuoteErr) != billing.ENoPaymentMethod {
			t.Errorf("%s without a method: purchase error %v, want no_payment_method", c.id, plain.QuoteErr)
		}
		req.AssumePayment = c.pay
		p, err := f.s.PreviewCharge(f.ctx, req)
		if err != nil || p.QuoteErr != nil || p.Registration != nil || !p.Assumed {
			t.Fatalf("%s assuming %s: %+v %v", c.id, c.pay, p, err)
		}
		if p.Quote.Total != c.want || p.Quote.Offset == 0 {
			t.Errorf("%s assuming %s: total %s offset %s, want total %s with an offset", c.id, c.pay, p.Quote.Total, p.Quote.Offset, c.want)
		}
		previews[c.id] = p
		// Then for real: register, add the method, buy.
		if _, err := f.s.RegisterCode(f.ctx, "test", c.id, codes[i]); err != nil {
			t.Fatal(err)
		}
		if _, err := f.s.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: c.id, Kind: c.pay, Token: "tok"}, true); err != nil {
			t.Fatal(err)
		}
		if c.kind != billing.KindUpgrade {
			continue
		}
		ch, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: c.id, Plan: c.to, Key: "first-" + c.id})
		if err != nil {
			t.Fatalf("%s: %v", c.id, err)
		}
		q := p.Quote
		if ch.Amount != q.Amount || ch.Offset != q.Offset || ch.Forfeited != q.Forfeited || ch.Net != q.Net || ch.Tax != q.Tax ||
			ch.Total != q.Total || ch.Code != q.Code || ch.Plan != q.Plan {
			t.Errorf("%s: preview %+v, first purchase %+v", c.id, q, ch)
		}
	}
	july := billing.MonthOf(at).Next()
	f.clk.Set(july.Start())
	if _, err := f.s.Renew(f.ctx, "test", july.Start(), db.RenewOptions{}); err != nil {
		t.Fatal(err)
	}
	cs, err := f.s.FindCharges(f.ctx, "r-linepay")
	if err != nil || len(cs) != 1 {
		t.Fatalf("r-linepay charges %+v %v", cs, err)
	}
	if q, ch := previews["r-linepay"].Quote, cs[0]; ch.Offset != q.Offset || ch.Tax != q.Tax || ch.Total != q.Total || ch.Code != q.Code {
		t.Errorf("renewal: preview %+v, charge %+v", q, ch)
	}

	// An account with a method of its own is quoted with it.
	f.clk.Set(at)
	f.account(t, "bank", billing.Light, billing.BankTransfer, "tok")
	f.codes(t, "FIRST-BANK")
	p, err := f.s.PreviewCharge(f.ctx, db.PreviewRequest{AccountID: "bank", At: at, Kind: billing.KindUpgrade, Plan: billing.High,
		Code: "FIRST-BANK", AssumePayment: billing.CreditCard})
	if err != nil || p.Assumed || p.Quote.CodeRefusal != billing.EPaymentIneligble || p.Quote.Total != 1260 {
		t.Errorf("bank transfer assuming a card: %+v %v", p.Quote, err)
	}
	_, err = f.s.PreviewCharge(f.ctx, db.PreviewRequest{AccountID: "bank", At: at, Kind: billing.KindUpgrade, Plan: billing.High,
		AssumePayment: billing.BankTransfer})
	if billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("assuming a bank transfer: %v, want invalid_input", err)
	}
}
