package web_test

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"webstore/billing"
)

const membersW, membersH = 1280, 900

func bearRoles(t *testing.T, a app) map[string]billing.Role {
	t.Helper()
	ms, err := a.Store.FindMembers(t.Context(), "bear")
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]billing.Role{}
	for _, m := range ms {
		got[m.Login] = m.Role
	}
	return got
}

func countNodes(t *testing.T, ctx context.Context, sel string) int {
	t.Helper()
	n, err := chromedp.Run(ctx, chromedp.Nodes(chromedp.CSS(sel), chromedp.AtLeast(0)))
	if err != nil {
		t.Fatal(err)
	}
	return len(n)
}

// An admin at the desktop manager's 權限管理 invites an operator; the link
// works once, for another user in another browser; the admin changes that
// member's role; taking away the account's only admin is refused on the
// page and changes nothing.
func TestDesktopMembersInviteChangeAndLastAdmin(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, membersW, membersH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx, chromedp.Navigate(a.URL+"/m/bear/members"), chromedp.WaitVisible(tid("members-table")))
	if got := text(t, ctx, tid("member-row-oscar")); !strings.Contains(got, "Oscar 王") || !strings.Contains(got, "oscar") {
		t.Errorf("oscar's row = %q", got)
	}
	if got := text(t, ctx, tid("no-invitations")); got != "目前沒有待接受的邀請。" {
		t.Errorf("pending invitations = %q", got)
	}

	// Invite an operator: the link is shown once, as an absolute URL.
	do(t, ctx,
		chromedp.SetValue(tid("invite-role"), string(billing.RoleOperator)),
		chromedp.Click(tid("invite-create")),
		chromedp.WaitVisible(tid("invite-link")),
	)
	link, err := chromedp.Run(ctx, chromedp.Value(tid("invite-link")))
	if err != nil || !strings.HasPrefix(link, a.URL+"/invite/") {
		t.Fatalf("invite link = %q, %v; want %s/invite/…", link, err, a.URL)
	}
	if got := text(t, ctx, tid("invitations-table")); !strings.Contains(got, "操作人員") || !strings.Contains(got, "Alice 林") {
		t.Errorf("pending invitations = %q", got)
	}
	shot(t, ctx, "desktop-members")

	// Kenji, in his own browser, opens the link and joins.
	kctx := browser(t, membersW, membersH)
	signIn(t, kctx, a.URL, "kenji")
	do(t, kctx, chromedp.Navigate(link), chromedp.WaitVisible(tid("invite-accept")))
	if got := text(t, kctx, tid("invite-account")); got != "熊美服飾店" {
		t.Errorf("invitation's account = %q", got)
	}
	if got := text(t, kctx, tid("invite-role-label")); got != "操作人員" {
		t.Errorf("invitation's role = %q", got)
	}
	shot(t, kctx, "desktop-invite")
	do(t, kctx, chromedp.Click(tid("invite-accept")), chromedp.WaitVisible(tid("members-table")))
	loc, _ := chromedp.Run(kctx, chromedp.Location())
	if !strings.HasPrefix(loc, a.URL+"/m/bear/members") {
		t.Errorf("after joining at %s, want the account's /m/bear/members", loc)
	}
	if got := text(t, kctx, tid("notice")); got != "您已加入此帳號。" {
		t.Errorf("notice = %q", got)
	}
	if got := bearRoles(t, a)["kenji"]; got != billing.RoleOperator {
		t.Fatalf("kenji's role in bear = %q, want operator", got)
	}
	// The link works once.
	do(t, kctx, chromedp.Navigate(link), chromedp.WaitVisible(tid("error")))
	if got := text(t, kctx, tid("error")); !strings.HasPrefix(got, "此邀請連結已被使用") {
		t.Errorf("second use: %q", got)
	}
	if countNodes(t, kctx, `[data-testid="invite-accept"]`) != 0 {
		t.Error("a used link still offers 加入")
	}

	// Alice changes kenji's role.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/m/bear/members"),
		chromedp.WaitVisible(tid("member-row-kenji")),
		chromedp.SetValue(tid("role-select-kenji"), string(billing.RoleOperatorNoBroadcast)),
		chromedp.Click(tid("role-change-kenji")),
		chromedp.WaitVisible(tid("notice")),
	)
	if got := text(t, ctx, tid("notice")); got != "已變更權限。" {
		t.Errorf("notice = %q", got)
	}
	if got := bearRoles(t, a)["kenji"]; got != billing.RoleOperatorNoBroadcast {
		t.Errorf("kenji's role = %q, want operator_no_broadcast", got)
	}

	// Alice is bear's only admin: neither removing nor demoting her goes.
	const lastAdmin = "帳號至少需要一位管理員。"
	do(t, ctx,
		chromedp.Click(tid("remove-alice")),
		chromedp.WaitVisible(tid("confirm-remove")),
		chromedp.Click(tid("confirm-remove-yes")),
		chromedp.WaitVisible(tid("error")),
	)
	if got := text(t, ctx, tid("error")); !strings.HasPrefix(got, lastAdmin) {
		t.Errorf("removing the last admin: %q, want %s…", got, lastAdmin)
	}
	shot(t, ctx, "desktop-members-last-admin")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/m/bear/members"),
		chromedp.WaitVisible(tid("role-select-alice")),
		chromedp.SetValue(tid("role-select-alice"), string(billing.RoleOperator)),
		chromedp.Click(tid("role-change-alice")),
		chromedp.WaitVisible(tid("error")),
	)
	if got := text(t, ctx, tid("error")); !strings.HasPrefix(got, lastAdmin) {
		t.Errorf("demoting the last admin: %q, want %s…", got, lastAdmin)
	}
	want := map[string]billing.Role{"alice": billing.RoleAdmin, "oscar": billing.RoleOperator, "kenji": billing.RoleOperatorNoBroadcast}
	if got := bearRoles(t, a); len(got) != len(want) || got["alice"] != want["alice"] || got["oscar"] != want["oscar"] || got["kenji"] != want["kenji"] {
		t.Errorf("bear after the refusals = %v, want %v", got, want)
	}

	// Removing someone else takes the second click.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/m/bear/members"),
		chromedp.WaitVisible(tid("remove-kenji")),
		chromedp.Click(tid("remove-kenji")),
		chromedp.WaitVisible(tid("confirm-remove")),
	)
	if _, in := bearRoles(t, a)["kenji"]; !in {
		t.Fatal("kenji was removed before the confirmation")
	}
	do(t, ctx, chromedp.Click(tid("confirm-remove-yes")), chromedp.WaitVisible(tid("notice")))
	if _, in := bearRoles(t, a)["kenji"]; in {
		t.Error("kenji is still a member after the confirmed removal")
	}
}

