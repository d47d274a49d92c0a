package db

import (
	"context"
	"crypto/sha256"
	"encoding/hex"

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
