package db_test

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
)

type usageFixture struct {
	s   *db.Store
	clk *billingtest.Clock
	gw  *gateway
	ctx context.Context
}

// taipei reads a Taiwan wall-clock instant, as admins see it.
func taipei(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, billing.Taipei)
	if err != nil {
		panic(err)
	}
	return t
}

func jst(y int, m time.Month, d, h, min, sec int) time.Time {
	return time.Date(y, m, d, h, min, sec, 0, billing.JST)
}

var (
	june = billing.Month{Year: 2024, Month: time.June}
	july = billing.Month{Year: 2024, Month: time.July}
)

func newUsageFixture(t testing.TB) usageFixture {
	t.Helper()
	d, _ := dbtest.New(t)
	clk := billingtest.NewClock(taipei("2024-06-11 10:00:00"))
	gw := &gateway{}
	return usageFixture{s: db.New(d, clk, gw), clk: clk, gw: gw, ctx: context.Background()}
}

// account creates an account on plan with this month paid and a card.
func (f usageFixture) account(t testing.TB, id string, plan billing.PlanID) {
	t.Helper()
	if err := f.s.CreateAccount(f.ctx, "test", db.NewAccount{ID: id, Region: "TW", Plan: plan, PaidMonth: billing.MonthOf(f.clk.Now())}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: id, Kind: billing.CreditCard, Token: "tok-" + id}, true); err != nil {
		t.Fatal(err)
	}
}

var batchSeq atomic.Int64

// send records a batch with a fresh id, sent now.
func (f usageFixture) send(acct string, kind billing.MessageKind, n int) (db.UsageRecord, error) {
	return f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: fmt.Sprintf("b%d", batchSeq.Add(1)), AccountID: acct, Kind: kind,
		Messages: n, SentAt: f.clk.Now()})
}

func (f usageFixture) mustSend(t testing.TB, acct string, kind billing.MessageKind, n int) db.UsageRecord {
	t.Helper()
	r, err := f.send(acct, kind, n)
	if err != nil {
		t.Fatalf("send %d %s for %s: %v", n, kind, acct, err)
	}
	return r
}

func (f usageFixture) n(t testing.TB, q string, args ...any) int64 {
	t.Helper()
	var n int64
	if err := f.s.DB.Get(&n, q, args...); err != nil {
		t.Fatal(err)
	}
	return n
}

// totals reads the running totals of an account-month.
func (f usageFixture) totals(t testing.TB, acct string, m billing.Month) (free, additional int64) {
	t.Helper()
	var row struct {
		Free       int64 `db:"free"`
		Additional int64 `db:"additional"`
	}
	err := f.s.DB.Get(&row, `SELECT coalesce(sum(free),0) AS free, coalesce(sum(additional),0) AS additional FROM usage_totals WHERE account_id=$1 AND month=$2`, acct, m.Date())
	if err != nil {
		t.Fatal(err)
	}
	return row.Free, row.Additional
}

// checkTotalsMatchBatches asserts the running totals equal the batches' sums.
func (f usageFixture) checkTotalsMatchBatches(t testing.TB) {
	t.Helper()
	if n := f.n(t, `SELECT count(*) FROM (
		SELECT account_id, month, sum(free) AS free, sum(additional) AS additional FROM usage_batches WHERE billable GROUP BY 1, 2) b
		FULL JOIN usage_totals t USING (account_id, month)
		WHERE t.free IS DISTINCT FROM b.free OR t.additional IS DISTINCT FROM b.additional`); n != 0 {
		t.Errorf("%d account-months whose running totals differ from their batches", n)
	}
}