// An operator sees the members read-only, without any action, and a forged
// invitation POST is refused.
func TestDesktopMembersOperatorReadOnly(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, membersW, membersH)
	signIn(t, ctx, a.URL, "oscar")
	do(t, ctx, chromedp.Navigate(a.URL+"/m/bear/members"), chromedp.WaitVisible(tid("members-table")))
	if got := text(t, ctx, tid("readonly")); !strings.Contains(got, "只有管理員") {
		t.Errorf("read-only note = %q", got)
	}
	if got := text(t, ctx, tid("role-alice")); got != "管理員" {
		t.Errorf("alice's role = %q", got)
	}
	for _, sel := range []string{`[data-testid^="role-select-"]`, `[data-testid^="remove-"]`, `[data-testid="invite-create"]`,
		`[data-testid="members-table"] button`, `[data-testid="invitations-table"]`} {
		if n := countNodes(t, ctx, sel); n != 0 {
			t.Errorf("an operator sees %d of %s", n, sel)
		}
	}
	shot(t, ctx, "desktop-members-operator")
	// Each change, posted anyway with a valid CSRF token so only the role
	// can refuse it, is a 403.
	var alice int64
	if err := a.Store.DB.Get(&alice, `SELECT id FROM users WHERE login='alice'`); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{"/m/bear/members/invite", "/a/bear/members/invite",
		fmt.Sprintf("/m/bear/members/%d/role", alice), fmt.Sprintf("/m/bear/members/%d/remove", alice),
		"/m/bear/members/invitations/00/revoke"} {
		status, err := chromedp.Run(ctx, chromedp.Evaluate[int](`(async () => {
			const f = new FormData(); f.append("role", "operator"); f.append("confirm", "yes");
			f.append("_csrf", document.querySelector('input[name=_csrf]').value);
			const r = await fetch(`+"`"+path+"`"+`, {method: "POST", body: new URLSearchParams(f)}); return r.status; })()`,
			chromedp.EvalAwaitPromise))
		if err != nil || status != http.StatusForbidden {
			t.Errorf("operator POST %s: status %d, %v; want 403", path, status, err)
		}
	}
	if got := bearRoles(t, a)["alice"]; got != billing.RoleAdmin {
		t.Errorf("alice's role = %q after the operator's posts", got)
	}
	var n int
	if err := a.Store.DB.Get(&n, `SELECT count(*) FROM invitations`); err != nil || n != 0 {
		t.Errorf("%d invitations, %v", n, err)
	}
}

