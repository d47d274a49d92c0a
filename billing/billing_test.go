package billing

import (
	"testing"
	"time"
)

func tw(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04:05", s, Taipei)
	if err != nil {
		panic(err)
	}
	return t
}

func testCatalog(t *testing.T) Catalog {
	t.Helper()
	c, err := NewCatalog([]Plan{
		{ID: High, NameZH: "高用量", NameEN: "High", Fee: 1200, FreeMessages: 6000, Additional: true, Rank: 3},
		{ID: Light, NameZH: "輕用量", NameEN: "Light", Fee: 0, FreeMessages: 200, Rank: 1},
		{ID: Medium, NameZH: "中用量", NameEN: "Medium", Fee: 800, FreeMessages: 3000, Rank: 2},
	})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func summer() Campaign {
	return DefaultCampaignTerms(Campaign{
		ID: "summer-2024", FaceValue: 800,
		ValidFrom: tw("2024-06-07 00:00:00"), ValidUntil: tw("2024-08-31 23:59:59"),
	})
}

func TestTaxRoundsHalfUp(t *testing.T) {
	for _, c := range []struct{ net, tax Money }{
		{0, 0}, {800, 40}, {400, 20}, {1200, 60}, {9, 0}, {10, 1}, {29, 1}, {30, 2}, {50, 3}, {-5, 0},
	} {
		if got := TaxOn(c.net); got != c.tax {
			t.Errorf("TaxOn(%d) = %d, want %d", c.net, got, c.tax)
		}
	}
}

func TestMoneyFormat(t *testing.T) {
	for _, c := range []struct {
		m    Money
		want string
	}{{0, "NT$0"}, {840, "NT$840"}, {1200, "NT$1,200"}, {1234567, "NT$1,234,567"}, {-1260, "NT$-1,260"}} {
		if got := c.m.String(); got != c.want {
			t.Errorf("%d: got %q, want %q", c.m, got, c.want)
		}
	}
	if got := Money(840).Decimal(); got != "NT$840.00" {
		t.Errorf("Decimal = %q", got)
	}
}

// The month ends at 22:59 Taiwan time on its last day: 23:00 is already the
// next month, which starts at 00:00 JST.
func TestMonthBoundaries(t *testing.T) {
	june := Month{2024, time.June}
	for _, c := range []struct {
		at   time.Time
		want Month
	}{
		{tw("2024-06-30 22:59:00"), june},
		{tw("2024-06-30 22:59:59"), june},
		{tw("2024-06-30 23:00:00"), june.Next()},
		{time.Date(2024, 7, 1, 0, 0, 0, 0, JST), Month{2024, time.July}},
		{time.Date(2024, 6, 30, 23, 59, 59, 0, JST), june},
		{time.Date(2024, 6, 30, 15, 0, 0, 0, time.UTC), Month{2024, time.July}},
		{tw("2024-12-31 23:00:00"), Month{2025, time.January}},
	} {
		if got := MonthOf(c.at); got != c.want {
			t.Errorf("MonthOf(%s) = %s, want %s", c.at.Format(time.RFC3339), got, c.want)
		}
	}
	if got, want := june.LastMoment().In(Taipei).Format("01/02 15:04"), "06/30 22:59"; got != want {
		t.Errorf("LastMoment = %s, want %s", got, want)
	}
	if !june.End().Equal(tw("2024-06-30 23:00:00")) {
		t.Errorf("End = %s", june.End())
	}
	if m, err := ParseMonth("2024-02"); err != nil || m.Next() != (Month{2024, time.March}) || m.Prev() != (Month{2024, time.January}) {
		t.Errorf("ParseMonth: %v %v", m, err)
	}
	if _, err := ParseMonth("2024-13"); err == nil {
		t.Error("ParseMonth accepted month 13")
	}
}

func TestNormalizeCode(t *testing.T) {
	for in, want := range map[string]string{
		"BEAR-0611-AAAA":   "BEAR0611AAAA",
		" bear 0611 aaaa ": "BEAR0611AAAA",
		"ｂｅａｒ－０６１１－ａａａａ": "BEAR0611AAAA",
		"bear–0611—aaaa": "BEAR0611AAAA",
	} {
		if got := NormalizeCode(in); got != want {
			t.Errorf("NormalizeCode(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRegistrationGate(t *testing.T) {
	camp := summer()
	bear := Account{ID: "bear", Region: "TW", Plan: Light, Payment: LinePay}
	issued := &PromoCode{Code: "X", CampaignID: camp.ID, Status: CodeIssued}
	takenByCat := &PromoCode{Code: "X", CampaignID: camp.ID, Status: CodeRegistered, AccountID: "cat"}
	mine := &PromoCode{Code: "X", CampaignID: camp.ID, Status: CodeRegistered, AccountID: "bear"}
	minePast := &PromoCode{Code: "X", CampaignID: camp.ID, Status: CodeRedeemed, AccountID: "bear"}
	other := &PromoCode{Code: "Y", CampaignID: "spring", Status: CodeRegistered, AccountID: "bear"}
	spring := DefaultCampaignTerms(Campaign{ID: "spring", FaceValue: 100, ValidFrom: tw("2024-03-01 00:00:00"), ValidUntil: tw("2024-05-31 23:59:59")})
	jp := bear
	jp.Region = "JP"
	ok := tw("2024-06-11 10:00:00")
	for _, c := range []struct {
		name string
		r    Registration
		want Code
	}{
		{"ok", Registration{Account: bear, Code: issued, Campaign: camp, At: ok}, ""},
		{"not found", Registration{Account: bear, At: ok}, ECodeNotFound},
		{"one minute early", Registration{Account: bear, Code: issued, Campaign: camp, At: tw("2024-06-06 23:59:00")}, ECodeNotYetValid},
		{"first instant", Registration{Account: bear, Code: issued, Campaign: camp, At: tw("2024-06-07 00:00:00")}, ""},
		{"last second", Registration{Account: bear, Code: issued, Campaign: camp, At: tw("2024-08-31 23:59:59")}, ""},
		{"after window", Registration{Account: bear, Code: issued, Campaign: camp, At: tw("2024-09-01 00:00:00")}, ECodeExpired},
		{"taken", Registration{Account: bear, Code: takenByCat, Campaign: camp, At: ok}, ECodeTaken},
		{"again by owner", Registration{Account: bear, Code: mine, Campaign: camp, At: ok}, ""},
		{"owner after use", Registration{Account: bear, Code: minePast, Campaign: camp, At: ok}, ECampaignLimit},
		{"region", Registration{Account: jp, Code: issued, Campaign: camp, At: ok}, ERegionNotEligible},
		{"pending", Registration{Account: bear, Code: issued, Campaign: camp, Held: other, HeldCampaign: DefaultCampaignTerms(Campaign{ID: "spring", ValidUntil: tw("2024-12-31 00:00:00")}), At: ok}, ECodePending},
		{"held code expired", Registration{Account: bear, Code: issued, Campaign: camp, Held: other, HeldCampaign: spring, At: ok}, ""},
		{"campaign limit", Registration{Account: bear, Code: issued, Campaign: camp, UsedCampaign: true, At: ok}, ECampaignLimit},
	} {
		t.Run(c.name, func(t *testing.T) {
			if got := ErrorCode(CheckRegistration(c.r)); got != c.want {
				t.Errorf("got %q, want %q", got, c.want)
			}
		})
	}
}

// The worked examples of RULES.md §5, E1–E7, at the core level.
func TestWorkedExamples(t *testing.T) {
	cat := testCatalog(t)
	camp := summer()
	june := Month{2024, time.June}
	reg := &PromoCode{Code: "BEAR0611", CampaignID: camp.ID, AccountID: "bear", Status: CodeRegistered, RegisteredAt: tw("2024-06-11 10:00:00")}
	light := Account{ID: "bear", Region: "TW", Plan: Light, Payment: LinePay}
	mediumPaid := Account{ID: "bear", Region: "TW", Plan: Medium, Payment: LinePay, PaidMonth: june, PaidFee: 800}
	highPaid := Account{ID: "bear", Region: "TW", Plan: High, Payment: CreditCard, PaidMonth: june, PaidFee: 1200}
	at := tw("2024-06-11 10:05:00")
	july := time.Date(2024, 7, 1, 0, 0, 0, 0, JST)

	type lines struct{ amount, offset, forfeited, net, tax, total Money }
	for _, c := range []struct {
		name string
		in   QuoteInput
		want lines
		code bool
	}{
		{"E1 light→medium with code", QuoteInput{Kind: KindUpgrade, Account: light, To: Medium, At: at, Code: reg, Campaign: camp}, lines{800, 800, 0, 0, 0, 0}, true},
		{"E2 light→high with code", QuoteInput{Kind: KindUpgrade, Account: light, To: High, At: at, Code: reg, Campaign: camp}, lines{1200, 800, 0, 400, 20, 420}, true},
		{"E3 medium renewal with code", QuoteInput{Kind: KindRenewal, Account: mediumPaid, At: july, Code: reg, Campaign: camp}, lines{800, 800, 0, 0, 0, 0}, true},
		{"E4 high renewal with code", QuoteInput{Kind: KindRenewal, Account: highPaid, At: july, Code: reg, Campaign: camp}, lines{1200, 800, 0, 400, 20, 420}, true},
		{"E5 medium→high forfeits", QuoteInput{Kind: KindUpgrade, Account: mediumPaid, To: High, At: at, Code: reg, Campaign: camp}, lines{400, 400, 400, 0, 0, 0}, true},
		{"E5 then 7/1 renewal", QuoteInput{Kind: KindRenewal, Account: Account{ID: "bear", Region: "TW", Plan: High, Payment: LinePay, PaidMonth: june, PaidFee: 1200}, At: july}, lines{1200, 0, 0, 1200, 60, 1260}, false},
		{"E6 light→medium no code", QuoteInput{Kind: KindUpgrade, Account: light, To: Medium, At: tw("2024-06-29 15:00:00")}, lines{800, 0, 0, 800, 40, 840}, false},
		{"bank transfer not eligible", QuoteInput{Kind: KindUpgrade, Account: Account{ID: "bear", Region: "TW", Plan: Light, Payment: BankTransfer}, To: Medium, At: at, Code: reg, Campaign: camp}, lines{800, 0, 0, 800, 40, 840}, false},
		{"upgrade in an unpaid month pays the full fee", QuoteInput{Kind: KindUpgrade, Account: Account{ID: "bear", Region: "TW", Plan: Medium, Payment: LinePay}, To: High, At: at}, lines{1200, 0, 0, 1200, 60, 1260}, false},
		{"renewal of a month already paid", QuoteInput{Kind: KindRenewal, Account: mediumPaid, At: tw("2024-06-20 00:00:00")}, lines{0, 0, 0, 0, 0, 0}, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			q, err := cat.Quote(c.in)
			if err != nil {
				t.Fatal(err)
			}
			got := lines{q.Amount, q.Offset, q.Forfeited, q.Net, q.Tax, q.Total}
			if got != c.want {
				t.Errorf("lines = %+v, want %+v", got, c.want)
			}
			if (q.Code != "") != c.code {
				t.Errorf("code applied = %q, want applied %v (refusal %q)", q.Code, c.code, q.CodeRefusal)
			}
		})
	}

	// E7: a scheduled downgrade to light means no July charge.
	a, err := cat.Downgrade(mediumPaid, Light, tw("2024-06-20 10:00:00"))
	if err != nil {
		t.Fatal(err)
	}
	q, err := cat.Quote(QuoteInput{Kind: KindRenewal, Account: a, At: july, Code: reg, Campaign: camp})
	if err != nil || q.Chargeable() || q.Code != "" {
		t.Errorf("E7: %+v %v", q, err)
	}
}

// The instants the rules name: 6/30 22:59 Taiwan time is still June (a
// downgrade then is in time for July), 23:00 is July (00:00 JST).
func TestCutOffInstants(t *testing.T) {
	cat := testCatalog(t)
	june := Month{2024, time.June}
	medium := Account{ID: "bear", Region: "TW", Plan: Medium, Payment: CreditCard, PaidMonth: june, PaidFee: 800}

	a, err := cat.Downgrade(medium, Light, tw("2024-06-30 22:59:00"))
	if err != nil || a.ScheduledFor != june.Next() {
		t.Fatalf("22:59 downgrade: %+v %v", a, err)
	}
	q, _ := cat.Quote(QuoteInput{Kind: KindRenewal, Account: a, At: tw("2024-06-30 23:00:00")})
	if q.Chargeable() {
		t.Errorf("downgrade at 22:59 still renewed July: %+v", q)
	}

	late, err := cat.Downgrade(medium, Light, tw("2024-06-30 23:00:00"))
	if err != nil || late.ScheduledFor != (Month{2024, time.August}) {
		t.Fatalf("23:00 downgrade should be for August: %+v %v", late, err)
	}
	// The plan page says when a downgrade takes effect by the same rule.
	if got := DowngradeMonth(tw("2024-06-30 22:59:00")); got != june.Next() {
		t.Errorf("DowngradeMonth(6/30 22:59) = %s, want July", got)
	}
	if got := DowngradeMonth(tw("2024-06-30 23:00:00")); got != (Month{2024, time.August}) {
		t.Errorf("DowngradeMonth(6/30 23:00) = %s, want August", got)
	}
	q, _ = cat.Quote(QuoteInput{Kind: KindRenewal, Account: late, At: time.Date(2024, 7, 1, 0, 0, 0, 0, JST)})
	if q.Total != 840 || q.Plan != Medium {
		t.Errorf("July renewal after a 23:00 downgrade: %+v", q)
	}

	// An upgrade at 22:59 pays June's difference; at 23:00 it is July, which
	// is unpaid, so it pays the full fee.
	q, _ = cat.Quote(QuoteInput{Kind: KindUpgrade, Account: medium, To: High, At: tw("2024-06-30 22:59:00")})
	if q.Amount != 400 || q.Month != june {
		t.Errorf("22:59 upgrade: %+v", q)
	}
	q, _ = cat.Quote(QuoteInput{Kind: KindUpgrade, Account: medium, To: High, At: tw("2024-06-30 23:00:00")})
	if q.Amount != 1200 || q.Month != june.Next() {
		t.Errorf("23:00 upgrade: %+v", q)
	}

	// The code window closes 8/31 23:59:59 Taiwan time; the 9/1 renewal's
	// effective instant, 00:00 JST, is 8/31 23:00 Taiwan time: inside.
	camp := summer()
	code := &PromoCode{Code: "C", Status: CodeRegistered, AccountID: "bear"}
	aug := medium
	aug.PaidMonth = Month{2024, time.August}
	q, _ = cat.Quote(QuoteInput{Kind: KindRenewal, Account: aug, At: time.Date(2024, 9, 1, 0, 0, 0, 0, JST), Code: code, Campaign: camp})
	if q.Offset != 800 {
		t.Errorf("9/1 renewal should use the code: %+v", q)
	}
	q, _ = cat.Quote(QuoteInput{Kind: KindRenewal, Account: aug, At: time.Date(2024, 10, 1, 0, 0, 0, 0, JST), Code: code, Campaign: camp})
	if q.Offset != 0 || q.CodeRefusal != EWindowClosed {
		t.Errorf("10/1 renewal must not use the code: %+v", q)
	}
}

func TestPlanChangeRefusals(t *testing.T) {
	cat := testCatalog(t)
	at := tw("2024-06-11 10:00:00")
	med := Account{ID: "a", Region: "TW", Plan: Medium, Payment: LinePay}
	for _, c := range []struct {
		name string
		err  error
		want Code
	}{
		{"upgrade sideways", quoteErr(cat, QuoteInput{Kind: KindUpgrade, Account: med, To: Medium, At: at}), ENotAnUpgrade},
		{"upgrade down", quoteErr(cat, QuoteInput{Kind: KindUpgrade, Account: med, To: Light, At: at}), ENotAnUpgrade},
		{"unknown plan", quoteErr(cat, QuoteInput{Kind: KindUpgrade, Account: med, To: "gold", At: at}), EUnknownPlan},
		{"no payment", quoteErr(cat, QuoteInput{Kind: KindUpgrade, Account: Account{ID: "a", Plan: Light}, To: High, At: at}), ENoPaymentMethod},
		{"downgrade up", second(cat.Downgrade(med, High, at)), ENotADowngrade},
		{"downgrade unknown", second(cat.Downgrade(med, "gold", at)), EUnknownPlan},
		{"cancel nothing", second(cat.CancelDowngrade(med, at)), ENoScheduledPlan},
	} {
		if got := ErrorCode(c.err); got != c.want {
			t.Errorf("%s: got %q, want %q", c.name, got, c.want)
		}
	}
	// An upgrade replaces a scheduled downgrade.
	high := Account{ID: "a", Region: "TW", Plan: High, Payment: LinePay}
	d, _ := cat.Downgrade(high, Light, at)
	if _, err := cat.CancelDowngrade(d, at); err != nil {
		t.Errorf("cancel: %v", err)
	}
}

func quoteErr(c Catalog, in QuoteInput) error { _, err := c.Quote(in); return err }
func second[T any](_ T, err error) error      { return err }

func TestNextDaily(t *testing.T) {
	for _, c := range []struct{ at, want string }{
		{"2026-11-25T00:59:59+08:00", "2026-11-25T02:00:00+09:00"}, // 01:59:59 JST
		{"2026-11-25T01:00:00+08:00", "2026-11-26T02:00:00+09:00"}, // exactly 02:00 JST: the next day
		{"2026-11-30T23:00:00+08:00", "2026-12-01T02:00:00+09:00"}, // 00:00 JST on the 1st
		{"2026-12-31T18:00:00Z", "2027-01-02T02:00:00+09:00"},      // 03:00 JST on 1/1
	} {
		at, _ := time.Parse(time.RFC3339, c.at)
		want, _ := time.Parse(time.RFC3339, c.want)
		if got := NextDaily(at, 2); !got.Equal(want) {
			t.Errorf("NextDaily(%s) = %s, want %s", c.at, got, c.want)
		}
	}
}

// A first method assumed: an account without one quotes as paying by it
// (E2 with a card: the code offsets, 420); one with a method keeps its own
// (bank transfer: no offset, 1,260). Only a card or LINE Pay can be added.
func TestWithFirstMethod(t *testing.T) {
	c := testCatalog(t)
	camp := DefaultCampaignTerms(Campaign{ID: "summer", FaceValue: 800, ValidFrom: tw("2024-06-07 00:00:00"), ValidUntil: tw("2024-08-31 23:59:59")})
	code := &PromoCode{Code: "E2", Status: CodeRegistered}
	at := tw("2024-06-11 10:00:00")
	for _, tc := range []struct {
		have, assume PaymentKind
		assumed      bool
		total        Money
	}{
		{"", CreditCard, true, 420},
		{"", LinePay, true, 420},
		{"", "", false, 1260},
		{BankTransfer, CreditCard, false, 1260},
		{LinePay, CreditCard, false, 420},
	} {
		a, assumed := Account{ID: "a", Region: "TW", Plan: Light, Payment: tc.have}.WithFirstMethod(tc.assume)
		q, _ := c.Quote(QuoteInput{Kind: KindUpgrade, Account: a, To: High, At: at, Code: code, Campaign: camp})
		if assumed != tc.assumed || q.Total != tc.total {
			t.Errorf("%q assuming %q: assumed %v, total %s; want %v, %s", tc.have, tc.assume, assumed, q.Total, tc.assumed, tc.total)
		}
	}
	for k, want := range map[PaymentKind]bool{CreditCard: true, LinePay: true, BankTransfer: false, "": false} {
		if k.Addable() != want {
			t.Errorf("%q.Addable() = %v", k, !want)
		}
	}
}
