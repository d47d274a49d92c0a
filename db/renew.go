package db

import (
	"context"
	"database/sql"
	"fmt"
	"hash/fnv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"golang.org/x/sync/errgroup"

	"webstore/billing"
)

// RenewSummary is what a renewal run did.
type RenewSummary struct {
	Month         string  `json:"month"`
	Accounts      int64   `json:"accounts"`       // accounts examined in this run
	PlanChanges   int64   `json:"plan_changes"`   // scheduled changes that took effect
	Charges       int64   `json:"charges"`        // renewal charges created in this run
	Paid          int64   `json:"paid"`           // of which settled at once (nothing to pay)
	Pending       int64   `json:"pending"`        // of which await collection
	Amount        int64   `json:"amount"`         // pre-tax plan amounts
	Offset        int64   `json:"offset"`         // promo offsets
	Tax           int64   `json:"tax"`            // business tax
	Total         int64   `json:"total"`          // totals to collect
	CodesRedeemed int64   `json:"codes_redeemed"` // codes applied (reserved until paid)
	Deferred      int64   `json:"deferred"`       // accounts skipped while a payment of theirs is in flight
	Seconds       float64 `json:"seconds"`
	AlreadyDone   bool    `json:"already_done"` // the month had been renewed before: nothing new
}

// RenewOptions tunes a renewal run.
type RenewOptions struct {
	BatchSize int
	// Workers is how many batches run at once, each in its own
	// transaction on its own connection (default Store.RenewWorkers, else
	// renewWorkers).
	Workers int
	// NoWait makes a run return EConflict instead of waiting when another
	// run of the same month holds the lock.
	NoWait bool
	// Progress, if set, is called after each batch with accounts done.
	Progress func(done int64)
}

// monthLockKey is the advisory lock of a month's renewal. The statements
// that take it fold in the schema, so simulations (each in a schema of its
// own on the same database) never wait on each other or on the app.
func monthLockKey(m billing.Month) int64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "renewal:%s", m)
	return int64(h.Sum64() >> 1)
}

// renew runs the renewal of the billing month containing at for every
// account, in batches: each batch reads its accounts in one query, asks
// billing.Quote for each, and writes charges, plan changes and code
// reservations in a few set-based statements in one transaction. It is safe
// to run twice (a month's renewal charge is unique per account) and from two
// processes at once (they take turns on an advisory lock), and resumable
// after a crash (committed batches stay; the rest are done by the next run).
// Charges with something to pay are left pending for Collect. Returns
// EMonthNotCurrent unless the store's clock is inside the month
// (billing.MayRenew); an account with a payment in flight is skipped until
// it is settled (a later run of the month renews it).
//
// RunRenewal is the one way the app renews, and the only caller; the tests
// call it alone through Store.Renew (export_test.go), for what RunRenewal
// does not let them choose: the batch size, waiting on another run's lock,
// and stopping between batches (the fault campaign's renewal killed
// midway).
func (s *Store) renew(ctx context.Context, actor Actor, at time.Time, opt RenewOptions) (RenewSummary, error) {
	started := time.Now()
	m := billing.MonthOf(at)
	sum := RenewSummary{Month: m.String()}
	if err := billing.MayRenew(m, s.Clock.Now()); err != nil {
		return sum, err
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 10000
	}
	conn, err := s.DB.Connx(ctx)
	if err != nil {
		return sum, err
	}
	defer conn.Close()
	key := monthLockKey(m)
	if opt.NoWait {
		var ok bool
		if err := conn.GetContext(ctx, &ok, `SELECT pg_try_advisory_lock($1::bigint # hashtext(current_schema())::bigint)`, key); err != nil {
			return sum, err
		}
		if !ok {
			return sum, billing.Errorf(billing.EConflict, "%s 的續約正在執行中", m)
		}
	} else if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1::bigint # hashtext(current_schema())::bigint)`, key); err != nil {
		return sum, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1::bigint # hashtext(current_schema())::bigint)`, key)

	now := s.Clock.Now()
	var prevStatus sql.NullString
	if err := conn.GetContext(ctx, &prevStatus, `SELECT status FROM renewal_runs WHERE month=$1`, m.Date()); err != nil && !isNoRows(err) {
		return sum, err
	}
	if _, err := conn.ExecContext(ctx, `INSERT INTO renewal_runs (month, status, started_at, started_by) VALUES ($1,'running',$2,$3)
		ON CONFLICT (month) DO UPDATE SET status='running'`, m.Date(), now, string(actor)); err != nil {
		return sum, err
	}
	cat, err := LoadCatalog(ctx, conn)
	if err != nil {
		return sum, err
	}
	camps := map[string]billing.Campaign{}
	var crs []campaignRow
	if err := conn.SelectContext(ctx, &crs, `SELECT `+campaignCols+` FROM campaigns`); err != nil {
		return sum, err
	}
	for _, r := range crs {
		camps[r.ID] = r.billing()
	}

	if err := s.renewBatches(ctx, conn, actor, now, m, cat, camps, opt, &sum); err != nil {
		return sum, err
	}
	if _, err := conn.ExecContext(ctx, `UPDATE renewal_runs r SET status='done', finished_at=$2,
		accounts = (SELECT count(*) FROM accounts),
		charges = c.n, total = c.total, codes = c.codes
		FROM (SELECT count(*) AS n, coalesce(sum(total),0) AS total, count(code) AS codes FROM charges WHERE kind='renewal' AND month=$1) c
		WHERE r.month=$1`, m.Date(), s.Clock.Now()); err != nil {
		return sum, err
	}
	sum.AlreadyDone = prevStatus.String == "done" && sum.Charges == 0 && sum.PlanChanges == 0
	sum.Seconds = time.Since(started).Seconds()
	return sum, nil
}