func TestUsageCountsByBillingMonthAtTheBoundary(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.High)
	f.clk.Set(jst(2024, 7, 1, 1, 0, 0))
	for _, c := range []struct {
		id   string
		at   time.Time
		n    int
		want billing.Month
	}{
		{"late-june", taipei("2024-06-30 22:59:30"), 5, june},
		{"last-ns", time.Date(2024, 6, 30, 23, 59, 59, 999_999_999, billing.JST), 11, june},
		{"first-july", taipei("2024-06-30 23:00:00"), 7, july}, // = 00:00 JST on 7/1
		{"july-jst", jst(2024, 7, 1, 0, 0, 1), 13, july},
	} {
		r, err := f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: c.id, AccountID: "bear", Kind: billing.MsgBroadcast, Messages: c.n, SentAt: c.at})
		if err != nil {
			t.Fatal(err)
		}
		if r.Month != c.want.String() || !r.Billable || r.Free != c.n || r.Plan != billing.High {
			t.Errorf("%s: %+v, want month %s", c.id, r, c.want)
		}
	}
	if free, _ := f.totals(t, "bear", june); free != 16 {
		t.Errorf("June running total %d, want 16", free)
	}
	if free, _ := f.totals(t, "bear", july); free != 20 {
		t.Errorf("July running total %d, want 20", free)
	}

	// Nothing is shown before the first refresh.
	u, err := f.s.FindUsage(f.ctx, "bear", june)
	if err != nil || u.FreeSent != 0 || !u.RefreshedAt.IsZero() {
		t.Errorf("before any refresh: %+v %v", u, err)
	}
	// The 02:00 JST refresh on the 1st recounts the previous month too.
	at := jst(2024, 7, 1, 2, 0, 0)
	sum, err := f.s.RefreshUsage(f.ctx, at)
	if err != nil || len(sum.Months) != 2 || sum.Accounts != 2 {
		t.Fatalf("refresh: %+v %v", sum, err)
	}
	for _, c := range []struct {
		m    billing.Month
		want int
	}{{june, 16}, {july, 20}} {
		u, err := f.s.FindUsage(f.ctx, "bear", c.m)
		if err != nil || u.FreeSent != c.want || u.AdditionalSent != 0 || !u.RefreshedAt.Equal(at) {
			t.Errorf("%s: %+v %v; want %d refreshed at %s", c.m, u, err, c.want, at)
		}
	}

	// A later June batch (a late report) lands with the next refresh that
	// covers June; the 2nd's refresh covers July only.
	f.clk.Set(jst(2024, 7, 1, 3, 0, 0))
	if _, err := f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: "very-late", AccountID: "bear", Kind: billing.MsgPush, Messages: 100,
		SentAt: taipei("2024-06-30 22:00:00")}); err != nil {
		t.Fatal(err)
	}
	sum, err = f.s.RefreshUsage(f.ctx, jst(2024, 7, 2, 2, 0, 0))
	if err != nil || len(sum.Months) != 1 || sum.Months[0] != "2024-07" {
		t.Fatalf("refresh on the 2nd: %+v %v", sum, err)
	}
	if u, _ := f.s.FindUsage(f.ctx, "bear", june); u.FreeSent != 16 {
		t.Errorf("June after the 2nd's refresh: %+v", u)
	}

	// A refresh counts messages sent before its instant, and an older
	// refresh never overwrites a newer one.
	f.clk.Set(jst(2024, 7, 2, 12, 0, 0))
	f.mustSend(t, "bear", billing.MsgPush, 1000)
	if _, err := f.s.RefreshUsage(f.ctx, jst(2024, 7, 2, 11, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.s.FindUsage(f.ctx, "bear", july); u.FreeSent != 20 || !u.RefreshedAt.Equal(jst(2024, 7, 2, 11, 0, 0)) {
		t.Errorf("July at 11:00: %+v", u)
	}
	if _, err := f.s.RefreshUsage(f.ctx, jst(2024, 7, 3, 2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	sum, err = f.s.RefreshUsage(f.ctx, jst(2024, 7, 2, 2, 0, 0))
	if err != nil || sum.Accounts != 0 || sum.SkippedOld != 1 {
		t.Errorf("stale refresh: %+v %v", sum, err)
	}
	if u, _ := f.s.FindUsage(f.ctx, "bear", july); u.FreeSent != 1020 || !u.RefreshedAt.Equal(jst(2024, 7, 3, 2, 0, 0)) {
		t.Errorf("July after a stale refresh: %+v", u)
	}

	// An account that sent nothing reads zero, refreshed at the last refresh.
	f.account(t, "quiet", billing.Light)
	if u, err := f.s.FindUsage(f.ctx, "quiet", july); err != nil || u.FreeSent != 0 || !u.RefreshedAt.Equal(jst(2024, 7, 3, 2, 0, 0)) {
		t.Errorf("quiet account: %+v %v", u, err)
	}
	f.checkTotalsMatchBatches(t)
}

// TestUsageBatchIDsPerAccount: a batch id is unique within its account.
// Another account reporting the same id records its own batch (it used to
// be refused as a conflict, so one account could block another's reports),
// and each account repeating it is still a replay.
func TestUsageBatchIDsPerAccount(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.Light)
	f.account(t, "cat", billing.Light)
	bear := db.UsageBatch{BatchID: "msg-api-7", AccountID: "bear", Kind: billing.MsgPush, Messages: 120, SentAt: taipei("2024-06-11 09:58:00")}
	cat := bear
	cat.AccountID, cat.Messages, cat.Kind = "cat", 40, billing.MsgBroadcast
	if r, err := f.s.RecordUsage(f.ctx, "test", bear); err != nil || r.Replayed || r.Free != 120 {
		t.Fatalf("bear: %+v %v", r, err)
	}
	if r, err := f.s.RecordUsage(f.ctx, "test", cat); err != nil || r.Replayed || r.Free != 40 || r.AccountID != "cat" {
		t.Fatalf("cat, same id: %+v %v", r, err)
	}
	for _, b := range []db.UsageBatch{bear, cat} {
		r, err := f.s.RecordUsage(f.ctx, "test", b)
		if err != nil || !r.Replayed || r.AccountID != b.AccountID || r.Messages != b.Messages {
			t.Errorf("%s again: %+v %v, want its own replay", b.AccountID, r, err)
		}
		x := b
		x.Messages++
		if _, err := f.s.RecordUsage(f.ctx, "test", x); billing.ErrorCode(err) != billing.EUsageBatchConflict {
			t.Errorf("%s, same id, other content: %v, want usage_batch_conflict", b.AccountID, err)
		}
	}
	// Free kinds take no lock: the same id for two accounts at once still
	// records one batch each.
	var wg sync.WaitGroup
	for _, acct := range []string{"bear", "cat", "bear", "cat"} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, err := f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: "reply-1", AccountID: acct, Kind: billing.MsgReply,
				Messages: 3, SentAt: f.clk.Now()}); err != nil {
				t.Errorf("reply-1 for %s: %v", acct, err)
			}
		}()
	}
	wg.Wait()
	if n := f.n(t, `SELECT count(*) FROM usage_batches`); n != 4 {
		t.Errorf("%d batches stored, want 4 (two ids, two accounts)", n)
	}
	if free, _ := f.totals(t, "bear", june); free != 120 {
		t.Errorf("bear counted %d, want 120", free)
	}
	if free, _ := f.totals(t, "cat", june); free != 40 {
		t.Errorf("cat counted %d, want 40", free)
	}
	f.checkTotalsMatchBatches(t)
}

