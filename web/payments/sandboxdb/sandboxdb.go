// Package sandboxdb applies the payment sandboxes' own migrations. The
// sandboxes (web/payments/linepay and web/payments/cardgw) play external
// providers, so their tables are no part of the app's schema: each sandbox
// embeds its numbered migrations and applies them, through Migrate, where it
// is mounted (development only). A production database, which never mounts
// one, never gets them.
//
// Versions are recorded per sandbox (its component name) in
// sandbox_migrations, apart from the app's schema_migrations. Concurrent
// starts wait for each other on a transaction-scoped advisory lock: the app
// may reach PostgreSQL through a transaction-pooling PgBouncer, which would
// not keep a session-level lock on one server connection.
package sandboxdb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// lockKey is the advisory lock every sandbox's migrations take ("sand"):
// one key for all, so that two sandboxes starting at once do not both
// create sandbox_migrations.
const lockKey = 0x73616e64

// migration is one numbered file of a sandbox's migrations.
type migration struct {
	version int
	name    string
	sql     string
}

// read lists the *.sql files of fsys's directory dir, numbered 1, 2, 3...
// without gaps.
func read(fsys fs.FS, dir string) ([]migration, error) {
	names, err := fs.Glob(fsys, path.Join(dir, "*.sql"))
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := path.Base(n)
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("sandbox migration %s: name must start with a number and _", base)
		}
		body, err := fs.ReadFile(fsys, n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, base, string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i := range ms {
		if ms[i].version != i+1 {
			return nil, fmt.Errorf("sandbox migration %s: versions must run 1, 2, 3... without gaps", ms[i].name)
		}
	}
	return ms, nil
}

// Hash identifies the migrations of fsys's directory dir by their names
// and contents (for caching migrated template databases in tests).
func Hash(fsys fs.FS, dir string) string {
	ms, _ := read(fsys, dir)
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.name))
		h.Write([]byte(m.sql))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// Migrate applies component's pending migrations, the *.sql files of
// fsys's directory dir, in one transaction with their version rows: either
// all apply or none. It returns how many it applied; 0 when the schema was
// current, which costs one query.
func Migrate(ctx context.Context, db *sqlx.DB, component string, fsys fs.FS, dir string) (applied int, err error) {
	ms, err := read(fsys, dir)
	if err != nil {
		return 0, err
	}
	current, err := version(ctx, db, component)
	if err != nil {
		return 0, err
	}
	if current >= len(ms) {
		return 0, nil
	}
	tx, err := db.BeginTxx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1)`, lockKey); err != nil {
		return 0, err
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS sandbox_migrations (
		component  text    NOT NULL,
		version    integer NOT NULL,
		name       text    NOT NULL,
		applied_at timestamptz NOT NULL DEFAULT now(),
		PRIMARY KEY (component, version))`); err != nil {
		return 0, err
	}
	// Another process may have applied them while this one waited.
	if current, err = version(ctx, tx, component); err != nil {
		return 0, err
	}
	for _, m := range ms[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return 0, fmt.Errorf("sandbox migration %s/%s: %w", component, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_migrations (component, version, name) VALUES ($1, $2, $3)`,
			component, m.version, m.name); err != nil {
			return 0, err
		}
		applied++
	}
	if err := tx.Commit(); err != nil {
		return 0, err
	}
	return applied, nil
}

// version is the last of component's migrations the database has (0 for
// none, or when no sandbox has been mounted on it yet).
func version(ctx context.Context, q sqlx.QueryerContext, component string) (int, error) {
	var v int
	err := sqlx.GetContext(ctx, q, &v, `SELECT coalesce(max(version), 0) FROM sandbox_migrations WHERE component = $1`, component)
	if pe := (*pq.Error)(nil); errors.As(err, &pe) && pe.Code == "42P01" { // undefined_table
		return 0, nil
	}
	return v, err
}
