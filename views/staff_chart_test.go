package views

import (
	"slices"
	"testing"
	"time"

	"webstore/billing"
)

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

// A billing month's days are its JST dates, counts placed on their day and
// quiet days zero.
func TestMonthDays(t *testing.T) {
	m := billing.Month{Year: 2026, Month: 11}
	days, vals := MonthDays(m, []DayCount{{Day: time.Date(2026, 11, 3, 0, 0, 0, 0, time.UTC), Count: 7}})
	if len(days) != 30 || len(vals) != 30 {
		t.Fatalf("%d days, %d values; want 30", len(days), len(vals))
	}
	if got := days[0].Format("2006-01-02"); got != "2026-11-01" {
		t.Errorf("first day %s", got)
	}
	if vals[2] != 7 || slices.Max(vals) != 7 || vals[3] != 0 {
		t.Errorf("values %v", vals)
	}
}

// A campaign's days run from its window's first Taiwan day to today, so a
// quiet day shows as a gap.
func TestCampaignDays(t *testing.T) {
	c := billing.Campaign{ValidFrom: time.Date(2026, 11, 1, 0, 0, 0, 0, billing.Taipei), ValidUntil: time.Date(2026, 12, 31, 23, 59, 59, 0, billing.Taipei)}
	now := time.Date(2026, 11, 5, 12, 0, 0, 0, billing.Taipei)
	days, series := CampaignDays([]CodeDay{{Day: time.Date(2026, 11, 2, 0, 0, 0, 0, time.UTC), Registered: 3, Redeemed: 1}}, c, now)
	if len(days) != 5 || len(series) != 2 {
		t.Fatalf("%d days, %d series; want 5 and 2", len(days), len(series))
	}
	if !slices.Equal(series[0], []int64{0, 3, 0, 0, 0}) || !slices.Equal(series[1], []int64{0, 1, 0, 0, 0}) {
		t.Errorf("series %v", series)
	}
}
