package web_test

import (
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"webstore/billing"
	"webstore/db"
	"webstore/web/lineauth"
)

// readPage GETs target with hc (following redirects), returning the
// response and its body.
func readPage(t *testing.T, hc *http.Client, target string) (*http.Response, string) {
	t.Helper()
	res, err := hc.Get(target)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// postPage POSTs form to target with hc (following redirects).
func postPage(t *testing.T, hc *http.Client, target string, form url.Values) (*http.Response, string) {
	t.Helper()
	res, err := hc.PostForm(target, form)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

func csrfOf(t *testing.T, body string) string {
	t.Helper()
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatal("no CSRF token on the page")
	}
	return m[1]
}

// joinByLine presses the invitation page's LINE button (testid) for tok
// and, at the sandbox, picks subject (lineauth.NewSubject for a new LINE
// user named name), returning where that lands.
func joinByLine(t *testing.T, hc *http.Client, base, tok, testid, subject, name string) (*http.Response, string) {
	t.Helper()
	res, body := readPage(t, hc, base+"/invite/"+tok)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `data-testid="`+testid+`"`) {
		t.Fatalf("invitation page: %d, no %s button", res.StatusCode, testid)
	}
	res, _ = postPage(t, hc, base+"/signin/line", url.Values{"_csrf": {csrfOf(t, body)}, "invite": {tok}})
	if !strings.HasSuffix(res.Request.URL.Path, "/sandbox/line-login/authorize") {
		t.Fatalf("the LINE button led to %s, want the sandbox's authorize page", res.Request.URL)
	}
	form := res.Request.URL.Query()
	form.Set("subject", subject)
	form.Set("new_name", name)
	return postPage(t, hc, res.Request.URL.String(), form)
}

func userByLogin(t *testing.T, a app, login string) int64 {
	t.Helper()
	var id int64
	if err := a.Store.DB.Get(&id, `SELECT id FROM users WHERE login=$1`, login); err != nil {
		t.Fatalf("user %s: %v", login, err)
	}
	return id
}

func roleIn(t *testing.T, a app, account string, userID int64) billing.Role {
	t.Helper()
	var r billing.Role
	err := a.Store.DB.Get(&r, `SELECT role FROM memberships WHERE account_id=$1 AND user_id=$2`, account, userID)
	if err != nil {
		return ""
	}
	return r
}

