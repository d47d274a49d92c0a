package db_test

import (
	"context"
	"fmt"
	"reflect"
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
)

// The account pages' overview cache (db/pagecache.go) follows every write
// to what the overview shows, whichever process made it: one store keeps
// pages warm while another store over the same database, or plain SQL,
// writes; each page read after a write shows what a fresh read shows, and
// a page read with nothing written since is served with the session's one
// statement.
func TestOverviewCacheFollowsChangesFromAnotherProcess(t *testing.T) {
	f, rg := newRefundFixture(t)
	other := db.New(f.s.DB, f.clk, rg) // a second process: its own cache
	f.codes(t, "PAGE-0001")
	ch := f.paid(t, "bear", mobile)
	var uid int64
	if err := f.s.DB.Get(&uid, `INSERT INTO users (login, display_name, password_hash, created_at) VALUES ('pc','pc','x',now()) RETURNING id`); err != nil {
		t.Fatal(err)
	}
	with := db.OverviewWith{Charges: true, CodeCharge: true}
	// page is what an account page does: the session statement, then the
	// overview under the versions it returned. It returns the overview and
	// how many statements the request made.
	page := func(s *db.Store, with db.OverviewWith) (db.Overview, int) {
		t.Helper()
		tok, err := s.CreateSession(f.ctx, uid)
		if err != nil {
			t.Fatal(err)
		}
		ctx, n := db.WithStatementCounter(f.ctx)
		sess, err := s.FindSessionIn(ctx, tok, "bear")
		if err != nil {
			t.Fatal(err)
		}
		ctx = db.WithAccountVersion(db.WithReferenceVersion(ctx, sess.ReferenceVersion), "bear", sess.AccountVersion, sess.OverviewGlobal)
		o, err := s.FindOverviewWith(ctx, "bear", with)
		if err != nil {
			t.Fatal(err)
		}
		return o, n.N()
	}
	fresh := func(with db.OverviewWith) db.Overview {
		t.Helper()
		o, err := db.New(f.s.DB, f.clk, nil).FindOverviewWith(f.ctx, "bear", with)
		if err != nil {
			t.Fatal(err)
		}
		return o
	}
	charge := db.OverviewWith{Charge: ch.ID}
	warm := func(step string) {
		t.Helper()
		for _, w := range []db.OverviewWith{with, charge} {
			page(f.s, w)
			if o, n := page(f.s, w); n != 1 || !reflect.DeepEqual(o, fresh(w)) {
				t.Fatalf("%s: a warm page made %d statements (want the session's 1) or differs from a fresh read", step, n)
			}
		}
	}
	exec := func(q string, args ...any) func() error {
		return func() error {
			_, err := f.s.DB.Exec(q, args...)
			return err
		}
	}
	// operator is an edit in SQL past a trigger that keeps a row final.
	operator := func(table, trigger, q string) func() error {
		return func() error {
			for _, q := range []string{`ALTER TABLE ` + table + ` DISABLE TRIGGER ` + trigger, q,
				`ALTER TABLE ` + table + ` ENABLE TRIGGER ` + trigger} {
				if _, err := f.s.DB.Exec(q); err != nil {
					return err
				}
			}
			return nil
		}
	}
	var pmID int64
	steps := []struct {
		name  string
		write func() error
	}{
		{"a payment method added", func() (err error) {
			pm, err := other.AddPaymentMethod(f.ctx, "test", db.PaymentMethod{AccountID: "bear", Kind: billing.LinePay, Token: "tok2"}, false)
			pmID = pm.ID
			return err
		}},
		{"a payment method removed", func() error { return other.RemovePaymentMethod(f.ctx, "test", "bear", pmID) }},
		{"a code registered", func() error { _, err := other.RegisterCode(f.ctx, "test", "bear", "PAGE-0001"); return err }},
		{"e-invoice details saved", func() error { _, err := other.SaveInvoiceDetails(f.ctx, "test", "bear", company); return err }},
		{"a refund", func() error {
			_, err := other.Refund(f.ctx, "staff:ann", db.RefundRequest{ChargeID: ch.ID, Amount: 100, Reason: "快取測試", Key: "pc-r1"})
			return err
		}},
		{"a downgrade scheduled", func() error { _, err := other.ScheduleDowngrade(f.ctx, "test", "bear", billing.Medium); return err }},
		{"usage recorded and refreshed", func() error {
			if _, err := other.RecordUsage(f.ctx, "test", db.UsageBatch{BatchID: "pc-1", AccountID: "bear", Kind: billing.MsgPush, Messages: 7, SentAt: f.clk.Now().Add(-time.Minute)}); err != nil {
				return err
			}
			_, err := other.RefreshUsage(f.ctx, f.clk.Now())
			return err
		}},
		{"the plan edited in SQL", exec(`UPDATE accounts SET plan = 'medium', scheduled_plan = NULL, scheduled_for = NULL WHERE id = 'bear'`)},
		{"the account renamed in SQL", exec(`UPDATE accounts SET name = 'Bear 2' WHERE id = 'bear'`)},
		{"payment_methods in SQL", exec(`UPDATE payment_methods SET label = 'SQL' WHERE account_id = 'bear'`)},
		{"account_months in SQL", exec(`UPDATE account_months SET fee_paid = fee_paid - 1 WHERE account_id = 'bear'`)},
		{"charges in SQL", operator("charges", "charges_transition", `UPDATE charges SET failure_detail = 'SQL' WHERE account_id = 'bear'`)},
		{"promo_codes in SQL", exec(`UPDATE promo_codes SET display = 'PAGE-SQL' WHERE account_id = 'bear'`)},
		{"einvoice_details in SQL", exec(`UPDATE einvoice_details SET email = 'sql@example.tw' WHERE account_id = 'bear'`)},
		{"einvoices in SQL", exec(`UPDATE einvoices SET buyer_name = 'SQL' WHERE account_id = 'bear'`)},
		{"refunds in SQL", operator("refunds", "refund_transition", `UPDATE refunds SET created_at = created_at - interval '1 minute' WHERE account_id = 'bear'`)},
		{"einvoice_allowances in SQL", exec(`UPDATE einvoice_allowances SET created_at = created_at - interval '1 minute'`)},
		{"usage_snapshots in SQL", exec(`UPDATE usage_snapshots SET free_sent = free_sent + 1 WHERE account_id = 'bear'`)},
		{"usage_refreshes in SQL", exec(`UPDATE usage_refreshes SET refreshed_at = refreshed_at + interval '1 minute'`)},
		{"usage_snapshots deleted in SQL", exec(`DELETE FROM usage_snapshots WHERE account_id = 'bear'`)},
		{"account_months of 1,001 accounts in one statement", func() error {
			if _, err := f.s.DB.Exec(`INSERT INTO accounts (id, name, region, plan, created_at)
				SELECT 'bulk' || g, 'bulk', 'TW', 'light', now() FROM generate_series(1, 1001) g`); err != nil {
				return err
			}
			if _, err := f.s.DB.Exec(`INSERT INTO account_months (account_id, month, plan, fee_paid)
				SELECT id, $1, plan, 0 FROM accounts WHERE id LIKE 'bulk%'`, billing.MonthOf(f.clk.Now()).Date()); err != nil {
				return err
			}
			warm("the bulk accounts added")
			_, err := f.s.DB.Exec(`UPDATE account_months SET fee_paid = fee_paid - CASE WHEN account_id = 'bear' THEN 1 ELSE 0 END
				WHERE month = $1`, billing.MonthOf(f.clk.Now()).Date())
			return err
		}},
		{"a charge's e-invoice row deleted with its allowances and refunds", exec(`WITH a AS (DELETE FROM einvoice_allowances RETURNING 1),
			r AS (DELETE FROM refunds WHERE account_id = 'bear' RETURNING 1) SELECT (SELECT count(*) FROM a), (SELECT count(*) FROM r)`)},
	}
	for _, st := range steps {
		warm("before " + st.name)
		before := fresh(with)
		beforeCharge := fresh(charge)
		if err := st.write(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
		after, afterCharge := fresh(with), fresh(charge)
		if reflect.DeepEqual(before, after) && reflect.DeepEqual(beforeCharge, afterCharge) {
			t.Fatalf("%s: changed nothing the overview shows (the step proves nothing)", st.name)
		}
		for _, w := range []db.OverviewWith{with, charge} {
			if o, _ := page(f.s, w); !reflect.DeepEqual(o, fresh(w)) {
				t.Errorf("%s: the warm store's next page differs from a fresh read:\n got %s\nwant %s", st.name, brief(o), brief(fresh(w)))
			}
		}
	}

	// A renewal at the next month start, with pages of that month warm.
	f.clk.Set(billing.MonthOf(f.clk.Now()).Next().Start().Add(time.Hour))
	if _, err := f.s.DB.Exec(`DELETE FROM account_months WHERE account_id LIKE 'bulk%'`); err != nil {
		t.Fatal(err)
	}
	warm("before the renewal")
	before := fresh(with)
	if _, err := other.Renew(f.ctx, "test", f.clk.Now(), db.RenewOptions{}); err != nil {
		t.Fatal(err)
	}
	if reflect.DeepEqual(before, fresh(with)) {
		t.Fatal("the renewal changed nothing the overview shows")
	}
	if o, _ := page(f.s, with); !reflect.DeepEqual(o, fresh(with)) {
		t.Errorf("after the renewal: got %s\nwant %s", brief(o), brief(fresh(with)))
	}

	// What depends on the time is computed at each request: the same
	// cached row a minute and a month later gives what a fresh read gives.
	warm("before the clock moves")
	f.clk.Set(f.clk.Now().Add(time.Minute))
	if o, n := page(f.s, with); n != 1 || !reflect.DeepEqual(o, fresh(with)) {
		t.Errorf("a minute later: %d statements, or got %s\nwant %s", n, brief(o), brief(fresh(with)))
	}
	f.clk.Set(billing.MonthOf(f.clk.Now()).Next().Start().Add(time.Minute))
	if o, _ := page(f.s, with); !reflect.DeepEqual(o, fresh(with)) {
		t.Errorf("the next month: got %s\nwant %s", brief(o), brief(fresh(with)))
	}
}

func brief(o db.Overview) string {
	return fmt.Sprintf("%s %s plan=%s sched=%v paid=%d methods=%d invoice=%+v code=%+v owed=%d usage=%+v charges=%d refunds=%d allowances=%d",
		o.ID, o.Name, o.Account.Plan, o.Scheduled, o.Account.PaidFee, len(o.Methods), o.Invoice, o.Code, len(o.Owed), o.Usage,
		len(o.Charges), len(o.Refunds), len(o.Allowances))
}

// A write made in the request before its page is drawn is seen: the
// versions the session read are not used once the request made a
// statement.
func TestOverviewCacheNotUsedAfterAWriteInTheRequest(t *testing.T) {
	f := newFixture(t)
	f.account(t, "bear", billing.Light, billing.CreditCard, "tok")
	var uid int64
	if err := f.s.DB.Get(&uid, `INSERT INTO users (login, display_name, password_hash, created_at) VALUES ('pc','pc','x',now()) RETURNING id`); err != nil {
		t.Fatal(err)
	}
	tok, err := f.s.CreateSession(f.ctx, uid)
	if err != nil {
		t.Fatal(err)
	}
	request := func(write func(context.Context)) (db.Overview, int) {
		ctx, n := db.WithStatementCounter(f.ctx)
		sess, err := f.s.FindSessionIn(ctx, tok, "bear")
		if err != nil {
			t.Fatal(err)
		}
		ctx = db.WithAccountVersion(db.WithReferenceVersion(ctx, sess.ReferenceVersion), "bear", sess.AccountVersion, sess.OverviewGlobal)
		write(ctx)
		o, err := f.s.FindOverview(ctx, "bear")
		if err != nil {
			t.Fatal(err)
		}
		return o, n.N()
	}
	request(func(context.Context) {})
	if _, n := request(func(context.Context) {}); n != 1 {
		t.Fatalf("warm page: %d statements", n)
	}
	o, _ := request(func(ctx context.Context) {
		if _, err := f.s.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.High, Key: "in-request"}); err != nil {
			t.Fatal(err)
		}
	})
	if o.Account.Plan != billing.High {
		t.Errorf("the page drawn after the request's own upgrade shows %s", o.Account.Plan)
	}
}
