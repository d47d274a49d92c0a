package sim

import (
	"context"

	"webstore/billing"
	"webstore/db"
)

// RetryLatest is the scenario event retry, the admin's "pay now" for an
// account: it retries the account's latest failed charge of what it owes
// (billing.Owed: a renewal or additional messages; the highest id) with
// db.Store.RetryCharge, the one retry the console and the account's pages
// make. Returns ENothingToRetry when there is none. The fault campaign
// retries this way too.
func RetryLatest(ctx context.Context, s *db.Store, actor db.Actor, accountID string) (db.Charge, error) {
	cs, err := s.FindCharges(ctx, accountID)
	if err != nil {
		return db.Charge{}, err
	}
	var latest int64
	for _, c := range cs {
		if c.Status == billing.StatusFailed && (c.Kind == billing.KindRenewal || c.Kind == billing.KindUsage) && c.ID > latest {
			latest = c.ID
		}
	}
	if latest == 0 {
		return db.Charge{}, billing.Errorf(billing.ENothingToRetry, "")
	}
	return s.RetryCharge(ctx, actor, latest)
}
