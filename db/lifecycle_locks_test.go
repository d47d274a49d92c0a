package db_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/lib/pq"

	"webstore/billing"
)

// The charge lifecycle has two locks: billing.CanMove, which the store's one
// mover (moveCharge) asks before every status change, and PostgreSQL's
// charge_transition trigger. Every (from, to) pair goes through both, and
// they must agree: a move one allows the other allows, a move one refuses
// the other refuses. Each row is written consistent with its status and
// the target's other columns (failure, failed_at, paid_at), so only the
// trigger can refuse the move.
func TestLifecycleLocksAgree(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Medium, billing.CreditCard, "tok")
	statuses := []billing.ChargeStatus{billing.StatusPending, billing.StatusPaid, billing.StatusFailed, billing.StatusVoid}
	failure := map[billing.ChargeStatus]string{billing.StatusFailed: "declined", billing.StatusVoid: "stale"}
	month := 0
	for _, from := range statuses {
		for _, to := range statuses {
			if from == to {
				continue
			}
			month++
			t.Run(fmt.Sprintf("%s→%s", from, to), func(t *testing.T) {
				tx, err := f.s.DB.Beginx()
				if err != nil {
					t.Fatal(err)
				}
				defer tx.Rollback()
				var id int64
				err = tx.Get(&id, `INSERT INTO charges (account_id, kind, month, effective_at, from_plan, plan, amount, offset_amount, forfeited,
					net, tax, total, status, failure, failed_at, paid_at, created_at)
					VALUES ('bear', 'renewal', make_date(2030, 1, 1) + make_interval(months => $1), now(), 'medium', 'medium', 800, 0, 0,
					800, 40, 840, $2, $3, CASE WHEN $2 = 'failed' THEN now() END, CASE WHEN $2 = 'paid' THEN now() END, now())
					RETURNING id`, month, string(from), failure[from])
				if err != nil {
					t.Fatalf("insert a %s charge: %v", from, err)
				}
				_, err = tx.Exec(`UPDATE charges SET status = $2, failure = $3, next_retry_at = NULL,
					failed_at = CASE WHEN $2 = 'failed' THEN now() ELSE failed_at END,
					paid_at = CASE WHEN $2 = 'paid' THEN now() ELSE paid_at END
					WHERE id = $1`, id, string(to), failure[to])
				var pqErr *pq.Error
				refused := errors.As(err, &pqErr) && pqErr.Code == "23514" &&
					(strings.Contains(pqErr.Message, "is not a move") || strings.Contains(pqErr.Message, "is final"))
				if err != nil && !refused {
					t.Fatalf("%s → %s: %v (not the trigger's refusal)", from, to, err)
				}
				if allowed := billing.CanMove(from, to); allowed == refused {
					t.Errorf("%s → %s: billing.CanMove says %v, the trigger %s", from, to, allowed, map[bool]string{true: "refuses", false: "allows"}[refused])
				}
			})
		}
	}
}
