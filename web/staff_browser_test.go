package web_test

import (
	"context"
	"encoding/csv"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webstore/billing"
	"webstore/db"
)

const staffW, staffH = 1280, 900

// waitLong waits up to a minute for a background job's page to show sel
// (a loaded machine can take longer than one step's bound).
func waitLong(t *testing.T, ctx context.Context, sel chromedp.CSS) {
	t.Helper()
	wctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	if _, err := chromedp.Run(wctx, chromedp.WaitVisible(sel)); err != nil {
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("wait for %s: %v\npage text:\n%s", sel, err, body)
	}
}

// setValue sets an input's value by script (date, number and month inputs
// do not take typed keys reliably).
func setValue(testid, v string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(() => { const el = document.querySelector('[data-testid="`+testid+`"]'); if (!el) throw new Error("no `+testid+`"); el.value = `+strconv.Quote(v)+`; return true })()`)(ctx, t)
		return chromedp.Void{}, err
	}
}

// The billing team's console at 1280 px: look up an account, preview the
// E5 case with a code not yet registered, run a public scenario file
// through the simulator page, create a campaign and generate 1,000 codes,
// download them as CSV, and run a month's renewal to the end (twice).
func TestStaffConsole(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	ctx := context.Background()
	// The E5 account pays by card (the seed's accounts have no method).
	if _, err := a.Store.AddPaymentMethod(ctx, "test", db.PaymentMethod{AccountID: "cat", Kind: billing.CreditCard, Token: "tok_test",
		Brand: "visa", Last4: "4242", Expiry: "12/30"}, true); err != nil {
		t.Fatal(err)
	}
	// Some history for the charts: cat's messages on a few days, a demo
	// code registered by bear.
	for i, n := range []int{120, 340, 80, 510} {
		at := time.Date(2026, 11, 3+i*5, 10, 0, 0, 0, billing.Taipei)
		if _, err := a.Store.RecordUsage(ctx, "test", db.UsageBatch{BatchID: "cat-" + strconv.Itoa(i), AccountID: "cat", Kind: billing.MessageKind("broadcast"),
			Messages: n, SentAt: at}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := a.Store.RegisterCode(ctx, "user:alice", "bear", demoCode(5)); err != nil {
		t.Fatal(err)
	}
	b := browser(t, staffW, staffH)
	signIn(t, b, a.URL, "staff")

	t.Run("account lookup", func(t *testing.T) {
		do(t, b,
			chromedp.Navigate(a.URL+"/staff"),
			chromedp.WaitVisible(tid("account-q")),
			chromedp.SendKeys(tid("account-q"), "貓咪"),
			chromedp.Click(tid("account-search")),
			chromedp.Click(tid("hit-cat")),
			chromedp.WaitVisible(tid("acct-plan")),
		)
		if got := text(t, b, tid("acct-plan")); got != "中用量" {
			t.Errorf("plan %q, want 中用量", got)
		}
		do(t, b, chromedp.WaitVisible(tid("usage-chart")), chromedp.WaitVisible(tid("audit")))
		if n, err := chromedp.Run(b, chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="usage-chart"] rect').length`)); err != nil || n != 4 {
			t.Errorf("usage chart has %d bars, want 4 (%v)", n, err)
		}
		if got := text(t, b, tid("usage-live")); !strings.Contains(got, "1,050 / 3,000") {
			t.Errorf("live usage %q, want 1,050 of 3,000", got)
		}
		shot(t, b, "staff-account")
		do(t, b, chromedp.Click(tid("nav-campaigns")), chromedp.Click(tid("campaign-"+db.DemoCampaignID(testNow))), chromedp.WaitVisible(tid("campaign-chart")))
		if got := text(t, b, tid("r-registered")); got != "1" {
			t.Errorf("demo campaign registered %q, want 1", got)
		}
		shot(t, b, "staff-demo-campaign")
	})

	t.Run("preview E5", func(t *testing.T) {
		do(t, b,
			chromedp.Click(tid("nav-preview")),
			chromedp.WaitVisible(tid("preview-form")),
			chromedp.SetValue(tid("pv-account"), "cat"),
			chromedp.SetValue(tid("pv-action"), "upgrade"),
			chromedp.SetValue(tid("pv-plan"), "high"),
			chromedp.SendKeys(tid("pv-code"), strings.ToLower(demoCode(3))),
			chromedp.Click(tid("pv-submit")),
			chromedp.WaitVisible(tid("preview-result")),
		)
		for id, want := range map[string]string{"line-amount": "NT$400", "line-offset": "−NT$400", "line-forfeited": "NT$400", "line-tax": "NT$0", "line-total": "NT$0"} {
			if got := text(t, b, tid(id)); got != want {
				t.Errorf("%s = %q, want %q", id, got, want)
			}
		}
		reasons := text(t, b, tid("reasons"))
		for _, want := range []string{"可於", "登錄", "失效", "較低者", "總計 NT$1,260"} {
			if !strings.Contains(reasons, want) {
				t.Errorf("reasons %q do not say %q", reasons, want)
			}
		}
		shot(t, b, "staff-preview-e5")
		do(t, b, chromedp.Click(tid("lang")), chromedp.WaitVisible(tid("preview-result")))
		if got := text(t, b, tid("nav-preview")); got != "Charge preview" {
			t.Errorf("English nav %q", got)
		}
		if got := text(t, b, tid("line-offset")); got != "−NT$400" {
			t.Errorf("after the language switch the offset is %q: the preview's query was lost", got)
		}
		shot(t, b, "staff-preview-e5-en")
		do(t, b, chromedp.Click(tid("lang")), chromedp.WaitVisible(tid("preview-result")))
		// Nothing was written.
		if rc, ok, _ := a.Store.AccountCode(ctx, "cat"); ok {
			t.Errorf("the preview registered %+v", rc)
		}
	})

	t.Run("simulate a public scenario", func(t *testing.T) {
		// The previous run's results are removed before the next run, so
		// waiting for a result cannot be satisfied by the page being left.
		forgetResults := chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('[data-testid^="sim-"]:is([data-testid="sim-results"],[data-testid="sim-passed"],[data-testid="sim-failed"])').forEach(e => e.remove())`)
		file, _ := filepath.Abs(filepath.Join("..", "testdata", "scenarios", "e5-medium-to-high-forfeits.json"))
		do(t, b,
			chromedp.Click(tid("nav-simulate")),
			chromedp.WaitVisible(tid("sim-form")),
			chromedp.SetUploadFiles(tid("sim-file"), []string{file}),
			chromedp.Click(tid("sim-run")),
			chromedp.WaitVisible(tid("sim-results")),
		)
		if _, err := chromedp.Run(b, chromedp.Text(tid("sim-passed"))); err != nil {
			t.Errorf("the scenario did not pass: %s", text(t, b, tid("sim-results")))
		}
		shot(t, b, "staff-simulate")
		// The form builder adds to the JSON.
		do(t, b,
			setValue("sim-json", ""),
			chromedp.Click(chromedp.CSS(`[data-testid="sim-builder"] summary`)),
			chromedp.SendKeys(chromedp.ID("b-acct"), "fox"),
			chromedp.Click(chromedp.CSS(`[data-build="account"]`)),
			chromedp.SendKeys(chromedp.ID("b-at"), "2024-06-11T10:00:00+08:00"),
			chromedp.SetValue(chromedp.ID("b-do"), "upgrade"),
			chromedp.SendKeys(chromedp.ID("b-eacct"), "fox"),
			chromedp.SendKeys(chromedp.ID("b-arg"), "high"),
			chromedp.Click(chromedp.CSS(`[data-build="event"]`)),
			forgetResults,
			chromedp.Click(tid("sim-run")),
			chromedp.WaitVisible(tid("sim-passed")),
		)
		if got := text(t, b, tid("sim-results")); !strings.Contains(got, "upgrade") || !strings.Contains(got, "1260") {
			t.Errorf("built scenario results: %s", got)
		}
		// A failed expectation is highlighted.
		do(t, b,
			chromedp.SetValue(tid("sim-json"), `{"name":"wrong","accounts":[{"id":"a","region":"TW","plan":"light","payment_method":"line_pay"}],
				"events":[{"at":"2024-06-11T10:00:00+08:00","account":"a","do":"upgrade","plan":"medium","expect":{"charges":[{"total":0}]}}]}`),
			forgetResults,
			chromedp.Click(tid("sim-run")),
			chromedp.WaitVisible(tid("sim-failed")),
			chromedp.WaitVisible(chromedp.CSS(`tr.mismatch [data-testid="sim-mismatch"]`)),
		)
	})

	t.Run("campaign, 1000 codes, CSV", func(t *testing.T) {
		do(t, b,
			chromedp.Click(tid("nav-campaigns")),
			chromedp.WaitVisible(tid("campaign-form")),
			chromedp.SendKeys(tid("c-id"), "xmas-2026"),
			chromedp.SendKeys(tid("c-name"), "2026 聖誕優惠"),
			setValue("c-face", "500"),
			setValue("c-from", "2026-12-01T00:00:00"),
			setValue("c-until", "2026-12-31T23:59:59"),
			chromedp.Click(tid("c-save")),
			chromedp.WaitVisible(tid("gen-form")),
		)
		c, err := a.Store.FindCampaignByID(ctx, "xmas-2026")
		if err != nil || c.FaceValue != 500 || !c.ValidFrom.Equal(time.Date(2026, 12, 1, 0, 0, 0, 0, billing.Taipei)) {
			t.Fatalf("campaign %+v %v", c, err)
		}
		do(t, b,
			setValue("gen-n", "1000"),
			chromedp.Click(tid("gen-submit")),
			chromedp.WaitVisible(tid("job-progress")),
		)
		waitLong(t, b, tid("job-csv"))
		shot(t, b, "staff-codes-job")
		type dl struct {
			BOM  bool   `json:"bom"`
			Text string `json:"text"`
		}
		got, err := chromedp.Run(b, chromedp.Evaluate[dl](`fetch("/staff/campaigns/xmas-2026/codes.csv").then(r => r.arrayBuffer()).then(buf => {
			const u8 = new Uint8Array(buf);
			return {bom: u8[0] === 0xEF && u8[1] === 0xBB && u8[2] === 0xBF, text: new TextDecoder().decode(u8)};
		})`, chromedp.EvalAwaitPromise))
		if err != nil {
			t.Fatal(err)
		}
		if !got.BOM {
			t.Errorf("the CSV has no UTF-8 byte-order mark")
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(got.Text, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatal(err)
		}
		seen := map[string]bool{}
		for _, r := range rows[1:] {
			n := billing.NormalizeCode(r[0])
			if !billing.IsGeneratedShape(n) || billing.CheckCodeTypo(n) != nil || seen[n] || r[1] != "issued" {
				t.Fatalf("bad row %q", r)
			}
			seen[n] = true
		}
		if len(seen) != 1000 {
			t.Errorf("%d unique valid codes in the CSV, want 1000", len(seen))
		}
		do(t, b, chromedp.Click(tid("back-campaign")), chromedp.WaitVisible(tid("report")))
		if got := text(t, b, tid("r-issued")); got != "1,000" {
			t.Errorf("issued %q, want 1,000", got)
		}
		shot(t, b, "staff-campaign")
	})

	t.Run("renewal run", func(t *testing.T) {
		a.Clock.Set(time.Date(2026, 12, 1, 9, 0, 0, 0, billing.Taipei))
		signIn(t, b, a.URL, "staff") // a week later: the session has lapsed
		do(t, b,
			chromedp.Click(tid("nav-renewals")),
			chromedp.WaitVisible(tid("rn-month")),
			setValue("rn-month", "2026-12"),
			chromedp.Click(tid("rn-estimate")),
			chromedp.WaitVisible(tid("estimate")),
		)
		// cat 840, dog 1,260, tokyo 840.
		if got := text(t, b, tid("e-total")); got != "NT$2,940" {
			t.Errorf("estimated total %q, want NT$2,940", got)
		}
		shot(t, b, "staff-renewal-estimate")
		do(t, b,
			chromedp.Click(tid("rn-start")),
			chromedp.WaitVisible(tid("run")),
		)
		waitLong(t, b, tid("outcome"))
		if got := text(t, b, tid("run-phase")); got != "已完成" {
			t.Errorf("phase %q, want 已完成", got)
		}
		if got := text(t, b, tid("o-charges")); got != "3" {
			t.Errorf("%s renewal charges, want 3", got)
		}
		do(t, b, chromedp.WaitVisible(tid("failures")))
		shot(t, b, "staff-renewal-run")
		// Retrying cat's declined payment tries again and says it failed again.
		do(t, b, chromedp.Click(tid("retry-cat")), chromedp.WaitVisible(tid("error")))
		if got := text(t, b, tid("error")); !strings.Contains(got, "仍然失敗") {
			t.Errorf("retry notice %q", got)
		}
		var attempts int
		a.Store.DB.Get(&attempts, `SELECT attempts FROM charges WHERE account_id='cat' AND kind='renewal'`)
		if attempts != 2 {
			t.Errorf("cat's renewal charge was attempted %d times, want 2", attempts)
		}
		// Again: nothing more is charged, and the page says so.
		do(t, b,
			chromedp.Navigate(a.URL+"/staff/renewals?month=2026-12"),
			chromedp.WaitVisible(tid("estimate")),
			chromedp.Click(tid("rn-start")),
		)
		waitLong(t, b, tid("already-done"))
		if got := text(t, b, tid("run-charges")); got != "0" {
			t.Errorf("re-run made %s charges", got)
		}
	})

	t.Run("audit", func(t *testing.T) {
		do(t, b,
			chromedp.Click(tid("nav-audit")),
			chromedp.WaitVisible(tid("audit-form")),
			chromedp.SendKeys(tid("a-actor"), "staff:"),
			chromedp.Click(tid("a-submit")),
		)
		// The unfiltered page has the table too: wait for the filtered one
		// to have loaded before reading it.
		for i := 0; ; i++ {
			loc, err := chromedp.Run(b, chromedp.Location())
			if err == nil && strings.Contains(loc, "actor=staff") {
				break
			}
			if i > 200 {
				t.Fatalf("the filter did not load: %s %v", loc, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
		do(t, b, chromedp.WaitVisible(tid("audit")))
		if got := text(t, b, tid("audit")); !strings.Contains(got, "建立優惠活動") || !strings.Contains(got, "產生代碼") {
			t.Errorf("staff audit entries: %s", got)
		}
		shot(t, b, "staff-audit")
	})
}
