package db

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"webstore/billing"
)

// RenewalEstimate is what renewing a month would charge, before it runs.
type RenewalEstimate struct {
	Month        string
	Candidates   int64 // accounts on a paid plan or with a scheduled change, not yet renewed
	Charges      int64 // of which would be charged
	PlanChanges  int64 // scheduled changes that would take effect
	Amount       billing.Money
	Offset       billing.Money
	Forfeited    billing.Money
	Tax          billing.Money
	Total        billing.Money
	Codes        int64 // codes that would be redeemed
	NoPayment    int64 // charges whose account has no payment method (collection will fail)
	AlreadyDone  int64 // accounts already renewed for the month
	AlreadyTotal billing.Money
	Seconds      float64
}

// EstimateRenewal previews a month's renewal without writing anything. The
// accounts are grouped by everything billing.Quote looks at (plan for the
// month, region, payment kind, fee already paid, held code's campaign) in
// one set-based query; each group is quoted once with the same Catalog.Quote
// the run uses and multiplied by its size. So the figures are exact, and a
// million accounts take one aggregate scan, not a million quotes.
func (s *Store) EstimateRenewal(ctx context.Context, m billing.Month) (RenewalEstimate, error) {
	started := time.Now()
	est := RenewalEstimate{Month: m.String()}
	tx, err := s.DB.BeginTxx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return est, err
	}
	defer tx.Rollback()
	cat, err := LoadCatalog(ctx, tx)
	if err != nil {
		return est, err
	}
	camps := map[string]billing.Campaign{}
	var crs []campaignRow
	if err := tx.SelectContext(ctx, &crs, `SELECT `+campaignCols+` FROM campaigns`); err != nil {
		return est, err
	}
	for _, r := range crs {
		camps[r.ID] = r.billing()
	}
	var groups []struct {
		Plan     string         `db:"plan"`
		Sched    sql.NullString `db:"sched"`
		Region   string         `db:"region"`
		Kind     string         `db:"kind"`
		Paid     int64          `db:"paid"`
		Campaign string         `db:"campaign"`
		N        int64          `db:"n"`
	}
	if err := tx.SelectContext(ctx, &groups, `
		SELECT a.plan, CASE WHEN a.scheduled_for <= $1 THEN a.scheduled_plan END AS sched, a.region,
		       coalesce(pm.kind, '') AS kind, coalesce(am.fee_paid, 0) AS paid, coalesce(pc.campaign_id, '') AS campaign, count(*) AS n
		FROM accounts a
		LEFT JOIN payment_methods pm ON pm.account_id = a.id AND pm.is_main AND pm.removed_at IS NULL
		LEFT JOIN account_months am ON am.account_id = a.id AND am.month = $1
		LEFT JOIN promo_codes pc ON pc.account_id = a.id AND pc.status = 'registered'
		WHERE `+renewable("$2")+`
		  AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.account_id = a.id AND c.kind = 'renewal' AND c.month = $1)
		GROUP BY 1, 2, 3, 4, 5, 6`, m.Date(), freePlans(cat)); err != nil {
		return est, err
	}
	start := m.Start()
	for _, g := range groups {
		a := billing.Account{ID: "estimate", Region: g.Region, Plan: billing.PlanID(g.Plan), Payment: billing.PaymentKind(g.Kind),
			PaidMonth: m, PaidFee: billing.Money(g.Paid)}
		if g.Sched.Valid {
			a.ScheduledPlan, a.ScheduledFor = billing.PlanID(g.Sched.String), m
		}
		in := billing.QuoteInput{Kind: billing.KindRenewal, Account: a, At: start}
		if g.Campaign != "" {
			in.Code = &billing.PromoCode{Code: "estimate", CampaignID: g.Campaign, AccountID: a.ID, Status: billing.CodeRegistered}
			in.Campaign = camps[g.Campaign]
		}
		est.Candidates += g.N
		if a.Settle(start).Plan != a.Plan {
			est.PlanChanges += g.N
		}
		q, err := cat.Quote(in)
		if err != nil {
			return est, fmt.Errorf("quote a %s renewal: %w", g.Plan, err)
		}
		if !q.Chargeable() {
			continue
		}
		n := billing.Money(g.N)
		est.Charges += g.N
		est.Amount += q.Amount * n
		est.Offset += q.Offset * n
		est.Forfeited += q.Forfeited * n
		est.Tax += q.Tax * n
		est.Total += q.Total * n
		if q.Code != "" {
			est.Codes += g.N
		}
		if g.Kind == "" && q.Total > 0 {
			est.NoPayment += g.N
		}
	}
	if err := tx.QueryRowxContext(ctx, `SELECT count(*), coalesce(sum(total), 0) FROM charges WHERE kind = 'renewal' AND month = $1`,
		m.Date()).Scan(&est.AlreadyDone, &est.AlreadyTotal); err != nil {
		return est, err
	}
	est.Seconds = time.Since(started).Seconds()
	return est, nil
}

