// Package db is the PostgreSQL store: embedded migrations and the service
// that loads state, asks the billing core what to do, and writes the result
// in one transaction, with row locks and constraints making double charges
// and double redemptions impossible.
package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// Open connects to PostgreSQL and sizes the pool for a small server.
//
// Sessions run in UTC whatever the server's default: billing months are
// DATE columns compared with billing.Month.Date() (midnight UTC), and
// every instant is timestamptz, so nothing depends on the server's zone.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	url, err := withParam(url, "timezone", "UTC")
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	d, err := sqlx.Open("postgres", url)
	if err != nil {
		return nil, err
	}
	d.SetMaxOpenConns(40)
	d.SetMaxIdleConns(40)
	d.SetConnMaxIdleTime(5 * time.Minute)
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return d, nil
}

// Actor is who makes a change, as written to the audit trail:
// "user:alice", "staff:bob", "system:renewal", "sim".
type Actor string

// Store is the billing service over PostgreSQL. Every method is one
// transaction (a purchase that waits on a payment provider is two: reserve,
// then settle) and takes the clock once.
type Store struct {
	DB       *sqlx.DB
	Clock    billing.Clock
	Payments Gateway
}

// New returns a Store.
func New(d *sqlx.DB, clock billing.Clock, payments Gateway) *Store {
	return &Store{DB: d, Clock: clock, Payments: payments}
}

// inTx runs fn in a transaction with the clock read once.
func (s *Store) inTx(ctx context.Context, fn func(tx *sqlx.Tx, now time.Time) error) error {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if err := fn(tx, s.Clock.Now()); err != nil {
		return err
	}
	return tx.Commit()
}

// audit appends to the audit trail.
func audit(ctx context.Context, tx *sqlx.Tx, at time.Time, actor Actor, accountID, kind string, before, after any) error {
	b, err := jsonOrNull(before)
	if err != nil {
		return err
	}
	a, err := jsonOrNull(after)
	if err != nil {
		return err
	}
	var acct *string
	if accountID != "" {
		acct = &accountID
	}
	_, err = tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, account_id, kind, before, after) VALUES ($1,$2,$3,$4,$5,$6)`,
		at, string(actor), acct, kind, b, a)
	return err
}

func jsonOrNull(v any) (*string, error) {
	if v == nil {
		return nil, nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		return nil, err
	}
	s := string(b)
	return &s, nil
}

// PostgreSQL error codes the store reacts to.
const (
	pgUniqueViolation = "23505"
	pgUndefinedTable  = "42P01"
)

func pgCode(err error) string {
	var pe *pq.Error
	if errors.As(err, &pe) {
		return string(pe.Code)
	}
	return ""
}

func isUndefinedTable(err error) bool { return pgCode(err) == pgUndefinedTable }

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