func TestUsageBatchCountsOnce(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.Light)
	f.account(t, "cat", billing.Light)
	b := db.UsageBatch{BatchID: "msg-api-42", AccountID: "bear", Kind: billing.MsgPush, Messages: 150, SentAt: taipei("2024-06-11 09:58:00")}
	first, err := f.s.RecordUsage(f.ctx, "test", b)
	if err != nil || first.Replayed || first.Free != 150 {
		t.Fatalf("first: %+v %v", first, err)
	}
	// Re-sent later (the messaging side retried): the first result, counted once.
	f.clk.Set(taipei("2024-06-11 10:30:00"))
	again, err := f.s.RecordUsage(f.ctx, "test", b)
	if err != nil || !again.Replayed || again.Free != 150 || !again.RecordedAt.Equal(first.RecordedAt) || again.Month != "2024-06" {
		t.Fatalf("replay: %+v %v", again, err)
	}
	if free, _ := f.totals(t, "bear", june); free != 150 {
		t.Errorf("running total %d, want 150", free)
	}
	// A replay is answered even when a new batch of that size would now be
	// refused (150 + 150 > 200).
	if _, err := f.s.RecordUsage(f.ctx, "test", b); err != nil {
		t.Errorf("replay past the quota: %v", err)
	}
	// The same id with different content is a conflict, whatever differs.
	for name, mut := range map[string]func(*db.UsageBatch){
		"messages": func(x *db.UsageBatch) { x.Messages = 151 },
		"kind":     func(x *db.UsageBatch) { x.Kind = billing.MsgBroadcast },
		"instant":  func(x *db.UsageBatch) { x.SentAt = x.SentAt.Add(time.Second) },
		"free kind": func(x *db.UsageBatch) {
			x.Kind = billing.MsgReply
		},
	} {
		x := b
		mut(&x)
		if _, err := f.s.RecordUsage(f.ctx, "test", x); billing.ErrorCode(err) != billing.EUsageBatchConflict {
			t.Errorf("different %s: %v, want usage_batch_conflict", name, err)
		}
	}
	// The same instant in another zone is the same content.
	x := b
	x.SentAt = x.SentAt.In(time.UTC)
	if r, err := f.s.RecordUsage(f.ctx, "test", x); err != nil || !r.Replayed {
		t.Errorf("same instant in UTC: %+v %v", r, err)
	}
	if n := f.n(t, `SELECT count(*) FROM usage_batches`); n != 1 {
		t.Errorf("%d batches stored, want 1", n)
	}
	if free, _ := f.totals(t, "cat", june); free != 0 {
		t.Errorf("cat counted %d", free)
	}

	// Twenty copies of one batch at once count once.
	var wg sync.WaitGroup
	var fresh, replays atomic.Int64
	c := db.UsageBatch{BatchID: "burst", AccountID: "cat", Kind: billing.MsgBroadcast, Messages: 30, SentAt: f.clk.Now()}
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.s.RecordUsage(f.ctx, "test", c)
			switch {
			case err != nil:
				t.Error(err)
			case r.Replayed:
				replays.Add(1)
			default:
				fresh.Add(1)
			}
		}()
	}
	wg.Wait()
	if fresh.Load() != 1 || replays.Load() != 19 {
		t.Errorf("%d recorded, %d replays; want 1 and 19", fresh.Load(), replays.Load())
	}
	if free, _ := f.totals(t, "cat", june); free != 30 {
		t.Errorf("cat's running total %d, want 30", free)
	}
	f.checkTotalsMatchBatches(t)
}

