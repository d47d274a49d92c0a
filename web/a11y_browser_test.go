package web_test

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"webstore/billing"
)

// axeResult is what axe.run reports, cut to what the test reads.
type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target []any  `json:"target"`
		HTML   string `json:"html"`
		Any    []struct {
			Data json.RawMessage `json:"data"`
		} `json:"any"`
	} `json:"nodes"`
}

// axeCheck runs axe-core (WCAG 2 A and AA rules) on the page in ctx and
// returns its serious and critical violations.
func axeCheck(t *testing.T, ctx context.Context, src string) []axeViolation {
	t.Helper()
	js := src + `;(async () => { const r = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
		return JSON.stringify(r.violations.filter(v => v.impact === "serious" || v.impact === "critical")); })()`
	out, err := chromedp.Run(ctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("axe: %v", err)
	}
	var vs []axeViolation
	if err := json.Unmarshal([]byte(out), &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// Every page an admin sees, on the phone and the desktop, and the staff
// console's: no serious or critical accessibility violation (axe-core).
func TestAccessibility(t *testing.T) {
	t.Parallel()
	src, err := os.ReadFile("../testdata/axe/axe.min.js")
	if err != nil {
		t.Fatal(err)
	}
	a := newApp(t)
	if _, err := a.Store.SaveInvoiceDetails(context.Background(), "test", "cat",
		billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "919", Email: "a@b.example.tw"}); err != nil {
		t.Fatal(err)
	}
	var alice int64
	if err := a.Store.DB.Get(&alice, `SELECT id FROM users WHERE login='alice'`); err != nil {
		t.Fatal(err)
	}
	// The invitation's sign-in page, as a visitor sees it.
	invite, _, err := a.Store.CreateInvitation(context.Background(), "test", "cat", billing.RoleOperator, alice)
	if err != nil {
		t.Fatal(err)
	}
	account := []string{"/menu", "/plan", "/checkout?plan=high", "/history", "/scheduled", "/payment-methods", "/payment-methods/new",
		"/promo", "/einvoice", "/account", "/members", "/premium-id", "/plan/news"}
	for _, w := range []struct {
		name          string
		width, height int64
		prefix        string
	}{{"phone", 375, 812, "/a/cat"}, {"desktop", 1280, 900, "/m/cat"}} {
		t.Run(w.name, func(t *testing.T) {
			t.Parallel()
			b := browser(t, w.width, w.height)
			pages := []string{"/signin"}
			do(t, b, chromedp.Navigate(a.URL+"/signin"), chromedp.WaitVisible(tid("signin")))
			report(t, "/signin", axeCheck(t, b, string(src)))
			do(t, b, chromedp.Navigate(a.URL+"/invite/"+invite), chromedp.WaitVisible(tid("invite-line")))
			report(t, "/invite/…", axeCheck(t, b, string(src)))
			signIn(t, b, a.URL, "alice")
			pages = append(pages, "/accounts?pick=1")
			for _, p := range account {
				pages = append(pages, w.prefix+p)
			}
			for _, p := range pages[1:] {
				do(t, b, chromedp.Navigate(a.URL+p), chromedp.WaitReady(chromedp.CSS("body")))
				report(t, p, axeCheck(t, b, string(src)))
			}
		})
	}
	t.Run("staff", func(t *testing.T) {
		t.Parallel()
		b := browser(t, 1280, 900)
		signIn(t, b, a.URL, "staff")
		for _, p := range []string{"/staff/", "/staff/accounts/cat", "/staff/preview", "/staff/preview?account=cat&action=upgrade&plan=high&assume=line_pay", "/staff/simulate", "/staff/campaigns",
			"/staff/renewals", "/staff/audit", "/staff/tokens"} {
			do(t, b, chromedp.Navigate(a.URL+p), chromedp.WaitReady(chromedp.CSS("body")))
			report(t, p, axeCheck(t, b, string(src)))
		}
	})
}

func report(t *testing.T, page string, vs []axeViolation) {
	t.Helper()
	for _, v := range vs {
		var nodes []string
		for _, n := range v.Nodes {
			why := ""
			if len(n.Any) > 0 {
				why = " " + string(n.Any[0].Data)
			}
			nodes = append(nodes, n.HTML+why)
		}
		t.Errorf("%s: %s (%s) %s: %d elements:\n  %s", page, v.ID, v.Impact, v.Help, len(v.Nodes), strings.Join(nodes, "\n  "))
	}
}
