package web_test

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// signedInClient is an HTTP client signed in as login, with keep-alive
// connections enough for concurrent requests (cmd/benchpages signs in the
// same way).
func signedInClient(b testing.TB, base, login string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/signin")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	res, err = c.PostForm(base+"/signin", url.Values{"_csrf": {string(m[1])}, "login": {login}, "password": {"demo1234"}})
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %s", res.Status)
	}
	return c
}

// A provider's return that this browser did not start adds nothing: a
// crafted link with someone else's card token, or a LINE Pay confirmation
// for another order, is refused.
func TestPaymentMethodReturnNeedsState(t *testing.T) {
	a := newApp(t)
	c := signedInClient(t, a.URL, "alice")
	for _, path := range []string{
		"/a/bear/payment-methods/card/return?card_token=tok_attacker",
		"/a/bear/payment-methods/card/return?card_token=tok_attacker&state=guess",
		"/a/bear/payment-methods/linepay/confirm?transactionId=2026112500000000001&orderId=bind-bear-x&state=guess",
		"/a/bear/payment-methods/linepay/confirm?transactionId=2026112500000000001&orderId=bind-cat-x",
	} {
		res, err := c.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(string(body), "未新增任何付款方式") {
			t.Errorf("%s: %s, want 400 with the refusal", path, res.Status)
		}
	}
	ms, err := a.Store.PaymentMethods(context.Background(), "bear")
	if err != nil || len(ms) != 0 {
		t.Errorf("payment methods after refused returns: %v, %v", ms, err)
	}
}