func TestUsageQuotaRefusedOnLightAndMedium(t *testing.T) {
	f := newUsageFixture(t)
	cat, err := f.s.Catalog(f.ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range []billing.PlanID{billing.Light, billing.Medium} {
		quota := cat.MustPlan(p).FreeMessages // 200, 3,000: from the catalog
		exact, over := string(p)+"-exact", string(p)+"-over"
		f.account(t, exact, p)
		f.account(t, over, p)

		// Exactly the quota, in two batches, is accepted, all free.
		f.mustSend(t, exact, billing.MsgBroadcast, quota-1)
		r := f.mustSend(t, exact, billing.MsgPush, 1)
		if r.Free != 1 || r.Additional != 0 || r.Plan != p {
			t.Errorf("%s last free message: %+v", p, r)
		}
		// quota + 1: refused whole, nothing recorded.
		_, err := f.send(exact, billing.MsgProgressive, 1)
		if billing.ErrorCode(err) != billing.EQuotaExceeded {
			t.Errorf("%s quota+1: %v, want quota_exceeded", p, err)
		}
		var be *billing.Error
		if err != nil && (!errors.As(err, &be) || !strings.Contains(be.Detail, "已用完")) {
			t.Errorf("%s refusal has no zh-TW detail: %v", p, err)
		}
		if free, add := f.totals(t, exact, june); free != int64(quota) || add != 0 {
			t.Errorf("%s totals %d/%d, want %d/0", p, free, add, quota)
		}
		// quota + 1 in a single batch is refused too; the quota itself is not.
		if _, err := f.send(over, billing.MsgPush, quota+1); billing.ErrorCode(err) != billing.EQuotaExceeded {
			t.Errorf("%s batch of quota+1: %v", p, err)
		}
		if n := f.n(t, `SELECT count(*) FROM usage_batches WHERE account_id=$1`, over); n != 0 {
			t.Errorf("%s refused batch was stored", p)
		}
		f.mustSend(t, over, billing.MsgPush, quota)
	}

	// Concurrent batches of one account serialise on its row: of 50 batches
	// of 10 against light's 200, exactly 20 are accepted.
	f.account(t, "busy", billing.Light)
	var wg sync.WaitGroup
	var ok, refused atomic.Int64
	for range 50 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.send("busy", billing.MsgPush, 10)
			switch billing.ErrorCode(err) {
			case "":
				if err != nil {
					t.Error(err)
					return
				}
				ok.Add(1)
			case billing.EQuotaExceeded:
				refused.Add(1)
			default:
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if ok.Load() != 20 || refused.Load() != 30 {
		t.Errorf("accepted %d, refused %d; want 20 and 30", ok.Load(), refused.Load())
	}
	if free, _ := f.totals(t, "busy", june); free != 200 {
		t.Errorf("busy total %d, want 200", free)
	}
	f.checkTotalsMatchBatches(t)
}

func TestUsageHighSplitsFreeAndAdditional(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.High)
	for _, c := range []struct{ n, free, additional int }{
		{5990, 5990, 0},
		{25, 10, 15}, // straddles the 6,000 quota
		{7, 0, 7},
	} {
		r := f.mustSend(t, "bear", billing.MsgBroadcast, c.n)
		if r.Free != c.free || r.Additional != c.additional || r.Plan != billing.High {
			t.Errorf("batch of %d: free %d additional %d, want %d and %d", c.n, r.Free, r.Additional, c.free, c.additional)
		}
	}
	if free, add := f.totals(t, "bear", june); free != 6000 || add != 22 {
		t.Errorf("totals %d/%d, want 6000/22", free, add)
	}
	if _, err := f.s.RefreshUsage(f.ctx, jst(2024, 6, 12, 2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.s.FindUsage(f.ctx, "bear", june); u.FreeSent != 6000 || u.AdditionalSent != 22 {
		t.Errorf("snapshot %+v", u)
	}
	// Unused messages never carry over: July starts from zero.
	f.clk.Set(jst(2024, 7, 1, 0, 0, 0))
	if r := f.mustSend(t, "bear", billing.MsgPush, 6000); r.Free != 6000 {
		t.Errorf("July: %+v", r)
	}
}

func TestUsageUpgradeRaisesTheQuotaAtOnce(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.Light)
	f.mustSend(t, "bear", billing.MsgPush, 200)
	if _, err := f.send("bear", billing.MsgPush, 1); billing.ErrorCode(err) != billing.EQuotaExceeded {
		t.Fatalf("light 201st: %v", err)
	}
	f.clk.Set(taipei("2024-06-20 15:00:00"))
	if _, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium}); err != nil {
		t.Fatal(err)
	}
	// Medium's quota at once; the 200 already sent still count.
	if r := f.mustSend(t, "bear", billing.MsgPush, 2800); r.Plan != billing.Medium || r.Free != 2800 {
		t.Errorf("after the upgrade: %+v", r)
	}
	if _, err := f.send("bear", billing.MsgPush, 1); billing.ErrorCode(err) != billing.EQuotaExceeded {
		t.Errorf("medium 3,001st: %v", err)
	}
	if _, err := f.s.Upgrade(f.ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.High}); err != nil {
		t.Fatal(err)
	}
	if r := f.mustSend(t, "bear", billing.MsgPush, 3001); r.Plan != billing.High || r.Free != 3000 || r.Additional != 1 {
		t.Errorf("after the upgrade to high: %+v", r)
	}
	f.checkTotalsMatchBatches(t)
}

