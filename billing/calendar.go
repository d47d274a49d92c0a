package billing

import (
	"fmt"
	"time"
)

// Japan and Taiwan have kept fixed offsets without daylight saving for
// decades, so fixed zones are exact for every instant this product handles
// and need no tz database on the host.
var (
	// JST is the billing calendar's zone (Asia/Tokyo, UTC+9).
	JST = time.FixedZone("JST", 9*60*60)
	// Taipei is the zone brand admins in Taiwan read (Asia/Taipei, UTC+8).
	Taipei = time.FixedZone("TWT", 8*60*60)
)

// Clock tells the current instant. It is injected everywhere; nothing in the
// core reads time.Now.
type Clock interface {
	Now() time.Time
}

// ClockFunc adapts a function to Clock.
type ClockFunc func() time.Time

// Now implements Clock.
func (f ClockFunc) Now() time.Time { return f() }

// SystemClock is the wall clock, for wiring in main only.
var SystemClock Clock = ClockFunc(time.Now)

// Month is a billing month: from 00:00:00 JST on the 1st to the next 1st.
type Month struct {
	Year  int
	Month time.Month
}

// MonthOf returns the billing month containing t.
func MonthOf(t time.Time) Month {
	j := t.In(JST)
	return Month{j.Year(), j.Month()}
}

// ParseMonth reads "2024-07".
func ParseMonth(s string) (Month, error) {
	t, err := time.ParseInLocation("2006-01", s, JST)
	if err != nil {
		return Month{}, fmt.Errorf("month %q: want YYYY-MM", s)
	}
	return MonthOf(t), nil
}

// Start is the first instant of the month, 00:00 JST on the 1st (23:00 Taiwan
// time on the previous day).
func (m Month) Start() time.Time {
	return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, JST)
}

// End is the first instant after the month (the next month's Start).
func (m Month) End() time.Time { return m.Next().Start() }

// LastMoment is the last whole minute of the month as admins read it:
// 22:59 Taiwan time on the last day.
func (m Month) LastMoment() time.Time { return m.End().Add(-time.Minute) }

// Next returns the following month.
func (m Month) Next() Month { return MonthOf(m.Start().AddDate(0, 1, 0)) }

// Prev returns the preceding month.
func (m Month) Prev() Month { return MonthOf(m.Start().AddDate(0, -1, 0)) }

// Date is the month's first day as a calendar date (for DATE columns).
func (m Month) Date() time.Time {
	return time.Date(m.Year, m.Month, 1, 0, 0, 0, 0, time.UTC)
}

// MonthFromDate reads a DATE column written by Date.
func MonthFromDate(d time.Time) Month { return Month{d.Year(), d.Month()} }

// IsZero reports whether m is unset.
func (m Month) IsZero() bool { return m.Year == 0 }

// Before reports whether m comes before o.
func (m Month) Before(o Month) bool {
	return m.Year < o.Year || (m.Year == o.Year && m.Month < o.Month)
}

func (m Month) String() string { return fmt.Sprintf("%04d-%02d", m.Year, int(m.Month)) }

// NextDaily is the first instant after t at hour:00 Japan time: when a
// daily job (the 02:00 JST usage refresh) next runs.
func NextDaily(t time.Time, hour int) time.Time {
	j := t.In(JST)
	next := time.Date(j.Year(), j.Month(), j.Day(), hour, 0, 0, 0, JST)
	if !next.After(t) {
		next = next.AddDate(0, 0, 1)
	}
	return next
}
