package db

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"webstore/billing"
)

// Writing charges: the one writer of new charges (writeCharges), the code
// reservations and ledger rows it makes, and settling paid charges on
// their accounts (applyPaid).

// newCharge is a quote about to be written as a charge, with the account
// row (locked by the caller) it was quoted from.
type newCharge struct {
	billing.Quote
	Row accountRow
	Key string // idempotency key, "" for none
}

// chargeWriteCols is chargeCols without what a fresh row cannot have yet.
const chargeWriteCols = `id, account_id, kind, month, effective_at, coalesce(from_plan,'') AS from_plan, coalesce(plan,'') AS plan,
	amount, offset_amount, forfeited, net, tax, total, coalesce(code,'') AS code, status, failure, attempts,
	payment_method_id, coalesce(payment_kind,'') AS payment_kind, created_at, paid_at`

// writeCharges is the one writer of charges (upgrades with one row,
// renewal and usage runs with a batch): each quote becomes a charge with
// its lines, paid at once when its total is 0 (its account settled), else
// pending with its code reserved. A quote that conflicts with a charge
// already written (one renewal or usage charge per account and month, one
// idempotency key, one plan charge in flight) is skipped: the result lists
// only the charges written. Returns EQuoteChanged if a quoted code was
// taken meanwhile. The caller holds the accounts' row locks.
func writeCharges(ctx context.Context, tx *sqlx.Tx, now time.Time, cat billing.Catalog, ncs []newCharge) ([]Charge, error) {
	if len(ncs) == 0 {
		return nil, nil
	}
	n := len(ncs)
	var (
		acct, kind, from, plan, status, payKind = make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n), make([]string, n)
		month, eff                              = make([]time.Time, n), make([]time.Time, n)
		amount, off, forf, net, tax, total      = make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n), make([]int64, n)
		code, key                               = make([]sql.NullString, n), make([]sql.NullString, n)
		payID                                   = make([]sql.NullInt64, n)
	)
	for i, c := range ncs {
		acct[i], kind[i], from[i], plan[i] = c.AccountID, string(c.Kind), string(c.FromPlan), string(c.Plan)
		status[i] = string(billing.InitialStatus(c.Total))
		month[i], eff[i] = c.Month.Date(), c.EffectiveAt
		amount[i], off[i], forf[i], net[i], tax[i], total[i] = int64(c.Amount), int64(c.Offset), int64(c.Forfeited), int64(c.Net), int64(c.Tax), int64(c.Total)
		code[i] = sql.NullString{String: c.Code, Valid: c.Code != ""}
		key[i] = sql.NullString{String: c.Key, Valid: c.Key != ""}
		payID[i], payKind[i] = c.Row.PaymentID, c.Row.PaymentKind.String
	}
	out := make([]Charge, 0, n) // at most one row per quote: no regrowing while scanning
	err := tx.SelectContext(ctx, &out, `
		INSERT INTO charges (account_id, kind, month, effective_at, from_plan, plan, amount, offset_amount, forfeited,
			net, tax, total, code, status, payment_method_id, payment_kind, idempotency_key, created_at, paid_at, attempts)
		SELECT u.acct, u.kind, u.month, u.eff, nullif(u.from_plan, ''), nullif(u.plan, ''), u.amount, u.off, u.forf, u.net, u.tax, u.total,
			u.code, u.status, u.pay_id, nullif(u.pay_kind, ''), u.key, $1, CASE WHEN u.status = 'paid' THEN $1::timestamptz END, 0
		FROM unnest($2::text[], $3::text[], $4::date[], $5::timestamptz[], $6::text[], $7::text[], $8::bigint[], $9::bigint[], $10::bigint[],
			$11::bigint[], $12::bigint[], $13::bigint[], $14::text[], $15::text[], $16::bigint[], $17::text[], $18::text[])
			AS u(acct, kind, month, eff, from_plan, plan, amount, off, forf, net, tax, total, code, status, pay_id, pay_kind, key)
		ON CONFLICT DO NOTHING
		RETURNING `+chargeWriteCols,
		now, pq.StringArray(acct), pq.StringArray(kind), pq.Array(month), pq.Array(eff), pq.StringArray(from), pq.StringArray(plan),
		pq.Int64Array(amount), pq.Int64Array(off), pq.Int64Array(forf), pq.Int64Array(net), pq.Int64Array(tax), pq.Int64Array(total),
		nullStrings(code), pq.StringArray(status), nullInts(payID), pq.StringArray(payKind), nullStrings(key))
	if err != nil {
		return nil, fmt.Errorf("write charges: %w", err)
	}
	// Every code a written charge applies is taken for it, only if still
	// registered to its account (else the quote changed). The range of the
	// accounts (min and max as the database orders them, so implied by the
	// join) lets a renewal batch read its own accounts' codes by index
	// instead of every registered code, once per batch.
	var cids []int64
	var codes, caccts []string
	var paid []settlement
	var receipts []Charge
	rows := make(map[string]accountRow, len(ncs))
	for _, c := range ncs {
		rows[c.AccountID] = c.Row
	}
	var cstatus []string
	for _, c := range out {
		if c.Code != "" {
			// Reserved for a pending charge; redeemed at once by one paid
			// at once (a code that offsets the whole amount).
			cids, codes, caccts = append(cids, c.ID), append(codes, c.Code), append(caccts, c.AccountID)
			if c.Status == billing.StatusPaid {
				cstatus = append(cstatus, "redeemed")
			} else {
				cstatus = append(cstatus, "reserved")
			}
		}
		if c.Status == billing.StatusPaid {
			receipts = append(receipts, c)
			if c.Kind != billing.KindUsage {
				paid = append(paid, settlement{Charge: c, Account: rows[c.AccountID].billing(c.Month()).Settle(now)})
			}
		}
	}
	if len(cids) > 0 {
		res, err := tx.ExecContext(ctx, `UPDATE promo_codes p SET status = u.status, charge_id = u.cid,
			redeemed_at = CASE WHEN u.status = 'redeemed' THEN $4::timestamptz END
			FROM unnest($1::bigint[], $2::text[], $3::text[], $5::text[]) AS u(cid, code, acct, status)
			WHERE p.code = u.code AND p.account_id = u.acct AND p.status = 'registered'
				AND p.account_id BETWEEN (SELECT min(a) FROM unnest($3::text[]) a) AND (SELECT max(a) FROM unnest($3::text[]) a)`,
			pq.Int64Array(cids), pq.StringArray(codes), pq.StringArray(caccts), now, pq.StringArray(cstatus))
		if err != nil {
			return nil, err
		}
		if n, _ := res.RowsAffected(); n != int64(len(cids)) {
			return nil, billing.Errorf(billing.EQuoteChanged, "%d 組優惠活動代碼在計價後已被使用或過期", int64(len(cids))-n)
		}
		if err := writtenCodeEvents(ctx, tx, now, out); err != nil {
			return nil, err
		}
	}
	if err := applyPaid(ctx, tx, now, cat, paid); err != nil {
		return nil, err
	}
	if err := queueReceipts(ctx, tx, now, receipts); err != nil {
		return nil, err
	}
	return out, nil
}

