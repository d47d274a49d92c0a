package views

import (
	"strings"
	"testing"
	"time"

	"webstore/billing"
)

func TestOwedNext(t *testing.T) {
	cat, err := billing.NewCatalog([]billing.Plan{{ID: billing.Light, NameZH: "輕用量", NameEN: "Light"},
		{ID: billing.Medium, NameZH: "中用量", NameEN: "Medium", Rank: 1, Fee: 800}})
	if err != nil {
		t.Fatal(err)
	}
	dec := billing.MonthOf(time.Date(2026, 12, 15, 0, 0, 0, 0, billing.Taipei))
	renewal := func(attempts int, failedAt time.Time) Charge {
		next, _ := billing.NextRetry(billing.Charge{Kind: billing.KindRenewal, Month: dec, Attempts: attempts}, failedAt) // zero when none
		return Charge{Kind: billing.KindRenewal, Month: dec, Plan: billing.Medium, Attempts: attempts, NextRetryAt: next}
	}
	for _, tc := range []struct {
		name      string
		c         Charge
		now       time.Time
		want, not []string
	}{
		{"first refusal", renewal(1, time.Date(2026, 12, 1, 9, 0, 0, 0, billing.Taipei)), time.Date(2026, 12, 1, 10, 0, 0, 0, billing.Taipei),
			[]string{"已嘗試付款 1 次(共 3 次)", "2026/12/02 09:00(台灣時間)", "2026/12/31 22:59", "方案將改為輕用量"}, nil},
		{"retry due", renewal(2, time.Date(2026, 12, 2, 9, 0, 0, 0, billing.Taipei)), time.Date(2026, 12, 5, 10, 0, 0, 0, billing.Taipei),
			[]string{"已嘗試付款 2 次", "系統即將自動重新付款"}, []string{"2026/12/05 09:00"}},
		// Refused on the 30th: the retry 3 days later falls after the month
		// ends, when the renewal is given up; it is not promised.
		{"retry after the month", renewal(2, time.Date(2026, 12, 30, 9, 0, 0, 0, billing.Taipei)), time.Date(2026, 12, 30, 10, 0, 0, 0, billing.Taipei),
			[]string{"不會再自動重新付款", "2026/12/31 22:59"}, []string{"2027/01/02"}},
	} {
		got := owedNext(ZH, cat, tc.now, tc.c)
		for _, w := range tc.want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: %q, want %q", tc.name, got, w)
			}
		}
		for _, n := range tc.not {
			if strings.Contains(got, n) {
				t.Errorf("%s: %q, must not say %q", tc.name, got, n)
			}
		}
	}
}
