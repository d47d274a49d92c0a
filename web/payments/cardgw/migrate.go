package cardgw

import (
	"context"
	"embed"

	"github.com/jmoiron/sqlx"

	"webstore/web/payments/sandboxdb"
)

//go:embed migrations/*.sql
var migrations embed.FS

// Migrate creates the sandbox's tables on db, or brings them up to date,
// and returns how many of its migrations it applied (see sandboxdb). Whoever
// mounts the sandbox calls it first; the app's own migrations do not create
// these tables.
func Migrate(ctx context.Context, db *sqlx.DB) (applied int, err error) {
	return sandboxdb.Migrate(ctx, db, "cardgw", migrations, "migrations")
}

// SchemaHash identifies the sandbox's migrations (for caching migrated
// template databases in tests, as db.SchemaHash does the app's).
func SchemaHash() string { return sandboxdb.Hash(migrations, "migrations") }