// renewWorkers is how many batches a run writes at once by default: a
// batch spends most of its time in PostgreSQL (its inserts' index entries,
// foreign keys and triggers), one core's work, so two batches side by side
// use a two-core database server twice over. Batches are disjoint ranges
// of accounts and take no lock another batch needs (the overviews' global
// version, which every large batch bumps, is eight rows: migration 022).
const renewWorkers = 2

// renewBatches renews every account in batches of opt.BatchSize, with
// opt.Workers batches at once. Each batch is a range of account ids
// claimed in order on conn (the run's own connection) and written in a
// transaction of its own; the first error stops the others, and what
// committed stays (a later run renews the rest).
func (s *Store) renewBatches(ctx context.Context, conn *sqlx.Conn, actor Actor, now time.Time, m billing.Month,
	cat billing.Catalog, camps map[string]billing.Campaign, opt RenewOptions, sum *RenewSummary) error {
	workers := opt.Workers
	if workers <= 0 {
		workers = s.RenewWorkers
	}
	if workers <= 0 {
		workers = renewWorkers
	}
	var (
		mu   sync.Mutex // guards last, done, sum and Progress
		last string
		done bool
	)
	// claim returns the next range (lo, hi] of at most size accounts that
	// can owe something or change plan, or ok false past the last one.
	claim := func(ctx context.Context) (lo, hi string, ok bool, err error) {
		mu.Lock()
		defer mu.Unlock()
		if err := ctx.Err(); err != nil {
			return "", "", false, err // stopped: no further batch begins
		}
		if done {
			return "", "", false, nil
		}
		var next sql.NullString
		if err := conn.GetContext(ctx, &next, `SELECT max(id) FROM (SELECT a.id FROM accounts a
			WHERE a.id > $1 AND `+renewable("$3")+` ORDER BY a.id LIMIT $2) s`,
			last, opt.BatchSize, freePlans(cat)); err != nil {
			return "", "", false, err
		}
		if !next.Valid {
			done = true
			return "", "", false, nil
		}
		lo, last = last, next.String
		return lo, next.String, true, nil
	}
	g, gctx := errgroup.WithContext(ctx)
	for range workers {
		g.Go(func() error {
			for {
				lo, hi, ok, err := claim(gctx)
				if err != nil || !ok {
					return err
				}
				var part RenewSummary
				if err := s.renewBatch(gctx, actor, now, m, cat, camps, lo, hi, opt.BatchSize, &part); err != nil {
					return err
				}
				mu.Lock()
				sum.add(part)
				if opt.Progress != nil {
					opt.Progress(sum.Accounts)
				}
				mu.Unlock()
			}
		})
	}
	err := g.Wait()
	if ctx.Err() != nil {
		// Stopped (a batch in flight then fails in whatever way the
		// driver reports a cancelled query, or none was in flight): the
		// run says so, and writes no more.
		return ctx.Err()
	}
	return err
}