// codeEvents appends kind to the code ledger for the codes of charges ids.
func codeEvents(ctx context.Context, tx *sqlx.Tx, now time.Time, kind string, ids []int64) error {
	_, err := tx.ExecContext(ctx, `INSERT INTO code_events (code, account_id, kind, charge_id, offset_amount, forfeited, at)
		SELECT c.code, c.account_id, $1, c.id, CASE WHEN $1 = 'released' THEN 0 ELSE c.offset_amount END,
			CASE WHEN $1 = 'released' THEN 0 ELSE c.forfeited END, $2
		FROM charges c WHERE c.id = ANY($3) AND c.code IS NOT NULL`, kind, now, pq.Int64Array(ids))
	return err
}

// writtenCodeEvents appends to the code ledger what writeCharges did to
// the codes of the charges it wrote (out, as RETURNING gave them): reserved
// for each pending one, then redeemed for each paid one, each in out's
// order, with the charge's offset and forfeited amounts. It is codeEvents
// of those ids without reading back the rows just written (a lookup by id
// list the planner, with the run's statistics stale, made a scan of every
// charge: once per batch, a renewal run quadratic).
func writtenCodeEvents(ctx context.Context, tx *sqlx.Tx, now time.Time, out []Charge) error {
	var codes, accts, kinds []string
	var ids, offs, forfs []int64
	for _, paid := range []bool{false, true} {
		for _, c := range out {
			if c.Code == "" || (c.Status == billing.StatusPaid) != paid {
				continue
			}
			kind := "reserved"
			if paid {
				kind = "redeemed"
			}
			codes, accts, kinds = append(codes, c.Code), append(accts, c.AccountID), append(kinds, kind)
			ids, offs, forfs = append(ids, c.ID), append(offs, int64(c.Offset)), append(forfs, int64(c.Forfeited))
		}
	}
	if len(ids) == 0 {
		return nil
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO code_events (code, account_id, kind, charge_id, offset_amount, forfeited, at)
		SELECT u.code, u.acct, u.kind, u.cid, u.off, u.forf, $1
		FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[], $6::bigint[], $7::bigint[]) WITH ORDINALITY AS u(code, acct, kind, cid, off, forf, n)
		ORDER BY u.n`, now, pq.StringArray(codes), pq.StringArray(accts), pq.StringArray(kinds), pq.Int64Array(ids), pq.Int64Array(offs), pq.Int64Array(forfs))
	return err
}

// settlement is a paid charge with its account as it stands (locked,
// settled to now) before the charge is applied.
type settlement struct {
	Charge  Charge
	Account billing.Account
}

// applyPaid applies paid charges (already marked paid) to their accounts,
// set-based: billing.Settled decides each account's plan and month (never
// a lower plan, never more than the plan's fee for a month; a breach is an
// error and nothing is written), and the month's other failed plan charges
// are void (superseded: one month is paid once). Usage charges change no
// account.
func applyPaid(ctx context.Context, tx *sqlx.Tx, now time.Time, cat billing.Catalog, paid []settlement) error {
	var acct, chAcct, plan, sched, months, mplan []string
	var schedFor []sql.NullTime
	var amt []int64
	for _, p := range paid {
		c := p.Charge
		if c.Kind == billing.KindUsage {
			continue
		}
		after, err := cat.Settled(c.Lifecycle(), p.Account)
		if err != nil {
			return fmt.Errorf("charge %d of %s: %w", c.ID, c.AccountID, err)
		}
		if after.Plan != p.Account.Plan || after.ScheduledPlan != p.Account.ScheduledPlan || after.ScheduledFor != p.Account.ScheduledFor {
			// Only accounts whose plan or schedule moves are written (a
			// renewal at the plan held changes neither).
			chAcct, plan, sched = append(chAcct, c.AccountID), append(plan, string(after.Plan)), append(sched, string(after.ScheduledPlan))
			schedFor = append(schedFor, sql.NullTime{Time: after.ScheduledFor.Date(), Valid: after.ScheduledPlan != ""})
		}
		acct = append(acct, c.AccountID)
		months, mplan, amt = append(months, c.Month().Date().Format("2006-01-02")), append(mplan, string(c.Plan)), append(amt, int64(c.Amount))
	}
	if len(chAcct) > 0 {
		if _, err := tx.ExecContext(ctx, `UPDATE accounts a SET plan = u.plan, scheduled_plan = nullif(u.sched, ''), scheduled_for = u.sched_for
			FROM unnest($1::text[], $2::text[], $3::text[], $4::date[]) AS u(id, plan, sched, sched_for) WHERE a.id = u.id`,
			pq.StringArray(chAcct), pq.StringArray(plan), pq.StringArray(sched), nullTimes(schedFor)); err != nil {
			return err
		}
	}
	if len(acct) > 0 {
		if _, err := tx.ExecContext(ctx, `INSERT INTO account_months (account_id, month, plan, fee_paid)
			SELECT u.id, u.month, u.plan, u.amt FROM unnest($1::text[], $2::date[], $3::text[], $4::bigint[]) AS u(id, month, plan, amt)
			ON CONFLICT (account_id, month) DO UPDATE SET plan = EXCLUDED.plan, fee_paid = account_months.fee_paid + EXCLUDED.fee_paid`,
			pq.StringArray(acct), pq.StringArray(months), pq.StringArray(mplan), pq.Int64Array(amt)); err != nil {
			return err
		}
		if !billing.CanMove(billing.StatusFailed, billing.StatusVoid) {
			return fmt.Errorf("the charge lifecycle no longer lets a failed charge be superseded")
		}
		if _, err := tx.ExecContext(ctx, `UPDATE charges c SET status = 'void', failure = 'superseded', next_retry_at = NULL
			FROM unnest($1::text[], $2::date[]) AS u(id, month)
			WHERE c.account_id = u.id AND c.month = u.month AND c.status = 'failed' AND c.kind = ANY($3)`,
			pq.StringArray(acct), pq.StringArray(months), kinds(billing.PlanFeeKinds)); err != nil {
			return err
		}
	}
	return nil
}

// redeemCodes redeems the codes reserved for charges ids, now paid.
func redeemCodes(ctx context.Context, tx *sqlx.Tx, now time.Time, ids []int64) error {
	if len(ids) == 0 {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE promo_codes p SET status = 'redeemed', redeemed_at = $1
		FROM unnest($2::bigint[]) AS u(cid) WHERE p.charge_id = u.cid AND p.status = 'reserved'`, now, pq.Int64Array(ids))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n != int64(len(ids)) {
		return fmt.Errorf("%d paid charges' codes were not reserved for them", int64(len(ids))-n)
	}
	return codeEvents(ctx, tx, now, "redeemed", ids)
}

// releaseCode gives a failed or void charge's code back to its account:
// registered again, for the next eligible charge. The charge row keeps the
// code as what was quoted; the ledger says it was not spent.
func releaseCode(ctx context.Context, tx *sqlx.Tx, now time.Time, ch Charge) error {
	if ch.Code == "" {
		return nil
	}
	res, err := tx.ExecContext(ctx, `UPDATE promo_codes SET status='registered', charge_id=NULL WHERE charge_id=$1 AND status='reserved'`, ch.ID)
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return nil
	}
	return codeEvents(ctx, tx, now, "released", []int64{ch.ID})
}

func nullTimes(v []sql.NullTime) any {
	out := make([]*string, len(v))
	for i := range v {
		if v[i].Valid {
			s := v[i].Time.Format("2006-01-02")
			out[i] = &s
		}
	}
	return pq.Array(out)
}
