package db

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"strings"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"webstore/billing"
)

// User is a person who signs in.
type User struct {
	ID          int64  `db:"id"`
	Login       string `db:"login"`
	DisplayName string `db:"display_name"`
	IsStaff     bool   `db:"is_staff"`
}

// Membership is a user's role in one account.
type Membership struct {
	AccountID   string       `db:"account_id"`
	AccountName string       `db:"account_name"`
	Region      string       `db:"region"`
	Role        billing.Role `db:"role"`
}

// Session is a signed-in browser.
type Session struct {
	User      User
	AccountID string // the account picked after sign-in, "" until then
	// Member is the user's membership in the account the page is about
	// (FindSessionIn), nil when none.
	Member *Membership
	// ReferenceVersion is the reference data's version when the session
	// was read (see Reference).
	ReferenceVersion int64
	// AccountVersion and OverviewGlobal are the versions of the account
	// the page is about (FindSessionIn's accountID) when the session was
	// read: 0 when there is none (see WithAccountVersion).
	AccountVersion, OverviewGlobal int64
}

// SessionTTL is how long a session lasts without use: an admin away from
// the desk for two hours signs in again.
const SessionTTL = 2 * time.Hour

// SessionLifetime is how long a session lasts after sign-in however active
// it is: one working day. These sessions change plans and payment methods
// and take payments, so a copied cookie must not stay good for as long as
// someone keeps using it; the sign-in cookie's own Max-Age is the same, so
// a browser never holds a cookie the server has ended, nor the other way
// round.
const SessionLifetime = 12 * time.Hour

// ErrBadCredentials is returned for an unknown login or a wrong password;
// which of the two is not told.
var ErrBadCredentials = billing.Errorf(billing.EInvalid, "帳號或密碼不正確。")

// CheckPassword verifies a login and password.
func (s *Store) CheckPassword(ctx context.Context, login, password string) (User, error) {
	var row struct {
		User
		Hash string `db:"password_hash"`
	}
	err := s.DB.GetContext(ctx, &row, `SELECT id, login, display_name, is_staff, password_hash FROM users WHERE login=$1`,
		strings.ToLower(strings.TrimSpace(login)))
	if isNoRows(err) {
		// Spend the time of a real check so logins cannot be probed.
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return User{}, ErrBadCredentials
	} else if err != nil {
		return User{}, err
	}
	if row.Hash == "" {
		// A user who joined with LINE has no password (JoinWithLine).
		bcrypt.CompareHashAndPassword(dummyHash(), []byte(password))
		return User{}, ErrBadCredentials
	}
	if bcrypt.CompareHashAndPassword([]byte(row.Hash), []byte(password)) != nil {
		return User{}, ErrBadCredentials
	}
	return row.User, nil
}

func hashToken(tok string) []byte {
	h := sha256.Sum256([]byte(tok))
	return h[:]
}

