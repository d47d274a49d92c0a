package web_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"

	"webstore/web"
)

// Every response carries the security headers; HSTS only in production.
func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	for _, path := range []string{"/signin", "/no-such-page", "/static/app.css"} {
		res, err := http.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		h := res.Header
		for k, want := range map[string]string{
			"Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
				"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'",
			"X-Frame-Options":        "DENY",
			"X-Content-Type-Options": "nosniff",
			"Referrer-Policy":        "same-origin",
		} {
			if got := h.Get(k); got != want {
				t.Errorf("%s %s: %q, want %q", path, k, got, want)
			}
		}
		if pp := h.Get("Permissions-Policy"); !strings.Contains(pp, "camera=()") || !strings.Contains(pp, "geolocation=()") {
			t.Errorf("%s Permissions-Policy: %q", path, pp)
		}
		if hsts := h.Get("Strict-Transport-Security"); hsts != "" {
			t.Errorf("%s: HSTS %q in development", path, hsts)
		}
	}

	prod := web.New(web.Config{Production: true, SecureCookies: true}, nil)
	rec := httptest.NewRecorder()
	prod.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/healthz", nil))
	if hsts := rec.Header().Get("Strict-Transport-Security"); !strings.HasPrefix(hsts, "max-age=63072000") {
		t.Errorf("production HSTS: %q", hsts)
	}
}

// inlineCode is what the Content-Security-Policy would block: inline
// scripts, event handler attributes, style attributes and elements.
var inlineCode = regexp.MustCompile(`(?i)<script(?:\s[^>]*)?>[^<]|<script>|\son[a-z]+\s*=|\sstyle\s*=|<style`)

// No page relies on inline script or style, which the policy blocks.
func TestPagesHaveNoInlineCode(t *testing.T) {
	t.Parallel()
	for s, want := range map[string]bool{
		`<fieldset disabled style="border:0">`:                true,
		`<select name="month" onchange="this.form.submit()">`: true,
		`<script>alert(1)</script>`:                           true,
		`<style>.x{}</style>`:                                 true,
		`<script src="/static/app.js?v=1" defer></script>`:    false,
		`<p data-onchange="x" class="styled">`:                false,
	} {
		if got := inlineCode.MatchString(s); got != want {
			t.Errorf("inlineCode matches %s: %v, want %v", s, got, want)
		}
	}
	a := newStaffApp(t)
	alice := httpSignIn(t, a.URL, "alice", nil)
	staff := httpSignIn(t, a.URL, "staff", nil)
	check := func(u httpUser, path string) {
		t.Helper()
		res, err := u.c.Get(a.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Errorf("GET %s: %s", path, res.Status)
			return
		}
		if m := inlineCode.Find(b); m != nil {
			t.Errorf("GET %s has inline code the policy blocks: %q", path, m)
		}
	}
	for _, surface := range []string{"/a/cat", "/m/cat"} {
		for _, p := range []string{"/menu", "/plan", "/checkout?plan=high", "/history", "/scheduled", "/promo", "/einvoice",
			"/payment-methods", "/account", "/members"} {
			check(alice, surface+p)
		}
	}
	for _, p := range []string{"/staff/accounts?q=c", "/staff/accounts/cat", "/staff/preview?account=cat&action=upgrade&plan=high",
		"/staff/simulate", "/staff/campaigns", "/staff/campaigns/summer-2024", "/staff/renewals", "/staff/audit", "/staff/tokens", "/staff/einvoices"} {
		check(staff, p)
	}
}
