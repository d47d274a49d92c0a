package db

import (
	"context"
	"fmt"
	"time"

	"golang.org/x/crypto/bcrypt"

	"webstore/billing"
)

// DemoPassword is every demo user's password (printed by `make run`).
const DemoPassword = "demo1234"

// DemoUser is a seeded sign-in.
type DemoUser struct {
	Login, Name string
	Staff       bool
	Roles       map[string]string // account id → role
}

// DemoUsers are the seeded sign-ins.
var DemoUsers = []DemoUser{
	{Login: "alice", Name: "Alice 林", Roles: map[string]string{"bear": "admin", "cat": "admin", "dog": "operator"}},
	{Login: "oscar", Name: "Oscar 王", Roles: map[string]string{"bear": "operator", "cat": "operator_no_broadcast"}},
	{Login: "kenji", Name: "Kenji 佐藤", Roles: map[string]string{"tokyo": "admin"}},
	{Login: "staff", Name: "帳務小組", Staff: true},
}

// DemoCampaignID is the open demo campaign for the month containing t.
func DemoCampaignID(t time.Time) string { return "demo-" + billing.MonthOf(t).String() }

// Seed loads the demo data: four official accounts, the demo users, the
// document's summer-2024 campaign (long expired) and a demo campaign open
// from this month to the end of the next. It is idempotent and returns how
// many rows it added. It ends by analyzing the tables it wrote.
func (s *Store) Seed(ctx context.Context) (int, error) {
	now := s.Clock.Now()
	m := billing.MonthOf(now)
	added := 0
	const actor = Actor("system:seed")
	for _, a := range []NewAccount{
		{ID: "bear", Name: "熊美服飾店", Region: "TW", Plan: billing.Light},
		{ID: "cat", Name: "貓咪咖啡", Region: "TW", Plan: billing.Medium, PaidMonth: m},
		{ID: "dog", Name: "柴犬寵物用品", Region: "TW", Plan: billing.High, PaidMonth: m},
		{ID: "tokyo", Name: "東京ラーメン", Region: "JP", Plan: billing.Medium, PaidMonth: m},
	} {
		err := s.CreateAccount(ctx, actor, a)
		if billing.ErrorCode(err) == billing.EConflict {
			continue
		} else if err != nil {
			return added, err
		}
		added++
	}
	for _, u := range DemoUsers {
		hash, err := bcrypt.GenerateFromPassword([]byte(DemoPassword), bcrypt.DefaultCost)
		if err != nil {
			return added, err
		}
		res, err := s.DB.ExecContext(ctx, `INSERT INTO users (login, display_name, password_hash, is_staff, created_at, line_subject)
			VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (login) DO NOTHING`, u.Login, u.Name, string(hash), u.Staff, now, DemoLineSubject(u.Login))
		if err != nil {
			return added, err
		}
		n, _ := res.RowsAffected()
		added += int(n)
		// Users seeded before LINE Login get their sandbox LINE account.
		if _, err := s.DB.ExecContext(ctx, `UPDATE users SET line_subject=$2 WHERE login=$1 AND line_subject IS NULL`,
			u.Login, DemoLineSubject(u.Login)); err != nil {
			return added, err
		}
		for acct, role := range u.Roles {
			res, err := s.DB.ExecContext(ctx, `INSERT INTO memberships (account_id, user_id, role, created_at)
				SELECT $1, id, $2, $3 FROM users WHERE login=$4 ON CONFLICT DO NOTHING`, acct, role, now, u.Login)
			if err != nil {
				return added, err
			}
			n, _ := res.RowsAffected()
			added += int(n)
		}
	}
	tw := func(s string) time.Time {
		t, _ := time.ParseInLocation("2006-01-02 15:04:05", s, billing.Taipei)
		return t
	}
	camps := []struct {
		c     billing.Campaign
		codes []string
	}{
		{billing.Campaign{ID: "summer-2024", Name: "LINE官方帳號 2024 夏季優惠活動代碼", FaceValue: 800,
			ValidFrom: tw("2024-06-07 00:00:00"), ValidUntil: tw("2024-08-31 23:59:59")},
			[]string{"SUMMER-2024-0001", "SUMMER-2024-0002", "SUMMER-2024-0003"}},
		{billing.Campaign{ID: DemoCampaignID(now), Name: fmt.Sprintf("示範優惠活動 %s", m), FaceValue: 800,
			ValidFrom: m.Start(), ValidUntil: m.Next().End().Add(-time.Second)}, demoCodes(m)},
	}
	for _, c := range camps {
		_, err := s.CreateCampaign(ctx, actor, c.c)
		if billing.ErrorCode(err) == billing.EConflict {
			continue
		} else if err != nil {
			return added, err
		}
		if err := s.AddCodes(ctx, actor, c.c.ID, c.codes); err != nil {
			return added, err
		}
		added += 1 + len(c.codes)
	}
	// A demo number book for this e-invoice period and the next, so
	// purchases are invoiced at once (the platform gives real ones).
	p := billing.InvoicePeriodOf(now)
	res, err := s.ImportBooks(ctx, actor, []billing.BookRange{DemoBook(p), DemoBook(p.Next())})
	if err != nil {
		return added, err
	}
	added += res.Added
	// Tables this small never reach autovacuum's threshold: without
	// statistics the planner guesses, and the pages pay for it.
	if _, err := s.DB.ExecContext(ctx, `ANALYZE `+seededTables); err != nil {
		return added, err
	}
	return added, nil
}

// seededTables are the tables Seed writes (CreateAccount, the users and
// their memberships, CreateCampaign and AddCodes, and the audit trail and
// reference version those bump).
const seededTables = `accounts, account_months, audit_log, users, memberships, campaigns, promo_codes, reference_version,
	einvoice_periods, einvoice_books, einvoices`

// DemoBook is the demo number range Seed imports for period p: 500
// numbers from AB12345600.
func DemoBook(p billing.InvoicePeriod) billing.BookRange {
	return billing.BookRange{Period: p, Track: "AB", Begin: 12345600, End: 12346099}
}

// demoCodes are the demo campaign's codes, e.g. DEMO-2611-0001.
func demoCodes(m billing.Month) []string {
	codes := make([]string, 20)
	for i := range codes {
		codes[i] = fmt.Sprintf("DEMO-%02d%02d-%04d", m.Year%100, int(m.Month), i+1)
	}
	return codes
}
