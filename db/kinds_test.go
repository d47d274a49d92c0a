package db_test

import (
	"regexp"
	"slices"
	"testing"

	"webstore/billing"
	"webstore/db/dbtest"
)

// The pending-plan index (migration 007) writes billing.PlanFeeKinds out:
// an index predicate cannot take a parameter, and the renewal's pending
// check (db/renew.go, passed billing.PlanFeeKinds) is planned on the index
// only while its WHERE implies the predicate. The catalog's predicate must
// name exactly billing's kinds, so changing the list in billing without a
// migration fails here.
func TestPendingPlanIndexNamesPlanFeeKinds(t *testing.T) {
	d, _ := dbtest.New(t)
	var pred string
	if err := d.Get(&pred, `SELECT pg_get_expr(i.indpred, i.indrelid) FROM pg_index i
		WHERE i.indexrelid = 'charges_one_pending_plan'::regclass`); err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(`^\(\(status = 'pending'::text\) AND \(kind = ANY \(ARRAY\[(.*)\]\)\)\)$`).FindStringSubmatch(pred)
	if m == nil {
		t.Fatalf("charges_one_pending_plan's predicate is %s, want status pending and kind = ANY (ARRAY[...])", pred)
	}
	var got []string
	for _, k := range regexp.MustCompile(`'([^']*)'::text`).FindAllStringSubmatch(m[1], -1) {
		got = append(got, k[1])
	}
	var want []string
	for _, k := range billing.PlanFeeKinds {
		want = append(want, string(k))
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("charges_one_pending_plan names the kinds %v, billing.PlanFeeKinds %v", got, want)
	}
}
