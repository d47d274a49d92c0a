// Package dbtest gives each test its own real PostgreSQL database, cloned
// from a migrated template, on the server named by DATABASE_URL (which
// `make test` brings up).
package dbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"webstore/db"
)

// URL returns the server's DATABASE_URL, failing the test if it is unset.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("DATABASE_URL")
	if u == "" {
		t.Fatal("DATABASE_URL is unset: run the tests with `make test`, which starts a throwaway PostgreSQL")
	}
	return u
}

// withDB returns dsn pointing at database name.
func withDB(t testing.TB, dsn, name string) string {
	t.Helper()
	if strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://") {
		u, err := url.Parse(dsn)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		return u.String()
	}
	var parts []string
	for _, p := range strings.Fields(dsn) {
		if !strings.HasPrefix(p, "dbname=") {
			parts = append(parts, p)
		}
	}
	return strings.Join(append(parts, "dbname="+name), " ")
}

// New creates a fresh, migrated database for the test, dropped when it ends.
// It returns the open handle and the database's URL.
func New(t testing.TB) (*sqlx.DB, string) {
	t.Helper()
	return NewWith(t, nil)
}

// Extra is schema that is no part of the app's migrations (the payment
// sandboxes' tables), made once per schema in a template of its own.
type Extra struct {
	// Name names the template (lower-case letters, digits and _); it must
	// change whenever what Apply makes does, as db.SchemaHash does.
	Name  string
	Apply func(context.Context, *sqlx.DB) error
}

// NewWith is New with extra applied after the app's migrations (nil: none).
func NewWith(t testing.TB, extra *Extra) (*sqlx.DB, string) {
	t.Helper()
	return Clone(t, Template(t, extra))
}

// Template returns the name of the migrated template database (with extra
// applied, nil: none), making it once per schema.
func Template(t testing.TB, extra *Extra) string {
	t.Helper()
	base := URL(t)
	admin, err := db.Open(context.Background(), base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	tmpl := migratedTemplate()
	if extra != nil {
		tmpl += "_" + extra.Name
	}
	ensureTemplate(t, admin, base, tmpl, extra)
	return tmpl
}

// Clone gives the test a database of its own, a copy of tmpl (a template
// that Template or NewTemplate made), dropped when the test ends. It
// returns the open handle and the database's URL.
func Clone(t testing.TB, tmpl string) (*sqlx.DB, string) {
	t.Helper()
	ctx := context.Background()
	base := URL(t)
	admin, err := db.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := randomName("t_")
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tmpl); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	dsn := withDB(t, base, name)
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		d.Close()
		a, err := db.Open(context.Background(), base)
		if err == nil {
			a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			a.Close()
		}
	})
	return d, dsn
}

// NewTemplate makes a database for Clone to copy: a copy of the migrated
// template (with extra applied, nil: none) that fill then writes to
// (through a handle closed before NewTemplate returns, as a template must
// have no connections). A test binary makes it once, for all its tests,
// and drops it when they are done (drop); t is only where a failure is
// reported.
func NewTemplate(t testing.TB, extra *Extra, fill func(*sqlx.DB) error) (name string, drop func()) {
	t.Helper()
	ctx := context.Background()
	base := URL(t)
	tmpl := Template(t, extra)
	admin, err := db.Open(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name = randomName("tmpl_")
	if _, err := admin.ExecContext(ctx, `CREATE DATABASE `+name+` TEMPLATE `+tmpl); err != nil {
		t.Fatalf("create template database: %v", err)
	}
	drop = func() {
		a, err := db.Open(context.Background(), base)
		if err == nil {
			a.Exec(`DROP DATABASE IF EXISTS ` + name + ` WITH (FORCE)`)
			a.Close()
		}
	}
	d, err := db.Open(ctx, withDB(t, base, name))
	if err != nil {
		drop()
		t.Fatal(err)
	}
	err = fill(d)
	d.Close()
	if err != nil {
		drop()
		t.Fatalf("fill template database: %v", err)
	}
	return name, drop
}

// migratedTemplate is the name of the migrated template of this schema.
func migratedTemplate() string {
	return fmt.Sprintf("webstore_tmpl_v%d_%s", db.LatestVersion(), db.SchemaHash())
}

func randomName(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// ensureTemplate creates and migrates the template database once per schema
// version; test binaries running in parallel wait on an advisory lock.
func ensureTemplate(t testing.TB, admin *sqlx.DB, base, tmpl string, extra *Extra) {
	t.Helper()
	ctx := context.Background()
	conn, err := admin.Connx(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, `SELECT pg_advisory_lock(4242)`); err != nil {
		t.Fatal(err)
	}
	defer conn.ExecContext(ctx, `SELECT pg_advisory_unlock(4242)`)
	var exists bool
	if err := conn.GetContext(ctx, &exists, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname=$1)`, tmpl); err != nil {
		t.Fatal(err)
	}
	if exists {
		return
	}
	if _, err := conn.ExecContext(ctx, `CREATE DATABASE `+tmpl); err != nil {
		t.Fatal(err)
	}
	d, err := db.Open(ctx, withDB(t, base, tmpl))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if _, err := db.Migrate(ctx, d); err != nil {
		conn.ExecContext(ctx, `DROP DATABASE `+tmpl)
		t.Fatalf("migrate template: %v", err)
	}
	if extra != nil {
		if err := extra.Apply(ctx, d); err != nil {
			conn.ExecContext(ctx, `DROP DATABASE `+tmpl)
			t.Fatalf("template %s: %v", extra.Name, err)
		}
	}
}
