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
