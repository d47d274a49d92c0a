package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/sim"
	"webstore/web"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// newStaffApp is newApp with the simulator's database configured (the
// staff simulator makes its throwaway schemas there).
func newStaffApp(t *testing.T) app {
	t.Helper()
	d, dbURL := dbtest.Clone(t, seededTemplate(t))
	clk := billingtest.NewClock(testNow)
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	lp := &linepay.Client{BaseURL: srv.URL + "/sandbox/linepay", ChannelID: "1656000000", ChannelSecret: "sandbox-channel-secret"}
	cards := &cardgw.Client{BaseURL: srv.URL + "/sandbox/card", SecretKey: "sk_sandbox"}
	store := db.New(d, clk, payments.Gateway{LinePay: lp, Cards: cards})
	handler = web.New(web.Config{
		LinePay: lp, Cards: cards, CardPublicKey: "pk_sandbox", DatabaseURL: dbURL, BaseURL: srv.URL,
		SandboxLinePay: linepay.NewSandbox(d, linepay.SandboxConfig{ChannelID: lp.ChannelID, ChannelSecret: lp.ChannelSecret, BasePath: "/sandbox/linepay"}),
		SandboxCards:   cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: "pk_sandbox", SecretKey: "sk_sandbox", BasePath: "/sandbox/card"}),
	}, store)
	return app{URL: srv.URL, Store: store, Clock: clk, LinePay: lp}
}

// httpUser is a signed-in HTTP client (no browser) and its CSRF token.
type httpUser struct {
	c    *http.Client
	csrf string
}

var csrfField = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

func httpSignIn(t *testing.T, base, login string, extra url.Values) httpUser {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := csrfField.FindSubmatch(body)
	if m == nil {
		t.Fatalf("no CSRF token on the sign-in page")
	}
	form := url.Values{"login": {login}, "password": {db.DemoPassword}, "_csrf": {string(m[1])}}
	for k, v := range extra {
		form[k] = v
	}
	res, err = c.PostForm(base+"/signin", form)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in %s: %s", login, res.Status)
	}
	return httpUser{c: c, csrf: string(m[1])}
}

