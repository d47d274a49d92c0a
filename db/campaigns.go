package db

import (
	"context"
	"database/sql"
	"math"
	"math/big"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// CampaignSummary is a campaign in the staff list.
type CampaignSummary struct {
	billing.Campaign
	Issued int64
}

// FindCampaigns lists every campaign, newest window first, with how many
// codes it issued.
func (s *Store) FindCampaigns(ctx context.Context) ([]CampaignSummary, error) {
	var rows []struct {
		campaignRow
		Issued int64 `db:"issued"`
	}
	if err := s.DB.SelectContext(ctx, &rows, `SELECT c.id, c.name, c.face_value, c.valid_from, c.valid_until, c.regions, c.payment_kinds,
		c.upgrades, c.renewal_plans, (SELECT count(*) FROM promo_codes p WHERE p.campaign_id = c.id) AS issued
		FROM campaigns c ORDER BY c.valid_from DESC, c.id`); err != nil {
		return nil, err
	}
	out := make([]CampaignSummary, len(rows))
	for i, r := range rows {
		out[i] = CampaignSummary{Campaign: r.campaignRow.billing(), Issued: r.Issued}
	}
	return out, nil
}

func campaignArrays(c billing.Campaign) (kinds, ups, plans []string) {
	for _, k := range c.PaymentKinds {
		kinds = append(kinds, string(k))
	}
	for _, t := range c.Upgrades {
		ups = append(ups, t.String())
	}
	for _, p := range c.RenewalPlans {
		plans = append(plans, string(p))
	}
	return kinds, ups, plans
}

// UpdateCampaign changes a campaign's name, face value, window and
// eligibility. A change applies to every code of the campaign from now on
// (charges already made keep their lines). Returns EInvalid for bad data and
// for an unknown campaign. Audited with before and after.
func (s *Store) UpdateCampaign(ctx context.Context, actor Actor, c billing.Campaign) (billing.Campaign, error) {
	c = billing.DefaultCampaignTerms(c)
	c.Name = billing.TrimText(c.Name)
	maxFace, err := s.faceCap(ctx)
	if err != nil {
		return c, err
	}
	if err := c.Validate(maxFace); err != nil {
		return c, err
	}
	if c.Name == "" {
		c.Name = c.ID
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		var r campaignRow
		err := tx.GetContext(ctx, &r, `SELECT `+campaignCols+` FROM campaigns WHERE id=$1 FOR UPDATE`, c.ID)
		if isNoRows(err) {
			return billing.Errorf(billing.EInvalid, "找不到活動 %s", c.ID)
		} else if err != nil {
			return err
		}
		kinds, ups, plans := campaignArrays(c)
		if _, err := tx.ExecContext(ctx, `UPDATE campaigns SET name=$2, face_value=$3, valid_from=$4, valid_until=$5, regions=$6,
			payment_kinds=$7, upgrades=$8, renewal_plans=$9 WHERE id=$1`,
			c.ID, c.Name, int64(c.FaceValue), c.ValidFrom, c.ValidUntil, pq.StringArray(c.Regions), pq.StringArray(kinds),
			pq.StringArray(ups), pq.StringArray(plans)); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "", "campaign.updated", r.billing(), c)
	})
	return c, err
}

// CodeJob is a request to generate codes and its progress.
type CodeJob struct {
	ID         int64        `db:"id"`
	CampaignID string       `db:"campaign_id"`
	Requested  int          `db:"requested"`
	Done       int          `db:"done"`
	Status     string       `db:"status"`
	Error      string       `db:"error"`
	StartedBy  string       `db:"started_by"`
	StartedAt  time.Time    `db:"started_at"`
	FinishedAt sql.NullTime `db:"finished_at"`
}

// MaxCodesPerJob bounds one generation request.
const MaxCodesPerJob = 1_000_000

// CreateCodeJob records a request to generate n codes for a campaign, to be
// run by GenerateCodes. EInvalid for n out of range or an unknown campaign.
func (s *Store) CreateCodeJob(ctx context.Context, actor Actor, campaignID string, n int) (CodeJob, error) {
	var j CodeJob
	if n <= 0 || n > MaxCodesPerJob {
		return j, billing.Errorf(billing.EInvalid, "產生數量必須介於 1 到 %d 之間", MaxCodesPerJob)
	}
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		if _, err := findCampaign(ctx, tx, campaignID); err != nil {
			return err
		}
		return tx.GetContext(ctx, &j, `INSERT INTO code_jobs (campaign_id, requested, status, started_by, started_at)
			VALUES ($1,$2,'running',$3,$4) RETURNING *`, campaignID, n, string(actor), now)
	})
	return j, err
}

