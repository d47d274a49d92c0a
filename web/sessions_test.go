package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// getPage fetches target as u in lang, without following redirects.
func getPage(t *testing.T, u httpUser, target, lang string) (*http.Response, string) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, target, nil)
	req.Header.Set("Accept-Language", lang)
	res, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func postForm(t *testing.T, u httpUser, target string, form url.Values) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	return res
}

// signedIn reports whether u's session still opens the account's settings.
func signedIn(t *testing.T, u httpUser, base string) bool {
	t.Helper()
	res, _ := getPage(t, u, base+"/m/bear/account", "zh-TW")
	if res.StatusCode != http.StatusOK && !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Fatalf("account settings: %s to %q", res.Status, res.Header.Get("Location"))
	}
	return res.StatusCode == http.StatusOK
}

// 登出所有裝置 on 帳號設定: any member (an operator too) ends every session
// of their own, this browser's included, and no one else's; it needs the
// CSRF token, lands on the sign-in page and is audited.
func TestSignOutEverywhere(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	phone := httpSignIn(t, a.URL, "alice", nil)
	desk := httpSignIn(t, a.URL, "alice", nil)
	oscar := httpSignIn(t, a.URL, "oscar", nil)

	for lang, label := range map[string]string{"zh-TW": "登出所有裝置", "en": "Sign out everywhere"} {
		for _, u := range []httpUser{desk, oscar} {
			res, body := getPage(t, u, a.URL+"/m/bear/account", lang)
			if res.StatusCode != http.StatusOK || !strings.Contains(body, label) || !strings.Contains(body, `action="/m/bear/account/sign-out-everywhere"`) {
				t.Errorf("account settings in %s: %s, no %q button", lang, res.Status, label)
			}
		}
	}

	// Without the CSRF token nothing ends.
	if res := postForm(t, desk, a.URL+"/m/bear/account/sign-out-everywhere", url.Values{}); res.StatusCode != http.StatusForbidden && res.StatusCode != http.StatusBadRequest {
		t.Errorf("without CSRF: %s, want 403 or 400", res.Status)
	}
	if !signedIn(t, phone, a.URL) || !signedIn(t, desk, a.URL) {
		t.Fatal("a refused sign-out ended a session")
	}

	res := postForm(t, desk, a.URL+"/m/bear/account/sign-out-everywhere", url.Values{"_csrf": {desk.csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("sign out everywhere: %s to %q, want 303 to /signin", res.Status, res.Header.Get("Location"))
	}
	if signedIn(t, desk, a.URL) || signedIn(t, phone, a.URL) {
		t.Error("alice is still signed in after signing out everywhere")
	}
	if !signedIn(t, oscar, a.URL) {
		t.Error("oscar was signed out by alice")
	}

	// An operator signs themselves out everywhere too.
	res = postForm(t, oscar, a.URL+"/a/bear/account/sign-out-everywhere", url.Values{"_csrf": {oscar.csrf}})
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/signin" {
		t.Fatalf("operator signs out everywhere: %s to %q", res.Status, res.Header.Get("Location"))
	}
	if signedIn(t, oscar, a.URL) {
		t.Error("oscar is still signed in")
	}

	var audited []string
	if err := a.Store.DB.Select(&audited, `SELECT actor || ' ' || account_id || ' ' || (after->>'sessions') FROM audit_log
		WHERE kind='session.signed_out_everywhere' ORDER BY id`); err != nil {
		t.Fatal(err)
	}
	if want := []string{"user:alice bear 2", "user:oscar bear 1"}; strings.Join(audited, "|") != strings.Join(want, "|") {
		t.Errorf("audit trail %q, want %q", audited, want)
	}
}

// Signing in, as anyone, ends the session this browser had on the server:
// the earlier cookie, replayed, is a visitor's.
func TestSignInEndsThePreviousSession(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	u := httpSignIn(t, a.URL, "alice", nil)
	base, _ := url.Parse(a.URL)
	var alices string
	for _, ck := range u.c.Jar.Cookies(base) {
		if ck.Name == "ws_session" {
			alices = ck.Value
		}
	}
	if alices == "" {
		t.Fatal("no session cookie after signing in")
	}
	form := url.Values{"login": {"oscar"}, "password": {"demo1234"}, "_csrf": {u.csrf}}
	if res := postForm(t, u, a.URL+"/signin", form); res.StatusCode != http.StatusSeeOther {
		t.Fatalf("oscar signing in on the same browser: %s", res.Status)
	}
	req, _ := http.NewRequest(http.MethodGet, a.URL+"/a/bear/menu", nil)
	req.AddCookie(&http.Cookie{Name: "ws_session", Value: alices})
	res, err := (&http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}).Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther || !strings.HasPrefix(res.Header.Get("Location"), "/signin") {
		t.Errorf("alice's earlier cookie after oscar signed in: %s %s, want a redirect to sign in", res.Status, res.Header.Get("Location"))
	}
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM sessions s JOIN users u ON u.id = s.user_id WHERE u.login = 'alice'`); err != nil || n != 0 {
		t.Errorf("alice has %d sessions left on the server (%v)", n, err)
	}
}

// Every page drawn for someone signed in says Cache-Control: no-store, the
// console's and the account list included.
func TestSignedInPagesAreNotStored(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	alice := httpSignIn(t, a.URL, "alice", nil)
	staff := httpSignIn(t, a.URL, "staff", nil)
	for _, tc := range []struct {
		u    httpUser
		path string
	}{
		{alice, "/accounts?pick=1"}, {alice, "/a/bear/menu"}, {alice, "/m/bear/plan"}, {alice, "/terms"},
		{alice, "/invite/nope"}, {staff, "/staff"}, {staff, "/staff/campaigns"}, {staff, "/staff/accounts/cat"},
	} {
		res, _ := getPage(t, tc.u, a.URL+tc.path, "zh-TW")
		if got := res.Header.Get("Cache-Control"); got != "no-store" {
			t.Errorf("GET %s signed in: %d, Cache-Control %q, want no-store", tc.path, res.StatusCode, got)
		}
	}
}
