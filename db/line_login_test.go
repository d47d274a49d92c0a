package db_test

import (
	"sync"
	"testing"

	"webstore/billing"
	"webstore/db"
)

// A new person through an invitation: a user is created for the ID token's
// subject with its display name and no password, joins with the
// invitation's role, and the link is used up; the next sign-in with the
// same subject finds that user.
func TestJoinWithLineCreatesUser(t *testing.T) {
	f := newMemberFixture(t)
	alice := f.user(t, "alice")
	tok, _, err := f.s.CreateInvitation(f.ctx, "test", "bear", billing.RoleOperator, alice)
	if err != nil {
		t.Fatal(err)
	}
	sub := db.DemoLineSubject("mei")
	u, m, joined, err := f.s.JoinWithLine(f.ctx, "line:"+db.Actor(sub), db.LineJoin{Token: tok, Subject: sub, Name: " 陳美玲 "})
	if err != nil || !joined {
		t.Fatalf("join: %v joined=%v", err, joined)
	}
	if u.DisplayName != "陳美玲" || m.AccountID != "bear" || m.Role != billing.RoleOperator {
		t.Errorf("user %+v, membership %+v; want 陳美玲, operator of bear", u, m)
	}
	if got := f.roles(t, "bear")[u.Login]; got != billing.RoleOperator {
		t.Errorf("bear lists %s as %q", u.Login, got)
	}
	found, err := f.s.FindUserByLineSubject(f.ctx, sub)
	if err != nil || found != u {
		t.Errorf("FindUserByLineSubject = %+v, %v; want %+v", found, err, u)
	}
	if _, err := f.s.CheckPassword(f.ctx, u.Login, ""); err == nil {
		t.Error("a LINE user signs in with an empty password")
	}
	if f.audits(t, "bear", "user.created_with_line") != 1 || f.audits(t, "bear", "member.joined") != 1 {
		t.Error("the join is not in the audit trail")
	}
	// The link is used up: another new person cannot take it, and no user
	// is created for them.
	other := db.DemoLineSubject("thief")
	_, _, _, err = f.s.JoinWithLine(f.ctx, "test", db.LineJoin{Token: tok, Subject: other, Name: "Thief"})
	wantCode(t, "second use", err, billing.EInvitationUsed)
	if _, err := f.s.FindUserByLineSubject(f.ctx, other); billing.ErrorCode(err) != billing.EForbidden {
		t.Errorf("a refused join created a user: %v", err)
	}
	// An ID token without a name gives the default name.
	tok2, _, _ := f.s.CreateInvitation(f.ctx, "test", "bear", billing.RoleAdmin, alice)
	u2, m2, _, err := f.s.JoinWithLine(f.ctx, "test", db.LineJoin{Token: tok2, Subject: db.DemoLineSubject("nameless")})
	if err != nil || u2.DisplayName != db.DefaultLineName || m2.Role != billing.RoleAdmin {
		t.Errorf("nameless: %+v %+v %v", u2, m2, err)
	}
	// A subject not of LINE's shape is refused, nothing written.
	tok3, _, _ := f.s.CreateInvitation(f.ctx, "test", "bear", billing.RoleOperator, alice)
	_, _, _, err = f.s.JoinWithLine(f.ctx, "test", db.LineJoin{Token: tok3, Subject: "not-a-line-id", Name: "x"})
	wantCode(t, "bad subject", err, billing.EInvalid)
	if _, err := f.s.FindInvitation(f.ctx, tok3); err != nil {
		t.Errorf("a refused join used the link: %v", err)
	}
}

