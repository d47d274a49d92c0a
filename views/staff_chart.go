package views

import (
	"fmt"
	"time"

	"webstore/billing"
)

// DayCount is a count on one calendar day (midnight of the day).
type DayCount struct {
	Day   time.Time
	Count int64
}

// CodeDay is one day of a campaign's activity.
type CodeDay struct {
	Day                  time.Time
	Registered, Redeemed int64
}

// BarChart is a small bar chart drawn server-side as SVG: one group of bars
// per day, one bar per series.
type BarChart struct {
	Width, Height int
	Bars          []Bar
	Ticks         []Tick
	Legend        []Legend
	Max           int64
	Empty         bool
}

// Bar is one rectangle with its tooltip.
type Bar struct {
	X, Y, W, H float64
	Class      string
	Title      string
}

// Tick is an x-axis label.
type Tick struct {
	X     float64
	Label string
}

// Legend names a series.
type Legend struct {
	Class, Label string
}

const chartTop, chartBottom, chartLeft = 12.0, 20.0, 4.0

// NewBarChart lays out days (one per group, in order) with a value per
// series for each; classes style the series, names label them.
func NewBarChart(days []time.Time, series [][]int64, classes, names []string, width, height int) BarChart {
	ch := BarChart{Width: width, Height: height}
	for i := range classes {
		ch.Legend = append(ch.Legend, Legend{Class: classes[i], Label: names[i]})
	}
	for _, s := range series {
		for _, v := range s {
			ch.Max = max(ch.Max, v)
		}
	}
	ch.Empty = ch.Max == 0
	if len(days) == 0 {
		return ch
	}
	plotH := float64(height) - chartTop - chartBottom
	group := (float64(width) - chartLeft) / float64(len(days))
	barW := min(group*0.8/float64(len(series)), 14)
	every := max(1, len(days)/10)
	for i, d := range days {
		x0 := chartLeft + float64(i)*group + (group-barW*float64(len(series)))/2
		for si, s := range series {
			v := s[i]
			h := 0.0
			if ch.Max > 0 {
				h = plotH * float64(v) / float64(ch.Max)
			}
			if v > 0 && h < 1 {
				h = 1
			}
			ch.Bars = append(ch.Bars, Bar{X: x0 + float64(si)*barW, Y: chartTop + plotH - h, W: max(barW-1, 1), H: h,
				Class: classes[si], Title: fmt.Sprintf("%s %s: %d", d.Format("01/02"), names[si], v)})
		}
		if i%every == 0 {
			ch.Ticks = append(ch.Ticks, Tick{X: chartLeft + float64(i)*group + group/2, Label: d.Format("1/2")})
		}
	}
	return ch
}

// Fmt formats a chart coordinate.
func (BarChart) Fmt(v float64) string { return fmt.Sprintf("%.1f", v) }

// MonthDays lists the days of billing month m (JST dates) and places
// counts on them.
func MonthDays(m billing.Month, counts []DayCount) ([]time.Time, []int64) {
	var days []time.Time
	byDay := map[string]int64{}
	for _, c := range counts {
		byDay[c.Day.Format("2006-01-02")] = c.Count
	}
	var vals []int64
	for d := m.Start().In(billing.JST); d.Before(m.End()); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
		vals = append(vals, byDay[d.Format("2006-01-02")])
	}
	return days, vals
}

// CampaignDays lays a campaign's daily activity over the Taiwan days of its
// window up to today (at most a year back from the last day shown), so
// quiet days show as gaps.
func CampaignDays(daily []CodeDay, c billing.Campaign, now time.Time) ([]time.Time, [][]int64) {
	day := func(t time.Time) time.Time {
		t = t.In(billing.Taipei)
		return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	}
	by := map[string]CodeDay{}
	first, last := day(c.ValidFrom), day(c.ValidUntil)
	if n := day(now); n.Before(last) {
		last = n
	}
	for _, d := range daily {
		k := d.Day.Format("2006-01-02")
		by[k] = d
		dd, _ := time.Parse("2006-01-02", k)
		if dd.Before(first) {
			first = dd
		}
		if dd.After(last) {
			last = dd
		}
	}
	if last.Sub(first) > 366*24*time.Hour {
		first = last.AddDate(-1, 0, 0)
	}
	var days []time.Time
	reg, red := []int64{}, []int64{}
	for d := first; !d.After(last); d = d.AddDate(0, 0, 1) {
		days = append(days, d)
		c := by[d.Format("2006-01-02")]
		reg = append(reg, c.Registered)
		red = append(red, c.Redeemed)
	}
	return days, [][]int64{reg, red}
}
