package db_test

import (
	"context"
	"testing"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/db"
	"webstore/db/dbtest"
)

// statistics are the schema's tables with their row count and planner
// row estimate (pg_class.reltuples, which ANALYZE sets; -1 when never
// analyzed). On tables this small ANALYZE reads every row, so an analyzed
// table's estimate is its row count.
func statistics(t *testing.T, d *sqlx.DB) map[string][2]float64 {
	t.Helper()
	var tables []struct {
		Name      string  `db:"relname"`
		RelTuples float64 `db:"reltuples"`
	}
	if err := d.Select(&tables, `SELECT c.relname, c.reltuples FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		WHERE c.relkind = 'r' AND n.nspname = current_schema() ORDER BY 1`); err != nil {
		t.Fatal(err)
	}
	out := map[string][2]float64{}
	for _, tb := range tables {
		var n float64
		if err := d.Get(&n, `SELECT count(*) FROM `+tb.Name); err != nil {
			t.Fatal(err)
		}
		out[tb.Name] = [2]float64{n, tb.RelTuples}
	}
	return out
}

// Migrate ends by analyzing: a fresh schema has statistics (its reference
// tables' rows included) before anything else runs.
func TestMigrateAnalyzes(t *testing.T) {
	d, drop, err := db.Throwaway(context.Background(), dbtest.URL(t), "t_analyze")
	if err != nil {
		t.Fatal(err)
	}
	defer drop()
	for name, s := range statistics(t, d) {
		if s[0] != s[1] {
			t.Errorf("after Migrate, %s has %v rows, its statistics say %v", name, s[0], s[1])
		}
	}
}

// Seed ends by analyzing the tables it wrote.
func TestSeedAnalyzes(t *testing.T) {
	d, _ := dbtest.New(t)
	before := statistics(t, d)
	if _, err := db.New(d, billing.SystemClock, nil).Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	changed := 0
	for name, s := range statistics(t, d) {
		if s[0] == before[name][0] {
			continue
		}
		changed++
		if s[0] != s[1] {
			t.Errorf("Seed wrote %s (%v rows), its statistics say %v", name, s[0], s[1])
		}
	}
	if changed < 5 {
		t.Errorf("Seed changed %d tables, want the accounts, users, campaigns and more", changed)
	}
}