func (u httpUser) do(t *testing.T, method, target, contentType string, body io.Reader) (int, string) {
	t.Helper()
	req, _ := http.NewRequest(method, target, body)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	req.Header.Set("X-CSRF-Token", u.csrf)
	req.Header.Set("Accept-Language", "zh-TW")
	res, err := u.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

// staffRoutes is every staff route, with a realistic path and body.
var staffRouteTable = []struct{ method, path, body string }{
	{"GET", "/staff", ""},
	{"GET", "/staff/accounts?q=cat", ""},
	{"GET", "/staff/accounts/cat", ""},
	{"GET", "/staff/preview?account=cat&action=upgrade&plan=high", ""},
	{"GET", "/staff/simulate", ""},
	{"POST", "/staff/simulate", "scenario=%7B%7D"},
	{"GET", "/staff/campaigns", ""},
	{"POST", "/staff/campaigns", "id=x&face=1&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei"},
	{"GET", "/staff/campaigns/summer-2024", ""},
	{"POST", "/staff/campaigns/summer-2024", "face=1&from=2026-12-01T00:00&until=2026-12-31T00:00&zone=Asia/Taipei"},
	{"POST", "/staff/campaigns/summer-2024/codes", "n=5"},
	{"GET", "/staff/campaigns/summer-2024/codes.csv", ""},
	{"GET", "/staff/campaigns/summer-2024/jobs/1", ""},
	{"GET", "/staff/campaigns/summer-2024/jobs/1/progress", ""},
	{"GET", "/staff/renewals?month=2026-11", ""},
	{"GET", "/staff/renewals/2026-11", ""},
	{"POST", "/staff/renewals/2026-11", ""},
	{"GET", "/staff/renewals/2026-11/progress", ""},
	{"POST", "/staff/charges/1/retry", ""},
	{"GET", "/staff/charges/1", ""},
	{"POST", "/staff/charges/1/refund", "reason=x&key=brand-user"},
	{"GET", "/staff/einvoices", ""},
	{"POST", "/staff/einvoices/books", "csv=year_month%2Ctrack%2Cbegin%2Cend%0A11602%2CXY%2C00000000%2C00000049"},
	{"GET", "/staff/einvoices/messages/1.xml", ""},
	{"GET", "/staff/audit?account=cat", ""},
	{"GET", "/staff/tokens", ""},
	{"POST", "/staff/tokens", "label=x"},
	{"POST", "/staff/tokens/revoke", "id=00"},
}

// Brand users (admin, operator, another region's admin) reach no staff page
// or API: every route answers 404 (or 403) and shows nothing of the
// console; nothing is written. A staff flag in the sign-in form changes
// nothing.
func TestStaffRoutesRefuseBrandUsers(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	var auditBefore int
	a.Store.DB.Get(&auditBefore, `SELECT count(*) FROM audit_log`)
	leaks := []string{"帳務後台", "Billing console", "SUMMER", "貓咪咖啡", "續約作業", "優惠活動代碼"}
	for _, login := range []string{"alice", "oscar", "kenji"} {
		u := httpSignIn(t, a.URL, login, url.Values{"is_staff": {"true"}, "staff": {"1"}, "role": {"staff"}})
		for _, r := range staffRouteTable {
			ct := ""
			if r.method == "POST" {
				ct = "application/x-www-form-urlencoded"
			}
			status, body := u.do(t, r.method, a.URL+r.path, ct, strings.NewReader(r.body))
			if status != http.StatusNotFound && status != http.StatusForbidden {
				t.Errorf("%s %s %s: %d, want 404 or 403", login, r.method, r.path, status)
			}
			for _, l := range leaks {
				if strings.Contains(body, l) {
					t.Errorf("%s %s %s: the response mentions %q", login, r.method, r.path, l)
				}
			}
		}
		// The API, with the brand user's session cookie, and with their
		// account's usage API token as a bearer token.
		sc, _ := os.ReadFile(filepath.Join("..", "testdata", "scenarios", "e1-light-to-medium-with-code.json"))
		if status, body := u.do(t, "POST", a.URL+"/staff/api/simulate", "application/json", bytes.NewReader(sc)); status != http.StatusNotFound || strings.Contains(body, "results") {
			t.Errorf("%s POST /staff/api/simulate with a session: %d %s", login, status, body)
		}
	}
	tok, err := a.Store.CreateAPIToken(context.Background(), "test", "bear", "usage")
	if err != nil {
		t.Fatal(err)
	}
	for _, auth := range []string{"", "Bearer " + tok, "Bearer wss_nope"} {
		req, _ := http.NewRequest("POST", a.URL+"/staff/api/simulate", strings.NewReader(`{}`))
		req.Header.Set("Content-Type", "application/json")
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		if res.StatusCode != http.StatusUnauthorized {
			t.Errorf("POST /staff/api/simulate with %q: %d, want 401", auth, res.StatusCode)
		}
	}
	// Anonymous visitors are sent to sign in; their POSTs are refused.
	anon := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, r := range staffRouteTable {
		req, _ := http.NewRequest(r.method, a.URL+r.path, strings.NewReader(r.body))
		res, err := anon.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		ok := r.method == "GET" && res.StatusCode == http.StatusSeeOther && strings.HasPrefix(res.Header.Get("Location"), "/signin") ||
			res.StatusCode == http.StatusNotFound || res.StatusCode == http.StatusForbidden
		if !ok || strings.Contains(string(b), "帳務後台") {
			t.Errorf("anonymous %s %s: %d", r.method, r.path, res.StatusCode)
		}
	}
	var auditAfter int
	a.Store.DB.Get(&auditAfter, `SELECT count(*) FROM audit_log WHERE kind NOT LIKE 'api_token.%'`)
	if auditAfter != auditBefore {
		t.Errorf("brand users' requests wrote %d audit entries", auditAfter-auditBefore)
	}
	// Staff themselves reach every GET page.
	st := httpSignIn(t, a.URL, "staff", nil)
	for _, r := range staffRouteTable {
		// (Jobs, runs, charges and messages the demo data does not hold
		// answer 404 to staff too.)
		if r.method != "GET" || strings.Contains(r.path, "/jobs/") || strings.HasPrefix(r.path, "/staff/renewals/") ||
			strings.HasPrefix(r.path, "/staff/charges/") || strings.HasPrefix(r.path, "/staff/einvoices/messages/") {
			continue
		}
		if status, body := st.do(t, "GET", a.URL+r.path, "", nil); status != http.StatusOK && status != http.StatusSeeOther {
			t.Errorf("staff GET %s: %d\n%s", r.path, status, body)
		}
	}
}

// POST /staff/api/simulate takes and returns the CLI's JSON, with a staff
// API token made in the console or a staff session.
func TestStaffAPISimulateMatchesCLI(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	st := httpSignIn(t, a.URL, "staff", nil)
	status, body := st.do(t, "POST", a.URL+"/staff/tokens", "application/x-www-form-urlencoded", strings.NewReader("label=ci"))
	m := regexp.MustCompile(`wss_[A-Za-z0-9_-]+`).FindString(body)
	if status != http.StatusCreated || m == "" {
		t.Fatalf("create token: %d", status)
	}
	files, _ := filepath.Glob(filepath.Join("..", "testdata", "scenarios", "*.json"))
	if len(files) == 0 {
		t.Fatal("no scenario files")
	}
	simulator := sim.New(dbtest.URL(t))
	defer simulator.Close()
	for _, f := range files {
		data, _ := os.ReadFile(f)
		req, _ := http.NewRequest("POST", a.URL+"/staff/api/simulate", bytes.NewReader(data))
		req.Header.Set("Authorization", "Bearer "+m)
		req.Header.Set("Content-Type", "application/json")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var got sim.Output
		err = json.NewDecoder(res.Body).Decode(&got)
		res.Body.Close()
		if res.StatusCode != 200 || err != nil {
			t.Fatalf("%s: %d %v", f, res.StatusCode, err)
		}
		sc, _ := sim.ParseScenario(data)
		want, err := simulator.Simulate(context.Background(), sc)
		if err != nil {
			t.Fatal(err)
		}
		if !got.Passed || !reflect.DeepEqual(got, want) {
			t.Errorf("%s: API %+v\nCLI path %+v", filepath.Base(f), got, want)
		}
	}
	// With the session cookie the body must be JSON.
	if status, _ := st.do(t, "POST", a.URL+"/staff/api/simulate", "text/plain", strings.NewReader("{}")); status != http.StatusUnsupportedMediaType {
		t.Errorf("session + text/plain: %d, want 415", status)
	}
	if status, body := st.do(t, "POST", a.URL+"/staff/api/simulate", "application/json", strings.NewReader(`{"accounts":[{"id":"a","region":"TW","plan":"gold"}]}`)); status != http.StatusBadRequest || !strings.Contains(body, "accounts[0].plan") {
		t.Errorf("malformed: %d %s", status, body)
	}
}

// A running job's page reloads itself without JavaScript (a refresh in
// <noscript>) and polls its progress fragment with htmx; a finished one
// offers the CSV and stops.
func TestStaffJobPageWithoutJS(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	st := httpSignIn(t, a.URL, "staff", nil)
	j, err := a.Store.CreateCodeJob(context.Background(), "staff:staff", "summer-2024", 5)
	if err != nil {
		t.Fatal(err)
	}
	page := a.URL + "/staff/campaigns/summer-2024/jobs/" + strconv.FormatInt(j.ID, 10)
	status, body := st.do(t, "GET", page, "", nil)
	if status != http.StatusOK || !strings.Contains(body, `<noscript><meta http-equiv="refresh" content="2">`) || !strings.Contains(body, `hx-trigger="every 1s"`) {
		t.Fatalf("running job page: %d\n%s", status, body)
	}
	if _, err := a.Store.GenerateCodes(context.Background(), "staff:staff", j.ID, billing.CodeGenerator{}); err != nil {
		t.Fatal(err)
	}
	status, body = st.do(t, "GET", page+"/progress", "", nil)
	if status != http.StatusOK || strings.Contains(body, "hx-trigger") || !strings.Contains(body, "codes.csv") {
		t.Errorf("finished job fragment: %d\n%s", status, body)
	}
}

// The console refuses to renew a month that has ended (or not begun), with
// the reason in the staff's language, and charges nothing.
func TestStaffRefusesARenewalOfAMonthNotInProgress(t *testing.T) {
	t.Parallel()
	a := newStaffApp(t)
	st := httpSignIn(t, a.URL, "staff", nil)
	now := billing.MonthOf(a.Clock.Now())
	for _, m := range []billing.Month{{Year: 2025, Month: 1}, now.Next()} {
		status, body := st.do(t, "POST", a.URL+"/staff/renewals/"+m.String(), "application/x-www-form-urlencoded", strings.NewReader(""))
		if status != http.StatusUnprocessableEntity || !strings.Contains(body, m.String()) || !strings.Contains(body, "只能續約進行中的月份") {
			t.Errorf("POST /staff/renewals/%s: %d, want 422 naming the month", m, status)
		}
	}
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM charges`); err != nil || n != 0 {
		t.Errorf("%d charges after refused renewals (%v)", n, err)
	}
}