// staleCodeJob is how long a job may run before it is reported as
// interrupted (a million codes take well under a minute; a job still
// running after this lost its process, and its transaction with it).
const staleCodeJob = 30 * time.Minute

// codeJobCols reads a job, reporting a stale running one as failed.
const codeJobCols = `id, campaign_id, requested, done,
	CASE WHEN status = 'running' AND started_at < $2 THEN 'failed' ELSE status END AS status,
	CASE WHEN status = 'running' AND started_at < $2 THEN '作業中斷(伺服器可能已重新啟動),未產生任何代碼,請重新產生。' ELSE error END AS error,
	started_by, started_at, finished_at`

// FindCodeJob reads a job.
func (s *Store) FindCodeJob(ctx context.Context, id int64) (CodeJob, error) {
	var j CodeJob
	err := s.DB.GetContext(ctx, &j, `SELECT `+codeJobCols+` FROM code_jobs WHERE id=$1`, id, s.Clock.Now().Add(-staleCodeJob))
	if isNoRows(err) {
		return j, billing.Errorf(billing.EInvalid, "找不到此產生作業")
	}
	return j, err
}

// FindCodeJobs lists a campaign's jobs, newest first.
func (s *Store) FindCodeJobs(ctx context.Context, campaignID string) ([]CodeJob, error) {
	var out []CodeJob
	err := s.DB.SelectContext(ctx, &out, `SELECT `+codeJobCols+` FROM code_jobs WHERE campaign_id=$1 ORDER BY id DESC LIMIT 20`,
		campaignID, s.Clock.Now().Add(-staleCodeJob))
	return out, err
}

// codeChunk is how many codes are generated and inserted per statement.
const codeChunk = 10_000