// NewToken returns a random URL-safe token.
func NewToken() string {
	var b [32]byte
	rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

// CreateSession starts a session for a user and returns its cookie value.
func (s *Store) CreateSession(ctx context.Context, userID int64) (string, error) {
	tok := NewToken()
	now := s.Clock.Now()
	_, err := s.DB.ExecContext(ctx, `INSERT INTO sessions (token_hash, user_id, created_at, expires_at) VALUES ($1,$2,$3,$4)`,
		hashToken(tok), userID, now, now.Add(SessionTTL))
	return tok, err
}

// sessionSlide is how stale a session's expiry may get before a request
// pushes it out again: reading a page costs a write at most this often.
const sessionSlide = 10 * time.Minute

// sessionExpiry is when a session used at now ends: SessionTTL on, but
// never past SessionLifetime after it began.
func sessionExpiry(created, now time.Time) time.Time {
	if end := created.Add(SessionLifetime); end.Before(now.Add(SessionTTL)) {
		return end
	}
	return now.Add(SessionTTL)
}

// FindSession returns the live session for a cookie value, sliding its
// expiry (at most once per sessionSlide) up to SessionLifetime after
// sign-in; billing.EForbidden when there is none.
func (s *Store) FindSession(ctx context.Context, tok string) (Session, error) {
	return s.FindSessionIn(ctx, tok, "")
}

// FindSessionIn is FindSession for a page of accountID: in the same round
// trip it finds the user's membership there (Session.Member, nil when the
// user has none or accountID is "") and the reference data's version
// (Session.ReferenceVersion), and slides the expiry when it is due.
func (s *Store) FindSessionIn(ctx context.Context, tok, accountID string) (Session, error) {
	var row struct {
		User
		AccountID   *string       `db:"account_id"`
		CreatedAt   time.Time     `db:"created_at"`
		ExpiresAt   time.Time     `db:"expires_at"`
		Version     int64         `db:"version"`
		MemberOf    *string       `db:"member_of"`
		AccountName *string       `db:"account_name"`
		Region      *string       `db:"region"`
		Role        *billing.Role `db:"role"`
		AccountVer  *int64        `db:"overview_version"`
		Global      int64         `db:"overview_global"`
	}
	now := s.Clock.Now()
	// The statement is the function session_lookup (migration 015), whose
	// plan PostgreSQL keeps per server connection (as account_overview's).
	err := s.getPrepared(ctx, &row, `SELECT * FROM session_lookup($1, $2, $3, $4)`,
		hashToken(tok), now, now.Add(-SessionLifetime), accountID)
	if isNoRows(err) {
		return Session{}, billing.Errorf(billing.EForbidden, "請先登入")
	} else if err != nil {
		return Session{}, err
	}
	// Sliding the expiry is a write, made at most once per sessionSlide of
	// use: that request makes one round trip more than its budget.
	if exp := sessionExpiry(row.CreatedAt, now); row.ExpiresAt.Before(exp.Add(-sessionSlide)) {
		if _, err := s.DB.ExecContext(ctx, `UPDATE sessions SET expires_at = $2 WHERE token_hash = $1 AND expires_at < $2`,
			hashToken(tok), exp); err != nil {
			return Session{}, err
		}
	}
	sess := Session{User: row.User, ReferenceVersion: row.Version, OverviewGlobal: row.Global}
	if row.AccountVer != nil {
		sess.AccountVersion = *row.AccountVer
	}
	if row.AccountID != nil {
		sess.AccountID = *row.AccountID
	}
	if row.MemberOf != nil {
		sess.Member = &Membership{AccountID: *row.MemberOf, AccountName: *row.AccountName, Region: *row.Region, Role: *row.Role}
	}
	return sess, nil
}

func (s *Store) SelectAccount(ctx context.Context, tok, accountID string) error {
	_, err := s.DB.ExecContext(ctx, `UPDATE sessions SET account_id=$2 WHERE token_hash=$1`, hashToken(tok), accountID)
	return err
}

// SetUserLang records the language a user chose in the pages ("zh-TW" or
// "en"): their mail is written in it from then on. Anything else is
// refused with EInvalid.
func (s *Store) SetUserLang(ctx context.Context, userID int64, lang string) error {
	if lang != "zh-TW" && lang != "en" {
		return billing.Errorf(billing.EInvalid, "不支援的語言。")
	}
	_, err := s.DB.ExecContext(ctx, `UPDATE users SET lang=$2 WHERE id=$1 AND lang IS DISTINCT FROM $2`, userID, lang)
	return err
}

// DeleteSession signs a browser out.
func (s *Store) DeleteSession(ctx context.Context, tok string) error {
	_, err := s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE token_hash=$1`, hashToken(tok))
	return err
}

// DeleteUserSessions signs a user out everywhere: every session of theirs,
// this browser's included, ends. accountID is where they asked (recorded
// in the audit trail with how many sessions ended); it returns that number.
func (s *Store) DeleteUserSessions(ctx context.Context, actor Actor, userID int64, accountID string) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `DELETE FROM sessions WHERE user_id=$1`, userID)
		if err != nil {
			return err
		}
		n, _ = res.RowsAffected()
		return audit(ctx, tx, now, actor, accountID, "session.signed_out_everywhere", nil, map[string]any{"user_id": userID, "sessions": n})
	})
	return n, err
}

// DeleteExpiredSessions removes the sessions that have ended (idle past
// SessionTTL, or SessionLifetime after sign-in); the daily job runs it. It
// returns how many were removed.
func (s *Store) DeleteExpiredSessions(ctx context.Context) (int64, error) {
	now := s.Clock.Now()
	res, err := s.DB.ExecContext(ctx, `DELETE FROM sessions WHERE expires_at <= $1 OR created_at <= $2`, now, now.Add(-SessionLifetime))
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// Memberships lists the accounts a user belongs to.
func (s *Store) Memberships(ctx context.Context, userID int64) ([]Membership, error) {
	var ms []Membership
	err := s.DB.SelectContext(ctx, &ms, `SELECT m.account_id, a.name AS account_name, a.region, m.role
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.user_id=$1 ORDER BY a.name`, userID)
	return ms, err
}

// FindMembership returns a user's role in an account; EUnknownAccount when
// the user has none (callers answer 404: no hint the account exists).
func (s *Store) FindMembership(ctx context.Context, userID int64, accountID string) (Membership, error) {
	var m Membership
	err := s.DB.GetContext(ctx, &m, `SELECT m.account_id, a.name AS account_name, a.region, m.role
		FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.user_id=$1 AND m.account_id=$2`, userID, accountID)
	if isNoRows(err) {
		return m, billing.Errorf(billing.EUnknownAccount, "")
	}
	return m, err
}

var dummyHash = sync.OnceValue(func() []byte {
	h, _ := bcrypt.GenerateFromPassword([]byte("no such user"), bcrypt.DefaultCost)
	return h
})
