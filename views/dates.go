package views

import (
	"time"

	"webstore/billing"
)

// MonthStartDate is the date of a billing month's start as the document
// writes it (下個月1日): the 1st in Japan time, e.g. 2026/12/01, though the
// instant is 23:00 the day before in Taiwan.
func MonthStartDate(t time.Time) string { return t.In(billing.JST).Format("2006/01/02") }

// MonthStartNote says when a month start falls in Taiwan time, to follow
// MonthStartDate: "(日本時間 00:00,即台灣時間 2026/11/30 23:00)".
func (l Lang) MonthStartNote(t time.Time) string {
	return l.Tf("(日本時間 00:00,即台灣時間 %s)", " (00:00 Japan time, %s Taiwan time)", TWTime(t))
}
