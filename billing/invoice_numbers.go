package billing

import (
	"fmt"
	"strconv"
	"time"
)

// Rules of Taiwan e-invoice numbers (EINVOICE.md): the two-month periods
// numbers belong to, the numbers themselves and the books staff import.

// InvoicePeriod is a two-month e-invoice period (期別): Jan–Feb, Mar–Apr, …
// Nov–Dec. It runs from 00:00 Taiwan time on the 1st of its first month to
// 00:00 Taiwan time on the 1st of the next period's first month.
type InvoicePeriod struct {
	Year  int        // Gregorian year
	Month time.Month // the period's first month: January, March, …, November
}

// InvoicePeriodOf returns the period containing t, read in Taiwan time.
func InvoicePeriodOf(t time.Time) InvoicePeriod {
	tw := t.In(Taipei)
	m := tw.Month()
	if m%2 == 0 {
		m--
	}
	return InvoicePeriod{Year: tw.Year(), Month: m}
}

// ParseInvoicePeriod reads a period's name: the ROC year and the period's
// last month, "11512" for Nov–Dec 2026, "11602" for Jan–Feb 2027. It returns
// EInvalid for anything else (a first month such as "11511" included).
func ParseInvoicePeriod(name string) (InvoicePeriod, error) {
	if len(name) != 5 || !allDigits(name) {
		return InvoicePeriod{}, Errorf(EInvalid, "期別「%s」格式不正確:應為民國年 3 碼加期末月份 2 碼,例如 11512", name)
	}
	roc, _ := strconv.Atoi(name[:3])
	last, _ := strconv.Atoi(name[3:])
	if roc < 1 {
		return InvoicePeriod{}, Errorf(EInvalid, "期別「%s」不正確:民國年應大於 0", name)
	}
	if last < 2 || last > 12 || last%2 != 0 {
		return InvoicePeriod{}, Errorf(EInvalid, "期別「%s」不正確:月份應為雙月(02、04、06、08、10、12)", name)
	}
	return InvoicePeriod{Year: roc + 1911, Month: time.Month(last - 1)}, nil
}

// Valid reports whether p names a real period (a first month that is odd).
func (p InvoicePeriod) Valid() bool {
	return p.Year > 1911 && p.Month >= time.January && p.Month <= time.November && p.Month%2 == 1
}

// Name is the period as the platform names it: "11512".
func (p InvoicePeriod) Name() string {
	return fmt.Sprintf("%03d%02d", p.Year-1911, int(p.Month)+1)
}

// String is the period's Name.
func (p InvoicePeriod) String() string { return p.Name() }

// Start is the period's first instant: 00:00 Taiwan time on the 1st of its
// first month.
func (p InvoicePeriod) Start() time.Time {
	return time.Date(p.Year, p.Month, 1, 0, 0, 0, 0, Taipei)
}

// End is the first instant after the period: the next period's Start.
func (p InvoicePeriod) End() time.Time { return p.Start().AddDate(0, 2, 0) }

// Contains reports whether t falls in the period.
func (p InvoicePeriod) Contains(t time.Time) bool {
	return !t.Before(p.Start()) && t.Before(p.End())
}

// Next returns the following period.
func (p InvoicePeriod) Next() InvoicePeriod { return InvoicePeriodOf(p.End()) }

// Prev returns the preceding period.
func (p InvoicePeriod) Prev() InvoicePeriod { return InvoicePeriodOf(p.Start().AddDate(0, -2, 0)) }

// BlankReportDay is when the store writes the period's E0402 (unused
// numbers): the first instant of the next period. The platform accepts it
// within 10 days of that.
func (p InvoicePeriod) BlankReportDay() time.Time { return p.End() }

// CancelDeadline is the first instant at which an invoice of the period can
// no longer be cancelled with F0501. EINVOICE.md allows a cancel "before the
// 13th of the first month after the invoice's period ends"; we read that as
// up to the end of the 12th, so the deadline is 00:00 Taiwan time on the 13th
// (for Nov–Dec 2026: 2027-01-13 00:00 Taiwan time, 2027-01-12 16:00 UTC). A
// refund at the deadline or later is an allowance (G0401).
func (p InvoicePeriod) CancelDeadline() time.Time {
	return p.End().AddDate(0, 0, 12)
}

// InvoiceNumber is an e-invoice number: a 2-capital-letter track (字軌) and
// 8 digits, "AB12345600".
type InvoiceNumber string

// ValidInvoiceNumber reports whether s is 2 capital letters + 8 digits.
func ValidInvoiceNumber(s string) bool {
	return len(s) == 10 && ValidTrack(s[:2]) && allDigits(s[2:])
}

