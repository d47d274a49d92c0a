package loadgen

import (
	"context"
	"fmt"
	"regexp"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// BareInsertSummary is the renewal benchmark's floor: the month's renewal
// charges copied by one INSERT … SELECT into a table built like charges.
type BareInsertSummary struct {
	Month string `json:"month"`
	Rows  int64  `json:"rows"`
	// Seconds is into a table with charges' columns, defaults, checks,
	// indexes, foreign keys and insert triggers as they are now.
	Seconds float64 `json:"seconds"`
	// RowPlanFKSeconds is the same with the two per-row foreign keys to
	// plans charges had when issue #18 set the bar (migration 014 made
	// them one check per statement).
	RowPlanFKSeconds float64 `json:"row_plan_fk_seconds"`
}

// BareInsert times one INSERT … SELECT of month m's renewal charges into a
// new table built like charges (read from the catalog, so it follows the
// migrations), in a transaction rolled back afterwards: what writing those
// rows costs with nothing else a renewal does. It does so twice: as charges
// is now, and with the per-row foreign keys to plans it had before.
// `make bench-renew` divides the renewal's time by each.
func BareInsert(ctx context.Context, d *sqlx.DB, m billing.Month) (BareInsertSummary, error) {
	sum := BareInsertSummary{Month: m.String()}
	var err error
	if sum.Rows, sum.Seconds, err = bareInsert(ctx, d, m, false); err != nil {
		return sum, err
	}
	if _, sum.RowPlanFKSeconds, err = bareInsert(ctx, d, m, true); err != nil {
		return sum, err
	}
	return sum, nil
}

var onCharges = regexp.MustCompile(`ON (\w+\.)?charges `)

func bareInsert(ctx context.Context, d *sqlx.DB, m billing.Month, rowPlanFKs bool) (int64, float64, error) {
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return 0, 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE charges_bare (LIKE charges INCLUDING ALL)`); err != nil {
		return 0, 0, err
	}
	var ddl []string
	if err := tx.SelectContext(ctx, &ddl, `SELECT 'ALTER TABLE charges_bare ADD ' || pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'charges'::regclass AND contype = 'f' ORDER BY conname`); err != nil {
		return 0, 0, err
	}
	var triggers []string
	if err := tx.SelectContext(ctx, &triggers, `SELECT pg_get_triggerdef(oid) FROM pg_trigger
		WHERE tgrelid = 'charges'::regclass AND NOT tgisinternal AND tgtype & 4 = 4 ORDER BY tgname`); err != nil { // insert triggers
		return 0, 0, err
	}
	for _, tr := range triggers {
		ddl = append(ddl, onCharges.ReplaceAllString(tr, "ON charges_bare "))
	}
	if rowPlanFKs {
		ddl = append(ddl, `ALTER TABLE charges_bare ADD FOREIGN KEY (from_plan) REFERENCES plans (id), ADD FOREIGN KEY (plan) REFERENCES plans (id)`)
	}
	for _, q := range ddl {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			return 0, 0, fmt.Errorf("%s: %w", q, err)
		}
	}
	started := time.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO charges_bare SELECT * FROM charges WHERE kind = 'renewal' AND month = $1`, m.Date())
	if err != nil {
		return 0, 0, err
	}
	secs := time.Since(started).Seconds()
	n, _ := res.RowsAffected()
	return n, secs, nil
}
