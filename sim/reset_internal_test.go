package sim

import (
	"context"
	"os"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/jmoiron/sqlx"
)

// schemaState is what a schema holds: every table's rows (as text, in a
// fixed order) and every sequence's position.
func schemaState(t *testing.T, d *sqlx.DB) map[string][]string {
	t.Helper()
	ctx := context.Background()
	var rels []struct {
		Name string `db:"relname"`
		Kind string `db:"relkind"`
	}
	if err := d.SelectContext(ctx, &rels, `SELECT relname, relkind::text FROM pg_class
		WHERE relkind IN ('r', 'S') AND relnamespace = current_schema()::regnamespace ORDER BY relname`); err != nil {
		t.Fatal(err)
	}
	state := map[string][]string{}
	for _, r := range rels {
		var rows []string
		q := `SELECT t::text FROM ` + r.Name + ` t ORDER BY 1`
		switch {
		case r.Name == "overview_global_slots", r.Name == "overview_version_seq":
			// Bumped by every reset (below), so cached overviews are read
			// again; the sequence is never restarted (migration 020).
			continue
		case r.Kind == "S":
			q = `SELECT last_value::text || ' ' || is_called::text FROM ` + r.Name
		case r.Name == "schema_migrations":
			q = `SELECT version::text || ' ' || name FROM schema_migrations ORDER BY version` // applied_at differs
		case r.Name == "reference_version":
			continue // bumped by every reset, so cached reference data is read again
		}
		if err := d.SelectContext(ctx, &rows, q); err != nil {
			t.Fatalf("%s: %v", r.Name, err)
		}
		state[r.Name] = rows
	}
	return state
}

// A schema emptied for the next scenario holds exactly what a freshly
// migrated one does: no row left in any table the scenarios write, the
// migrations' rows kept, every sequence back at its start.
func TestSimulatorResetIsFresh(t *testing.T) {
	url := os.Getenv("DATABASE_URL")
	if url == "" {
		t.Fatal("DATABASE_URL is unset: run the tests with `make test`, which starts a throwaway PostgreSQL")
	}
	ctx := context.Background()
	fresh, err := newSimSchema(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer fresh.drop()
	want := schemaState(t, fresh.d)

	files, _ := filepath.Glob("../testdata/scenarios/*.json")
	if len(files) == 0 {
		t.Fatal("no scenarios in testdata/scenarios")
	}
	sim := New(url)
	defer sim.Close()
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		sc, err := ParseScenario(data)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := sim.Simulate(ctx, sc); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
	}
	sch, err := sim.take(ctx) // empties it
	if err != nil {
		t.Fatal(err)
	}
	defer sim.put(sch)
	got := schemaState(t, sch.d)
	if n := len(got["charges"]) + len(got["audit_log"]); n != 0 {
		t.Errorf("the emptied schema still holds %d charges and audit rows", n)
	}
	for name, w := range want {
		if g := got[name]; !reflect.DeepEqual(g, w) {
			t.Errorf("%s: emptied schema %q, fresh %q", name, g, w)
		}
	}
	for name := range got {
		if _, ok := want[name]; !ok {
			t.Errorf("%s: in the emptied schema only", name)
		}
	}
}
