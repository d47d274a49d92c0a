package web

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

// formWords are the field names and values the app's forms use, so that
// random bodies sometimes get past the first checks.
var (
	formFields = []string{"plan", "key", "terms", "code", "expect_total", "expect_offset", "expect_from", "expect_code", "name",
		"kind", "carrier", "company_title", "tax_id", "donation_code", "email", "next", "role", "confirm", "login", "password",
		"id", "face", "from", "until", "zone", "n", "scenario", "label", "month", "token", "x"}
	formValues = []string{"", "high", "medium", "light", "yes", "no", "0", "1", "-1", "420", "99999999999999999999", "DEMO-2611-0001",
		"admin", "operator", "/a/cat/plan", "//evil.example", "mobile_barcode", "company", "donation", "/ABC+123", "04595257",
		"a@b.tw", "\x00", "<script>", "'; DROP TABLE charges; --", "2026-12-01T00:00", "Asia/Taipei", strings.Repeat("長", 300)}
	routeParams = map[string][]string{":acct": {"cat", "cat", "cat", "dog", "nope"}, ":id": {"1", "2", "0", "x", "99999999999"},
		":user": {"1", "2", "3", "x"}, ":token": {"x", "00"}, ":month": {"2026-11", "2026-12", "x"}, ":job": {"1", "x"}}
)

func randomForm(r *rand.Rand, csrf string) url.Values {
	f := url.Values{}
	if r.IntN(2) == 0 {
		// Every field the forms use, each with a random value.
		for _, k := range formFields {
			f.Set(k, formValues[r.IntN(len(formValues))])
		}
	} else {
		for range r.IntN(6) {
			f.Add(formFields[r.IntN(len(formFields))], formValues[r.IntN(len(formValues))])
		}
	}
	if r.IntN(8) > 0 { // mostly a valid token, so the handlers are reached
		f.Set("_csrf", csrf)
	}
	return f
}

// fingerprint is a digest of every table a refused request must leave
// alone (sessions, the audit trail, queues and the sandboxes' own tables
// aside).
func fingerprint(t *testing.T, d *sqlx.DB) string {
	t.Helper()
	var tables []string
	if err := d.Select(&tables, `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema()
		AND table_type = 'BASE TABLE' AND table_name NOT LIKE 'sandbox%' AND table_name NOT LIKE 'goose%'
		AND table_name NOT IN ('sessions', 'audit_log', 'outbox') ORDER BY table_name`); err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, tb := range tables {
		var sum string
		if err := d.Get(&sum, `SELECT coalesce(md5(string_agg(t::text, '|' ORDER BY t::text)), '') FROM `+tb+` t`); err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s=%s ", tb, sum)
	}
	return b.String()
}

