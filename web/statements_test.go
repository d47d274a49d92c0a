package web_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
)

// Every signed-in page reads the database in at most two round trips: the
// session (with the membership, the reference data's version and the
// account's version) and the page's own statement. A page built on the
// account overview makes only the first once the overview is cached at
// the account's version (db/pagecache.go): the budgets below are for a
// warm page (check reads each path twice); a cold one, or one after a
// write to the account, makes two. The budget is counted, not timed: the
// app counts each statement, PREPARE, BEGIN and COMMIT its request sends
// (db/count.go). The reference cache's first load and a statement's first
// preparation on a connection are paid once, not per request.
func TestPageStatementBudget(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := t.Context()
	// cat: a card, a paid upgrade invoiced to a company and refunded in
	// part, a registered code; bear as seeded.
	storeCard(t, a, "cat", "4242424242424242")
	if _, err := a.Store.SaveInvoiceDetails(ctx, "test", "cat", billing.InvoiceDetails{Kind: billing.InvoiceCompany,
		CompanyTitle: "範例科技股份有限公司", TaxID: "04595252", Email: "ap@example.tw"}); err != nil {
		t.Fatal(err)
	}
	up, err := a.Store.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "cat", Plan: billing.High, Key: "budget-1"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.Refund(ctx, "staff:test", db.RefundRequest{ChargeID: up.ID, Amount: 100, Reason: "預算測試", Key: "budget-refund"}); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Store.RegisterCode(ctx, "test", "cat", "DEMO-2611-0002"); err != nil {
		t.Fatal(err)
	}
	admin := signedInClient(t, a.URL, "alice")
	paid := firstChargeID(t, a, "cat")
	if paid != up.ID {
		t.Fatalf("cat's paid charge %d, want the upgrade %d (its pages are the ones with an invoice and a refund)", paid, up.ID)
	}
	pages := []struct {
		path   string
		budget int
	}{
		{"/accounts?pick=1", 2},
		{"/a/bear/menu", 1},
		{"/a/bear/plan", 1},
		{"/a/cat/plan", 1},
		{"/a/bear/checkout?plan=medium", 1},
		{"/a/bear/checkout?plan=high", 1},
		{"/a/cat/history", 1},
		{"/a/cat/history?month=2026-11", 1},
		{"/a/bear/scheduled", 1},
		{"/a/cat/scheduled", 1},
		{"/a/bear/promo", 1},
		{"/a/cat/promo", 1},
		{"/a/bear/einvoice", 1},
		{"/a/bear/payment-methods", 2},
		{"/a/bear/members", 2},
		{"/a/bear/account", 1},
		{"/a/bear/plan/news", 1},
		{"/a/bear/premium-id", 1},
		{fmt.Sprintf("/a/cat/charges/%d", paid), 1},
		{fmt.Sprintf("/a/cat/charges/%d/receipt", paid), 1},
		// The upgrade's pages (paid is the upgrade) read its invoice,
		// refund and allowance in the overview's one statement, cached
		// like the others; so does its 電子發票證明聯.
		{fmt.Sprintf("/a/cat/charges/%d/einvoice", up.ID), 1},
	}
	var all []string
	for _, p := range pages {
		all = append(all, p.path)
		if strings.HasPrefix(p.path, "/a/") {
			all = append(all, "/m/"+strings.TrimPrefix(p.path, "/a/"))
		}
	}
	budget := map[string]int{}
	for _, p := range pages {
		budget[p.path] = p.budget
		budget["/m/"+strings.TrimPrefix(p.path, "/a/")] = p.budget
	}
	check(t, a, admin, all, budget)

	// A write to the account, from anywhere, makes its next page read the
	// overview again (two statements), and that page shows the write.
	if _, err := a.Store.SaveInvoiceDetails(ctx, "test", "bear", billing.InvoiceDetails{Kind: billing.InvoiceCompany,
		CompanyTitle: "快取測試股份有限公司", TaxID: "04595252", Email: "cache@example.tw"}); err != nil {
		t.Fatal(err)
	}
	res, err := admin.Get(a.URL + "/a/bear/einvoice")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if n := a.lastStatements().N(); n != 2 || !strings.Contains(string(body), "快取測試股份有限公司") {
		t.Errorf("the e-invoice page after the details changed: %d statements (want 2), shows the new title: %v",
			n, strings.Contains(string(body), "快取測試股份有限公司"))
	}

	// The staff console's account page is held to the same budget; the
	// other staff pages to what they make today.
	staff := signedInClient(t, a.URL, "staff")
	staffPages := map[string]int{
		"/staff/accounts/cat":                  2,
		"/staff/accounts/bear":                 2,
		"/staff/accounts":                      2,
		"/staff/renewals":                      2,
		"/staff/audit":                         2,
		"/staff/campaigns":                     2,
		"/staff/campaigns/summer-2024":         4,
		"/staff/einvoices":                     2,
		fmt.Sprintf("/staff/charges/%d", paid): 2,
	}
	var paths []string
	for p := range staffPages {
		paths = append(paths, p)
	}
	check(t, a, staff, paths, staffPages)
}

// check GETs each path as client and fails any over its budget, naming
// the statements it made.
func check(t *testing.T, a app, client *http.Client, paths []string, budget map[string]int) {
	t.Helper()
	get := func(path string) {
		t.Helper()
		res, err := client.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
	}
	for _, path := range paths {
		// A page's first request on a connection prepares its statement
		// there (one round trip, once per connection); the budget is for
		// the requests after it.
		get(path)
		get(path)
		n := a.lastStatements()
		t.Logf("%-40s %d", path, n.N())
		if n.N() > budget[path] {
			var sqls []string
			for _, q := range n.Statements() {
				sqls = append(sqls, q[:min(len(q), 120)])
			}
			t.Errorf("GET %s: %d round trips, budget %d:\n  %s", path, n.N(), budget[path], strings.Join(sqls, "\n  "))
		}
	}
}

// firstChargeID is a paid charge of the account's (the demo data has one).
func firstChargeID(t *testing.T, a app, account string) int64 {
	t.Helper()
	cs, err := a.Store.FindCharges(t.Context(), account)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cs {
		if c.Status == billing.StatusPaid {
			return c.ID
		}
	}
	t.Fatalf("%s has no paid charge", account)
	return 0
}