// RenewalResult is what a console run did, phase by phase.
type RenewalResult struct {
	Renewal    RenewSummary     `json:"renewal"`
	Usage      UsageBillSummary `json:"usage"`
	Collection CollectSummary   `json:"collection"`
}

// RenewalRun is a month's renewal run as the console shows it.
type RenewalRun struct {
	Month      time.Time      `db:"month"`
	Status     string         `db:"status"`
	Phase      string         `db:"phase"`
	Done       int64          `db:"done"`
	Expected   int64          `db:"expected"`
	StartedAt  time.Time      `db:"started_at"`
	StartedBy  string         `db:"started_by"`
	FinishedAt sql.NullTime   `db:"finished_at"`
	ResultJSON sql.NullString `db:"result"`
	Error      string         `db:"error"`
	Result     *RenewalResult `db:"-"`
}

// Running reports whether the run is in progress.
func (r RenewalRun) Running() bool {
	return r.Phase == "renewing" || r.Phase == "billing_usage" || r.Phase == "collecting"
}

// BillingMonth is the run's month.
func (r RenewalRun) BillingMonth() billing.Month { return billing.MonthFromDate(r.Month) }

const runCols = `month, status, phase, done, expected, started_at, started_by, finished_at, result::text AS result, error`

func (r *RenewalRun) decode() {
	if r.ResultJSON.Valid {
		var res RenewalResult
		if json.Unmarshal([]byte(r.ResultJSON.String), &res) == nil {
			r.Result = &res
		}
	}
}

// FindRenewalRun reads a month's run; ok is false if it never ran.
func (s *Store) FindRenewalRun(ctx context.Context, m billing.Month) (RenewalRun, bool, error) {
	var r RenewalRun
	err := s.DB.GetContext(ctx, &r, `SELECT `+runCols+` FROM renewal_runs WHERE month=$1`, m.Date())
	if isNoRows(err) {
		return r, false, nil
	}
	r.decode()
	return r, err == nil, err
}

// FindRenewalRuns lists the latest runs, newest month first.
func (s *Store) FindRenewalRuns(ctx context.Context) ([]RenewalRun, error) {
	var out []RenewalRun
	err := s.DB.SelectContext(ctx, &out, `SELECT `+runCols+` FROM renewal_runs ORDER BY month DESC LIMIT 24`)
	for i := range out {
		out[i].decode()
	}
	return out, err
}

// A run that has stopped moving may be taken over (its process is presumed
// gone; renew itself is resumable, Collect pays each charge once): after
// staleRenewing without progress while renewing (every batch reports), or
// after staleRun in the later phases, which report no progress.
const (
	staleRenewing = 10 * time.Minute
	staleRun      = 2 * time.Hour
)

// ClaimRenewalRun marks month m's run as started by actor, unless one is
// in progress: of two staff starting it at once, exactly one claims it
// (the row's primary key and the conditional upsert), and the other gets
// EConflict. The claimed run is then executed by RunRenewal.
//
// Returns EMonthNotCurrent unless m is the month in progress
// (billing.MayRenew): a month that has ended is never renewed (nor
// collected) late, and one that has not begun would end the current
// month's plans early.
func (s *Store) ClaimRenewalRun(ctx context.Context, actor Actor, m billing.Month) error {
	now := s.Clock.Now()
	if err := billing.MayRenew(m, now); err != nil {
		return err
	}
	cat, err := s.Catalog(ctx)
	if err != nil {
		return err
	}
	var expected int64
	if err := s.DB.GetContext(ctx, &expected, `SELECT count(*) FROM accounts a WHERE `+renewable("$2")+`
		AND NOT EXISTS (SELECT 1 FROM charges c WHERE c.account_id = a.id AND c.kind = 'renewal' AND c.month = $1)`, m.Date(), freePlans(cat)); err != nil {
		return err
	}
	res, err := s.DB.ExecContext(ctx, `INSERT INTO renewal_runs (month, status, started_at, started_by, phase, phase_at, done, expected)
		VALUES ($1, 'running', $2, $3, 'renewing', $2, 0, $4)
		ON CONFLICT (month) DO UPDATE SET phase = 'renewing', phase_at = $2, started_at = $2, started_by = $3, done = 0,
			expected = $4, result = NULL, error = '', finished_at = NULL
		WHERE renewal_runs.phase IN ('finished', 'failed') OR renewal_runs.phase_at < $6
			OR (renewal_runs.phase = 'renewing' AND renewal_runs.phase_at < $5)`,
		m.Date(), now, string(actor), expected, now.Add(-staleRenewing), now.Add(-staleRun))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return billing.Errorf(billing.EConflict, "%s 的續約正在執行中", m)
	}
	return nil
}