// add counts a batch's part of a run.
func (sum *RenewSummary) add(p RenewSummary) {
	sum.Accounts += p.Accounts
	sum.PlanChanges += p.PlanChanges
	sum.Charges += p.Charges
	sum.Paid += p.Paid
	sum.Pending += p.Pending
	sum.Amount += p.Amount
	sum.Offset += p.Offset
	sum.Tax += p.Tax
	sum.Total += p.Total
	sum.CodesRedeemed += p.CodesRedeemed
	sum.Deferred += p.Deferred
}

type renewRow struct {
	accountRow
	Code         sql.NullString `db:"code"`
	CampaignID   sql.NullString `db:"campaign_id"`
	RegisteredAt sql.NullTime   `db:"registered_at"`
	Pending      bool           `db:"pending"` // a payment of the account is in flight
}

// renewBatch renews the accounts with ids in (last, hi], at most about
// size of them, adding what it did to sum.
func (s *Store) renewBatch(ctx context.Context, actor Actor, now time.Time, m billing.Month, cat billing.Catalog,
	camps map[string]billing.Campaign, last, hi string, size int, sum *RenewSummary) error {
	tx, err := s.DB.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	// The batch's statements are planned for tens of thousands of rows, and
	// their estimated cost crossed JIT's threshold: compiling them cost
	// more than running them (about 0.1 s a batch). Off for this
	// transaction only, so it holds behind a pooler too.
	if _, err := tx.ExecContext(ctx, `SET LOCAL jit = off`); err != nil {
		return err
	}
	// With room for the whole batch: grown row by row, the slice of wide
	// rows was copied over and over (a quarter of the run's own CPU).
	rows := make([]renewRow, 0, min(size, 1<<16))
	// Only accounts that can owe something or change plan are read: a paid
	// plan, or a scheduled change. Their rows are locked so a purchase racing
	// the run waits for it. Every joined table is bounded by "> last" too,
	// so a merge join starts at this batch instead of rescanning from the
	// first account (which made a run quadratic), and the month's paid fee
	// is a per-account key lookup: a join there trusted statistics that the
	// run itself makes stale (the month's rows grow as charges settle). So
	// is the pending check: planned as one hashed pass over every pending
	// plan charge, it read each batch's predecessors' renewals again.
	err = tx.SelectContext(ctx, &rows, `
		SELECT a.id, a.name, a.region, a.plan, a.scheduled_plan, a.scheduled_for,
		       pm.id AS payment_id, pm.kind AS payment_kind, pm.token AS payment_token,
		       coalesce((SELECT am.fee_paid FROM account_months am WHERE am.account_id = a.id AND am.month = $2::date), 0) AS paid_fee,
		       pc.code, pc.campaign_id, pc.registered_at,
		       EXISTS (SELECT 1 FROM charges c WHERE c.account_id = a.id AND c.status = 'pending' AND c.kind = ANY($5) AND c.account_id > $1) AS pending
		FROM accounts a
		LEFT JOIN payment_methods pm ON pm.account_id = a.id AND pm.is_main AND pm.removed_at IS NULL AND pm.account_id > $1
		LEFT JOIN promo_codes pc ON pc.account_id = a.id AND pc.status = 'registered' AND pc.account_id > $1
		WHERE a.id > $1 AND a.id <= $3 AND `+renewable("$4")+`
		  AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.account_id = a.id AND c.kind = 'renewal' AND c.month = $2::date AND c.account_id > $1)
		ORDER BY a.id
		FOR UPDATE OF a`, last, m.Date(), hi, freePlans(cat), kinds(billing.PlanFeeKinds))
	if err != nil {
		return err
	}
	if len(rows) == 0 {
		return tx.Commit()
	}
	var ncs []newCharge
	var planAcct, planTo []string
	start := m.Start()
	for _, r := range rows {
		a := r.billing(m)
		settled := a.Settle(start)
		if settled.Plan != a.Plan || a.ScheduledPlan != "" && !m.Before(a.ScheduledFor) {
			planAcct = append(planAcct, a.ID)
			planTo = append(planTo, string(settled.Plan))
		}
		if r.Pending {
			sum.Deferred++
			continue
		}
		in := billing.QuoteInput{Kind: billing.KindRenewal, Account: a, At: start}
		if r.Code.Valid {
			in.Code = &billing.PromoCode{Code: r.Code.String, CampaignID: r.CampaignID.String, AccountID: a.ID,
				Status: billing.CodeRegistered, RegisteredAt: r.RegisteredAt.Time}
			in.Campaign = camps[r.CampaignID.String]
		}
		q, err := cat.Quote(in)
		if err != nil {
			return fmt.Errorf("account %s: %w", a.ID, err)
		}
		if q.Chargeable() {
			ncs = append(ncs, newCharge{Quote: q, Row: r.accountRow})
		}
	}

	if len(planAcct) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts a SET plan = u.plan, scheduled_plan = NULL, scheduled_for = NULL
			FROM unnest($1::text[], $2::text[]) AS u(id, plan) WHERE a.id = u.id`, pq.StringArray(planAcct), pq.StringArray(planTo)); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO audit_log (at, actor, account_id, kind, after)
			SELECT $1, $2, id, 'plan.scheduled_change_applied', jsonb_build_object('plan', plan, 'month', $3::text)
			FROM unnest($4::text[], $5::text[]) AS u(id, plan)`, now, string(actor), m.String(), pq.StringArray(planAcct), pq.StringArray(planTo)); err != nil {
			return err
		}
	}
	written, err := writeCharges(ctx, tx, now, cat, ncs)
	if err != nil {
		return fmt.Errorf("renewal charges: %w", err)
	}
	for _, c := range written {
		sum.Charges++
		sum.Amount += int64(c.Amount)
		sum.Offset += int64(c.Offset)
		sum.Tax += int64(c.Tax)
		sum.Total += int64(c.Total)
		if c.Status == billing.StatusPaid {
			sum.Paid++
		} else {
			sum.Pending++
		}
		if c.Code != "" {
			sum.CodesRedeemed++
		}
	}
	sum.Accounts += int64(len(rows))
	sum.PlanChanges += int64(len(planAcct))
	return tx.Commit()
}

func nullStrings(v []sql.NullString) any {
	out := make([]*string, len(v))
	for i := range v {
		if v[i].Valid {
			out[i] = &v[i].String
		}
	}
	return pq.Array(out)
}

func nullInts(v []sql.NullInt64) any {
	out := make([]*int64, len(v))
	for i := range v {
		if v[i].Valid {
			out[i] = &v[i].Int64
		}
	}
	return pq.Array(out)
}

// renewable is the condition on accounts a that a renewal looks at: a paid
// plan or a scheduled change (free is the parameter holding freePlans). The
// run's batches, the ranges they claim, its expected count and the staff
// estimate all read this set.
func renewable(free string) string {
	return `(a.plan <> ALL(` + free + `::text[]) OR a.scheduled_plan IS NOT NULL)`
}

// freePlans is the catalog's plans without a fee, as a query parameter.
func freePlans(cat billing.Catalog) any {
	var ids pq.StringArray
	for _, id := range cat.FreePlans() {
		ids = append(ids, string(id))
	}
	return ids
}
