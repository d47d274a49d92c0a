package web_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
)

// A medium account holding a code, at the high checkout: the document's two
// options, upgrade now (NT$400.00 off, NT$400.00 forfeited) or keep medium
// and have the 2026/12/01 renewal offset by the full NT$800.00. The page as
// the server renders it for the phone (/a/); it was a Chromium test that
// read only this text.
func TestCheckoutShowsBothCodeOptions(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := context.Background()
	storeCard(t, a, "cat", "4242424242424242")
	if _, err := a.Store.RegisterCode(ctx, "test", "cat", "DEMO-2611-0003"); err != nil {
		t.Fatal(err)
	}
	alice := httpSignIn(t, a.URL, "alice", nil)
	status, body := alice.do(t, "GET", a.URL+"/a/cat/checkout?plan=high", "", nil)
	d := doc(t, body)
	if status != http.StatusOK || d.Find(testid("code-options")).Length() != 1 {
		t.Fatalf("cat's high checkout: %d, %d code-options", status, d.Find(testid("code-options")).Length())
	}
	if got := strings.TrimSpace(d.Find(testid("option-now")).Text()); !strings.Contains(got, "折抵 NT$400.00,剩餘 NT$400.00 立即失效") || !strings.Contains(got, "總計 NT$0.00") {
		t.Errorf("option 1 %q", got)
	}
	if got := strings.TrimSpace(d.Find(testid("option-wait")).Text()); !strings.Contains(got, "2026/12/01") || !strings.Contains(got, "折抵 NT$800.00") || !strings.Contains(got, "總計 NT$0.00") {
		t.Errorf("option 2 %q", got)
	}
	// Light to high uses the whole code (NT$800.00 off, nothing forfeited):
	// nothing to choose.
	storeCard(t, a, "bear", "4242424242424242")
	if _, err := a.Store.RegisterCode(ctx, "test", "bear", "DEMO-2611-0004"); err != nil {
		t.Fatal(err)
	}
	status, body = alice.do(t, "GET", a.URL+"/a/bear/checkout?plan=high", "", nil)
	d = doc(t, body)
	if status != http.StatusOK || d.Find(testid("code-applied")).Length() != 1 {
		t.Fatalf("bear's high checkout: %d, %d code-applied", status, d.Find(testid("code-applied")).Length())
	}
	if n := d.Find(testid("code-options")).Length(); n != 0 {
		t.Error("options shown where the code is used whole")
	}
}
