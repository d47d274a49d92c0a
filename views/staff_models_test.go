package views

import (
	"slices"
	"testing"
	"time"
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

func TestBarChartScales(t *testing.T) {
	days := []time.Time{time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC)}
	c := NewBarChart(days, [][]int64{{0, 10}, {5, 0}}, []string{"s1", "s2"}, []string{"a", "b"}, 200, 100)
	if c.Max != 10 || len(c.Bars) != 4 || c.Empty {
		t.Fatalf("%+v", c)
	}
	tallest := c.Bars[2] // day 2, series 1
	if got, want := tallest.H, 100-chartTop-chartBottom; got != want {
		t.Errorf("the largest bar is %.1f high, want the plot's %.1f", got, want)
	}
	if c.Bars[0].H != 0 || c.Bars[1].H != tallest.H/2 {
		t.Errorf("bars %+v", c.Bars)
	}
}

// A nullable column in an audit entry reads as its value, or ∅.
func TestAuditChangesNullable(t *testing.T) {
	got := AuditChanges(`{"next_retry":{"Time":"0001-01-01T00:00:00Z","Valid":false}}`, `{"next_retry":{"Time":"2026-12-04T01:00:00Z","Valid":true}}`)
	if len(got) != 1 || got[0] != "next_retry: ∅ → 2026-12-04T01:00:00Z" {
		t.Errorf("got %q", got)
	}
}
