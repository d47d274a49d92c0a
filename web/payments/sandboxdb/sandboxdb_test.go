package sandboxdb_test

import (
	"context"
	"io/fs"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/fstest"

	"github.com/jmoiron/sqlx"

	"webstore/db/dbtest"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxdb"
)

// sandboxes are the sandboxes with tables, by component name.
var sandboxes = []struct {
	name    string
	migrate func(context.Context, *sqlx.DB) (int, error)
	files   string // the package's migrations, relative to this one
	want    []string
}{
	{"linepay", linepay.Migrate, "../linepay/migrations",
		[]string{"sandbox_linepay_refunds", "sandbox_linepay_reg_keys", "sandbox_linepay_transactions"}},
	{"cardgw", cardgw.Migrate, "../cardgw/migrations",
		[]string{"sandbox_card_charges", "sandbox_card_refunds", "sandbox_card_tokens", "sandbox_cards"}},
}

// sandboxTables lists the sandbox_* tables of d's schema.
func sandboxTables(t *testing.T, d *sqlx.DB) []string {
	t.Helper()
	var names []string
	if err := d.Select(&names, `SELECT tablename FROM pg_tables WHERE schemaname = current_schema()
		AND tablename LIKE 'sandbox\_%' AND tablename <> 'sandbox_migrations' ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	return names
}

// shape is the sandbox tables' columns, constraints and indexes, by name,
// as PostgreSQL prints them.
func shape(t *testing.T, d *sqlx.DB) string {
	t.Helper()
	var lines []string
	if err := d.Select(&lines, `
		SELECT format('column %s.%s %s %s %s', c.relname, a.attname, format_type(a.atttypid, a.atttypmod),
		              a.attnotnull, coalesce(pg_get_expr(ad.adbin, ad.adrelid), ''))
		FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
		LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relname LIKE 'sandbox\_%'
		  AND c.relkind = 'r' AND a.attnum > 0 AND NOT a.attisdropped
		UNION ALL
		SELECT format('constraint %s.%s %s', c.relname, k.conname, pg_get_constraintdef(k.oid))
		FROM pg_constraint k JOIN pg_class c ON c.oid = k.conrelid
		WHERE c.relnamespace = current_schema()::regnamespace AND c.relname LIKE 'sandbox\_%'
		UNION ALL
		SELECT format('index %s', indexdef) FROM pg_indexes
		WHERE schemaname = current_schema() AND tablename LIKE 'sandbox\_%'
		UNION ALL
		SELECT format('sequence %s', relname) FROM pg_class
		WHERE relnamespace = current_schema()::regnamespace AND relkind = 'S' AND relname LIKE 'sandbox\_%'
		ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	return strings.Join(lines, "\n")
}

// The app's migrations alone make no sandbox table; a sandbox's Migrate
// makes its own, and only its own; applying again changes nothing.
func TestSandboxTablesOnlyWhereMounted(t *testing.T) {
	ctx := context.Background()
	d, _ := dbtest.New(t)
	if got := sandboxTables(t, d); len(got) != 0 {
		t.Fatalf("after the app's migrations alone: sandbox tables %v, want none", got)
	}
	var mounted []string
	for _, sb := range sandboxes {
		n, err := sb.migrate(ctx, d)
		if err != nil {
			t.Fatalf("%s: %v", sb.name, err)
		}
		files, _ := fs.Glob(os.DirFS(sb.files), "*.sql")
		if n != len(files) {
			t.Errorf("%s: applied %d migrations, want %d", sb.name, n, len(files))
		}
		mounted = append(mounted, sb.want...)
		if got, want := strings.Join(sandboxTables(t, d), " "), strings.Join(slices.Sorted(slices.Values(mounted)), " "); got != want {
			t.Errorf("after mounting %s: tables %s, want %s", sb.name, got, want)
		}
	}
	before := shape(t, d)
	for _, sb := range sandboxes {
		if n, err := sb.migrate(ctx, d); err != nil || n != 0 {
			t.Errorf("%s again: applied %d, %v; want 0, nil", sb.name, n, err)
		}
	}
	if after := shape(t, d); after != before {
		t.Errorf("applying again changed the tables:\n%s\nwant\n%s", after, before)
	}
	var versions []string
	if err := d.Select(&versions, `SELECT component || ' ' || version FROM sandbox_migrations ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	if got, want := strings.Join(versions, ", "), "cardgw 1, cardgw 2, linepay 1, linepay 2, linepay 3"; got != want {
		t.Errorf("sandbox_migrations: %s, want %s", got, want)
	}
}

// A database migrated before the sandboxes had migrations of their own has
// the tables the app's migrations 003, 005 and 018 made, with no
// sandbox_migrations row, or only some of them if it stopped between those
// versions. The sandboxes' first migrations are those statements made
// idempotent: whatever of them the database had run, Migrate adopts the
// tables and their rows, and ends with the same tables as a new database.
func TestSandboxMigrationsAdoptExistingTables(t *testing.T) {
	ctx := context.Background()
	fresh, _ := dbtest.New(t)
	for _, sb := range sandboxes {
		if _, err := sb.migrate(ctx, fresh); err != nil {
			t.Fatal(err)
		}
	}
	want := shape(t, fresh)

	// The app's 003 alone, 003 and 005, and all three, as the sandboxes'
	// files split them.
	for _, ran := range [][]string{
		{"../linepay/migrations/001_transactions.sql", "../cardgw/migrations/001_cards.sql"},
		{"../linepay/migrations/001_transactions.sql", "../cardgw/migrations/001_cards.sql", "../linepay/migrations/002_authorizations.sql"},
		{"../linepay/migrations/001_transactions.sql", "../cardgw/migrations/001_cards.sql", "../linepay/migrations/002_authorizations.sql",
			"../linepay/migrations/003_refunds.sql", "../cardgw/migrations/002_refunds.sql"},
	} {
		d, _ := dbtest.New(t)
		for _, f := range ran {
			if _, err := d.Exec(readFile(t, f)); err != nil {
				t.Fatalf("%s: %v", f, err)
			}
		}
		if _, err := d.Exec(`INSERT INTO sandbox_cards (id, number, brand, last4, exp_month, exp_year, holder, created_at)
			VALUES ('card_old', '4242424242424242', 'visa', '4242', 12, 2030, '林小美', now())`); err != nil {
			t.Fatal(err)
		}
		for _, sb := range sandboxes {
			if _, err := sb.migrate(ctx, d); err != nil {
				t.Fatalf("after %d files: %s: %v", len(ran), sb.name, err)
			}
		}
		if got := shape(t, d); got != want {
			t.Errorf("after %d of the old files, adopted tables:\n%s\nwant as new:\n%s", len(ran), got, want)
		}
		var n int
		if err := d.Get(&n, `SELECT count(*) FROM sandbox_cards WHERE id = 'card_old'`); err != nil || n != 1 {
			t.Errorf("the card made before: %d rows, %v", n, err)
		}
	}
}

// Processes starting at once apply each migration once.
func TestSandboxMigrateConcurrently(t *testing.T) {
	ctx := context.Background()
	d, _ := dbtest.New(t)
	var wg sync.WaitGroup
	var mu sync.Mutex
	total := 0
	for range 4 {
		for _, sb := range sandboxes {
			wg.Go(func() {
				n, err := sb.migrate(ctx, d)
				if err != nil {
					t.Errorf("%s: %v", sb.name, err)
				}
				mu.Lock()
				total += n
				mu.Unlock()
			})
		}
	}
	wg.Wait()
	if total != 5 {
		t.Errorf("applied %d migrations in all, want 5 (each once)", total)
	}
}

// Versions must run 1, 2, 3... as the app's do.
func TestSandboxMigrationsWithoutGaps(t *testing.T) {
	d, _ := dbtest.New(t)
	_, err := sandboxdb.Migrate(context.Background(), d, "test", fstest.MapFS{"m/001_a.sql": {Data: []byte("SELECT 1")}, "m/003_c.sql": {Data: []byte("SELECT 1")}}, "m")
	if err == nil || !strings.Contains(err.Error(), "without gaps") {
		t.Errorf("versions 1 and 3: %v, want a refusal", err)
	}
}

func readFile(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