// A scheduled downgrade counts from its month, whether or not the renewal
// run has written it yet; a late report of last month's messages is
// counted against last month's plan.
func TestUsagePlanOfTheMonthSent(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.High)
	f.account(t, "cat", billing.High)
	for _, id := range []string{"bear", "cat"} {
		if _, err := f.s.ScheduleDowngrade(f.ctx, "test", id, billing.Light); err != nil {
			t.Fatal(err)
		}
	}
	f.clk.Set(jst(2024, 7, 1, 0, 5, 0))
	// Before the renewal run: bear is light in July already.
	if _, err := f.send("bear", billing.MsgPush, 201); billing.ErrorCode(err) != billing.EQuotaExceeded {
		t.Errorf("July on light (settled): %v", err)
	}
	if _, err := f.s.Renew(f.ctx, "test", f.clk.Now(), db.RenewOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.send("cat", billing.MsgPush, 201); billing.ErrorCode(err) != billing.EQuotaExceeded {
		t.Errorf("July on light (renewed): %v", err)
	}
	r, err := f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: "june-late", AccountID: "cat", Kind: billing.MsgBroadcast,
		Messages: 7000, SentAt: taipei("2024-06-30 22:50:00")})
	if err != nil || r.Plan != billing.High || r.Free != 6000 || r.Additional != 1000 || r.Month != "2024-06" {
		t.Errorf("June batch reported in July: %+v %v", r, err)
	}
}

func TestUsageFreeKindsNeverCount(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.Light)
	for _, k := range []billing.MessageKind{billing.MsgGreeting, billing.MsgChat, billing.MsgAutoResponse, billing.MsgReply} {
		r := f.mustSend(t, "bear", k, 100_000)
		if r.Billable || r.Free != 0 || r.Additional != 0 || r.Plan != "" {
			t.Errorf("%s: %+v", k, r)
		}
	}
	// Light's whole quota is still there.
	f.mustSend(t, "bear", billing.MsgBroadcast, 200)
	if _, err := f.send("bear", billing.MsgBroadcast, 1); billing.ErrorCode(err) != billing.EQuotaExceeded {
		t.Errorf("201st: %v", err)
	}
	// Free kinds are still accepted past the quota.
	f.mustSend(t, "bear", billing.MsgReply, 5)
	if _, err := f.s.RefreshUsage(f.ctx, jst(2024, 6, 12, 2, 0, 0)); err != nil {
		t.Fatal(err)
	}
	if u, _ := f.s.FindUsage(f.ctx, "bear", june); u.FreeSent != 200 || u.AdditionalSent != 0 {
		t.Errorf("snapshot %+v, want 200/0", u)
	}
	if n := f.n(t, `SELECT count(*) FROM usage_batches WHERE account_id='bear'`); n != 6 {
		t.Errorf("%d batches recorded, want 6", n)
	}
	f.checkTotalsMatchBatches(t)
}

func TestRecordUsageRefusals(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.High)
	for _, k := range []billing.MessageKind{billing.MsgPush, billing.MsgChat} {
		_, err := f.send("nobody", k, 1)
		if billing.ErrorCode(err) != billing.EUnknownAccount {
			t.Errorf("%s for an unknown account: %v", k, err)
		}
	}
	if _, err := f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: "future", AccountID: "bear", Kind: billing.MsgPush, Messages: 1,
		SentAt: f.clk.Now().Add(10 * time.Minute)}); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("future batch: %v", err)
	}
	if _, err := f.s.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: "skew", AccountID: "bear", Kind: billing.MsgPush, Messages: 1,
		SentAt: f.clk.Now().Add(time.Minute)}); err != nil {
		t.Errorf("a minute of clock skew: %v", err)
	}
	if _, err := f.send("bear", "sms", 1); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("unknown kind: %v", err)
	}
}

var defaultUsageTiers = []billing.UsageTier{{From: 1, PriceMilli: 200}, {From: 25_001, PriceMilli: 150}, {From: 100_001, PriceMilli: 120}, {From: 1_000_001, PriceMilli: 100}}

