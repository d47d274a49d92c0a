package web_test

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/PuerkitoBio/goquery"

	"webstore/billing"
	"webstore/db"
)

// doc parses a page for data-testid look-ups.
func doc(t *testing.T, body string) *goquery.Document {
	t.Helper()
	d, err := goquery.NewDocumentFromReader(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// testid selects by data-testid.
func testid(id string) string { return `[data-testid="` + id + `"]` }

// A failed upgrade's charge page offers 重新購買 (the checkout for that
// plan, on the surface it is read on), never a 立即付款 that cannot work;
// once the plan is bought, and to an operator, it offers nothing.
func TestFailedUpgradeChargePageOffersBuyAgain(t *testing.T) {
	a := newApp(t)
	ctx := context.Background()
	storeCard(t, a, "bear", "4000000000000341") // added, but every charge fails
	failed, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k1"})
	if billing.ErrorCode(err) != billing.EPaymentFailed {
		t.Fatalf("upgrade: %v, want payment_failed", err)
	}
	id := strconv.FormatInt(failed.ID, 10)
	alice := httpSignIn(t, a.URL, "alice", nil)
	for _, surface := range []string{"a", "m"} {
		status, body := alice.do(t, "GET", a.URL+"/"+surface+"/bear/charges/"+id, "", nil)
		d := doc(t, body)
		href, _ := d.Find(testid("rebuy-link")).Attr("href")
		if status != http.StatusOK || href != "/"+surface+"/bear/checkout?plan=high" || !strings.Contains(d.Find(testid("rebuy-link")).Text(), "重新購買") {
			t.Errorf("/%s charge page: %d, 重新購買 → %q, want /%s/bear/checkout?plan=high", surface, status, href, surface)
		}
		if d.Find(`[data-testid^="pay-now-"]`).Length() != 0 || strings.Contains(body, "立即付款") {
			t.Errorf("/%s: a failed upgrade's page offers 立即付款", surface)
		}
		if status, _ := alice.do(t, "GET", a.URL+href, "", nil); status != http.StatusOK {
			t.Errorf("/%s: 重新購買 opens %d, want the checkout", surface, status)
		}
	}
	oscar := httpSignIn(t, a.URL, "oscar", nil) // an operator of bear
	if _, body := oscar.do(t, "GET", a.URL+"/a/bear/charges/"+id, "", nil); doc(t, body).Find(testid("rebuy")).Length() != 0 {
		t.Error("an operator is offered 重新購買")
	}
	// Bought with a good card: the old charge's page offers it no more.
	storeCard(t, a, "bear", "4242424242424242")
	if ch, err := a.Store.Upgrade(ctx, "user:alice", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "k2"}); err != nil || ch.Status != billing.StatusPaid {
		t.Fatalf("second purchase: %+v %v", ch, err)
	}
	if _, body := alice.do(t, "GET", a.URL+"/a/bear/charges/"+id, "", nil); doc(t, body).Find(testid("rebuy")).Length() != 0 {
		t.Error("重新購買 offered for a plan already held")
	}
}
