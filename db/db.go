// Package db is the PostgreSQL store: embedded migrations and the service
// that loads state, asks the billing core what to do, and writes the result
// in one transaction, with row locks and constraints making double charges
// and double redemptions impossible.
package db

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"sync"
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
//
// Statements are pooler-safe by default: lib/pq's binary_parameters=yes is
// added (unless the URL sets it), so a statement with parameters is sent
// as one unnamed parse, bind and execute in a single round trip, and no
// named statement outlives its transaction. PgBouncer in transaction
// pooling may hand each transaction a different server connection; a named
// statement kept per pool connection would meet another client's there.
// With binary parameters a []byte argument travels in the binary format of
// its column's type: fine for bytea and text, refused for jsonb or uuid
// (pass a string). Times, numbers and strings go as text either way.
//
// The URL's own setting prepared_statements=per_connection (taken out before
// the URL reaches lib/pq) prepares the hot page statements once per pool
// connection instead (Store.getPrepared): PostgreSQL then plans them once,
// not at every request. Only for a direct connection or PgBouncer in
// session pooling; never behind transaction or statement pooling.
func Open(ctx context.Context, url string) (*sqlx.DB, error) {
	url, mode, err := takeParam(url, "prepared_statements")
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	var prepare bool
	switch mode {
	case "", "off":
	case "per_connection":
		prepare = true
	default:
		return nil, fmt.Errorf("database URL: prepared_statements=%q: want off (the default) or per_connection", mode)
	}
	if url, err = withParam(url, "timezone", "UTC"); err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	if _, bin, _ := takeParam(url, "binary_parameters"); bin == "" {
		if url, err = withParam(url, "binary_parameters", "yes"); err != nil {
			return nil, fmt.Errorf("database URL: %w", err)
		}
	}
	c, err := pq.NewConnector(url)
	if err != nil {
		return nil, fmt.Errorf("database URL: %w", err)
	}
	d := sqlx.NewDb(sql.OpenDB(countingConnector{Connector: c, prepare: prepare}), "postgres")
	d.SetMaxOpenConns(40)
	d.SetMaxIdleConns(40)
	d.SetConnMaxIdleTime(5 * time.Minute)
	if err := d.PingContext(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
	}
	return d, nil
}

// PreparesStatements reports whether d was opened with
// prepared_statements=per_connection.
func PreparesStatements(d *sqlx.DB) bool {
	od, ok := d.Driver().(openedDriver)
	return ok && od.prepare
}

// Actor is who makes a change, as written to the audit trail:
// "user:alice", "staff:bob", "system:renewal", "sim".
type Actor string

// Login is the signed-in user's login of a "user:" actor, "" for others.
func (a Actor) Login() string {
	if login, ok := strings.CutPrefix(string(a), "user:"); ok {
		return login
	}
	return ""
}

// Store is the billing service over PostgreSQL. Every method is one
// transaction (a purchase that waits on a payment provider is two: reserve,
// then settle) and takes the clock once.
type Store struct {
	DB       *sqlx.DB
	Clock    billing.Clock
	Payments billing.Gateway
	// MaxFaceValue is the highest face value a campaign may have; 0 means
	// the catalog's highest plan fee (cmd/webstore: CAMPAIGN_MAX_FACE_VALUE).
	MaxFaceValue billing.Money
	// Seller issues the e-invoices (SELLER_BAN, SELLER_NAME,
	// EINVOICE_MEMBER_CARRIER_TYPE); unset: billing.DemoSeller.
	Seller billing.Seller
	// OverviewCacheBytes caps the estimated memory of the account
	// overviews the store keeps (db/pagecache.go); 0 means
	// DefaultOverviewCacheBytes, below 0 none.
	OverviewCacheBytes int
	// RenewWorkers is how many renewal batches run at once, each on a
	// connection of its own; 0 means 2 (db/renew.go).
	RenewWorkers int
	refs         referenceCache
	overviews    overviewCache
	prepared     bool     // prepared_statements=per_connection (Open)
	stmts        sync.Map // query → *sqlx.Stmt (getPrepared)
}

// New returns a Store.
func New(d *sqlx.DB, clock billing.Clock, payments billing.Gateway) *Store {
	return &Store{DB: d, Clock: clock, Payments: payments, prepared: PreparesStatements(d)}
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
	pgCheckViolation  = "23514"
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

// Throwaway makes a fresh, migrated schema named prefix_<random> in the
// database at databaseURL and returns a small pool scoped to it; drop closes
// the pool and drops the schema, so nothing outlives the caller.
func Throwaway(ctx context.Context, databaseURL, prefix string) (d *sqlx.DB, drop func(), err error) {
	var b [6]byte
	rand.Read(b[:])
	schema := prefix + "_" + hex.EncodeToString(b[:])
	admin, err := Open(ctx, databaseURL)
	if err != nil {
		return nil, nil, err
	}
	admin.SetMaxOpenConns(1)
	if _, err := admin.ExecContext(ctx, `CREATE SCHEMA `+schema); err != nil {
		admin.Close()
		return nil, nil, err
	}
	drop = func() {
		if d != nil {
			d.Close()
		}
		admin.ExecContext(context.WithoutCancel(ctx), `DROP SCHEMA `+schema+` CASCADE`)
		admin.Close()
	}
	scoped, err := withSearchPath(databaseURL, schema)
	if err != nil {
		drop()
		return nil, nil, err
	}
	if d, err = Open(ctx, scoped); err != nil {
		drop()
		return nil, nil, err
	}
	d.SetMaxOpenConns(8)
	d.SetMaxIdleConns(8)
	if _, err := Migrate(ctx, d); err != nil {
		drop()
		return nil, nil, err
	}
	return d, drop, nil
}

// withSearchPath adds a search_path run-time parameter to a lib/pq
// connection string (URL or key=value form).
func withSearchPath(dsn, schema string) (string, error) { return withParam(dsn, "search_path", schema) }

// withParam sets a connection parameter (a PostgreSQL run-time setting) on
// a URL or key=value connection string.
func withParam(dsn, key, value string) (string, error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", err
		}
		q := u.Query()
		q.Set(key, value)
		u.RawQuery = q.Encode()
		return u.String(), nil
	}
	return dsn + " " + key + "=" + value, nil
}

// takeParam returns dsn without the connection parameter key (URL or
// key=value form) and the value it had ("" when absent).
func takeParam(dsn, key string) (rest, value string, err error) {
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			return "", "", err
		}
		q := u.Query()
		value = q.Get(key)
		q.Del(key)
		u.RawQuery = q.Encode()
		return u.String(), value, nil
	}
	var kept []string
	for _, f := range strings.Fields(dsn) {
		if v, ok := strings.CutPrefix(f, key+"="); ok {
			value = strings.Trim(v, "'")
			continue
		}
		kept = append(kept, f)
	}
	return strings.Join(kept, " "), value, nil
}