func TestUsageTiers(t *testing.T) {
	f := newUsageFixture(t)
	got, err := f.s.UsageTiers(f.ctx)
	if err != nil || fmt.Sprint(got) != fmt.Sprint(defaultUsageTiers) {
		t.Fatalf("seeded tiers %v %v, want %v", got, err, defaultUsageTiers)
	}
	for _, bad := range [][]billing.UsageTier{
		nil,
		{{From: 2, PriceMilli: 200}},
		{{From: 1, PriceMilli: 200}, {From: 1, PriceMilli: 100}},
		{{From: 1, PriceMilli: 200}, {From: 100, PriceMilli: -1}},
	} {
		if err := f.s.SetUsageTiers(f.ctx, "staff:bob", bad); billing.ErrorCode(err) != billing.EInvalid {
			t.Errorf("tiers %v: %v, want invalid_input", bad, err)
		}
	}
	next := []billing.UsageTier{{From: 1, PriceMilli: 180}, {From: 50_001, PriceMilli: 90}}
	if err := f.s.SetUsageTiers(f.ctx, "staff:bob", next); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.s.UsageTiers(f.ctx); fmt.Sprint(got) != fmt.Sprint(next) {
		t.Errorf("tiers now %v, want %v", got, next)
	}
	if n := f.n(t, `SELECT count(*) FROM audit_log WHERE kind='usage_tiers.set' AND actor='staff:bob' AND before IS NOT NULL AND after IS NOT NULL`); n != 1 {
		t.Errorf("%d audit rows, want 1", n)
	}
	// Two editors at once take turns.
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := f.s.SetUsageTiers(f.ctx, "staff:bob", []billing.UsageTier{{From: 1, PriceMilli: int64(100 + i)}, {From: 10 + i, PriceMilli: 50}}); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := f.n(t, `SELECT count(*) FROM usage_tiers`); n != 2 {
		t.Errorf("%d tiers after concurrent edits, want 2", n)
	}
}

// usageMonth sends, on high accounts, the given additional messages in June
// (on top of the 6,000 free), and moves the clock to July 1st, 02:00 JST.
func (f usageFixture) usageMonth(t testing.TB, additional map[string]int) {
	t.Helper()
	for id, n := range additional {
		f.account(t, id, billing.High)
		f.mustSend(t, id, billing.MsgBroadcast, 6000+n)
	}
	f.clk.Set(jst(2024, 7, 1, 2, 0, 0))
}

func TestBillUsage(t *testing.T) {
	f := newUsageFixture(t)
	adds := map[string]int{"h1": 1, "h2": 3, "h3": 24_999, "h4": 25_000, "h5": 25_010, "h6": 100_000, "h7": 100_001}
	want := map[string]billing.Money{"h1": 0, "h2": 1, "h3": 5_000, "h4": 5_000, "h5": 5_002, "h6": 16_250, "h7": 16_250}
	f.account(t, "light", billing.Light)
	f.account(t, "medium", billing.Medium)
	f.account(t, "exact", billing.High)
	f.mustSend(t, "light", billing.MsgPush, 200)
	f.mustSend(t, "medium", billing.MsgPush, 3000)
	f.mustSend(t, "exact", billing.MsgPush, 6000)

	// Not before the month ends.
	f.clk.Set(jst(2024, 6, 30, 23, 59, 59))
	if _, err := f.s.BillUsage(f.ctx, "test", june); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("billing June before its end: %v", err)
	}
	f.usageMonth(t, adds)

	sum, err := f.s.BillUsageInBatches(f.ctx, "system:usage", june, 3)
	if err != nil {
		t.Fatal(err)
	}
	if sum.Charges != 7 || sum.Accounts != 7 || sum.Paid != 1 || sum.Pending != 6 || sum.AlreadyDone {
		t.Errorf("summary %+v", sum)
	}
	cs := map[string]db.Charge{}
	var all []db.Charge
	if err := f.s.DB.Select(&all, `SELECT id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
		amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code, status, failure, attempts, payment_method_id,
		coalesce(payment_kind,'') AS payment_kind, payment_ref, coalesce(invoice_number,'') AS invoice_number, created_at, paid_at
		FROM charges WHERE kind='usage'`); err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		cs[c.AccountID] = c
	}
	if len(cs) != 7 {
		t.Fatalf("%d usage charges, want 7 (none for light, medium, or high within its quota)", len(cs))
	}
	var total int64
	for id, amt := range want {
		c := cs[id]
		tax := billing.TaxOn(amt)
		if c.Amount != amt || c.Offset != 0 || c.Forfeited != 0 || c.Net != amt || c.Tax != tax || c.Total != amt+tax ||
			c.Month() != june || !c.EffectiveAt.Equal(july.Start()) || c.Code != "" || c.Plan != "" || c.PaymentKind != "credit_card" {
			t.Errorf("%s (%d additional): %+v, want amount %d", id, adds[id], c, amt)
		}
		wantStatus := billing.StatusPending
		if amt == 0 {
			wantStatus = billing.StatusPaid
		}
		if c.Status != wantStatus {
			t.Errorf("%s status %s, want %s", id, c.Status, wantStatus)
		}
		total += int64(c.Total)
	}
	if sum.Total != total || sum.Messages != 1+3+24_999+25_000+25_010+100_000+100_001 {
		t.Errorf("summary total %d messages %d; charges total %d", sum.Total, sum.Messages, total)
	}
	if n := f.n(t, `SELECT count(*) FROM usage_totals WHERE month=$1 AND charge_id IS NOT NULL AND billed_additional = additional`, june.Date()); n != 7 {
		t.Errorf("%d totals marked billed, want 7", n)
	}
	if n := f.n(t, `SELECT count(*) FROM audit_log WHERE kind='charge.created' AND actor='system:usage'`); n != 7 {
		t.Errorf("%d audit rows, want 7", n)
	}

	// A second run makes nothing.
	again, err := f.s.BillUsage(f.ctx, "system:usage", june)
	if err != nil || again.Charges != 0 || !again.AlreadyDone {
		t.Errorf("second run: %+v %v", again, err)
	}
	if n := f.n(t, `SELECT count(*) FROM charges WHERE kind='usage'`); n != 7 {
		t.Errorf("%d usage charges after a second run, want 7", n)
	}
	// Collect pays them through the gateway.
	cols, err := f.collectUsage(t)
	if err != nil || cols.Paid != 6 {
		t.Fatalf("collect: %+v %v", cols, err)
	}
	if n := f.n(t, `SELECT count(*) FROM charges WHERE kind='usage' AND status='paid' AND (total = 0) = NOT EXISTS (SELECT 1 FROM einvoices e WHERE e.charge_id = charges.id)`); n != 7 {
		t.Errorf("%d usage charges paid, want 7", n)
	}
}

