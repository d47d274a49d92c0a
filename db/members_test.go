package db_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"sync"
	"testing"
	"time"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
)

// memberFixture is the seeded demo data: alice admin of bear, oscar its
// operator, kenji in tokyo only.
type memberFixture struct {
	s   *db.Store
	clk *billingtest.Clock
	ctx context.Context
}

func newMemberFixture(t *testing.T) memberFixture {
	t.Helper()
	d, _ := dbtest.New(t)
	f := memberFixture{s: db.New(d, billingtest.NewClock(tw("2026-11-23 12:00")), nil), ctx: context.Background()}
	f.clk = f.s.Clock.(*billingtest.Clock)
	if _, err := f.s.Seed(f.ctx); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f memberFixture) user(t *testing.T, login string) int64 {
	t.Helper()
	var id int64
	if err := f.s.DB.Get(&id, `SELECT id FROM users WHERE login=$1`, login); err != nil {
		t.Fatalf("user %s: %v", login, err)
	}
	return id
}

// newUser adds a user who belongs to no account.
func (f memberFixture) newUser(t *testing.T, login string) int64 {
	t.Helper()
	var id int64
	if err := f.s.DB.Get(&id, `INSERT INTO users (login, display_name, password_hash, created_at) VALUES ($1,$1,'x',now()) RETURNING id`, login); err != nil {
		t.Fatal(err)
	}
	return id
}

func (f memberFixture) roles(t *testing.T, account string) map[string]billing.Role {
	t.Helper()
	ms, err := f.s.FindMembers(f.ctx, account)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]billing.Role{}
	for _, m := range ms {
		got[m.Login] = m.Role
	}
	return got
}

func (f memberFixture) audits(t *testing.T, account, kind string) int {
	t.Helper()
	var n int
	if err := f.s.DB.Get(&n, `SELECT count(*) FROM audit_log WHERE account_id=$1 AND kind=$2`, account, kind); err != nil {
		t.Fatal(err)
	}
	return n
}

func wantCode(t *testing.T, what string, err error, want billing.Code) {
	t.Helper()
	if got := billing.ErrorCode(err); got != want {
		t.Errorf("%s: err = %v, want code %q", what, err, want)
	}
}

