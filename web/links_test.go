package web_test

import (
	"context"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// Links the app hands out are built on the configured base URL only: a
// Host (or X-Forwarded-Host) header naming another site changes neither
// the invitation e-mail's link nor the link shown on the page, nor the
// card gateway's return URL.
func TestLinksIgnoreHostHeader(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	alice := httpSignIn(t, a.URL, "alice", nil)
	post := func(path string, form url.Values) (int, string, *http.Response) {
		t.Helper()
		form.Set("_csrf", alice.csrf)
		req, _ := http.NewRequest(http.MethodPost, a.URL+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Host = "evil.example"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		for _, ck := range alice.c.Jar.Cookies(req.URL) {
			req.AddCookie(ck)
		}
		res, err := http.DefaultTransport.RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b), res
	}
	code, body, _ := post("/m/bear/members/invite", url.Values{"role": {"operator"}, "email": {"new.person@example.tw"}})
	if code != http.StatusOK {
		t.Fatalf("invite: %d", code)
	}
	if strings.Contains(body, "evil.example") || !strings.Contains(body, a.URL+"/invite/") {
		t.Errorf("the page's invitation link is not on %s", a.URL)
	}
	var params string
	if err := a.Store.DB.GetContext(context.Background(), &params,
		`SELECT params::text FROM outbox WHERE kind = 'invitation' AND recipient = 'new.person@example.tw'`); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(params, "evil.example") || !strings.Contains(params, a.URL+"/invite/") {
		t.Errorf("the e-mail's parameters %s do not link to %s", params, a.URL)
	}

	// The card gateway's return URL (cat has e-invoice details).
	code, b2, res := post("/a/cat/payment-methods/new", url.Values{"kind": {"credit_card"}})
	loc := res.Header.Get("Location")
	if code != http.StatusSeeOther || strings.Contains(loc, "evil.example") ||
		!strings.Contains(loc, url.QueryEscape(a.URL+"/a/cat/payment-methods/card/return")) {
		t.Errorf("card flow: %d, Location %q; want a return URL on %s\n%.3000s", code, loc, a.URL, b2)
	}
}