// ValidTrack reports whether s is a track (字軌): 2 capital letters A–Z.
func ValidTrack(s string) bool {
	return len(s) == 2 && isUpper(s[0]) && isUpper(s[1])
}

// ParseInvoiceNumber checks s and returns it as an InvoiceNumber, or EInvalid.
func ParseInvoiceNumber(s string) (InvoiceNumber, error) {
	if !ValidInvoiceNumber(s) {
		return "", Errorf(EInvalid, "發票號碼「%s」格式不正確:應為 2 碼大寫英文字軌加 8 碼數字", s)
	}
	return InvoiceNumber(s), nil
}

// NewInvoiceNumber formats a track and a serial (0 to 99999999) as a number.
func NewInvoiceNumber(track string, serial int) (InvoiceNumber, error) {
	if !ValidTrack(track) {
		return "", Errorf(EInvalid, "字軌「%s」格式不正確:應為 2 碼大寫英文字母", track)
	}
	if serial < 0 || serial > 99999999 {
		return "", Errorf(EInvalid, "發票號碼 %d 超出 8 碼數字的範圍", serial)
	}
	return InvoiceNumber(FormatInvoiceNumber(track, serial)), nil
}

// FormatInvoiceNumber formats a track and serial already known to be valid
// (a BookRange's) as a number, "AB12345600"; NewInvoiceNumber checks them.
func FormatInvoiceNumber(track string, serial int) string {
	return fmt.Sprintf("%s%08d", track, serial)
}

// Track is the number's 2 letters; "" if n is not valid.
func (n InvoiceNumber) Track() string {
	if !ValidInvoiceNumber(string(n)) {
		return ""
	}
	return string(n[:2])
}

// Serial is the number's 8 digits as an integer; -1 if n is not valid.
func (n InvoiceNumber) Serial() int {
	if !ValidInvoiceNumber(string(n)) {
		return -1
	}
	v, _ := strconv.Atoi(string(n[2:]))
	return v
}

// String is the number as written: "AB12345600".
func (n InvoiceNumber) String() string { return string(n) }

// BookSize is how many numbers the platform assigns in one book.
const BookSize = 50

// BookRange is a range of invoice numbers assigned to the seller for one period
// and track: one or more whole books of 50, Begin ending in 00 or 50 and End
// in 49 or 99, both inclusive.
type BookRange struct {
	Period InvoicePeriod
	Track  string
	Begin  int // first serial, inclusive
	End    int // last serial, inclusive
}

// Validate returns nil or EInvalid saying what is wrong with b, in zh-TW.
func (b BookRange) Validate() error {
	switch {
	case !b.Period.Valid():
		return Errorf(EInvalid, "期別不正確")
	case !ValidTrack(b.Track):
		return Errorf(EInvalid, "字軌「%s」格式不正確:應為 2 碼大寫英文字母", b.Track)
	case b.Begin < 0 || b.Begin > 99999999 || b.End < 0 || b.End > 99999999:
		return Errorf(EInvalid, "號碼應為 8 碼數字")
	case b.Begin > b.End:
		return Errorf(EInvalid, "起號 %08d 大於迄號 %08d", b.Begin, b.End)
	case b.Begin%BookSize != 0:
		return Errorf(EInvalid, "起號 %08d 應以 00 或 50 結尾(每本 50 號)", b.Begin)
	case b.End%BookSize != BookSize-1:
		return Errorf(EInvalid, "迄號 %08d 應以 49 或 99 結尾(每本 50 號)", b.End)
	}
	return nil
}

// Size is how many numbers b holds.
func (b BookRange) Size() int { return b.End - b.Begin + 1 }

// Contains reports whether n is one of b's numbers (its track and serial; the
// period is the caller's to match).
func (b BookRange) Contains(n InvoiceNumber) bool {
	s := n.Serial()
	return n.Track() == b.Track && s >= b.Begin && s <= b.End
}

// Overlaps reports whether b and o share a number of the same period.
func (b BookRange) Overlaps(o BookRange) bool {
	return b.Period == o.Period && b.Track == o.Track && b.Begin <= o.End && o.Begin <= b.End
}

// Number returns b's i-th number (0-based), or "" if i is outside b.
func (b BookRange) Number(i int) InvoiceNumber {
	if i < 0 || i >= b.Size() {
		return ""
	}
	return InvoiceNumber(FormatInvoiceNumber(b.Track, b.Begin+i))
}

// String shows b as staff read it: "11512 AB12345600–AB12345649".
func (b BookRange) String() string {
	return fmt.Sprintf("%s %s%08d–%s%08d", b.Period.Name(), b.Track, b.Begin, b.Track, b.End)
}
