package db_test

import (
	"errors"
	"testing"

	"github.com/lib/pq"

	"webstore/db/dbtest"
)

// A charge names only plans that exist, and they stay (migration 014: the
// per-row foreign keys to plans became a per-statement check on insert, a
// row check when an update changes a plan, and plans that are never
// deleted nor renamed). Each refusal is the error the
// foreign keys gave.
func TestChargePlansStayIntact(t *testing.T) {
	d, _ := dbtest.New(t)
	mustExec := func(q string) {
		t.Helper()
		if _, err := d.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	refused := func(what, q, code string) {
		t.Helper()
		_, err := d.Exec(q)
		var pe *pq.Error
		if !errors.As(err, &pe) || string(pe.Code) != code {
			t.Errorf("%s: got %v, want SQLSTATE %s", what, err, code)
		}
	}
	mustExec(`INSERT INTO plans (id, name_zh, name_en, fee, free_messages, additional_messages, rank) VALUES ('gold', '金', 'Gold', 2000, 9000, true, 4)`)
	mustExec(`INSERT INTO accounts (id, name, region, plan, created_at) VALUES ('bear', 'Bear', 'TW', 'light', now())`)
	const cols = `INSERT INTO charges (account_id, kind, month, effective_at, from_plan, plan, amount, offset_amount, forfeited, net, tax, total, status, created_at) VALUES `
	good := `('bear', 'upgrade', '2024-07-01', now(), 'light', 'gold', 800, 0, 0, 800, 40, 840, 'pending', now())`
	badPlan := `('bear', 'usage', '2024-08-01', now(), 'light', 'platinum', 800, 0, 0, 800, 40, 840, 'pending', now())`
	badFrom := `('bear', 'usage', '2024-08-01', now(), 'bronze', 'light', 800, 0, 0, 800, 40, 840, 'pending', now())`

	refused("a charge for a plan that does not exist", cols+badPlan, "23503")
	refused("a charge from a plan that does not exist", cols+badFrom, "23503")
	refused("one bad charge among good ones", cols+good+`, `+badPlan, "23503")
	if n := countRows(t, d, `SELECT count(*) FROM charges`); n != 0 {
		t.Fatalf("%d charges written by refused statements", n)
	}
	mustExec(cols + good)
	mustExec(cols + `('bear', 'usage', '2024-07-01', now(), NULL, NULL, 10, 0, 0, 10, 1, 11, 'pending', now())`)

	refused("deleting a plan a charge names", `DELETE FROM plans WHERE id = 'gold'`, "23503")
	refused("renaming a plan a charge names", `UPDATE plans SET id = 'golden' WHERE id = 'gold'`, "23503")
	refused("emptying plans", `TRUNCATE plans CASCADE`, "23503")
	refused("changing a charge's plan to one that does not exist", `UPDATE charges SET plan = 'platinum' WHERE plan = 'gold'`, "23503")
	refused("changing a charge's from_plan to one that does not exist", `UPDATE charges SET from_plan = 'bronze' WHERE plan = 'gold'`, "23503")
	// A retry quotes a charge again, at the plan the account holds now.
	mustExec(`UPDATE charges SET plan = 'high' WHERE plan = 'gold'`)
	// A price change is an edit, and still allowed.
	mustExec(`UPDATE plans SET fee = 2100 WHERE id = 'gold'`)
}

func countRows(t *testing.T, d interface {
	Get(any, string, ...any) error
}, q string) int {
	t.Helper()
	var n int
	if err := d.Get(&n, q); err != nil {
		t.Fatal(err)
	}
	return n
}
