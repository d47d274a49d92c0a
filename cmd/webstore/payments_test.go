package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"webstore/db/dbtest"
)

// The payment sandboxes' tables are made only where a sandbox is mounted:
// `migrate` in production leaves a database without them; in development
// it applies the sandboxes' migrations too, once.
func TestSandboxTablesOnlyInDevelopment(t *testing.T) {
	ctx := context.Background()
	d, dsn := dbtest.New(t)
	tables := func() int {
		t.Helper()
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'sandbox\_%'`); err != nil {
			t.Fatal(err)
		}
		return n
	}
	migrate := func() string {
		t.Helper()
		t.Setenv("DATABASE_URL", dsn)
		var out, errs bytes.Buffer
		if code := run(ctx, []string{"migrate"}, &out, &errs); code != 0 {
			t.Fatalf("migrate: exit %d: %s", code, errs.String())
		}
		return out.String()
	}

	setEnv(t, production)
	if out := migrate(); strings.Contains(out, "sandbox") || tables() != 0 {
		t.Errorf("production: migrate said %q and made %d sandbox tables, want none", out, tables())
	}
	setEnv(t, development)
	if out := migrate(); !strings.Contains(out, "payment sandboxes' migrations applied: 5") || tables() != 8 {
		t.Errorf("development: migrate said %q and made %d sandbox tables (with sandbox_migrations), want 8", out, tables())
	}
	if out := migrate(); !strings.Contains(out, "payment sandboxes' migrations applied: 0") {
		t.Errorf("development, again: migrate said %q", out)
	}
}
