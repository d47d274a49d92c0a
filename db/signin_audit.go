package db

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// RecordSignInLockout writes to the audit trail that sign-in was throttled
// for a login (by its failures) or a client address, until a time. The
// web layer calls it once per lockout, not for every refused attempt.
func (s *Store) RecordSignInLockout(ctx context.Context, scope, key string, until time.Time) error {
	return s.inTx(ctx, func(tx *sqlx.Tx, now time.Time) error {
		return audit(ctx, tx, now, Actor("system:signin"), "", "signin.throttled", nil,
			map[string]any{"scope": scope, "key": key, "until": until})
	})
}
