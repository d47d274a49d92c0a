package web_test

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// TestBehindPgBouncer serves the whole app with its store behind a real
// pgbouncer in transaction pooling (six server connections for every
// client), as a deployment of several app processes does, and loads it
// concurrently: page loads on both surfaces beside purchases (each
// submitted twice at once, a double-click), then, at the next month's
// start, page loads beside a renewal run with collection. The renewal is
// the store's own entry point on a session-mode database of the same
// pgbouncer (JOBS_DATABASE_URL: it holds a session-level advisory lock).
// Every response must be what a person gets without a pooler, every
// purchase one paid charge, every paid plan renewed and paid once, and no
// advisory lock left held.
func TestBehindPgBouncer(t *testing.T) {
	ctx := context.Background()
	direct, dsn := dbtest.New(t)
	pooled := dbtest.PgBouncer(t, dsn, "webstore_jobs")
	pd, err := db.Open(ctx, pooled)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pd.Close() })
	// The sandboxes' migrations, as serve applies them, through the pooler
	// and from two processes at once: their lock is transaction-scoped.
	var mig sync.WaitGroup
	for range 2 {
		for _, migrate := range []func(context.Context, *sqlx.DB) (int, error){linepay.Migrate, cardgw.Migrate} {
			mig.Go(func() {
				if _, err := migrate(ctx, pd); err != nil {
					t.Errorf("sandbox migrations behind pgbouncer: %v", err)
				}
			})
		}
	}
	mig.Wait()
	a := newAppOn(t, pd)
	jd, err := db.Open(ctx, dbtest.PgBouncerAlias(pooled, "webstore_jobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { jd.Close() })
	jd.SetMaxOpenConns(4) // as serve opens its job store
	jobs := db.New(jd, a.Clock, a.Store.Payments)

	// cat (medium, paid for November) pays by LINE Pay, through the
	// sandbox's jsonb; six light accounts of alice's pay by card.
	setUpLinePay(t, a, "cat", linepay.CardCathayVisa)
	buyers := make([]string, 6)
	for i := range buyers {
		id := fmt.Sprintf("pool%d", i)
		buyers[i] = id
		if err := a.Store.CreateAccount(ctx, "test", db.NewAccount{ID: id, Name: "池 " + id, Region: "TW", Plan: billing.Light}); err != nil {
			t.Fatal(err)
		}
		if _, err := pd.Exec(`INSERT INTO memberships (account_id, user_id, role, created_at)
			SELECT $1, id, 'admin', now() FROM users WHERE login = 'alice'`, id); err != nil {
			t.Fatal(err)
		}
		if _, err := a.Store.SaveInvoiceDetails(ctx, "test", id, billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "919", Email: id + "@example.tw"}); err != nil {
			t.Fatal(err)
		}
		storeCard(t, a, id, "4242424242424242")
	}
	alice := httpSignIn(t, a.URL, "alice", nil)
	pages := []string{"/a/cat/plan", "/a/cat/checkout?plan=high", "/a/cat/history", "/a/cat/menu",
		"/m/cat/plan", "/m/cat/history", "/a/bear/plan", "/a/pool0/plan"}

	// load GETs every page from 6 clients, 20 rounds each, while work runs.
	load := func(work func()) {
		t.Helper()
		var wg sync.WaitGroup
		for c := range 6 {
			wg.Go(func() {
				for r := range 20 {
					p := pages[(c+r)%len(pages)]
					if status, body := alice.do(t, "GET", a.URL+p, "", nil); status != http.StatusOK {
						t.Errorf("GET %s: %d, want 200: %.300s", p, status, body)
						return
					}
				}
			})
		}
		wg.Go(work)
		wg.Wait()
	}

	hidden := regexp.MustCompile(`<input type="hidden" name="(plan|key|expect_[a-z]+)" value="([^"]*)"`)
	load(func() {
		var wg sync.WaitGroup
		for _, id := range buyers {
			wg.Go(func() {
				status, body := alice.do(t, "GET", a.URL+"/a/"+id+"/checkout?plan=high", "", nil)
				if status != http.StatusOK {
					t.Errorf("%s checkout: %d", id, status)
					return
				}
				form := url.Values{"terms": {"yes"}, "_csrf": {alice.csrf}}
				for _, m := range hidden.FindAllStringSubmatch(body, -1) {
					form.Set(m[1], html.UnescapeString(m[2]))
				}
				if form.Get("key") == "" || form.Get("expect_total") == "" {
					t.Errorf("%s checkout: no purchase form", id)
					return
				}
				var twice sync.WaitGroup
				for range 2 {
					twice.Go(func() {
						status, body := alice.do(t, "POST", a.URL+"/a/"+id+"/checkout", "application/x-www-form-urlencoded",
							strings.NewReader(form.Encode()))
						if status != http.StatusSeeOther {
							t.Errorf("%s purchase: %d, want 303: %.300s", id, status, body)
						}
					})
				}
				twice.Wait()
			})
		}
		wg.Wait()
	})
	for _, id := range buyers {
		var paid, all int
		if err := direct.QueryRow(`SELECT count(*) FILTER (WHERE status = 'paid'), count(*) FROM charges WHERE account_id = $1`, id).
			Scan(&paid, &all); err != nil {
			t.Fatal(err)
		}
		if paid != 1 || all != 1 {
			t.Errorf("%s after a double-clicked purchase: %d paid of %d charges, want 1 of 1", id, paid, all)
		}
	}

	// December: renew and collect while the pages load.
	a.Clock.Set(time.Date(2026, 12, 1, 1, 0, 0, 0, billing.JST))
	dec := billing.MonthOf(a.Clock.Now())
	alice = httpSignIn(t, a.URL, "alice", nil) // a week on, the session has ended
	load(func() {
		if err := jobs.ClaimRenewalRun(ctx, "test", dec); err != nil {
			t.Errorf("claim December's run: %v", err)
			return
		}
		if _, err := jobs.RunRenewal(ctx, "test", dec, true); err != nil {
			t.Errorf("December's renewal: %v", err)
		}
	})
	var renewed []struct {
		Account string `db:"account_id"`
		Status  string `db:"status"`
	}
	if err := direct.Select(&renewed, `SELECT account_id, status FROM charges WHERE kind = 'renewal' AND month = $1 ORDER BY 1`,
		dec.Date()); err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{"cat": true}
	for _, id := range buyers {
		want[id] = true
	}
	for _, r := range renewed {
		if !want[r.Account] {
			continue // dog and tokyo have no payment method
		}
		if r.Status != string(billing.StatusPaid) {
			t.Errorf("%s's December renewal is %s, want paid", r.Account, r.Status)
		}
		delete(want, r.Account)
	}
	for id := range want {
		t.Errorf("%s has no December renewal charge", id)
	}
	var locks int
	if err := direct.Get(&locks, `SELECT count(*) FROM pg_locks l JOIN pg_database b ON b.oid = l.database
		WHERE l.locktype = 'advisory' AND b.datname = current_database()`); err != nil {
		t.Fatal(err)
	}
	if locks != 0 {
		t.Errorf("%d advisory locks still held after the renewal", locks)
	}
}
