package db_test

import (
	"context"
	"flag"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/db"
	"webstore/db/dbtest"
)

// TestFaultsBehindPgBouncer runs a few of the fault campaign's seeds with
// the store behind PgBouncer in transaction pooling (a few server
// connections shared by every transaction), as a deployment runs it: its
// renewal runs, which hold a session-level advisory lock, connect to a
// session-mode database of the same pgbouncer (JOBS_DATABASE_URL in
// the README's deployment). Every money invariant must hold after every
// step, and no advisory lock may be left held when it ends.
func TestFaultsBehindPgBouncer(t *testing.T) {
	d, dsn := dbtest.New(t)
	pooled := dbtest.PgBouncer(t, dsn, "webstore_jobs")
	ctx := context.Background()
	pd, err := db.Open(ctx, pooled)
	if err != nil {
		t.Fatal(err)
	}
	defer pd.Close()
	jobs, err := db.Open(ctx, dbtest.PgBouncerAlias(pooled, "webstore_jobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer jobs.Close()
	jobs.SetMaxOpenConns(4) // as serve opens its job store
	// A few seeds: rapid.checks is restored for the tests after this one.
	checks := flag.Lookup("rapid.checks")
	was := checks.Value.String()
	checks.Value.Set("6")
	defer checks.Value.Set(was)
	// Page reads of the same accounts beside the campaign, through the same
	// pool, so the campaign's consecutive transactions land on different
	// server connections (alone, pgbouncer would hand it the same one).
	reader := db.New(pd, billing.SystemClock, nil)
	bg, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var reads atomic.Int64
	for i := range 4 {
		wg.Go(func() {
			for bg.Err() == nil {
				_, err := reader.FindOverview(bg, faultAccounts[i%len(faultAccounts)].id)
				if err != nil && bg.Err() == nil && billing.ErrorCode(err) == "" {
					t.Errorf("page read beside the campaign: %v", err)
					return
				}
				reads.Add(1)
			}
		})
	}
	faultCampaignOn(t, 20261205, pd, jobs)
	stop()
	wg.Wait()
	if reads.Load() == 0 {
		t.Error("no page read ran beside the campaign")
	}
	noAdvisoryLocks(t, d)
}

// noAdvisoryLocks fails the test if any session holds an advisory lock in
// d's database: a session lock taken through a transaction pooler lands on
// a server connection the client does not keep, and outlives its job.
func noAdvisoryLocks(t *testing.T, d *sqlx.DB) {
	t.Helper()
	var n int
	if err := d.Get(&n, `SELECT count(*) FROM pg_locks l JOIN pg_database b ON b.oid = l.database
		WHERE l.locktype = 'advisory' AND b.datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	if n != 0 {
		t.Errorf("%d advisory locks still held after the run", n)
	}
}