// collectUsage runs Collect; no usage charge may stay pending.
func (f usageFixture) collectUsage(t *testing.T) (db.CollectSummary, error) {
	t.Helper()
	sum, err := f.s.Collect(f.ctx, "system:collect", 0)
	if n := f.n(t, `SELECT count(*) FROM charges WHERE kind='usage' AND status='pending'`); n > 0 {
		t.Fatalf("Collect left %d usage charges pending (%v)", n, err)
	}
	return sum, err
}

func TestBillUsageConcurrentRunsChargeOnce(t *testing.T) {
	f := newUsageFixture(t)
	adds := map[string]int{}
	for i := range 30 {
		adds[fmt.Sprintf("h%02d", i)] = 1000 + i
	}
	f.usageMonth(t, adds)
	var wg sync.WaitGroup
	sums := make([]db.UsageBillSummary, 2)
	for i := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			var err error
			sums[i], err = f.s.BillUsageInBatches(f.ctx, "test", june, 4)
			if err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if got := sums[0].Charges + sums[1].Charges; got != 30 {
		t.Errorf("runs made %d + %d charges, want 30 in all", sums[0].Charges, sums[1].Charges)
	}
	if n := f.n(t, `SELECT count(*) FROM charges WHERE kind='usage'`); n != 30 {
		t.Errorf("%d usage charges, want 30", n)
	}
}

// A usage charge is never offset by a promo code, and the code registered
// on the account is neither reserved nor spent by it.
func TestBillUsageLeavesTheRegisteredCode(t *testing.T) {
	f := newUsageFixture(t)
	if _, err := f.s.CreateCampaign(f.ctx, "test", billing.Campaign{ID: "summer-2024", FaceValue: 800,
		ValidFrom: taipei("2024-06-07 00:00:00"), ValidUntil: taipei("2024-08-31 23:59:59")}); err != nil {
		t.Fatal(err)
	}
	if err := f.s.AddCodes(f.ctx, "test", "summer-2024", []string{"BEAR-0611-AAAA"}); err != nil {
		t.Fatal(err)
	}
	f.account(t, "bear", billing.High)
	if _, err := f.s.RegisterCode(f.ctx, "user:alice", "bear", "bear-0611-aaaa"); err != nil {
		t.Fatal(err)
	}
	f.mustSend(t, "bear", billing.MsgBroadcast, 6000+5000) // 5,000 additional: NT$1,000
	f.clk.Set(jst(2024, 7, 1, 2, 0, 0))
	if _, err := f.s.BillUsage(f.ctx, "system:usage", june); err != nil {
		t.Fatal(err)
	}
	var ch db.Charge
	if err := f.s.DB.Get(&ch, `SELECT amount, offset_amount, forfeited, tax, total, coalesce(code,'') AS code, status FROM charges WHERE kind='usage'`); err != nil {
		t.Fatal(err)
	}
	if ch.Amount != 1000 || ch.Offset != 0 || ch.Forfeited != 0 || ch.Tax != 50 || ch.Total != 1050 || ch.Code != "" {
		t.Errorf("usage charge %+v, want 1,000 + 50 with no code", ch)
	}
	codeStatus := func() string {
		var s string
		if err := f.s.DB.Get(&s, `SELECT status FROM promo_codes WHERE code='BEAR0611AAAA'`); err != nil {
			t.Fatal(err)
		}
		return s
	}
	if s := codeStatus(); s != "registered" {
		t.Errorf("after BillUsage the code is %s, want registered", s)
	}
	// The database refuses a code on a usage charge outright.
	if _, err := f.s.DB.Exec(`UPDATE charges SET code='BEAR0611AAAA', offset_amount=800, net=200, tax=10, total=210 WHERE kind='usage'`); err == nil {
		t.Error("a usage charge accepted a code")
	}

	_, err := f.collectUsage(t)
	if err != nil {
		t.Fatal(err)
	}
	if s := codeStatus(); s != "registered" {
		t.Errorf("after Collect the code is %s, want registered", s)
	}
	if n := f.n(t, `SELECT count(*) FROM charges WHERE kind='usage' AND status='paid'`); n != 1 {
		t.Errorf("usage charge not paid")
	}
	if n := f.n(t, `SELECT count(*) FROM code_events WHERE code='BEAR0611AAAA' AND kind <> 'registered'`); n != 0 {
		t.Errorf("the code's ledger moved: %d events", n)
	}
	// Paying for messages changes neither the plan nor what was paid for June.
	if n := f.n(t, `SELECT count(*) FROM accounts WHERE id='bear' AND plan='high'`); n != 1 {
		t.Error("the account's plan changed")
	}
	if n := f.n(t, `SELECT fee_paid FROM account_months WHERE account_id='bear' AND month=$1`, june.Date()); n != 1200 {
		t.Errorf("June's plan fee paid reads %d, want 1200", n)
	}
}