var csrfValue = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// Random bodies posted to every POST route of the app, as an account's
// admin, an operator and a visitor: no answer is a 5xx, and a refused
// request changes nothing.
func TestRandomPostsToEveryRoute(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, _ := sandboxtest.NewDB(t)
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	lp := &linepay.Client{BaseURL: srv.URL + "/sandbox/linepay", ChannelID: "1656000000", ChannelSecret: "sandbox-channel-secret"}
	cards := &cardgw.Client{BaseURL: srv.URL + "/sandbox/card", SecretKey: "sk_sandbox"}
	store := db.New(d, billing.SystemClock, payments.Gateway{LinePay: lp, Cards: cards})
	if _, err := store.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	s := New(Config{LinePay: lp, Cards: cards, CardPublicKey: "pk_sandbox", BaseURL: srv.URL,
		SandboxLinePay: linepay.NewSandbox(d, linepay.SandboxConfig{ChannelID: lp.ChannelID, ChannelSecret: lp.ChannelSecret, BasePath: "/sandbox/linepay"}),
		SandboxCards:   cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: "pk_sandbox", SecretKey: "sk_sandbox", BasePath: "/sandbox/card"}),
	}, store)
	s.signins = newThrottle(throttleRule{burst: 1 << 20, every: 1}, throttleRule{burst: 1 << 20, every: 1}, s.signins.login.now)
	h = s

	type user struct {
		name string
		c    *http.Client
		csrf string
	}
	client := func(login string) user {
		jar, _ := cookiejar.New(nil)
		c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Get(srv.URL + "/signin")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		csrf := string(csrfValue.FindSubmatch(b)[1])
		if login != "" {
			res, err := c.PostForm(srv.URL+"/signin", url.Values{"login": {login}, "password": {db.DemoPassword}, "_csrf": {csrf}})
			if err != nil || res.StatusCode != http.StatusSeeOther {
				t.Fatalf("sign in %s: %v %v", login, res.Status, err)
			}
			res.Body.Close()
		}
		return user{login, c, csrf}
	}
	users := []user{client("alice"), client("oscar"), client("")}
	users[2].name = "visitor"

	var paths []string
	for _, rt := range s.e.Routes() {
		// Signing out (here or everywhere) would end the user's session
		// for every route after it; it has its own tests.
		if rt.Method == http.MethodPost && !strings.HasPrefix(rt.Path, "/sandbox/") && rt.Path != "/signout" &&
			!strings.HasSuffix(rt.Path, "/sign-out-everywhere") {
			paths = append(paths, rt.Path)
		}
	}
	slices.Sort(paths) // the same requests every run
	if len(paths) < 25 {
		t.Fatalf("only %d POST routes found: %v", len(paths), paths)
	}
	r := rand.New(rand.NewPCG(10, 2026))
	fill := func(p string) string {
		parts := strings.Split(p, "/")
		for i, part := range parts {
			if vs, ok := routeParams[part]; ok {
				parts[i] = url.PathEscape(vs[r.IntN(len(vs))])
			}
		}
		return strings.Join(parts, "/")
	}
	before := fingerprint(t, d)
	requests := 0
	for _, p := range paths {
		for _, u := range users {
			for range 6 {
				target := fill(p)
				body := randomForm(r, u.csrf).Encode()
				req, _ := http.NewRequest(http.MethodPost, srv.URL+target, strings.NewReader(body))
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
				if r.IntN(4) == 0 {
					req.Header.Set("X-CSRF-Token", u.csrf)
				}
				res, err := u.c.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, res.Body)
				res.Body.Close()
				requests++
				if res.StatusCode >= 500 {
					t.Errorf("%s POST %s %q: %s", u.name, target, body, res.Status)
				}
				after := fingerprint(t, d)
				refused := res.StatusCode >= 400 && res.StatusCode != http.StatusPaymentRequired
				if refused && after != before {
					t.Errorf("%s POST %s %q was refused (%s) but changed the data", u.name, target, body, res.Status)
				}
				if u.name != "alice" && after != before {
					t.Errorf("%s POST %s %q changed the data (%s)", u.name, target, body, res.Status)
				}
				before = after
			}
		}
	}
	t.Logf("%d POST routes, %d requests", len(paths), requests)
}

