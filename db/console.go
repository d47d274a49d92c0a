package db

import (
	"context"
	"database/sql"
	"encoding/hex"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// AccountHit is one account in a staff search.
type AccountHit struct {
	ID     string `db:"id"`
	Name   string `db:"name"`
	Region string `db:"region"`
	Plan   string `db:"plan"`
}

// SearchAccounts finds accounts by exact id, id prefix or a part of the
// name (case-insensitive), exact id first; at most limit.
func (s *Store) SearchAccounts(ctx context.Context, q string, limit int) ([]AccountHit, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return nil, nil
	}
	like := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(q))
	var hits []AccountHit
	err := s.DB.SelectContext(ctx, &hits, `SELECT id, name, region, plan FROM accounts
		WHERE id = $1 OR lower(id) LIKE $2 || '%' OR lower(name) LIKE '%' || $2 || '%'
		ORDER BY (id = $1) DESC, name, id LIMIT $3`, q, like, limit)
	return hits, err
}

// DayCount is a count on one calendar day.
type DayCount struct {
	Day   time.Time `db:"day" json:"day"` // midnight of the day (its zone is the caller's)
	Count int64     `db:"n" json:"n"`
}

// DailyUsage is an account's billable messages per day of billing month m
// (JST days, as the month is), from the recorded batches.
func (s *Store) DailyUsage(ctx context.Context, accountID string, m billing.Month) ([]DayCount, error) {
	var out []DayCount
	err := s.DB.SelectContext(ctx, &out, `SELECT (sent_at AT TIME ZONE 'Asia/Tokyo')::date AS day, sum(free + additional) AS n
		FROM usage_batches WHERE account_id = $1 AND month = $2 AND billable
		GROUP BY 1 ORDER BY 1`, accountID, m.Date())
	return out, err
}

// LiveUsage is an account's billable messages so far in month m from the
// running totals the quota check reads (not the daily snapshot admins see).
func (s *Store) LiveUsage(ctx context.Context, accountID string, m billing.Month) (free, additional int64, err error) {
	err = s.DB.QueryRowxContext(ctx, `SELECT coalesce(sum(free), 0), coalesce(sum(additional), 0) FROM usage_totals
		WHERE account_id = $1 AND month = $2`, accountID, m.Date()).Scan(&free, &additional)
	return free, additional, err
}

// AuditEntry is one line of the audit trail.
type AuditEntry struct {
	ID        int64      `db:"id" json:"id"`
	At        time.Time  `db:"at" json:"at"`
	Actor     string     `db:"actor" json:"actor"`
	AccountID NullString `db:"account_id" json:"account_id"`
	Kind      string     `db:"kind" json:"kind"`
	Before    NullString `db:"before" json:"before"`
	After     NullString `db:"after" json:"after"`
}

// AuditFilter selects audit entries; empty fields do not filter.
type AuditFilter struct {
	AccountID string
	Actor     string // exact, or a prefix ending in ':' (e.g. "staff:")
	Kind      string // exact, or a prefix ending in '.' (e.g. "charge.")
	From, To  time.Time
	Limit     int
}

// FindAudit lists audit entries matching f, newest first (at most f.Limit,
// 200 by default).
func (s *Store) FindAudit(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	arg := func(v any) string {
		args = append(args, v)
		return "$" + strconv.Itoa(len(args))
	}
	if f.AccountID != "" {
		where = append(where, "account_id = "+arg(f.AccountID))
	}
	if f.Actor != "" {
		if strings.HasSuffix(f.Actor, ":") {
			where = append(where, "actor LIKE "+arg(f.Actor)+" || '%'")
		} else {
			where = append(where, "actor = "+arg(f.Actor))
		}
	}
	if f.Kind != "" {
		if strings.HasSuffix(f.Kind, ".") {
			where = append(where, "kind LIKE "+arg(f.Kind)+" || '%'")
		} else {
			where = append(where, "kind = "+arg(f.Kind))
		}
	}
	if !f.From.IsZero() {
		where = append(where, "at >= "+arg(f.From))
	}
	if !f.To.IsZero() {
		where = append(where, "at < "+arg(f.To))
	}
	if f.Limit <= 0 {
		f.Limit = 200
	}
	q := `SELECT id, at, actor, account_id, kind, before::text AS before, after::text AS after FROM audit_log`
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	q += " ORDER BY at DESC, id DESC LIMIT " + arg(f.Limit)
	var out []AuditEntry
	err := s.DB.SelectContext(ctx, &out, q, args...)
	return out, err
}

// staffTokenPrefix marks staff API tokens, so a leaked one is recognisable.
const staffTokenPrefix = "wss_"

