package loadgen

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
)

// BareInsertSummary is the renewal benchmark's floor: the month's renewal
// charges copied by one INSERT … SELECT into a table built like charges.
type BareInsertSummary struct {
	Month   string  `json:"month"`
	Rows    int64   `json:"rows"`
	Seconds float64 `json:"seconds"`
}

// BareInsert times one INSERT … SELECT of month m's renewal charges into a
// new table with charges' columns, defaults, checks, indexes and foreign
// keys (read from the catalog, so it follows the migrations), in one
// transaction rolled back afterwards: what writing those rows costs with
// nothing else a renewal does. `make bench-renew` divides the renewal's
// time by it.
func BareInsert(ctx context.Context, d *sqlx.DB, m billing.Month) (BareInsertSummary, error) {
	sum := BareInsertSummary{Month: m.String()}
	tx, err := d.BeginTxx(ctx, nil)
	if err != nil {
		return sum, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE charges_bare (LIKE charges INCLUDING ALL)`); err != nil {
		return sum, err
	}
	var fks []string
	if err := tx.SelectContext(ctx, &fks, `SELECT pg_get_constraintdef(oid) FROM pg_constraint
		WHERE conrelid = 'charges'::regclass AND contype = 'f' ORDER BY conname`); err != nil {
		return sum, err
	}
	for _, fk := range fks {
		if _, err := tx.ExecContext(ctx, `ALTER TABLE charges_bare ADD `+fk); err != nil {
			return sum, fmt.Errorf("%s: %w", fk, err)
		}
	}
	started := time.Now()
	res, err := tx.ExecContext(ctx, `INSERT INTO charges_bare SELECT * FROM charges WHERE kind = 'renewal' AND month = $1`, m.Date())
	if err != nil {
		return sum, err
	}
	sum.Seconds = time.Since(started).Seconds()
	sum.Rows, _ = res.RowsAffected()
	return sum, nil
}