// The staff console's forms get the same treatment as the admin forms:
// random bodies posted by a staff member to every staff POST route (but
// the two that start background jobs, renewal runs and code generation,
// which have their own tests): no answer is a 5xx, a refused request
// changes nothing, and whatever was stored is within bounds (campaign ids
// fit a URL, face values at most the highest plan fee, names and labels
// clean).
func TestRandomPostsToStaffForms(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	d, dbURL := dbtest.New(t)
	store := db.New(d, billing.SystemClock, nil)
	if _, err := store.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	s := New(Config{DatabaseURL: dbURL}, store)
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := string(csrfValue.FindSubmatch(b)[1])
	if res, err := c.PostForm(srv.URL+"/signin", url.Values{"login": {"staff"}, "password": {db.DemoPassword}, "_csrf": {csrf}}); err != nil || res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in staff: %v %v", res.Status, err)
	}

	var paths []string
	for _, rt := range s.e.Routes() {
		if rt.Method == http.MethodPost && strings.HasPrefix(rt.Path, "/staff/") && rt.Path != "/staff/renewals/:month" &&
			rt.Path != "/staff/campaigns/:id/codes" {
			paths = append(paths, rt.Path)
		}
	}
	slices.Sort(paths)
	if len(paths) < 6 {
		t.Fatalf("only %d staff POST routes: %v", len(paths), paths)
	}
	// The staff forms' own words, and the values issue 17 probed with.
	staffValues := append(slices.Clone(formValues), "9223372036854775807", "1200", "1201", "800", "q?x=1#f", "a/b", "summer-2024",
		"\u200b", "\u202e", "名\u202e稱", "win-"+strings.Repeat("x", 40), "2024-06-07T00:00", "2024-08-31T23:59", "TW", "credit_card",
		"light>medium", "medium", strings.Repeat("名", 61))
	ids := []string{"summer-2024", "x", "q%3Fx=1%23f", "a%2Fb", "nope", "1"}
	r := rand.New(rand.NewPCG(17, 2026))
	before := fingerprint(t, d)
	for _, p := range paths {
		for range 40 {
			target := strings.ReplaceAll(strings.ReplaceAll(p, ":id", ids[r.IntN(len(ids))]), ":month", "2026-11")
			f := url.Values{"_csrf": {csrf}}
			fields := []string{"id", "name", "face", "from", "until", "zone", "regions", "kinds", "upgrades", "renewals", "label", "scenario", "n"}
			if r.IntN(2) == 0 {
				// A good campaign form with one or two fields spoiled, so
				// that many get as far as the store.
				f = url.Values{"_csrf": {csrf}, "id": {fmt.Sprintf("c%d", r.IntN(1000))}, "name": {"冬季"}, "face": {"800"},
					"from": {"2026-12-01T00:00"}, "until": {"2026-12-31T00:00"}, "zone": {"Asia/Taipei"}, "label": {"ci"}}
				for range 1 + r.IntN(2) {
					f.Set(fields[r.IntN(len(fields))], staffValues[r.IntN(len(staffValues))])
				}
			} else {
				for _, k := range fields {
					if r.IntN(3) > 0 {
						f.Add(k, staffValues[r.IntN(len(staffValues))])
					}
				}
			}
			req, _ := http.NewRequest(http.MethodPost, srv.URL+target, strings.NewReader(f.Encode()))
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			res, err := c.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode >= 500 {
				t.Errorf("POST %s %q: %s", target, f.Encode(), res.Status)
			}
			after := fingerprint(t, d)
			if res.StatusCode >= 400 && after != before {
				t.Errorf("POST %s %q was refused (%s) but changed the data", target, f.Encode(), res.Status)
			}
			before = after
		}
	}
	var camps []struct {
		ID   string `db:"id"`
		Name string `db:"name"`
		Face int64  `db:"face_value"`
	}
	if err := d.Select(&camps, `SELECT id, name, face_value FROM campaigns`); err != nil {
		t.Fatal(err)
	}
	for _, cp := range camps {
		if _, err := billing.CleanText("name", cp.Name, billing.MaxCampaignName); !billing.ValidID(cp.ID) || cp.Face < 1 || cp.Face > 1200 || err != nil {
			t.Errorf("stored out of bounds: campaign %q %q face %d (%v)", cp.ID, cp.Name, cp.Face, err)
		}
	}
	var labels []string
	if err := d.Select(&labels, `SELECT label FROM staff_api_tokens`); err != nil {
		t.Fatal(err)
	}
	for _, l := range labels {
		if _, err := billing.CleanText("label", l, billing.MaxLabel); l != "" && err != nil {
			t.Errorf("stored token label %q: %v", l, err)
		}
	}
	t.Logf("%d staff POST routes, %d campaigns stored", len(paths), len(camps))
}