// GenerateCodes runs a job made by CreateCodeJob: it generates the codes
// (billing.CodeGenerator: crypto/rand, check symbol), inserts them in
// chunks in one transaction, regenerating any that collide with an existing
// code of any campaign, and records progress in the job's row after each
// chunk (on its own connection, so pollers see it). On failure nothing is
// kept and the job says why.
func (s *Store) GenerateCodes(ctx context.Context, actor Actor, jobID int64, gen billing.CodeGenerator) (CodeJob, error) {
	j, err := s.FindCodeJob(ctx, jobID)
	if err != nil {
		return j, err
	}
	if j.Status != "running" || j.Done != 0 {
		return j, billing.Errorf(billing.EConflict, "")
	}
	progress := func(done int) {
		s.DB.ExecContext(context.WithoutCancel(ctx), `UPDATE code_jobs SET done=$2 WHERE id=$1 AND status='running'`, jobID, done)
	}
	err = s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		done := 0
		norm := make([]string, 0, codeChunk)
		disp := make([]string, 0, codeChunk)
		for done < j.Requested {
			norm, disp = norm[:0], disp[:0]
			for range min(codeChunk, j.Requested-done) {
				d, err := gen.Next()
				if err != nil {
					return err
				}
				disp = append(disp, d)
				norm = append(norm, billing.NormalizeCode(d))
			}
			var n int
			// ON CONFLICT skips a code that exists in any campaign (or twice
			// in this chunk); the loop makes up the shortfall.
			if err := tx.GetContext(ctx, &n, `WITH ins AS (INSERT INTO promo_codes (code, campaign_id, status, display)
				SELECT n, $1, 'issued', d FROM unnest($2::text[], $3::text[]) AS t(n, d)
				ON CONFLICT (code) DO NOTHING RETURNING 1) SELECT count(*) FROM ins`,
				j.CampaignID, pq.StringArray(norm), pq.StringArray(disp)); err != nil {
				return err
			}
			done += n
			progress(done)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE code_jobs SET status='done', done=$2, finished_at=$3 WHERE id=$1`, jobID, done, now); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, "", "codes.generated", nil, map[string]any{"campaign": j.CampaignID, "count": done, "job": jobID})
	})
	if err != nil {
		s.DB.ExecContext(context.WithoutCancel(ctx), `UPDATE code_jobs SET status='failed', error=$2, finished_at=$3 WHERE id=$1`,
			jobID, err.Error(), s.Clock.Now())
	}
	j2, ferr := s.FindCodeJob(context.WithoutCancel(ctx), jobID)
	if ferr != nil {
		return j, ferr
	}
	return j2, err
}

// CodeExport is one code in a campaign's export.
type CodeExport struct {
	Display      string         `db:"display"`
	Status       string         `db:"status"`
	AccountID    sql.NullString `db:"account_id"`
	RegisteredAt sql.NullTime   `db:"registered_at"`
	RedeemedAt   sql.NullTime   `db:"redeemed_at"`
}

// EachCampaignCode streams a campaign's codes in issue order to fn, without
// holding them all in memory. A registered code past the window reads
// expired.
func (s *Store) EachCampaignCode(ctx context.Context, campaignID string, fn func(CodeExport) error) error {
	rows, err := s.DB.QueryxContext(ctx, `SELECT p.display,
		CASE WHEN p.status = 'registered' AND c.valid_until < $2 THEN 'expired' ELSE p.status END AS status,
		p.account_id, p.registered_at, p.redeemed_at
		FROM promo_codes p JOIN campaigns c ON c.id = p.campaign_id WHERE p.campaign_id = $1 ORDER BY p.code`, campaignID, s.Clock.Now())
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var e CodeExport
		if err := rows.StructScan(&e); err != nil {
			return err
		}
		if err := fn(e); err != nil {
			return err
		}
	}
	return rows.Err()
}

// CampaignReport is how a campaign's codes have fared.
type CampaignReport struct {
	Issued     int64 `db:"issued"`
	Registered int64 `db:"registered"` // ever registered to an account
	Redeemed   int64 `db:"redeemed"`
	Expired    int64 `db:"expired"` // registered, never used, window closed
	// Offset and Forfeited are sums of money: summed as numeric, so no
	// sum overflows in SQL, and read through checkedSum, so a sum beyond
	// int64 (only a campaign stored before face values were bounded could
	// reach one) reads as the largest amount with Capped set, never as a
	// wrapped figure or a failed page.
	Offset     int64  `db:"-"`
	Forfeited  int64  `db:"-"`
	Capped     bool   `db:"-"`
	OffsetSum  string `db:"offset_total"`
	ForfeitSum string `db:"forfeited_total"`
	AtUpgrade  int64  `db:"at_upgrade"`
	AtRenewal  int64  `db:"at_renewal"`
	// Daily are registrations and redemptions per Taiwan day.
	Daily []CodeDay
}

// CodeDay is one day of a campaign's activity.
type CodeDay struct {
	Day        time.Time `db:"day"`
	Registered int64     `db:"registered"`
	Redeemed   int64     `db:"redeemed"`
}

// FindCampaignReport counts a campaign's codes by state, the offsets and
// forfeits of its paid charges, and its registrations and redemptions per
// Taiwan day (from the code ledger).
func (s *Store) FindCampaignReport(ctx context.Context, campaignID string) (CampaignReport, error) {
	var r CampaignReport
	now := s.Clock.Now()
	if err := s.DB.GetContext(ctx, &r, `
		SELECT count(*) AS issued,
		       count(p.account_id) AS registered,
		       count(*) FILTER (WHERE p.status = 'redeemed') AS redeemed,
		       count(*) FILTER (WHERE p.status = 'expired' OR (p.status = 'registered' AND c.valid_until < $2)) AS expired,
		       coalesce(sum(ch.offset_amount::numeric) FILTER (WHERE p.status = 'redeemed'), 0)::text AS offset_total,
		       coalesce(sum(ch.forfeited::numeric) FILTER (WHERE p.status = 'redeemed'), 0)::text AS forfeited_total,
		       count(*) FILTER (WHERE p.status = 'redeemed' AND ch.kind = 'upgrade') AS at_upgrade,
		       count(*) FILTER (WHERE p.status = 'redeemed' AND ch.kind = 'renewal') AS at_renewal
		FROM promo_codes p JOIN campaigns c ON c.id = p.campaign_id
		LEFT JOIN charges ch ON ch.id = p.charge_id
		WHERE p.campaign_id = $1`, campaignID, now); err != nil {
		return r, err
	}
	var c1, c2 bool
	r.Offset, c1 = checkedSum(r.OffsetSum)
	r.Forfeited, c2 = checkedSum(r.ForfeitSum)
	r.Capped = c1 || c2
	err := s.DB.SelectContext(ctx, &r.Daily, `
		SELECT (e.at AT TIME ZONE 'Asia/Taipei')::date AS day,
		       count(*) FILTER (WHERE e.kind = 'registered') AS registered,
		       count(*) FILTER (WHERE e.kind = 'redeemed') AS redeemed
		FROM code_events e JOIN promo_codes p ON p.code = e.code
		WHERE p.campaign_id = $1 AND e.kind IN ('registered', 'redeemed')
		GROUP BY 1 ORDER BY 1`, campaignID)
	return r, err
}

// checkedSum reads a numeric sum: its value, or math.MaxInt64 and capped
// when it does not fit in int64 (sums of amounts are never negative).
func checkedSum(numeric string) (v int64, capped bool) {
	n, ok := new(big.Int).SetString(numeric, 10)
	if !ok {
		return math.MaxInt64, true
	}
	if !n.IsInt64() {
		return math.MaxInt64, true
	}
	return n.Int64(), false
}