// A new person: the invitation link, opened signed out, is its own
// sign-in page naming the account and who sent it; 使用 LINE 帳號登入並加入
// → the sandbox's "a new LINE user" → they are a member with the
// invitation's role, named as LINE names them, signed in on the account's
// page. The link is then spent: a second person with it is told so and no
// user is made for them; the first person signs in with LINE again later.
func TestJoinWithLineAsNewPerson(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	alice := userByLogin(t, a, "alice")
	tok, _, err := a.Store.CreateInvitation(t.Context(), "test", "bear", billing.RoleOperator, alice)
	if err != nil {
		t.Fatal(err)
	}
	mei := lineBrowser()
	res, body := readPage(t, mei, a.URL+"/invite/"+tok)
	for _, want := range []string{"Alice 林 邀請您以「操作人員」的權限加入官方帳號「熊美服飾店」。", `data-testid="invite-from">Alice 林<`,
		`data-testid="invite-line"`, `data-testid="invite-signin"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the invitation's sign-in page (%d) lacks %q", res.StatusCode, want)
		}
	}
	res, body = joinByLine(t, mei, a.URL, tok, "invite-line", lineauth.NewSubject, "陳美玲")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/a/bear/menu" || !strings.Contains(body, "熊美服飾店") ||
		!strings.Contains(body, "您已加入此帳號。") {
		t.Fatalf("after joining: %d at %s", res.StatusCode, res.Request.URL)
	}
	var u struct {
		ID      int64  `db:"id"`
		Name    string `db:"display_name"`
		Subject string `db:"line_subject"`
	}
	if err := a.Store.DB.Get(&u, `SELECT id, display_name, line_subject FROM users WHERE display_name='陳美玲'`); err != nil {
		t.Fatalf("no user made for the new person: %v", err)
	}
	if got := roleIn(t, a, "bear", u.ID); got != billing.RoleOperator {
		t.Errorf("the new person's role in bear = %q, want operator", got)
	}
	// The account's members page, as the new person sees it, lists them.
	if res, body := readPage(t, mei, a.URL+"/m/bear/members"); res.StatusCode != http.StatusOK || !strings.Contains(body, "陳美玲") {
		t.Errorf("members page: %d, without 陳美玲", res.StatusCode)
	}

	// A second person with the same link: the page says it is used and
	// offers no way in; forcing the LINE join anyway makes no user.
	other := lineBrowser()
	res, body = readPage(t, other, a.URL+"/invite/"+tok)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "此邀請連結已被使用") || strings.Contains(body, `data-testid="invite-line"`) {
		t.Errorf("reused link: %d", res.StatusCode)
	}
	_, signin := readPage(t, other, a.URL+"/signin")
	res, _ = postPage(t, other, a.URL+"/signin/line", url.Values{"_csrf": {csrfOf(t, signin)}, "invite": {tok}})
	form := res.Request.URL.Query()
	form.Set("subject", lineauth.NewSubject)
	form.Set("new_name", "Thief")
	res, body = postPage(t, other, res.Request.URL.String(), form)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "此邀請連結已被使用") {
		t.Errorf("forced join with a used link: %d at %s", res.StatusCode, res.Request.URL)
	}
	var n int
	a.Store.DB.Get(&n, `SELECT count(*) FROM users WHERE display_name='Thief'`)
	if n != 0 {
		t.Errorf("a used link made %d users", n)
	}
	if signedIn(t, httpUser{c: noFollow(other)}, a.URL) {
		t.Error("the refused person is signed in")
	}

	// Later, from another phone, 陳美玲 signs in with LINE as herself.
	again := lineBrowser()
	res, _ = pickPerson(t, again, a.URL+"/signin/line", u.Subject)
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/a/bear/menu" {
		t.Errorf("signing in again with LINE: %d at %s, want her only account", res.StatusCode, res.Request.URL)
	}
}

// noFollow is hc's cookies in a client that does not follow redirects.
func noFollow(hc *http.Client) *http.Client {
	return &http.Client{Jar: hc.Jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// passwordSignIn signs hc in with a login and the demo password.
func passwordSignIn(t *testing.T, hc *http.Client, base, login string) {
	t.Helper()
	_, body := readPage(t, hc, base+"/signin")
	res, _ := postPage(t, hc, base+"/signin", url.Values{"_csrf": {csrfOf(t, body)}, "login": {login}, "password": {db.DemoPassword}})
	if res.StatusCode != http.StatusOK || strings.HasPrefix(res.Request.URL.Path, "/signin") {
		t.Fatalf("password sign-in as %s: %d at %s", login, res.StatusCode, res.Request.URL)
	}
}

// Someone with a password joins and links LINE: kenji (no LINE account
// linked) opens the link signed in, 連結 LINE 帳號並加入 → a LINE account
// → he is a member with the invitation's role, still kenji, and LINE signs
// him in from then on. A LINE account already someone else's is refused
// on the invitation's page, and the link stays good.
func TestJoinWithLineLinksPasswordUser(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	alice, kenji := userByLogin(t, a, "alice"), userByLogin(t, a, "kenji")
	if _, err := a.Store.DB.Exec(`UPDATE users SET line_subject=NULL WHERE id=$1`, kenji); err != nil {
		t.Fatal(err)
	}
	tok, _, err := a.Store.CreateInvitation(t.Context(), "test", "bear", billing.RoleOperatorNoBroadcast, alice)
	if err != nil {
		t.Fatal(err)
	}
	hc := lineBrowser()
	passwordSignIn(t, hc, a.URL, "kenji")
	// The signed-in invitation page offers both ways in.
	if _, body := readPage(t, hc, a.URL+"/invite/"+tok); !strings.Contains(body, `data-testid="invite-accept"`) || strings.Contains(body, `data-testid="invite-line"`) {
		t.Error("signed in: want 加入 and 連結 LINE 帳號並加入, not the signed-out LINE button")
	}
	// Alice's LINE account is not kenji's to take.
	res, body := joinByLine(t, hc, a.URL, tok, "invite-line-link", db.DemoLineSubject("alice"), "")
	if res.StatusCode != http.StatusConflict || !strings.Contains(body, billing.CodeMessage(billing.ELineTaken, "zh-TW")) ||
		!strings.Contains(body, `data-testid="invite-accept"`) {
		t.Errorf("linking alice's LINE: %d at %s", res.StatusCode, res.Request.URL)
	}
	if roleIn(t, a, "bear", kenji) != "" {
		t.Error("a refused link joined")
	}
	res, body = joinByLine(t, hc, a.URL, tok, "invite-line-link", lineauth.NewSubject, "Kenji on LINE")
	if res.StatusCode != http.StatusOK || res.Request.URL.Path != "/a/bear/menu" || !strings.Contains(body, "您已加入此帳號。") {
		t.Fatalf("link and join: %d at %s", res.StatusCode, res.Request.URL)
	}
	if got := roleIn(t, a, "bear", kenji); got != billing.RoleOperatorNoBroadcast {
		t.Errorf("kenji's role in bear = %q", got)
	}
	var sub, name string
	a.Store.DB.Get(&sub, `SELECT line_subject FROM users WHERE id=$1`, kenji)
	a.Store.DB.Get(&name, `SELECT display_name FROM users WHERE id=$1`, kenji)
	if sub == "" || name == "Kenji on LINE" {
		t.Errorf("kenji: subject %q, name %q; want linked, his own name kept", sub, name)
	}
	// Now LINE signs him in, to both his accounts.
	res, body = pickPerson(t, lineBrowser(), a.URL+"/signin/line", sub)
	if res.Request.URL.Path != "/accounts" || !strings.Contains(body, "熊美服飾店") || !strings.Contains(body, "東京ラーメン") {
		t.Errorf("kenji by LINE: %d at %s", res.StatusCode, res.Request.URL)
	}
	// The signed-in page no longer offers a second link.
	tok2, _, _ := a.Store.CreateInvitation(t.Context(), "test", "cat", billing.RoleOperator, alice)
	if _, body := readPage(t, hc, a.URL+"/invite/"+tok2); strings.Contains(body, `data-testid="invite-line-link"`) {
		t.Error("a linked user is offered to link LINE again")
	}
}

// Invitations that cannot be used, through LINE: expired, revoked, and a
// join callback carried to another browser (its state check fails, the
// link stays good for its owner). None makes a user or a member.
func TestJoinWithLineRefused(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	alice := userByLogin(t, a, "alice")
	tok, _, _ := a.Store.CreateInvitation(t.Context(), "test", "bear", billing.RoleOperator, alice)

	// A callback of a join, stolen: no sign-in, nothing used.
	victim := lineBrowser()
	victim.CheckRedirect = func(r *http.Request, _ []*http.Request) error {
		if r.URL.Path == "/signin/line/callback" {
			return http.ErrUseLastResponse
		}
		return nil
	}
	res, _ := joinByLine(t, victim, a.URL, tok, "invite-line", lineauth.NewSubject, "Victim")
	cb := res.Header.Get("Location")
	if !strings.Contains(cb, "/signin/line/callback") {
		t.Fatalf("no callback to steal: %d %q", res.StatusCode, cb)
	}
	res, _ = readPage(t, lineBrowser(), cb)
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("stolen join callback: %d, want 401", res.StatusCode)
	}
	if _, err := a.Store.FindInvitation(t.Context(), tok); err != nil {
		t.Errorf("the stolen callback used the link: %v", err)
	}

	// Expired: the page says so and offers no way in; a join forced
	// through LINE is refused the same way.
	a.Clock.Set(testNow.Add(db.InvitationTTL))
	hc := lineBrowser()
	res, body := readPage(t, hc, a.URL+"/invite/"+tok)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "此邀請連結已過期") || strings.Contains(body, `data-testid="invite-line"`) {
		t.Errorf("expired link: %d", res.StatusCode)
	}
	_, signin := readPage(t, hc, a.URL+"/signin")
	res, _ = postPage(t, hc, a.URL+"/signin/line", url.Values{"_csrf": {csrfOf(t, signin)}, "invite": {tok}})
	form := res.Request.URL.Query()
	form.Set("subject", lineauth.NewSubject)
	form.Set("new_name", "Late")
	res, body = postPage(t, hc, res.Request.URL.String(), form)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "此邀請連結已過期") {
		t.Errorf("forced join on an expired link: %d at %s", res.StatusCode, res.Request.URL)
	}
	// Revoked.
	a.Clock.Set(testNow)
	tok2, inv, _ := a.Store.CreateInvitation(t.Context(), "test", "bear", billing.RoleAdmin, alice)
	if err := a.Store.RevokeInvitation(t.Context(), "test", "bear", inv.ID); err != nil {
		t.Fatal(err)
	}
	if res, body := readPage(t, lineBrowser(), a.URL+"/invite/"+tok2); res.StatusCode != http.StatusNotFound || !strings.Contains(body, "此邀請連結無效或已被取消") {
		t.Errorf("revoked link: %d", res.StatusCode)
	}
	var n int
	a.Store.DB.Get(&n, `SELECT count(*) FROM users WHERE login LIKE 'line-%'`)
	if n != 0 {
		t.Errorf("refused joins made %d users", n)
	}
}
