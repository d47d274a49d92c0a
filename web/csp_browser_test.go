package web_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"webstore/web/payments/linepay"
)

// cspWatch runs first in every document: it records the policy's
// violations, and stands in for the print dialog.
const cspWatch = `window.__csp = [];
document.addEventListener("securitypolicyviolation", e => window.__csp.push(e.violatedDirective + " " + e.blockedURI + " " + (e.sample || "")));
window.print = () => { window.__printed = true; };`

func watchCSP() chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: cspWatch})
		return chromedp.Void{}, err
	}
}

// noViolations fails the test if the open page broke the policy.
func noViolations(t *testing.T, ctx context.Context, where string) {
	t.Helper()
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || ["the watch did not run"]`))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) > 0 {
		t.Errorf("%s: Content-Security-Policy violations: %q", where, got)
	}
}

func evalBool(t *testing.T, ctx context.Context, js string) bool {
	t.Helper()
	ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](js))
	if err != nil {
		t.Fatalf("%s: %v", js, err)
	}
	return ok
}

// Under the Content-Security-Policy the pages keep working: htmx swaps the
// checkout's code box without injecting styles, the history's month filter
// submits itself, the receipt prints, the staff console's job page polls,
// and no page reports a violation.
func TestPagesWorkUnderCSP(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	setUpLinePay(t, a, "cat", linepay.CardCathayVisa)
	ctx := browser(t, 1280, 900)
	do(t, ctx, watchCSP())
	signIn(t, ctx, a.URL, "alice")

	do(t, ctx,
		chromedp.Navigate(a.URL+"/m/cat/checkout?plan=high"),
		chromedp.WaitVisible(tid("code-input")),
		chromedp.SendKeys(tid("code-input"), demoCode(2)),
		chromedp.Click(tid("code-submit")),
		chromedp.WaitVisible(tid("code-applied")),
	)
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.HasSuffix(loc, "/m/cat/checkout?plan=high") {
		t.Errorf("the code was applied by a full page load (%s), not by htmx", loc)
	}
	if !evalBool(t, ctx, `typeof htmx !== "undefined" && htmx.config.includeIndicatorStyles === false && document.querySelectorAll("style").length === 0`) {
		t.Error("htmx did not load its configuration, or injected a <style>")
	}
	noViolations(t, ctx, "checkout")
	do(t, ctx, chromedp.Click(tid("terms")), chromedp.Click(tid("buy")), chromedp.WaitVisible(tid("result-title")))
	noViolations(t, ctx, "result")

	do(t, ctx, chromedp.Navigate(a.URL+"/m/cat/history"), chromedp.WaitVisible(tid("month-filter")))
	do(t, ctx, func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		_, err := chromedp.Evaluate[bool](`(() => { const s = document.querySelector('[data-testid="month-filter"]');
			s.value = s.options[s.options.length - 1].value; s.dispatchEvent(new Event("change")); return true })()`)(ctx, tg)
		return chromedp.Void{}, err
	})
	do(t, ctx, chromedp.WaitVisible(tid("history-table")))
	if loc, _ := chromedp.Run(ctx, chromedp.Location()); !strings.Contains(loc, "month=") {
		t.Errorf("the month filter did not submit itself: at %s", loc)
	}
	noViolations(t, ctx, "history")
	do(t, ctx, chromedp.Click(tid("receipt-link")), chromedp.WaitVisible(tid("receipt")), chromedp.Click(chromedp.CSS("[data-print]")))
	if !evalBool(t, ctx, `window.__printed === true`) {
		t.Error("the receipt's print button did nothing")
	}
	noViolations(t, ctx, "receipt")
	do(t, ctx, chromedp.Navigate(a.URL+"/a/cat/einvoice"), chromedp.WaitVisible(chromedp.CSS("fieldset.plain")))
	noViolations(t, ctx, "einvoice")

	signIn(t, ctx, a.URL, "staff")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/staff/campaigns/summer-2024"),
		chromedp.WaitVisible(tid("gen-form")),
		setValue("gen-n", "5"),
		chromedp.Click(tid("gen-submit")),
		chromedp.WaitVisible(tid("job-progress")),
	)
	waitLong(t, ctx, tid("job-csv"))
	if !evalBool(t, ctx, `typeof htmx !== "undefined" && htmx.config.allowEval === false && document.querySelectorAll("style").length === 0`) {
		t.Error("htmx on the staff console did not load its configuration, or injected a <style>")
	}
	noViolations(t, ctx, "staff code job")
	do(t, ctx, chromedp.Navigate(a.URL+"/staff/simulate"), chromedp.WaitVisible(tid("sim-form")))
	noViolations(t, ctx, "staff simulator")
}
