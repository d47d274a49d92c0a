package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/db"
	"webstore/web"
	"webstore/web/lineauth"
)

// lineLoginSandbox is LINE Login against the local sandbox served at base,
// as `make run` wires it.
func lineLoginSandbox(t testing.TB, base string, d *sqlx.DB) (*lineauth.Client, http.Handler) {
	t.Helper()
	cl := &lineauth.Client{Issuer: base + "/sandbox/line-login", ChannelID: "2000000000", ChannelSecret: "sandbox-line-login-secret",
		RedirectURL: base + "/signin/line/callback"}
	sb, err := lineauth.NewSandbox(lineauth.SandboxConfig{Issuer: cl.Issuer, BasePath: "/sandbox/line-login", ChannelID: cl.ChannelID,
		ChannelSecret: cl.ChannelSecret, People: web.LinePeople(d)})
	if err != nil {
		t.Fatal(err)
	}
	return cl, sb
}

// lineBrowser is an HTTP client that follows redirects and keeps cookies,
// as a browser does.
func lineBrowser() *http.Client {
	jar, _ := cookiejar.New(nil)
	return &http.Client{Jar: jar}
}

var personButton = regexp.MustCompile(`name="subject" value="(U[0-9a-f]{32})"`)

// pickPerson follows a LINE sign-in to the sandbox's authorize page and
// chooses subject there (or cancels), returning where that lands.
func pickPerson(t *testing.T, hc *http.Client, start, subject string) (*http.Response, string) {
	t.Helper()
	res, err := hc.Get(start)
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, res.Body)
	res.Body.Close()
	if !strings.Contains(res.Request.URL.Path, "/sandbox/line-login/authorize") {
		t.Fatalf("landed on %s, want the sandbox's authorize page", res.Request.URL)
	}
	form := res.Request.URL.Query()
	if subject == "" {
		form.Set("cancel", "1")
	} else {
		form.Set("subject", subject)
	}
	res, err = hc.PostForm(res.Request.URL.String(), form)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	return res, string(body)
}

// Signing in with LINE: the sandbox lists the demo people; choosing alice
// signs her in (her accounts), with state, nonce and PKCE checked on the
// way; a callback in another browser, a replayed code or a cancelled
// sign-in signs nobody in.
func TestLineLogin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	alice := db.DemoLineSubject("alice")
	hc := lineBrowser()
	res, body := pickPerson(t, hc, a.URL+"/signin/line?next=/a/cat/plan", alice)
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/a/cat/plan" || !strings.Contains(body, "貓咪咖啡") {
		t.Fatalf("after choosing alice: %d at %s", res.StatusCode, res.Request.URL)
	}
	// The authorize page lists every demo person.
	if res, err := hc.Get(a.URL + "/signin/line"); err == nil {
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if n := len(personButton.FindAllString(string(b), -1)); n < 4 {
			t.Errorf("the sandbox lists %d people", n)
		}
	}

	// Cancelled at LINE: back on the sign-in page, nobody signed in.
	other := lineBrowser()
	res, body = pickPerson(t, other, a.URL+"/signin/line", "")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "LINE 登入未完成") {
		t.Errorf("cancelled: %d %s", res.StatusCode, res.Request.URL)
	}

	// A callback carried to another browser (no flow cookie there) fails
	// its state check, even with a good code.
	thief := lineBrowser()
	victim := lineBrowser()
	victim.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/signin/line/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, _ = pickPerson(t, victim, a.URL+"/signin/line", alice)
	cb, err := url.Parse(res.Header.Get("Location"))
	if err != nil || cb.Path != "/signin/line/callback" || cb.Query().Get("code") == "" {
		t.Fatalf("no callback to steal: %v %v", res.Header.Get("Location"), err)
	}
	res, err = thief.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("stolen callback: %d, want 401", res.StatusCode)
	}
	// The rightful browser completes it; the code then cannot be replayed.
	res, err = victim.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/accounts" {
		t.Errorf("callback in the right browser: %d at %s, want alice's accounts", res.StatusCode, res.Request.URL)
	}
	res, err = victim.Get(cb.String())
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("replayed callback: %d, want 401", res.StatusCode)
	}
}

// In Chromium at phone width: 使用 LINE 登入 → the sandbox → alice → her
// accounts.
func TestPhoneLineLoginInBrowser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	b := browser(t, 375, 812)
	do(t, b, chromedp.Navigate(a.URL+"/signin"), chromedp.WaitVisible(tid("signin-line")))
	do(t, b, chromedp.Click(tid("signin-line")), chromedp.WaitVisible(tid("line-person-"+db.DemoLineSubject("alice"))))
	shot(t, b, "phone-line-login")
	do(t, b, chromedp.Click(tid("line-person-"+db.DemoLineSubject("alice"))), chromedp.WaitVisible(tid("account-cat")))
}

// In Chromium at phone width, a new person: the invitation link → 使用
// LINE 帳號登入並加入 → the sandbox's new LINE user → the account's menu,
// joined.
func TestPhoneJoinWithLineInBrowser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	var alice int64
	if err := a.Store.DB.Get(&alice, `SELECT id FROM users WHERE login='alice'`); err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Store.CreateInvitation(t.Context(), "test", "bear", billing.RoleOperator, alice)
	if err != nil {
		t.Fatal(err)
	}
	b := browser(t, 375, 812)
	do(t, b, chromedp.Navigate(a.URL+"/invite/"+tok), chromedp.WaitVisible(tid("invite-line")))
	if got := text(t, b, tid("invite-from")); got != "Alice 林" {
		t.Errorf("invited by %q", got)
	}
	shot(t, b, "phone-invite-line")
	do(t, b, chromedp.Click(tid("invite-line")), chromedp.WaitVisible(tid("line-new-person")),
		chromedp.SetValue(tid("line-new-name"), "陳美玲"), chromedp.Click(tid("line-new-person")), chromedp.WaitVisible(tid("notice")))
	if got := text(t, b, tid("notice")); got != "您已加入此帳號。" {
		t.Errorf("notice = %q", got)
	}
	loc, _ := chromedp.Run(b, chromedp.Location())
	if !strings.HasSuffix(strings.SplitN(loc, "?", 2)[0], "/a/bear/menu") {
		t.Errorf("landed on %s, want bear's menu", loc)
	}
	var role billing.Role
	if err := a.Store.DB.Get(&role, `SELECT m.role FROM memberships m JOIN users u ON u.id=m.user_id WHERE u.display_name='陳美玲' AND m.account_id='bear'`); err != nil || role != billing.RoleOperator {
		t.Errorf("陳美玲 in bear: %q %v", role, err)
	}
}
