package web_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webstore/billing"
)

// declineRenewal runs December's renewal with cat's card refusing for
// insufficient funds and returns the failed charge's id.
func declineRenewal(t *testing.T, a app) int64 {
	t.Helper()
	ctx := context.Background()
	storeCard(t, a, "cat", "4000000000000341")
	dec := time.Date(2026, 12, 1, 9, 0, 0, 0, billing.Taipei)
	a.Clock.Set(dec)
	if err := a.Store.ClaimRenewalRun(ctx, "system", billing.MonthOf(dec)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.RunRenewal(ctx, "system", billing.MonthOf(dec), true); err != nil {
		t.Fatal(err)
	}
	var id int64
	if err := a.Store.DB.Get(&id, `SELECT id FROM charges WHERE account_id='cat' AND kind='renewal' AND status='failed'`); err != nil {
		t.Fatal(err)
	}
	return id
}

// A declined renewal puts a banner on the menu, plan and checkout pages, at
// phone and desktop width: the reason, the next automatic retry in Taiwan
// time, what happens after 3 refusals or at the month's end, and 立即付款
// for the admin, which with a good card pays it and takes the banner away.
// An operator sees the banner without the button.
func TestOwedBannerAndPayNow(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	id := declineRenewal(t, a)
	pay := "owed-pay-" + strconv.FormatInt(id, 10)

	check := func(ctx context.Context, where string) {
		t.Helper()
		if got := text(t, ctx, tid("owed-reason")); !strings.Contains(got, "額度不足") {
			t.Errorf("%s: reason %q, want insufficient funds", where, got)
		}
		// Refused at 2026/12/01 09:00 Taiwan time: retried a day later.
		next := text(t, ctx, tid("owed-next"))
		for _, want := range []string{"已嘗試付款 1 次(共 3 次)", "2026/12/02 09:00(台灣時間)", "付款失敗 3 次", "2026/12/31 22:59", "輕用量"} {
			if !strings.Contains(next, want) {
				t.Errorf("%s: banner %q, want %q", where, next, want)
			}
		}
	}

	desk := browser(t, 1280, 900)
	signIn(t, desk, a.URL, "alice")
	for _, p := range []string{"/menu", "/plan", "/checkout?plan=high"} {
		do(t, desk, chromedp.Navigate(a.URL+"/m/cat"+p), chromedp.WaitVisible(tid(pay)))
		check(desk, "desktop "+p)
	}
	shot(t, desk, "desktop-owed-banner")

	b := browser(t, 375, 812)
	signIn(t, b, a.URL, "alice")
	for _, p := range []string{"/checkout?plan=high", "/plan", "/menu"} {
		do(t, b, chromedp.Navigate(a.URL+"/a/cat"+p), chromedp.WaitVisible(tid(pay)))
		check(b, "phone "+p)
	}
	shot(t, b, "phone-owed-banner")

	// In English too.
	do(t, b, chromedp.Click(tid("lang")), chromedp.WaitVisible(tid(pay)))
	if got := text(t, b, tid("owed-next")); !strings.Contains(got, "Attempted 1 of 3 times") || !strings.Contains(got, "2026/12/02 09:00 (Taiwan time)") {
		t.Errorf("English banner %q", got)
	}
	do(t, b, chromedp.Click(tid("lang")), chromedp.WaitVisible(tid(pay)))

	// oscar is an operator of cat: the banner, read-only.
	op := browser(t, 375, 812)
	signIn(t, op, a.URL, "oscar")
	do(t, op, chromedp.Navigate(a.URL+"/a/cat/plan"), chromedp.WaitVisible(tid("owed-readonly")))
	if n, _ := chromedp.Run(op, chromedp.Nodes(chromedp.CSS(`[data-testid^="owed-pay-"]`), chromedp.AtLeast(0))); len(n) != 0 {
		t.Error("an operator is offered 立即付款")
	}

	// The admin adds a good card and pays from the banner.
	storeCard(t, a, "cat", "4242424242424242")
	do(t, b, chromedp.Click(tid(pay)), chromedp.WaitVisible(tid("notice")))
	if got := text(t, b, tid("charge-"+strconv.FormatInt(id, 10))); !strings.Contains(got, "已付款") || !strings.Contains(got, "NT$840.00") {
		t.Errorf("after paying from the banner: %q", got)
	}
	do(t, b, chromedp.Navigate(a.URL+"/a/cat/plan"), chromedp.WaitVisible(tid("plan-name")))
	if n, _ := chromedp.Run(b, chromedp.Nodes(tid("owed-banner"), chromedp.AtLeast(0))); len(n) != 0 {
		t.Error("the banner is still shown once the renewal is paid")
	}
	if got := text(t, b, tid("plan-name")); got != "中用量" {
		t.Errorf("plan after paying %q, want 中用量", got)
	}
}
