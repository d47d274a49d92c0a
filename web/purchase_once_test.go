package web_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"

	"webstore/billing"
	"webstore/db"
	"webstore/web/payments/linepay"
)

// bearCharges is how many charges bear has, of any kind.
func bearCharges(t *testing.T, a app) int {
	t.Helper()
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM charges WHERE account_id='bear'`); err != nil {
		t.Fatal(err)
	}
	return n
}

// A purchase form submitted again (a double-click, a refresh), a stale
// second tab, and browser back after paying each say that the purchase was
// made, when, and link to its charge: never a bare status, never a second
// charge.
func TestPurchaseMadeAlreadySaysSo(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setUpLinePay(t, a, "bear", linepay.CardCathayVisa)
	u := httpSignIn(t, a.URL, "alice", nil)
	checkout := a.URL + "/a/bear/checkout?plan=high"
	tab1, tab2 := open(t, u, checkout), open(t, u, checkout)
	tick := url.Values{"terms": {"yes"}}

	first := tab1.submit(t, u, `[data-testid="buy"]`, tick)
	if first.Status != http.StatusSeeOther || !strings.Contains(first.URL.RawQuery, "done=1") {
		t.Fatalf("purchase: %d to %s", first.Status, first.URL)
	}
	id := chargePath.FindStringSubmatch(first.URL.Path)[1]

	for name, p := range map[string]htmlPage{
		"the same form again": tab1.submit(t, u, `[data-testid="buy"]`, tick),
		"a stale second tab":  tab2.submit(t, u, `[data-testid="buy"]`, tick),
		"browser back":        open(t, u, checkout),
	} {
		if p.Status != http.StatusSeeOther || !strings.HasSuffix(p.URL.Path, "/charges/"+id) {
			t.Errorf("%s: %d to %s, want the charge %s", name, p.Status, p.URL, id)
			continue
		}
		page := follow(t, u, p)
		got := page.testID("already")
		if !strings.Contains(got, "您已於 2026/11/23 12:00 升級為「高用量」") || page.testID("line-total") != "NT$1,260.00" {
			t.Errorf("%s: %q, total %q", name, got, page.testID("line-total"))
		}
	}
	if n := bearCharges(t, a); n != 1 {
		t.Errorf("%d charges, want 1", n)
	}
}

// A purchase key is the rendered page's: one that made a charge for
// another plan is refused (409) naming that charge, nothing is charged, and
// a key in the URL is not taken.
func TestPurchaseKeyReusedForAnotherPlan(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	setUpLinePay(t, a, "bear", linepay.CardCathayVisa)
	u := httpSignIn(t, a.URL, "alice", nil)
	medium := open(t, u, a.URL+"/a/bear/checkout?plan=medium")
	_, form := medium.form(t, `[data-testid="buy"]`)
	key := form.Get("key")
	bought := medium.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}})
	if bought.Status != http.StatusSeeOther {
		t.Fatalf("buy medium: %d\n%s", bought.Status, bought.text())
	}
	id := chargePath.FindStringSubmatch(bought.URL.Path)[1]

	// The key from the URL is not the page's.
	high := open(t, u, a.URL+"/a/bear/checkout?plan=high&key="+url.QueryEscape(key))
	if _, f := high.form(t, `[data-testid="buy"]`); f.Get("key") == key || f.Get("key") == "" {
		t.Fatalf("the checkout took its key from the URL: %q", f.Get("key"))
	}
	// The medium page's key, posted for high.
	reused := high.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}, "key": {key}})
	if reused.Status != http.StatusConflict {
		t.Fatalf("key reused for high: %d, want 409\n%s", reused.Status, reused.text())
	}
	if msg := reused.testID("error"); !strings.Contains(msg, "此購買識別碼已用於另一筆購買") || !strings.Contains(msg, "#"+id) {
		t.Errorf("refusal %q, want it to name charge #%s", msg, id)
	}
	if _, f := reused.form(t, `[data-testid="buy"]`); f.Get("key") == key {
		t.Errorf("the refusal kept the used key")
	}
	if n := bearCharges(t, a); n != 1 {
		t.Errorf("%d charges, want only the medium one", n)
	}
	o, _ := a.Store.FindOverview(context.Background(), "bear")
	if o.Plan.ID != billing.Medium {
		t.Errorf("plan %s, want medium", o.Plan.ID)
	}
}

// Twenty NT$1,260 purchases, each from its own rendered checkout (distinct
// keys), sent at once and split across two servers on one database, make
// exactly one charge; every answer is a page that says what happened.
func TestTwentyPurchasesTwoServersOneCharge(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := a.twin(t)
	setUpLinePay(t, a, "bear", linepay.CardCathayVisa)
	u := httpSignIn(t, a.URL, "alice", nil)
	var pages []htmlPage
	for i := range 20 {
		base := a.URL
		if i%2 == 1 {
			base = b.URL
		}
		p := open(t, u, base+"/a/bear/checkout?plan=high")
		if got := p.testID("total"); got != "NT$1,260.00" {
			t.Fatalf("checkout %d total %q", i, got)
		}
		pages = append(pages, p)
	}
	statuses := make([]int, len(pages))
	var wg sync.WaitGroup
	for i, p := range pages {
		wg.Go(func() { statuses[i] = p.submit(t, u, `[data-testid="buy"]`, url.Values{"terms": {"yes"}}).Status })
	}
	wg.Wait()
	for i, s := range statuses {
		if s != http.StatusSeeOther && s != http.StatusConflict {
			t.Errorf("purchase %d answered %d, want 303 (the charge) or 409 (one in progress)", i, s)
		}
	}
	var paid []int64
	if err := a.Store.DB.Select(&paid, `SELECT total FROM charges WHERE account_id='bear'`); err != nil {
		t.Fatal(err)
	}
	if len(paid) != 1 || paid[0] != 1260 {
		t.Fatalf("charges %v, want exactly one of 1260", paid)
	}
	t.Logf("answers: %v", statuses)
}

// A code that would not offset the purchase on the page is caught before
// it is registered: the page says what it applies to and asks; only 仍要登錄
// registers it. The same code for the change it applies to registers at once.
func TestCodeForAnotherPlanAsksFirst(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	setUpLinePay(t, a, "bear", linepay.CardCathayVisa)
	c, err := a.Store.FindCampaignByID(ctx, db.DemoCampaignID(a.Clock.Now()))
	if err != nil {
		t.Fatal(err)
	}
	c.ID, c.Upgrades, c.RenewalPlans = "medium-only", []billing.Transition{{From: billing.Light, To: billing.Medium}}, []billing.PlanID{billing.Medium}
	if _, err := a.Store.CreateCampaign(ctx, "test", c); err != nil {
		t.Fatal(err)
	}
	if err := a.Store.AddCodes(ctx, "test", c.ID, []string{"MEDIUM-ONLY-0001"}); err != nil {
		t.Fatal(err)
	}
	u := httpSignIn(t, a.URL, "alice", nil)
	high := open(t, u, a.URL+"/a/bear/checkout?plan=high")
	asked := high.submit(t, u, `[data-testid="code-submit"]`, url.Values{"code": {"MEDIUM-ONLY-0001"}})
	if !asked.has("code-mismatch") || !strings.Contains(asked.testID("code-applies-to"), "升級 輕用量 → 中用量") {
		t.Fatalf("a code for medium typed at the high checkout: %d\n%s", asked.Status, asked.text())
	}
	if _, ok, _ := a.Store.AccountCode(ctx, "bear"); ok {
		t.Fatal("the code was registered before the admin confirmed")
	}
	if got := asked.testID("total"); got != "NT$1,260.00" {
		t.Errorf("total %q while asking", got)
	}
	yes := asked.submit(t, u, `[data-testid="code-mismatch-yes"]`, nil)
	if rc, ok, _ := a.Store.AccountCode(ctx, "bear"); !ok || rc.Campaign.ID != "medium-only" {
		t.Fatalf("仍要登錄 did not register the code: %d\n%s", yes.Status, yes.text())
	}
	if !yes.has("code-not-applied") || yes.testID("total") != "NT$1,260.00" {
		t.Errorf("after registering anyway: not-applied %v, total %q", yes.has("code-not-applied"), yes.testID("total"))
	}
	medium := open(t, u, a.URL+"/a/bear/checkout?plan=medium")
	if got := medium.testID("total"); got != "NT$0.00" || !medium.has("code-applied") {
		t.Errorf("the medium checkout with the code: total %q", got)
	}
}