// Someone signed in with a password joins with LINE: their user is linked
// to the subject (keeping their name), so LINE signs them in from then on.
// A subject linked to someone else, or a user linked to another LINE
// account, is refused and the link stays unused.
func TestJoinWithLineLinksSignedInUser(t *testing.T) {
	f := newMemberFixture(t)
	alice := f.user(t, "alice")
	nora := f.newUser(t, "nora")
	tok, _, _ := f.s.CreateInvitation(f.ctx, "test", "bear", billing.RoleOperatorNoStats, alice)
	sub := db.DemoLineSubject("nora")
	u, m, joined, err := f.s.JoinWithLine(f.ctx, "user:nora", db.LineJoin{Token: tok, Subject: sub, Name: "Nora on LINE", SignedIn: nora})
	if err != nil || !joined || u.ID != nora || u.DisplayName != "nora" || m.Role != billing.RoleOperatorNoStats {
		t.Fatalf("link: %+v %+v joined=%v %v", u, m, joined, err)
	}
	if found, err := f.s.FindUserByLineSubject(f.ctx, sub); err != nil || found.ID != nora {
		t.Errorf("LINE finds %+v, %v; want nora", found, err)
	}
	if f.audits(t, "bear", "user.line_linked") != 1 {
		t.Error("the link is not in the audit trail")
	}

	tok2, _, _ := f.s.CreateInvitation(f.ctx, "test", "cat", billing.RoleOperator, alice)
	// Pat, signed in, with alice's LINE account: refused.
	pat := f.newUser(t, "pat")
	_, _, _, err = f.s.JoinWithLine(f.ctx, "user:pat", db.LineJoin{Token: tok2, Subject: db.DemoLineSubject("alice"), SignedIn: pat})
	wantCode(t, "someone else's LINE", err, billing.ELineTaken)
	// Nora, signed in, with a second LINE account: refused.
	_, _, _, err = f.s.JoinWithLine(f.ctx, "user:nora", db.LineJoin{Token: tok2, Subject: db.DemoLineSubject("nora2"), SignedIn: nora})
	wantCode(t, "a second LINE account", err, billing.ELineOther)
	if _, err := f.s.FindInvitation(f.ctx, tok2); err != nil {
		t.Errorf("refused links used the invitation: %v", err)
	}
	if _, err := f.s.FindUserByLineSubject(f.ctx, db.DemoLineSubject("nora2")); billing.ErrorCode(err) != billing.EForbidden {
		t.Errorf("a refused link linked: %v", err)
	}
	// Alice's own LINE account, not signed in: she is found, and as a
	// member of cat already she keeps her role and the link stays unused.
	u, m, joined, err = f.s.JoinWithLine(f.ctx, "test", db.LineJoin{Token: tok2, Subject: db.DemoLineSubject("alice")})
	if err != nil || joined || u.ID != alice || m.Role != billing.RoleAdmin {
		t.Errorf("alice by LINE: %+v %+v joined=%v %v", u, m, joined, err)
	}
	if _, err := f.s.FindInvitation(f.ctx, tok2); err != nil {
		t.Errorf("a member's use spent the link: %v", err)
	}
}

// An expired, unknown or revoked link creates nobody; two new people
// racing on one link: one joins, the other is refused and not created.
func TestJoinWithLineRefusedLinks(t *testing.T) {
	f := newMemberFixture(t)
	alice := f.user(t, "alice")
	old, _, _ := f.s.CreateInvitation(f.ctx, "test", "bear", billing.RoleOperator, alice)
	revoked, inv, _ := f.s.CreateInvitation(f.ctx, "test", "bear", billing.RoleOperator, alice)
	if err := f.s.RevokeInvitation(f.ctx, "test", "bear", inv.ID); err != nil {
		t.Fatal(err)
	}
	f.clk.Set(f.clk.Now().Add(db.InvitationTTL))
	for _, c := range []struct {
		tok  string
		want billing.Code
	}{{old, billing.EInvitationExpired}, {revoked, billing.EInvitationInvalid}, {"no-such-link", billing.EInvitationInvalid}} {
		_, _, _, err := f.s.JoinWithLine(f.ctx, "test", db.LineJoin{Token: c.tok, Subject: db.DemoLineSubject("late"), Name: "Late"})
		wantCode(t, c.tok, err, c.want)
	}
	var users int
	f.s.DB.Get(&users, `SELECT count(*) FROM users WHERE line_subject=$1`, db.DemoLineSubject("late"))
	if users != 0 {
		t.Errorf("refused links created %d users", users)
	}

	tok, _, _ := f.s.CreateInvitation(f.ctx, "test", "bear", billing.RoleOperator, alice)
	var wg sync.WaitGroup
	errs := make([]error, 2)
	for i, who := range []string{"racer-a", "racer-b"} {
		wg.Go(func() {
			_, _, _, errs[i] = f.s.JoinWithLine(f.ctx, "test", db.LineJoin{Token: tok, Subject: db.DemoLineSubject(who), Name: who})
		})
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			wantCode(t, "the racer who lost", err, billing.EInvitationUsed)
		}
	}
	f.s.DB.Get(&users, `SELECT count(*) FROM users WHERE login LIKE 'line-%'`)
	if ok != 1 || users != 1 {
		t.Errorf("two people on one link: %d joined, %d users created; want 1 and 1", ok, users)
	}
}
