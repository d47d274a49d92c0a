package sandboxtest

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"webstore/db/dbtest"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// NewDB is dbtest.New with both payment sandboxes' tables, which the app's
// migrations do not make: the database a test that mounts the sandboxes
// needs, as `serve` in development applies their migrations where it mounts
// them. It is cloned from a template made once per schema.
func NewDB(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	return dbtest.NewWith(t, Extra())
}

// Extra is the payment sandboxes' tables as a dbtest.Extra, for a template
// of one's own (dbtest.NewTemplate).
func Extra() *dbtest.Extra {
	return &dbtest.Extra{
		Name: "sandboxes_" + linepay.SchemaHash()[:6] + cardgw.SchemaHash()[:6],
		Apply: func(ctx context.Context, d *sqlx.DB) error {
			if _, err := linepay.Migrate(ctx, d); err != nil {
				return err
			}
			_, err := cardgw.Migrate(ctx, d)
			return err
		},
	}
}