// Collecting a usage charge must not undo a downgrade that took effect at
// the month start.
func TestCollectUsageKeepsTheDowngrade(t *testing.T) {
	f := newUsageFixture(t)
	f.usageMonth(t, map[string]int{"bear": 100})
	f.clk.Set(taipei("2024-06-20 10:00:00"))
	if _, err := f.s.ScheduleDowngrade(f.ctx, "user:alice", "bear", billing.Light); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(jst(2024, 7, 1, 2, 0, 0))
	if _, err := f.s.Renew(f.ctx, "system:renewal", f.clk.Now(), db.RenewOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := f.s.BillUsage(f.ctx, "system:usage", june); err != nil {
		t.Fatal(err)
	}
	_, err := f.collectUsage(t)
	if err != nil {
		t.Fatal(err)
	}
	if n := f.n(t, `SELECT count(*) FROM accounts WHERE id='bear' AND plan='light' AND scheduled_plan IS NULL`); n != 1 {
		t.Error("collecting June's usage changed the account's plan")
	}
	if n := f.n(t, `SELECT count(*) FROM account_months WHERE account_id='bear' AND month=$1`, july.Date()); n != 0 {
		t.Error("collecting June's usage wrote a July plan payment")
	}
}

func TestAPITokens(t *testing.T) {
	f := newUsageFixture(t)
	f.account(t, "bear", billing.High)
	if _, err := f.s.CreateAPIToken(f.ctx, "user:alice", "nobody", "x"); billing.ErrorCode(err) != billing.EUnknownAccount {
		t.Errorf("token for an unknown account: %v", err)
	}
	tok, err := f.s.CreateAPIToken(f.ctx, "user:alice", "bear", "messaging")
	if err != nil || !strings.HasPrefix(tok, "wsu_") || len(tok) < 40 {
		t.Fatalf("token %q %v", tok, err)
	}
	other, _ := f.s.CreateAPIToken(f.ctx, "user:alice", "bear", "second")
	if other == tok {
		t.Fatal("two tokens are the same")
	}
	if acct, err := f.s.FindAPIToken(f.ctx, tok); err != nil || acct != "bear" {
		t.Errorf("find: %q %v", acct, err)
	}
	for _, bad := range []string{"", "wsu_nope", tok + "x", strings.ToUpper(tok)} {
		if _, err := f.s.FindAPIToken(f.ctx, bad); billing.ErrorCode(err) != billing.EForbidden {
			t.Errorf("token %q: %v, want forbidden", bad, err)
		}
	}
	// Only the hash is stored, and the audit trail does not hold the token.
	h := sha256.Sum256([]byte(tok))
	if n := f.n(t, `SELECT count(*) FROM api_tokens WHERE token_hash=$1 AND label='messaging'`, h[:]); n != 1 {
		t.Error("the token's hash is not stored")
	}
	if n := f.n(t, `SELECT count(*) FROM audit_log WHERE kind='api_token.created' AND strpos(after::text, $1) = 0`, tok); n != 2 {
		t.Errorf("%d clean audit rows, want 2", n)
	}
	if err := f.s.RevokeAPIToken(f.ctx, "user:alice", tok); err != nil {
		t.Fatal(err)
	}
	if err := f.s.RevokeAPIToken(f.ctx, "user:alice", tok); err != nil {
		t.Errorf("revoking twice: %v", err)
	}
	if _, err := f.s.FindAPIToken(f.ctx, tok); billing.ErrorCode(err) != billing.EForbidden {
		t.Errorf("revoked token: %v", err)
	}
	if acct, err := f.s.FindAPIToken(f.ctx, other); err != nil || acct != "bear" {
		t.Errorf("the other token: %q %v", acct, err)
	}
}

// BenchmarkRecordUsage records batches of 1,000 push messages on one high
// account (batches of one account serialise on its row) and reports
// messages per second.
func BenchmarkRecordUsage(b *testing.B) {
	f := newUsageFixture(b)
	f.account(b, "bench", billing.High)
	const batch = 1000
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		if _, err := f.s.RecordUsage(f.ctx, "bench", db.UsageBatch{BatchID: fmt.Sprintf("bench-%d", i), AccountID: "bench",
			Kind: billing.MsgPush, Messages: batch, SentAt: f.clk.Now()}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N*batch)/b.Elapsed().Seconds(), "events/s")
}
