package billing_test

import (
	"testing"
	"time"

	"webstore/billing"
)

// defaultTiers mirrors the default seeded by db/migrations/004_usage.sql.
var defaultTiers = []billing.UsageTier{{From: 1, PriceMilli: 200}, {From: 25_001, PriceMilli: 150}, {From: 100_001, PriceMilli: 120}, {From: 1_000_001, PriceMilli: 100}}

func TestUsageAmountAtTierEdges(t *testing.T) {
	for _, c := range []struct {
		n    int
		want billing.Money
	}{
		{0, 0},
		{1, 0},            // 0.200 rounds down
		{2, 0},            // 0.400
		{3, 1},            // 0.600 rounds up
		{5, 1},            // exactly 1.000
		{24_999, 5_000},   // 4,999.800
		{25_000, 5_000},   // 5,000.000: the whole first tier
		{25_001, 5_000},   // + 0.150
		{25_004, 5_001},   // 5,000.600
		{25_010, 5_002},   // 5,001.500: exactly half rounds up
		{100_000, 16_250}, // 5,000 + 75,000 × 0.150
		{100_001, 16_250}, // + 0.120
		{1_000_000, 124_250},
		{1_000_001, 124_250}, // + 0.100
		{1_000_005, 124_251}, // + 0.500: half up
		{2_000_000, 224_250},
	} {
		if got := billing.UsageAmount(defaultTiers, c.n); got != c.want {
			t.Errorf("UsageAmount(%d) = %d, want %d", c.n, got, c.want)
		}
	}
}

// TestUsageAmountIsCumulative checks the brackets against a message-by-
// message sum over a small table, so every edge is covered.
func TestUsageAmountIsCumulative(t *testing.T) {
	tiers := []billing.UsageTier{{From: 1, PriceMilli: 700}, {From: 4, PriceMilli: 300}, {From: 9, PriceMilli: 0}, {From: 12, PriceMilli: 1100}}
	var milli int64
	for n := 0; n <= 40; n++ {
		if n > 0 {
			price := int64(0)
			for _, tr := range tiers {
				if n >= tr.From {
					price = tr.PriceMilli
				}
			}
			milli += price
		}
		if got, want := billing.UsageAmount(tiers, n), billing.Money((milli+500)/1000); got != want {
			t.Errorf("UsageAmount(%d) = %d, want %d", n, got, want)
		}
	}
}

func TestQuoteUsageTaxesTheWholeAmount(t *testing.T) {
	m := billing.Month{Year: 2024, Month: time.June}
	q, err := billing.QuoteUsage(defaultTiers, m, 100_000)
	if err != nil {
		t.Fatal(err)
	}
	if q.Amount != 16_250 || q.Net != 16_250 || q.Tax != 813 || q.Total != 17_063 || q.Month != m || q.Additional != 100_000 {
		t.Errorf("quote = %+v", q)
	}
	if _, err := billing.QuoteUsage(nil, m, 1); billing.ErrorCode(err) != billing.EInvalid {
		t.Errorf("no tiers: %v, want invalid_input", err)
	}
}

func TestValidateUsageTiers(t *testing.T) {
	for _, c := range []struct {
		name  string
		tiers []billing.UsageTier
		ok    bool
	}{
		{"default", defaultTiers, true},
		{"one tier", []billing.UsageTier{{From: 1, PriceMilli: 200}}, true},
		{"free tier", []billing.UsageTier{{From: 1, PriceMilli: 0}}, true},
		{"empty", nil, false},
		{"starts at 0", []billing.UsageTier{{From: 0, PriceMilli: 200}}, false},
		{"starts at 2", []billing.UsageTier{{From: 2, PriceMilli: 200}}, false},
		{"repeated start", []billing.UsageTier{{From: 1, PriceMilli: 200}, {From: 1, PriceMilli: 100}}, false},
		{"decreasing start", []billing.UsageTier{{From: 1, PriceMilli: 200}, {From: 50, PriceMilli: 100}, {From: 40, PriceMilli: 90}}, false},
		{"negative price", []billing.UsageTier{{From: 1, PriceMilli: -1}}, false},
		{"absurd price", []billing.UsageTier{{From: 1, PriceMilli: billing.MaxPriceMilli + 1}}, false},
	} {
		err := billing.ValidateUsageTiers(c.tiers)
		if c.ok != (err == nil) {
			t.Errorf("%s: err = %v, want ok=%v", c.name, err, c.ok)
		}
		if err != nil && billing.ErrorCode(err) != billing.EInvalid {
			t.Errorf("%s: code %q, want invalid_input", c.name, billing.ErrorCode(err))
		}
	}
}

