package db

import (
	"context"
	"time"

	"webstore/billing"
)

// Usage is an account's message counts for a month, as last refreshed.
type Usage struct {
	FreeSent       int       `db:"free_sent"`
	AdditionalSent int       `db:"additional_sent"`
	RefreshedAt    time.Time `db:"refreshed_at"`
}

// FindUsage returns the month's counts as of the last daily refresh; zero
// counts and a zero RefreshedAt when none has run for the month.
func (s *Store) FindUsage(ctx context.Context, accountID string, m billing.Month) (Usage, error) {
	var u Usage
	err := s.DB.GetContext(ctx, &u, `SELECT free_sent, additional_sent, refreshed_at FROM usage_snapshots WHERE account_id=$1 AND month=$2`,
		accountID, m.Date())
	if isNoRows(err) {
		return Usage{}, nil
	}
	return u, err
}
