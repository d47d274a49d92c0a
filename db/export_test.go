package db

import (
	"context"
	"time"
)

// Renew is renew for the tests of package db_test. The app renews only
// through RunRenewal (with ClaimRenewalRun first); these tests need the
// month's renewal alone, with what RunRenewal does not let them choose:
// small batches, two runs taking turns on the month's lock, and a run
// stopped between batches (the fault campaign's renewal killed midway).
func (s *Store) Renew(ctx context.Context, actor Actor, at time.Time, opt RenewOptions) (RenewSummary, error) {
	return s.renew(ctx, actor, at, opt)
}