// RunRenewal is the one renewal operation, run by the console, the `renew`
// command and the simulator alike, once ClaimRenewalRun has claimed the
// month: the failed renewals of months that have ended are given up
// (billing.GiveUp), month m is renewed (renew, without waiting on
// another process's run), the month before's additional messages are
// billed (it has always ended, since m is the month in progress), and,
// with collect, every pending charge is collected and the due retries are
// made. Progress and the outcome are written to the run's row as it goes.
// Each batch commits, so a run stopped anywhere resumes where it stopped.
func (s *Store) RunRenewal(ctx context.Context, actor Actor, m billing.Month, collect bool) (RenewalResult, error) {
	var res RenewalResult
	// The run's own bookkeeping outlives a cancelled run (a shutdown): its
	// row must say where it stopped, not read "renewing" until it is stale.
	bookkeeping := context.WithoutCancel(ctx)
	phase := func(p string) {
		s.DB.ExecContext(bookkeeping, `UPDATE renewal_runs SET phase=$2, phase_at=$3 WHERE month=$1`, m.Date(), p, s.Clock.Now())
	}
	fail := func(err error) (RenewalResult, error) {
		msg := err.Error()
		var be *billing.Error
		if errors.As(err, &be) {
			msg = be.Message("zh-TW")
			if be.Detail != "" {
				msg = be.Detail
			}
		}
		b, _ := json.Marshal(res)
		s.DB.ExecContext(bookkeeping, `UPDATE renewal_runs SET phase='failed', phase_at=$2, finished_at=$2, error=$3, result=$4 WHERE month=$1`,
			m.Date(), s.Clock.Now(), msg, string(b))
		return res, err
	}
	if err := billing.MayRenew(m, s.Clock.Now()); err != nil {
		return fail(err)
	}
	if err := s.giveUpEnded(ctx, actor, m); err != nil {
		return fail(err)
	}
	var err error
	res.Renewal, err = s.renew(ctx, actor, m.Start(), RenewOptions{NoWait: true, Progress: func(done int64) {
		s.DB.ExecContext(ctx, `UPDATE renewal_runs SET done=$2, phase_at=$3 WHERE month=$1`, m.Date(), done, s.Clock.Now())
	}})
	if err != nil {
		return fail(err)
	}
	if _, err := s.DB.ExecContext(ctx, `UPDATE renewal_runs SET done=$2 WHERE month=$1`, m.Date(), res.Renewal.Accounts); err != nil {
		return fail(err)
	}
	phase("billing_usage")
	if res.Usage, err = s.BillUsage(ctx, actor, m.Prev()); err != nil {
		return fail(err)
	}
	if collect {
		phase("collecting")
		if res.Collection, err = s.Collect(ctx, actor, 0); err != nil {
			return fail(err)
		}
		retried, err := s.RetryDue(ctx, actor)
		if err != nil {
			return fail(err)
		}
		res.Collection.add(retried)
	}
	b, err := json.Marshal(res)
	if err != nil {
		return fail(err)
	}
	_, err = s.DB.ExecContext(ctx, `UPDATE renewal_runs SET phase='finished', phase_at=$2, finished_at=$2, result=$3 WHERE month=$1`,
		m.Date(), s.Clock.Now(), string(b))
	return res, err
}

// RenewalCharge is a charge of a month's renewal as the console lists it.
type RenewalCharge struct {
	Charge
	AccountName string `db:"account_name"`
}

// RenewalOutcome is a month's renewal charges in numbers, with the failed
// ones listed.
type RenewalOutcome struct {
	Charges  int64 `db:"charges"`
	Paid     int64 `db:"paid"`
	Pending  int64 `db:"pending"`
	Failed   int64 `db:"failed"`
	Total    int64 `db:"total"`
	PaidSum  int64 `db:"paid_total"`
	Offset   int64 `db:"offset_total"`
	Codes    int64 `db:"codes"`
	Failures []RenewalCharge
}

// FindRenewalOutcome counts month m's renewal charges by status and lists
// the failed ones (at most 200) with their reasons.
func (s *Store) FindRenewalOutcome(ctx context.Context, m billing.Month) (RenewalOutcome, error) {
	var o RenewalOutcome
	if err := s.DB.GetContext(ctx, &o, `SELECT count(*) AS charges,
		count(*) FILTER (WHERE status='paid') AS paid, count(*) FILTER (WHERE status='pending') AS pending,
		count(*) FILTER (WHERE status='failed') AS failed, coalesce(sum(total), 0) AS total,
		coalesce(sum(total) FILTER (WHERE status='paid'), 0) AS paid_total, coalesce(sum(offset_amount), 0) AS offset_total,
		count(code) FILTER (WHERE status='paid') AS codes
		FROM charges WHERE kind='renewal' AND month=$1`, m.Date()); err != nil {
		return o, err
	}
	err := s.DB.SelectContext(ctx, &o.Failures, `SELECT `+chargeCols+`, (SELECT name FROM accounts a WHERE a.id = charges.account_id) AS account_name
		FROM charges WHERE kind='renewal' AND month=$1 AND status='failed' ORDER BY account_id LIMIT 200`, m.Date())
	return o, err
}
