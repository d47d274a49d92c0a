package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// ScheduleDowngrade schedules a lower plan for the next month start (to
// light: cancels renewal). Returns ENotADowngrade or EUnknownPlan.
func (s *Store) ScheduleDowngrade(ctx context.Context, actor Actor, accountID string, to billing.PlanID) (billing.Account, error) {
	return s.changeSchedule(ctx, actor, accountID, "plan.downgrade_scheduled", func(c billing.Catalog, a billing.Account, now time.Time) (billing.Account, error) {
		return c.Downgrade(a, to, now)
	})
}

// CancelDowngrade withdraws a scheduled downgrade. Returns ENoScheduledPlan.
func (s *Store) CancelDowngrade(ctx context.Context, actor Actor, accountID string) (billing.Account, error) {
	return s.changeSchedule(ctx, actor, accountID, "plan.downgrade_cancelled", func(c billing.Catalog, a billing.Account, now time.Time) (billing.Account, error) {
		return c.CancelDowngrade(a, now)
	})
}

func (s *Store) changeSchedule(ctx context.Context, actor Actor, accountID, kind string, change func(billing.Catalog, billing.Account, time.Time) (billing.Account, error)) (billing.Account, error) {
	var out billing.Account
	err := s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		cat, err := LoadCatalog(ctx, tx)
		if err != nil {
			return err
		}
		m := billing.MonthOf(now)
		row, err := loadAccount(ctx, tx, accountID, m, true)
		if err != nil {
			return err
		}
		before := row.billing(m)
		out, err = change(cat, before, now)
		if err != nil {
			return err
		}
		var sched *string
		var schedFor *time.Time
		if out.ScheduledPlan != "" {
			p, d := string(out.ScheduledPlan), out.ScheduledFor.Date()
			sched, schedFor = &p, &d
		}
		if _, err := tx.ExecContext(ctx, `UPDATE accounts SET plan=$1, scheduled_plan=$2, scheduled_for=$3 WHERE id=$4`,
			string(out.Plan), sched, schedFor, accountID); err != nil {
			return err
		}
		return audit(ctx, tx, now, actor, accountID, kind,
			map[string]any{"plan": before.Plan, "scheduled_plan": before.ScheduledPlan},
			map[string]any{"plan": out.Plan, "scheduled_plan": out.ScheduledPlan, "scheduled_for": out.ScheduledFor.String()})
	})
	return out, err
}