func plan(id billing.PlanID, quota int, additional bool) billing.Plan {
	return billing.Plan{ID: id, NameZH: string(id), FreeMessages: quota, Additional: additional}
}

func TestSplitUsage(t *testing.T) {
	light, medium, high := plan(billing.Light, 200, false), plan(billing.Medium, 3000, false), plan(billing.High, 6000, true)
	for _, c := range []struct {
		name             string
		p                billing.Plan
		sent, n          int
		free, additional int
		refused          bool
	}{
		{"light exactly the quota", light, 0, 200, 200, 0, false},
		{"light quota+1 in one batch", light, 0, 201, 0, 0, true},
		{"light one past the quota", light, 200, 1, 0, 0, true},
		{"light last message", light, 199, 1, 1, 0, false},
		{"medium exactly the quota", medium, 2999, 1, 1, 0, false},
		{"medium quota+1", medium, 3000, 1, 0, 0, true},
		{"high within the quota", high, 0, 6000, 6000, 0, false},
		{"high straddling the quota", high, 5990, 25, 10, 15, false},
		{"high past the quota", high, 6000, 7, 0, 7, false},
		{"high after sending more than its quota on another plan", high, 7000, 3, 0, 3, false},
		// After an upgrade messages already sent still count against the
		// new, higher quota.
		{"upgraded light→medium", medium, 200, 2800, 2800, 0, false},
	} {
		free, add, err := billing.SplitUsage(c.p, c.sent, c.n)
		if c.refused {
			if billing.ErrorCode(err) != billing.EQuotaExceeded {
				t.Errorf("%s: err = %v, want quota_exceeded", c.name, err)
			}
			continue
		}
		if err != nil || free != c.free || add != c.additional {
			t.Errorf("%s: free %d additional %d err %v; want %d, %d", c.name, free, add, err, c.free, c.additional)
		}
	}
}

func TestMessageKinds(t *testing.T) {
	billable := map[billing.MessageKind]bool{billing.MsgBroadcast: true, billing.MsgPush: true, billing.MsgProgressive: true}
	for _, k := range billing.MessageKinds {
		if !k.Valid() || k.Billable() != billable[k] {
			t.Errorf("%s: valid %v billable %v", k, k.Valid(), k.Billable())
		}
	}
	if billing.MessageKind("sms").Valid() {
		t.Error("sms is not a kind")
	}
}

func TestUsageBatchMonthAtTheBoundary(t *testing.T) {
	taipei := func(s string) time.Time {
		tt, err := time.ParseInLocation("2006-01-02 15:04:05", s, billing.Taipei)
		if err != nil {
			t.Fatal(err)
		}
		return tt
	}
	june, july := billing.Month{Year: 2024, Month: time.June}, billing.Month{Year: 2024, Month: time.July}
	for _, c := range []struct {
		at   time.Time
		want billing.Month
	}{
		{taipei("2024-06-30 22:59:30"), june},
		{taipei("2024-06-30 22:59:59"), june},
		{taipei("2024-06-30 23:00:00"), july},
		{time.Date(2024, 7, 1, 0, 0, 0, 0, billing.JST), july},
		{time.Date(2024, 6, 30, 23, 59, 59, 999_999_999, billing.JST), june},
	} {
		if got := (billing.UsageBatch{SentAt: c.at}).Month(); got != c.want {
			t.Errorf("%s: month %s, want %s", c.at, got, c.want)
		}
	}
}

