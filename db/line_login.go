package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// DemoLineSubject is the LINE user id the development sandbox gives the
// demo user login (and the seed records for it): "U" and 32 hex digits,
// the shape of a real one.
func DemoLineSubject(login string) string {
	sum := sha256.Sum256([]byte("webstore-demo-line:" + login))
	return "U" + hex.EncodeToString(sum[:16])
}

// FindUserByLineSubject returns the user LINE Login's subject belongs to.
// Returns EForbidden when no user has linked that LINE account.
func (s *Store) FindUserByLineSubject(ctx context.Context, subject string) (User, error) {
	var u User
	err := s.DB.GetContext(ctx, &u, `SELECT id, login, display_name, is_staff FROM users WHERE line_subject=$1`, subject)
	if isNoRows(err) {
		return u, billing.Errorf(billing.EForbidden, "")
	}
	return u, err
}

// HasLineLogin reports whether the user has linked a LINE account.
func (s *Store) HasLineLogin(ctx context.Context, userID int64) (bool, error) {
	var linked bool
	err := s.DB.GetContext(ctx, &linked, `SELECT line_subject IS NOT NULL FROM users WHERE id=$1`, userID)
	return linked, err
}

// LinePerson is a user with a linked LINE account, as the LINE Login
// sandbox lists them.
type LinePerson struct {
	Subject string `db:"line_subject"`
	Name    string `db:"display_name"`
}

// LinePeople lists the users with a linked LINE account, by login.
func LinePeople(ctx context.Context, q sqlx.QueryerContext) ([]LinePerson, error) {
	var ps []LinePerson
	err := sqlx.SelectContext(ctx, q, &ps, `SELECT line_subject, display_name FROM users WHERE line_subject IS NOT NULL ORDER BY login`)
	return ps, err
}

// LineJoin is a person LINE Login has just identified, arriving through an
// invitation link.
type LineJoin struct {
	// Token is the invitation link's token.
	Token string
	// Subject and Name are the ID token's subject (the LINE user id) and
	// display name.
	Subject string
	Name    string
	// SignedIn is the user already signed in in this browser (with a
	// password), 0 for none: that user is the one linked to Subject.
	SignedIn int64
}

// DefaultLineName is the display name of a user created from an ID token
// that carries none.
const DefaultLineName = "LINE 使用者"

// maxNameRunes bounds a display name taken from an ID token.
const maxNameRunes = 100

// JoinWithLine makes the person LINE identified a member through an
// invitation, in one transaction with the invitation locked:
//
//   - signed in (j.SignedIn): that user is linked to j.Subject, unless the
//     subject belongs to another user (ELineTaken) or the user has linked
//     another LINE account (ELineOther);
//   - not signed in, the subject linked already: that user;
//   - not signed in, an unknown subject: a new user is created, linked to
//     it, named by the ID token (DefaultLineName if it has no name). They
//     have no password: LINE is how they sign in.
//
// The user then joins as AcceptInvitation does (joined is false for a
// member already). An invitation that cannot be used (EInvitationInvalid,
// EInvitationUsed, EInvitationExpired) or a refused link changes nothing:
// no user is created or linked.
func (s *Store) JoinWithLine(ctx context.Context, actor Actor, j LineJoin) (u User, m Membership, joined bool, err error) {
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		r, err := lockUsableInvitation(ctx, tx, now, j.Token)
		if err != nil {
			return err
		}
		if j.SignedIn != 0 {
			u, err = linkLine(ctx, tx, now, actor, r.AccountID, j.SignedIn, j.Subject)
		} else {
			u, err = lineUser(ctx, tx, now, actor, r.AccountID, j.Subject, j.Name)
		}
		if err != nil {
			return err
		}
		joined, err = acceptInvitation(ctx, tx, now, actor, r, u.ID)
		if err != nil {
			return err
		}
		return tx.GetContext(ctx, &m, `SELECT m.account_id, a.name AS account_name, a.region, m.role
			FROM memberships m JOIN accounts a ON a.id = m.account_id WHERE m.user_id=$1 AND m.account_id=$2`, u.ID, r.AccountID)
	})
	if err != nil {
		return User{}, Membership{}, false, err
	}
	return u, m, joined, nil
}

// linkLine links the user userID to the LINE account subject.
func linkLine(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, accountID string, userID int64, subject string) (User, error) {
	var row struct {
		User
		Subject *string `db:"line_subject"`
	}
	if err := tx.GetContext(ctx, &row, `SELECT id, login, display_name, is_staff, line_subject FROM users WHERE id=$1 FOR UPDATE`, userID); err != nil {
		return User{}, err
	}
	if row.Subject != nil {
		if *row.Subject != subject {
			return User{}, billing.Errorf(billing.ELineOther, "")
		}
		return row.User, nil
	}
	var other int64
	err := tx.GetContext(ctx, &other, `SELECT id FROM users WHERE line_subject=$1`, subject)
	if err == nil {
		return User{}, billing.Errorf(billing.ELineTaken, "")
	} else if !isNoRows(err) {
		return User{}, err
	}
	if _, err := tx.ExecContext(ctx, `UPDATE users SET line_subject=$2 WHERE id=$1`, userID, subject); err != nil {
		if pgCode(err) == pgUniqueViolation {
			// Linked to someone else since the look-up above.
			return User{}, billing.Errorf(billing.ELineTaken, "")
		}
		return User{}, lineSubjectErr(err)
	}
	return row.User, audit(ctx, tx, now, actor, accountID, "user.line_linked", nil,
		map[string]any{"user_id": userID, "login": row.Login, "line_subject": subject})
}

// lineUser returns the user linked to subject, creating them when there
// is none.
func lineUser(ctx context.Context, tx *sqlx.Tx, now time.Time, actor Actor, accountID, subject, name string) (User, error) {
	var u User
	err := tx.GetContext(ctx, &u, `SELECT id, login, display_name, is_staff FROM users WHERE line_subject=$1`, subject)
	if err == nil || !isNoRows(err) {
		return u, err
	}
	name = strings.TrimSpace(name)
	if name == "" {
		name = DefaultLineName
	}
	for utf8.RuneCountInString(name) > maxNameRunes {
		_, n := utf8.DecodeLastRuneInString(name)
		name = name[:len(name)-n]
	}
	// No password: an empty hash, which no password matches (CheckPassword).
	// Another sign-in creating the same person at once makes the insert
	// conflict; that person is then the one read.
	err = tx.GetContext(ctx, &u, `INSERT INTO users (login, display_name, password_hash, created_at, line_subject)
		VALUES ($1, $2, '', $3, $4) ON CONFLICT DO NOTHING RETURNING id, login, display_name, is_staff`,
		"line-"+strings.ToLower(subject), name, now, subject)
	if isNoRows(err) {
		err = tx.GetContext(ctx, &u, `SELECT id, login, display_name, is_staff FROM users WHERE line_subject=$1`, subject)
		return u, err
	} else if err != nil {
		return u, lineSubjectErr(err)
	}
	return u, audit(ctx, tx, now, actor, accountID, "user.created_with_line", nil,
		map[string]any{"user_id": u.ID, "login": u.Login, "display_name": u.DisplayName, "line_subject": subject})
}

// lineSubjectErr turns the users table's check on a subject's shape into
// EInvalid.
func lineSubjectErr(err error) error {
	if pgCode(err) == pgCheckViolation {
		return billing.Errorf(billing.EInvalid, "LINE 使用者 ID 格式不正確。")
	}
	return err
}