// The same page on the phone webstore, in English: the table scrolls
// sideways inside its box rather than widening the page.
func TestPhoneMembersEnglish(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, phoneW, phoneH)
	signIn(t, ctx, a.URL, "alice")
	do(t, ctx,
		chromedp.Navigate(a.URL+"/lang?to=en&next=/a/bear/members"),
		chromedp.WaitVisible(tid("members-table")),
	)
	if got := text(t, ctx, chromedp.CSS("h1")); got != "Members and roles" {
		t.Errorf("h1 = %q", got)
	}
	wide, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`))
	if err != nil || wide {
		t.Errorf("the page is wider than the phone: %v, %v", wide, err)
	}
	shot(t, ctx, "phone-members-en")
}

// A cancelled link and an expired one say so, in zh-TW, and offer nothing
// to click.
func TestDesktopMembersRevokedAndExpiredLinks(t *testing.T) {
	t.Parallel()
	a := newApp(t)
	ctx := browser(t, membersW, membersH)
	signIn(t, ctx, a.URL, "alice")
	var alice int64
	if err := a.Store.DB.Get(&alice, `SELECT id FROM users WHERE login='alice'`); err != nil {
		t.Fatal(err)
	}
	older, _, err := a.Store.CreateInvitation(t.Context(), "test", "bear", billing.RoleOperator, alice)
	if err != nil {
		t.Fatal(err)
	}
	a.Clock.Set(testNow.Add(time.Hour))
	newer, _, err := a.Store.CreateInvitation(t.Context(), "test", "bear", billing.RoleAdmin, alice)
	if err != nil {
		t.Fatal(err)
	}
	// The newest is listed first: cancel it.
	do(t, ctx,
		chromedp.Navigate(a.URL+"/m/bear/members"),
		chromedp.WaitVisible(tid("invitations-table")),
		chromedp.Click(tid("revoke-0")),
		chromedp.WaitVisible(tid("notice")),
	)
	if got := text(t, ctx, tid("invitations-table")); strings.Contains(got, "管理員") || !strings.Contains(got, "操作人員") {
		t.Errorf("pending after cancelling the admin link = %q", got)
	}
	for _, c := range []struct {
		tok, want string
		at        time.Time
	}{
		{newer, "此邀請連結無效或已被取消", testNow.Add(time.Hour)},
		{"no-such-token", "此邀請連結無效或已被取消", testNow.Add(time.Hour)},
		{older, "此邀請連結已過期", testNow.Add(7 * 24 * time.Hour)},
	} {
		a.Clock.Set(c.at)
		signIn(t, ctx, a.URL, "alice") // a week on, the last session is long over
		do(t, ctx, chromedp.Navigate(a.URL+"/invite/"+c.tok), chromedp.WaitVisible(tid("error")))
		if got := text(t, ctx, tid("error")); !strings.HasPrefix(got, c.want) {
			t.Errorf("link %.8s…: %q, want %s…", c.tok, got, c.want)
		}
		if countNodes(t, ctx, `[data-testid="invite-accept"]`) != 0 {
			t.Errorf("link %.8s… still offers 加入", c.tok)
		}
	}
	shot(t, ctx, "desktop-invite-expired")
}
