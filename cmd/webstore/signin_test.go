package main

import (
	"fmt"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"webstore/db"
)

// Issue 17's bar, on the served binary with TRUSTED_PROXIES=127.0.0.1:
// six wrong passwords for oscar from one X-Forwarded-For address get 429
// there, while the right password from another address signs in.
func TestSignInThrottleSparesTheOwner(t *testing.T) {
	t.Setenv("TRUSTED_PROXIES", "127.0.0.1")
	f := startServe(t, 0, 5*time.Second)
	csrfField := regexp.MustCompile(`name="_csrf" value="([^"]+)"`)
	client := func() (*http.Client, string) {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(f.url + "/signin")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		m := csrfField.FindSubmatch(b)
		if m == nil {
			t.Fatal("no CSRF token on the sign-in page")
		}
		return c, string(m[1])
	}
	signIn := func(c *http.Client, csrf, from, password string) int {
		t.Helper()
		form := url.Values{"login": {"oscar"}, "password": {password}, "_csrf": {csrf}}
		req, _ := http.NewRequest(http.MethodPost, f.url+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", from)
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	attacker, csrf := client()
	var got []int
	for range 6 {
		got = append(got, signIn(attacker, csrf, "203.0.113.5", "wrong password"))
	}
	want := []int{401, 401, 401, 401, 401, 429}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("six wrong passwords from 203.0.113.5: %v, want %v", got, want)
	}
	if code := signIn(attacker, csrf, "203.0.113.5", db.DemoPassword); code != http.StatusTooManyRequests {
		t.Errorf("the right password from the failing address: %d, want 429", code)
	}
	owner, csrf := client()
	if code := signIn(owner, csrf, "198.51.100.9", db.DemoPassword); code != http.StatusSeeOther {
		t.Errorf("oscar's right password from another address: %d, want 303 (signed in)", code)
	}
	if !strings.Contains(f.stderr.String(), "status=429") {
		t.Errorf("no 429 in the request log: %s", f.stderr)
	}
}
