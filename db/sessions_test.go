package db_test

import (
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
)

// A session used without pause still ends SessionLifetime after sign-in;
// one left alone ends SessionTTL after its last use.
func TestSessionLifetimeIsAbsolute(t *testing.T) {
	f := newMemberFixture(t)
	alice := f.user(t, "alice")
	start := f.clk.Now()
	busy, err := f.s.CreateSession(f.ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	idle, err := f.s.CreateSession(f.ctx, alice)
	if err != nil {
		t.Fatal(err)
	}

	// Used every 20 minutes: alive until the lifetime, however active.
	step := 20 * time.Minute
	for at := start.Add(step); at.Before(start.Add(db.SessionLifetime)); at = at.Add(step) {
		f.clk.Set(at)
		if _, err := f.s.FindSession(f.ctx, busy); err != nil {
			t.Fatalf("busy session at +%s: %v", at.Sub(start), err)
		}
		if at.Sub(start) == db.SessionTTL+step {
			if _, err := f.s.FindSession(f.ctx, idle); billing.ErrorCode(err) != billing.EForbidden {
				t.Errorf("idle session %s after its last use: %v, want forbidden", db.SessionTTL+step, err)
			}
		}
	}
	f.clk.Set(start.Add(db.SessionLifetime - time.Second))
	if _, err := f.s.FindSession(f.ctx, busy); err != nil {
		t.Fatalf("a second before the lifetime: %v", err)
	}
	f.clk.Set(start.Add(db.SessionLifetime))
	if _, err := f.s.FindSession(f.ctx, busy); billing.ErrorCode(err) != billing.EForbidden {
		t.Errorf("at the lifetime: %v, want forbidden", err)
	}
	// The slide never pushed the row past the lifetime either.
	var latest time.Time
	if err := f.s.DB.Get(&latest, `SELECT max(expires_at) FROM sessions`); err != nil {
		t.Fatal(err)
	}
	if latest.After(start.Add(db.SessionLifetime)) {
		t.Errorf("a session's expiry slid to %s, past the lifetime %s", latest, start.Add(db.SessionLifetime))
	}
}

// The daily purge removes ended sessions (idle, or past the lifetime) and
// keeps live ones.
func TestDeleteExpiredSessions(t *testing.T) {
	f := newMemberFixture(t)
	alice, oscar := f.user(t, "alice"), f.user(t, "oscar")
	start := f.clk.Now()
	old, _ := f.s.CreateSession(f.ctx, alice) // used all day: ends at the lifetime
	f.clk.Set(start.Add(time.Hour))
	if _, err := f.s.CreateSession(f.ctx, oscar); err != nil { // never used again: idle
		t.Fatal(err)
	}
	for at := start.Add(time.Hour); at.Before(start.Add(db.SessionLifetime)); at = at.Add(time.Hour) {
		f.clk.Set(at)
		if _, err := f.s.FindSession(f.ctx, old); err != nil {
			t.Fatal(err)
		}
	}
	f.clk.Set(start.Add(db.SessionLifetime - time.Minute))
	fresh, err := f.s.CreateSession(f.ctx, alice)
	if err != nil {
		t.Fatal(err)
	}
	if n, err := f.s.DeleteExpiredSessions(f.ctx); err != nil || n != 1 {
		t.Errorf("purge before the lifetime: %d removed (%v), want 1 (oscar's idle session)", n, err)
	}
	f.clk.Set(start.Add(db.SessionLifetime + time.Minute))
	if n, err := f.s.DeleteExpiredSessions(f.ctx); err != nil || n != 1 {
		t.Errorf("purge after the lifetime: %d removed (%v), want 1 (alice's first)", n, err)
	}
	var left int
	if err := f.s.DB.Get(&left, `SELECT count(*) FROM sessions`); err != nil || left != 1 {
		t.Errorf("%d sessions left (%v), want 1", left, err)
	}
	if _, err := f.s.FindSession(f.ctx, fresh); err != nil {
		t.Errorf("the live session after the purge: %v", err)
	}
}

// Signing out everywhere ends every session of the user and no one
// else's, and is in the audit trail.
func TestDeleteUserSessions(t *testing.T) {
	f := newMemberFixture(t)
	alice, oscar := f.user(t, "alice"), f.user(t, "oscar")
	var mine []string
	for range 3 {
		tok, err := f.s.CreateSession(f.ctx, alice)
		if err != nil {
			t.Fatal(err)
		}
		mine = append(mine, tok)
	}
	theirs, _ := f.s.CreateSession(f.ctx, oscar)
	n, err := f.s.DeleteUserSessions(f.ctx, "user:alice", alice, "bear")
	if err != nil || n != 3 {
		t.Fatalf("signed out %d sessions (%v), want 3", n, err)
	}
	for _, tok := range mine {
		if _, err := f.s.FindSession(f.ctx, tok); billing.ErrorCode(err) != billing.EForbidden {
			t.Errorf("alice's session after signing out everywhere: %v", err)
		}
	}
	if _, err := f.s.FindSession(f.ctx, theirs); err != nil {
		t.Errorf("oscar's session: %v", err)
	}
	var audited int
	if err := f.s.DB.Get(&audited, `SELECT count(*) FROM audit_log WHERE kind='session.signed_out_everywhere'
		AND actor='user:alice' AND account_id='bear' AND (after->>'sessions')::int = 3`); err != nil || audited != 1 {
		t.Errorf("%d audit entries (%v), want 1", audited, err)
	}
}