// StaffToken is a staff API token as listed (never the token itself).
type StaffToken struct {
	ID        string       `db:"-"`
	Hash      []byte       `db:"token_hash"`
	Login     string       `db:"login"`
	Label     string       `db:"label"`
	CreatedAt time.Time    `db:"created_at"`
	RevokedAt sql.NullTime `db:"revoked_at"`
}

// CreateStaffToken issues an API token acting as staff user userID and
// returns it (shown once: only its hash is kept). EForbidden if the user is
// not staff. Audited without the token.
func (s *Store) CreateStaffToken(ctx context.Context, actor Actor, userID int64, label string) (string, error) {
	label, err := cleanLabel(label)
	if err != nil {
		return "", err
	}
	tok := staffTokenPrefix + NewToken()
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var staff bool
		if err := tx.GetContext(ctx, &staff, `SELECT is_staff FROM users WHERE id=$1`, userID); err != nil && !isNoRows(err) {
			return err
		}
		if !staff {
			return billing.Errorf(billing.EForbidden, "")
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO staff_api_tokens (token_hash, user_id, label, created_at) VALUES ($1,$2,$3,$4)`,
			hashToken(tok), userID, label, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "", "staff_token.created", nil, map[string]any{"label": label, "token_id": tokenID(tok)})
	})
	if err != nil {
		return "", err
	}
	return tok, nil
}

// FindStaffToken returns the staff user a live token acts as; EForbidden
// for an unknown or revoked token, or a user who is no longer staff.
func (s *Store) FindStaffToken(ctx context.Context, token string) (User, error) {
	var u User
	err := s.DB.GetContext(ctx, &u, `SELECT u.id, u.login, u.display_name, u.is_staff FROM staff_api_tokens t JOIN users u ON u.id = t.user_id
		WHERE t.token_hash = $1 AND t.revoked_at IS NULL AND u.is_staff`, hashToken(token))
	if isNoRows(err) {
		return u, billing.Errorf(billing.EForbidden, "API 權杖無效或已撤銷")
	}
	return u, err
}

// FindStaffTokens lists every staff API token, newest first.
func (s *Store) FindStaffTokens(ctx context.Context) ([]StaffToken, error) {
	var out []StaffToken
	err := s.DB.SelectContext(ctx, &out, `SELECT t.token_hash, u.login, t.label, t.created_at, t.revoked_at
		FROM staff_api_tokens t JOIN users u ON u.id = t.user_id ORDER BY t.created_at DESC`)
	for i := range out {
		out[i].ID = hexID(out[i].Hash)
	}
	return out, err
}

// RevokeStaffToken revokes the token whose id (as listed) is id. Audited.
func (s *Store) RevokeStaffToken(ctx context.Context, actor Actor, id string) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		res, err := tx.ExecContext(ctx, `UPDATE staff_api_tokens SET revoked_at=$1 WHERE encode(substring(token_hash from 1 for 8), 'hex') = $2 AND revoked_at IS NULL`, now, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return billing.Errorf(billing.EInvalid, "找不到此 API 權杖,或已撤銷")
		}
		return audit(ctx, tx, now, actor, "", "staff_token.revoked", nil, map[string]any{"token_id": id})
	})
}

func hexID(hash []byte) string { return hex.EncodeToString(hash[:min(8, len(hash))]) }

// StaffAccountData is everything the staff console's account page shows,
// read in one statement.
type StaffAccountData struct {
	Overview Overview
	// Month is the billing month the usage figures are for (the current one).
	Month   billing.Month
	Charges []Charge // newest first
	Usage   Usage    // the daily snapshot the account's admins see
	// LiveFree and LiveAdditional are the month's running totals.
	LiveFree, LiveAdditional int64
	Daily                    []DayCount // billable messages per JST day of Month
	Audit                    []AuditEntry
}

// staffAuditLimit is how many audit entries the account page lists.
const staffAuditLimit = 100

// StaffAccountPage reads what the staff account page shows: the overview
// with every charge, the month's live usage, its billable messages by day
// and the latest audit entries, all in the overview's one statement. The
// account is as of now, scheduled changes settled; its payment methods
// come without their provider tokens. Returns EUnknownAccount if there is
// no such account.
func (s *Store) StaffAccountPage(ctx context.Context, accountID string) (StaffAccountData, error) {
	o, st, err := s.findOverview(ctx, accountID, OverviewWith{Charges: true, Skip: SkipOwed, staff: true})
	if err != nil {
		return StaffAccountData{}, err
	}
	d := StaffAccountData{Month: billing.MonthOf(o.Now), Charges: o.Charges, Usage: o.Usage,
		LiveFree: st.LiveFree.Int64, LiveAdditional: st.LiveAdditional.Int64}
	o.Charges, o.Usage = nil, Usage{}
	for i := range o.Methods {
		o.Methods[i].Token = ""
	}
	d.Overview = o
	d.Daily, d.Audit = st.Daily, st.Audit // the staff page's row is never cached
	return d, nil
}
