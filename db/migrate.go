package db

import (
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations/*.sql
var migrationFS embed.FS

// migration is one numbered file of migrations/.
type migration struct {
	Version int
	Name    string
	SQL     string
}

func migrations() ([]migration, error) {
	names, err := fs.Glob(migrationFS, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, n := range names {
		base := strings.TrimPrefix(n, "migrations/")
		num, _, ok := strings.Cut(base, "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil {
			return nil, fmt.Errorf("migration %s: name must start with a number and _", base)
		}
		body, err := migrationFS.ReadFile(n)
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{v, base, string(body)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].Version < ms[j].Version })
	for i := range ms {
		if ms[i].Version != i+1 {
			return nil, fmt.Errorf("migration %s: versions must run 1, 2, 3... without gaps", ms[i].Name)
		}
	}
	return ms, nil
}

// LatestVersion is the schema version this build expects.
func LatestVersion() int {
	ms, err := migrations()
	if err != nil || len(ms) == 0 {
		return 0
	}
	return ms[len(ms)-1].Version
}

// SchemaHash identifies the migrations' contents (for caching migrated
// template databases in tests: an edited migration gets a new template).
func SchemaHash() string {
	ms, _ := migrations()
	h := sha256.New()
	for _, m := range ms {
		h.Write([]byte(m.Name))
		h.Write([]byte(m.SQL))
	}
	return hex.EncodeToString(h.Sum(nil))[:12]
}

// SchemaVersion reads the version of the database's schema (0 when new).
func SchemaVersion(ctx context.Context, db sqlx.QueryerContext) (int, error) {
	var v int
	err := sqlx.GetContext(ctx, db, &v, `SELECT coalesce(max(version), 0) FROM schema_migrations`)
	if isUndefinedTable(err) {
		return 0, nil
	}
	return v, err
}

// Migrate applies every pending migration, each in its own transaction with
// its version row, so a failure leaves the schema at the last whole step.
// When it applied any, it ends by analyzing the schema's tables.
// Concurrent migrators wait for each other on an advisory lock.
func Migrate(ctx context.Context, db *sqlx.DB) (applied int, err error) {
	ms, err := migrations()
	if err != nil {
		return 0, err
	}
	conn, err := db.Connx(ctx)
	if err != nil {
		return 0, err
	}
	defer conn.Close()
	const lockKey = 0x77656273 // "webs"
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock($1)`, lockKey); err != nil {
		return 0, err
	}
	defer conn.ExecContext(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, lockKey)
	if _, err := conn.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version integer PRIMARY KEY, name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`); err != nil {
		return 0, err
	}
	current, err := SchemaVersion(ctx, conn)
	if err != nil {
		return 0, err
	}
	for _, m := range ms {
		if m.Version <= current {
			continue
		}
		tx, err := conn.BeginTxx(ctx, nil)
		if err != nil {
			return applied, err
		}
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			tx.Rollback()
			return applied, fmt.Errorf("migration %s: %w", m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name) VALUES ($1, $2)`, m.Version, m.Name); err != nil {
			tx.Rollback()
			return applied, err
		}
		if err := tx.Commit(); err != nil {
			return applied, err
		}
		applied++
	}
	if applied > 0 {
		// A migration may create, fill or rewrite any table, and tables
		// this small never reach autovacuum's threshold: analyze the
		// schema's tables (milliseconds on a fresh database).
		var tables []string
		if err := conn.SelectContext(ctx, &tables, `SELECT quote_ident(tablename) FROM pg_tables WHERE schemaname = current_schema() ORDER BY 1`); err != nil {
			return applied, err
		}
		if _, err := conn.ExecContext(ctx, `ANALYZE `+strings.Join(tables, ", ")); err != nil {
			return applied, fmt.Errorf("analyze after migrating: %w", err)
		}
	}
	return applied, nil
}