func TestMemberListAndInvitation(t *testing.T) {
	f := newMemberFixture(t)
	ms, err := f.s.FindMembers(f.ctx, "bear")
	if err != nil {
		t.Fatal(err)
	}
	if len(ms) != 2 || ms[0].Login != "alice" || ms[0].Role != billing.RoleAdmin || ms[0].DisplayName != "Alice 林" ||
		ms[1].Login != "oscar" || ms[1].Role != billing.RoleOperator || ms[1].Since.IsZero() {
		t.Fatalf("bear's members = %+v, want alice (admin) then oscar (operator)", ms)
	}

	// Only an admin of the account invites: not its operator, not another
	// account's admin.
	_, _, err = f.s.CreateInvitation(f.ctx, "user:oscar", "bear", billing.RoleAdmin, f.user(t, "oscar"))
	wantCode(t, "operator invites", err, billing.EForbidden)
	_, _, err = f.s.CreateInvitation(f.ctx, "user:kenji", "bear", billing.RoleOperator, f.user(t, "kenji"))
	wantCode(t, "another account's admin invites", err, billing.EForbidden)
	_, _, err = f.s.CreateInvitation(f.ctx, "user:alice", "bear", "owner", f.user(t, "alice"))
	wantCode(t, "unknown role", err, billing.EInvalid)

	tok, inv, err := f.s.CreateInvitation(f.ctx, "user:alice", "bear", billing.RoleOperatorNoStats, f.user(t, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	if want := f.clk.Now().Add(7 * 24 * time.Hour); !inv.ExpiresAt.Equal(want) {
		t.Errorf("expires %v, want %v", inv.ExpiresAt, want)
	}
	// Only the token's hash is kept.
	if h := sha256.Sum256([]byte(tok)); inv.ID != hex.EncodeToString(h[:]) {
		t.Errorf("invitation id %s is not the token's hash", inv.ID)
	}
	pending, err := f.s.FindInvitations(f.ctx, "bear")
	if err != nil || len(pending) != 1 || pending[0].ID != inv.ID || pending[0].Role != billing.RoleOperatorNoStats || pending[0].CreatorName != "Alice 林" {
		t.Fatalf("pending = %+v, %v; want the one invitation by Alice 林", pending, err)
	}
	if got, err := f.s.FindInvitation(f.ctx, tok); err != nil || got.AccountName != "熊美服飾店" {
		t.Fatalf("FindInvitation = %+v, %v", got, err)
	}

	kenji := f.user(t, "kenji")
	m, joined, err := f.s.AcceptInvitation(f.ctx, "user:kenji", tok, kenji)
	if err != nil || !joined || m.AccountID != "bear" || m.Role != billing.RoleOperatorNoStats {
		t.Fatalf("accept = %+v, joined %v, %v", m, joined, err)
	}
	if got := f.roles(t, "bear")["kenji"]; got != billing.RoleOperatorNoStats {
		t.Errorf("kenji's role in bear = %q", got)
	}
	// The link works once.
	_, _, err = f.s.AcceptInvitation(f.ctx, "user:x", tok, f.newUser(t, "x"))
	wantCode(t, "second use", err, billing.EInvitationUsed)
	_, err = f.s.FindInvitation(f.ctx, tok)
	wantCode(t, "used link's page", err, billing.EInvitationUsed)
	if pending, _ := f.s.FindInvitations(f.ctx, "bear"); len(pending) != 0 {
		t.Errorf("pending after use = %+v", pending)
	}
	if f.audits(t, "bear", "invitation.created") != 1 || f.audits(t, "bear", "member.joined") != 1 {
		t.Error("the invitation and the join are not both audited once")
	}
}

func TestMemberInvitationExpiredUnknownRevoked(t *testing.T) {
	f := newMemberFixture(t)
	alice, x := f.user(t, "alice"), f.newUser(t, "x")
	_, _, err := f.s.AcceptInvitation(f.ctx, "user:x", db.NewToken(), x)
	wantCode(t, "unknown token", err, billing.EInvitationInvalid)

	tok, _, err := f.s.CreateInvitation(f.ctx, "user:alice", "bear", billing.RoleOperator, alice)
	if err != nil {
		t.Fatal(err)
	}
	// Seven days on, to the instant, the link no longer works.
	f.clk.Set(f.clk.Now().Add(7 * 24 * time.Hour))
	_, _, err = f.s.AcceptInvitation(f.ctx, "user:x", tok, x)
	wantCode(t, "expired", err, billing.EInvitationExpired)
	if pending, _ := f.s.FindInvitations(f.ctx, "bear"); len(pending) != 0 {
		t.Errorf("an expired invitation is listed as pending: %+v", pending)
	}

	tok2, inv2, err := f.s.CreateInvitation(f.ctx, "user:alice", "bear", billing.RoleAdmin, alice)
	if err != nil {
		t.Fatal(err)
	}
	wantCode(t, "revoke in another account", f.s.RevokeInvitation(f.ctx, "user:alice", "cat", inv2.ID), billing.EInvitationInvalid)
	if err := f.s.RevokeInvitation(f.ctx, "user:alice", "bear", inv2.ID); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "revoke twice", f.s.RevokeInvitation(f.ctx, "user:alice", "bear", inv2.ID), billing.EInvitationInvalid)
	wantCode(t, "revoke garbage", f.s.RevokeInvitation(f.ctx, "user:alice", "bear", "zz"), billing.EInvitationInvalid)
	_, _, err = f.s.AcceptInvitation(f.ctx, "user:x", tok2, x)
	wantCode(t, "revoked", err, billing.EInvitationInvalid)
	if _, ok := f.roles(t, "bear")["x"]; ok {
		t.Error("x joined through an expired or revoked link")
	}
	if f.audits(t, "bear", "invitation.revoked") != 1 {
		t.Error("the revocation is not audited once")
	}
}

// A member who opens an invitation keeps their role, and the link stays
// unused for the person it was meant for.
func TestMemberAcceptByExistingMemberKeepsRole(t *testing.T) {
	f := newMemberFixture(t)
	tok, _, err := f.s.CreateInvitation(f.ctx, "user:alice", "bear", billing.RoleAdmin, f.user(t, "alice"))
	if err != nil {
		t.Fatal(err)
	}
	m, joined, err := f.s.AcceptInvitation(f.ctx, "user:oscar", tok, f.user(t, "oscar"))
	if err != nil || joined || m.Role != billing.RoleOperator {
		t.Fatalf("oscar accepts an admin link: %+v, joined %v, %v; want operator, not joined", m, joined, err)
	}
	m, joined, err = f.s.AcceptInvitation(f.ctx, "user:kenji", tok, f.user(t, "kenji"))
	if err != nil || !joined || m.Role != billing.RoleAdmin {
		t.Fatalf("kenji accepts after oscar: %+v, joined %v, %v", m, joined, err)
	}
}

func TestMemberLastAdminIsKept(t *testing.T) {
	f := newMemberFixture(t)
	alice, oscar := f.user(t, "alice"), f.user(t, "oscar")
	wantCode(t, "demote the only admin", f.s.ChangeRole(f.ctx, "user:alice", "bear", alice, billing.RoleOperator), billing.ELastAdmin)
	wantCode(t, "remove the only admin", f.s.RemoveMember(f.ctx, "user:alice", "bear", alice), billing.ELastAdmin)
	wantCode(t, "change a non-member", f.s.ChangeRole(f.ctx, "user:alice", "bear", f.user(t, "kenji"), billing.RoleOperator), billing.ENotAMember)
	wantCode(t, "remove a non-member", f.s.RemoveMember(f.ctx, "user:alice", "bear", f.user(t, "kenji")), billing.ENotAMember)
	wantCode(t, "unknown role", f.s.ChangeRole(f.ctx, "user:alice", "bear", oscar, "owner"), billing.EInvalid)
	if got := f.roles(t, "bear"); got["alice"] != billing.RoleAdmin || got["oscar"] != billing.RoleOperator || len(got) != 2 {
		t.Fatalf("after refusals bear = %v", got)
	}
	if f.audits(t, "bear", "member.role_changed")+f.audits(t, "bear", "member.removed") != 0 {
		t.Error("a refused change was audited")
	}

	// With a second admin, the first may step down; her pending links go
	// with her rights.
	if _, _, err := f.s.CreateInvitation(f.ctx, "user:alice", "bear", billing.RoleAdmin, alice); err != nil {
		t.Fatal(err)
	}
	if err := f.s.ChangeRole(f.ctx, "user:alice", "bear", oscar, billing.RoleAdmin); err != nil {
		t.Fatal(err)
	}
	if err := f.s.ChangeRole(f.ctx, "user:oscar", "bear", alice, billing.RoleOperatorNoBroadcast); err != nil {
		t.Fatal(err)
	}
	if pending, _ := f.s.FindInvitations(f.ctx, "bear"); len(pending) != 0 {
		t.Errorf("a demoted admin's invitation is still pending: %+v", pending)
	}
	wantCode(t, "remove the new only admin", f.s.RemoveMember(f.ctx, "user:oscar", "bear", oscar), billing.ELastAdmin)
	if err := f.s.RemoveMember(f.ctx, "user:oscar", "bear", alice); err != nil {
		t.Fatal(err)
	}
	if got := f.roles(t, "bear"); len(got) != 1 || got["oscar"] != billing.RoleAdmin {
		t.Errorf("bear = %v, want oscar alone as admin", got)
	}
	if f.audits(t, "bear", "member.role_changed") != 2 || f.audits(t, "bear", "member.removed") != 1 {
		t.Error("the changes are not audited once each")
	}
	// Alice's other accounts are untouched.
	if got := f.roles(t, "cat")["alice"]; got != billing.RoleAdmin {
		t.Errorf("alice in cat = %q", got)
	}
}

// Two admins demote each other at the same moment: the membership rows
// are locked before counting, so one wins and the other is refused, and
// the account keeps exactly one admin. Repeated to give the race a chance.
func TestMemberConcurrentDemotionsKeepOneAdmin(t *testing.T) {
	f := newMemberFixture(t)
	alice, oscar := f.user(t, "alice"), f.user(t, "oscar")
	for round := 0; round < 20; round++ {
		for _, id := range []int64{alice, oscar} {
			if err := f.s.ChangeRole(f.ctx, "test", "bear", id, billing.RoleAdmin); err != nil {
				t.Fatal(err)
			}
		}
		// Hold bear's membership rows so both demotions are in flight,
		// each blocked on a lock, before either can go on.
		hold := f.s.DB.MustBegin()
		hold.MustExec(`SELECT 1 FROM memberships WHERE account_id='bear' FOR UPDATE`)
		var wg sync.WaitGroup
		errs := make([]error, 2)
		for i, id := range []int64{alice, oscar} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				errs[i] = f.s.ChangeRole(f.ctx, "test", "bear", id, billing.RoleOperator)
			}()
		}
		waitForLockWaiters(t, f, 2)
		hold.Rollback()
		wg.Wait()
		ok, refused := 0, 0
		for _, err := range errs {
			switch billing.ErrorCode(err) {
			case "":
				if err != nil {
					t.Fatal(err)
				}
				ok++
			case billing.ELastAdmin:
				refused++
			default:
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if ok != 1 || refused != 1 {
			t.Fatalf("round %d: %d succeeded, %d refused; want 1 and 1", round, ok, refused)
		}
		admins := 0
		for _, r := range f.roles(t, "bear") {
			if r == billing.RoleAdmin {
				admins++
			}
		}
		if admins != 1 {
			t.Fatalf("round %d: bear has %d admins", round, admins)
		}
	}
}

// waitForLockWaiters waits until n sessions of the test's database are
// blocked on a lock.
func waitForLockWaiters(t *testing.T, f memberFixture, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var waiting int
		if err := f.s.DB.Get(&waiting, `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock'`); err != nil {
			t.Fatal(err)
		}
		if waiting >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d sessions waiting on a lock, want %d", waiting, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