func TestUsageBatchValidate(t *testing.T) {
	ok := billing.UsageBatch{BatchID: "b1", AccountID: "bear", Kind: billing.MsgPush, Messages: 1, SentAt: time.Unix(1, 0)}
	if err := ok.Validate(); err != nil {
		t.Fatal(err)
	}
	for name, mut := range map[string]func(*billing.UsageBatch){
		"no id":        func(b *billing.UsageBatch) { b.BatchID = "" },
		"no account":   func(b *billing.UsageBatch) { b.AccountID = "" },
		"unknown kind": func(b *billing.UsageBatch) { b.Kind = "sms" },
		"zero":         func(b *billing.UsageBatch) { b.Messages = 0 },
		"negative":     func(b *billing.UsageBatch) { b.Messages = -5 },
		"huge":         func(b *billing.UsageBatch) { b.Messages = billing.MaxBatchMessages + 1 },
		"no instant":   func(b *billing.UsageBatch) { b.SentAt = time.Time{} },
	} {
		b := ok
		mut(&b)
		if billing.ErrorCode(b.Validate()) != billing.EInvalid {
			t.Errorf("%s: %v, want invalid_input", name, b.Validate())
		}
	}
}

func TestUsageCodeMessages(t *testing.T) {
	for _, c := range []billing.Code{billing.EQuotaExceeded, billing.EUsageBatchConflict} {
		if billing.CodeMessage(c, "zh-TW") == billing.CodeMessage("no_such_code", "zh-TW") || billing.CodeMessage(c, "en") == "" {
			t.Errorf("%s has no sentence", c)
		}
	}
}

// A usage batch's sending time lies in the billing month of the report or
// the one before, and at most five minutes ahead; checked at the exact
// instants (JST month starts, 23:00 Taiwan time).
func TestCheckSentAt(t *testing.T) {
	now := time.Date(2026, 11, 23, 12, 0, 0, 0, billing.Taipei)
	for _, tc := range []struct {
		sentAt time.Time
		ok     bool
	}{
		{now, true},
		{now.Add(billing.MaxSentAtAhead), true},
		{now.Add(billing.MaxSentAtAhead + time.Second), false},
		{time.Date(2026, 9, 30, 23, 0, 0, 0, billing.Taipei), true},    // 2026-10-01 00:00 JST: the previous month's first instant
		{time.Date(2026, 9, 30, 22, 59, 59, 0, billing.Taipei), false}, // two months back
		{time.Date(2025, 11, 23, 12, 0, 0, 0, billing.Taipei), false},  // last year
		{time.Time{}, false},                                          // year 1
		{time.Date(0, 1, 1, 0, 0, 0, 0, time.UTC), false},             // year 0
		{time.Date(2026, 11, 30, 23, 0, 0, 0, billing.Taipei), false}, // next month, a week ahead
	} {
		err := billing.CheckSentAt(tc.sentAt, now)
		if (err == nil) != tc.ok || err != nil && billing.ErrorCode(err) != billing.EInvalid {
			t.Errorf("sent at %s: %v, want ok=%v", tc.sentAt.Format(time.RFC3339), err, tc.ok)
		}
	}
	// Near a month start the previous month is still open.
	start := time.Date(2026, 11, 30, 23, 0, 30, 0, billing.Taipei) // 2026-12-01 00:00:30 JST
	if err := billing.CheckSentAt(time.Date(2026, 10, 31, 23, 0, 0, 0, billing.Taipei), start); err != nil {
		t.Errorf("November's first instant reported on 1 December: %v", err)
	}
	if err := billing.CheckSentAt(time.Date(2026, 10, 31, 22, 59, 59, 0, billing.Taipei), start); err == nil {
		t.Error("October's last instant reported on 1 December was accepted")
	}
}
