package views

import (
	"slices"
	"testing"
)

func TestAuditChanges(t *testing.T) {
	for _, c := range []struct {
		before, after string
		want          []string
	}{
		{"", `{"plan":"high","id":3}`, []string{"id: 3", "plan: high"}},
		{`{"status":"pending","attempts":0,"failure":""}`, `{"status":"failed","attempts":1,"failure":"declined"}`,
			[]string{`attempts: 0 → 1`, `failure: "" → declined`, "status: pending → failed"}},
		{`{"plan":"medium","scheduled_plan":"light"}`, `{"plan":"medium"}`, []string{"scheduled_plan: light → ∅"}},
		{"", "", nil},
	} {
		if got := AuditChanges(c.before, c.after); !slices.Equal(got, c.want) {
			t.Errorf("AuditChanges(%s, %s) = %q, want %q", c.before, c.after, got, c.want)
		}
	}
}

// A nullable column in an audit entry reads as its value, or ∅.
func TestAuditChangesNullable(t *testing.T) {
	got := AuditChanges(`{"next_retry":{"Time":"0001-01-01T00:00:00Z","Valid":false}}`, `{"next_retry":{"Time":"2026-12-04T01:00:00Z","Valid":true}}`)
	if len(got) != 1 || got[0] != "next_retry: ∅ → 2026-12-04T01:00:00Z" {
		t.Errorf("got %q", got)
	}
}
