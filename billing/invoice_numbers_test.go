package billing

import (
	"strings"
	"testing"
	"time"
)

// The period changes at 00:00 Taiwan time on the 1st of odd months; 16:00 UTC
// on the last day of the even month is already the next period.
func TestInvoicePeriodBoundaries(t *testing.T) {
	sepOct := InvoicePeriod{2026, time.September}
	novDec := InvoicePeriod{2026, time.November}
	for _, c := range []struct {
		at   time.Time
		want InvoicePeriod
	}{
		{tw("2026-10-31 23:59:59"), sepOct},
		{tw("2026-10-31 23:59:59").Add(999 * time.Millisecond), sepOct},
		{tw("2026-11-01 00:00:00"), novDec},
		{time.Date(2026, 10, 31, 15, 59, 59, 0, time.UTC), sepOct},
		{time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC), novDec},
		{time.Date(2026, 11, 1, 0, 0, 0, 0, JST), sepOct}, // 23:00 Taiwan time
		{tw("2026-12-31 23:59:59"), novDec},
		{tw("2027-01-01 00:00:00"), InvoicePeriod{2027, time.January}},
		{tw("2027-02-28 12:00:00"), InvoicePeriod{2027, time.January}},
		{tw("2026-09-01 00:00:00"), sepOct},
		{tw("2026-08-31 23:59:59"), InvoicePeriod{2026, time.July}},
	} {
		if got := InvoicePeriodOf(c.at); got != c.want {
			t.Errorf("InvoicePeriodOf(%s) = %s, want %s", c.at.Format(time.RFC3339), got, c.want)
		}
		if p := InvoicePeriodOf(c.at); !p.Contains(c.at) || p.Next().Contains(c.at) || p.Prev().Contains(c.at) {
			t.Errorf("%s: Contains disagrees with InvoicePeriodOf", c.at)
		}
	}
	if got, want := novDec.Start(), time.Date(2026, 10, 31, 16, 0, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("Start = %s, want %s", got, want)
	}
	if got, want := novDec.End(), tw("2027-01-01 00:00:00"); !got.Equal(want) {
		t.Errorf("End = %s, want %s", got, want)
	}
	if got, want := novDec.Next(), (InvoicePeriod{2027, time.January}); got != want {
		t.Errorf("Next = %s, want %s", got, want)
	}
	if got, want := (InvoicePeriod{2027, time.January}).Prev(), novDec; got != want {
		t.Errorf("Prev = %s, want %s", got, want)
	}
	if got, want := novDec.BlankReportDay(), tw("2027-01-01 00:00:00"); !got.Equal(want) {
		t.Errorf("BlankReportDay = %s, want %s", got, want)
	}
}

// A full refund may cancel until 23:59:59 on the 12th of the month after the
// period; at 00:00 on the 13th it is too late.
func TestCancelDeadline(t *testing.T) {
	novDec := InvoicePeriod{2026, time.November}
	if got, want := novDec.CancelDeadline(), tw("2027-01-13 00:00:00"); !got.Equal(want) {
		t.Errorf("CancelDeadline = %s, want %s", got.In(Taipei), want)
	}
	if got, want := (InvoicePeriod{2027, time.January}).CancelDeadline(), tw("2027-03-13 00:00:00"); !got.Equal(want) {
		t.Errorf("Jan–Feb CancelDeadline = %s, want %s", got.In(Taipei), want)
	}
}

func TestInvoicePeriodNames(t *testing.T) {
	for _, c := range []struct {
		p    InvoicePeriod
		name string
	}{
		{InvoicePeriod{2026, time.November}, "11512"},
		{InvoicePeriod{2027, time.January}, "11602"},
		{InvoicePeriod{2026, time.September}, "11510"},
		{InvoicePeriod{2011, time.March}, "10004"},
	} {
		if got := c.p.Name(); got != c.name {
			t.Errorf("%v.Name() = %q, want %q", c.p, got, c.name)
		}
		got, err := ParseInvoicePeriod(c.name)
		if err != nil || got != c.p {
			t.Errorf("ParseInvoicePeriod(%q) = %v, %v; want %v", c.name, got, err, c.p)
		}
	}
	for bad, says := range map[string]string{
		"": "格式不正確", "1151": "格式不正確", "115120": "格式不正確", "ABCDE": "格式不正確", "115 2": "格式不正確",
		"11511": "雙月", "11500": "雙月", "11514": "雙月", "00012": "民國年",
	} {
		p, err := ParseInvoicePeriod(bad)
		if ErrorCode(err) != EInvalid || !strings.Contains(err.(*Error).Detail, says) {
			t.Errorf("ParseInvoicePeriod(%q) = %v, %v; want EInvalid saying %q", bad, p, err, says)
		}
	}
}

func TestInvoiceNumbers(t *testing.T) {
	for s, want := range map[string]bool{
		"AB12345600": true, "ZZ00000000": true,
		"ab12345600": false, "AB1234560": false, "AB123456000": false,
		"A112345600": false, "AB1234560X": false, "ＡB12345600": false, "": false,
	} {
		if got := ValidInvoiceNumber(s); got != want {
			t.Errorf("ValidInvoiceNumber(%q) = %v, want %v", s, got, want)
		}
		if _, err := ParseInvoiceNumber(s); (err == nil) != want {
			t.Errorf("ParseInvoiceNumber(%q) error = %v", s, err)
		}
	}
	n, err := NewInvoiceNumber("AB", 345600)
	if err != nil || n != "AB00345600" || n.Track() != "AB" || n.Serial() != 345600 {
		t.Errorf("NewInvoiceNumber = %q %v (track %q serial %d)", n, err, n.Track(), n.Serial())
	}
	for _, c := range []struct {
		track  string
		serial int
	}{{"Ab", 1}, {"AB", -1}, {"AB", 100000000}} {
		if _, err := NewInvoiceNumber(c.track, c.serial); err == nil {
			t.Errorf("NewInvoiceNumber(%q, %d) accepted", c.track, c.serial)
		}
	}
	if got := FormatInvoiceNumber("ZZ", 500); got != "ZZ00000500" {
		t.Errorf("FormatInvoiceNumber = %q", got)
	}
	if InvoiceNumber("bad").Serial() != -1 || InvoiceNumber("bad").Track() != "" {
		t.Error("a bad number has a track or serial")
	}
}

func TestParseBooks(t *testing.T) {
	novDec := InvoicePeriod{2026, time.November}
	want := []BookRange{
		{novDec, "AB", 12345600, 12345649},
		{novDec, "AB", 12345650, 12345749},
		{InvoicePeriod{2027, time.January}, "AB", 12345600, 12345649},
	}
	body := "11512,AB,12345600,12345649\n11512,AB,12345650,12345749\n11602,AB,12345600,12345649\n"
	for name, in := range map[string]string{
		"plain":  BookCSVHeader + "\n" + body,
		"BOM":    "\ufeff" + BookCSVHeader + "\n" + body,
		"CRLF":   strings.ReplaceAll("\ufeff"+BookCSVHeader+"\n"+body, "\n", "\r\n"),
		"spaces": "year_month, track, begin, end\n\n 11512 , AB ,12345600, 12345649\r\n11512,AB,12345650,12345749\n11602,AB,12345600,12345649",
	} {
		got, err := ParseBooks(strings.NewReader(in))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		if len(got) != len(want) {
			t.Errorf("%s: got %v, want %v", name, got, want)
			continue
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s: row %d = %v, want %v", name, i, got[i], want[i])
			}
		}
	}
	if got := want[1].Size(); got != 100 {
		t.Errorf("Size = %d, want 100", got)
	}
	if !want[0].Contains("AB12345649") || want[0].Contains("AB12345650") || want[0].Contains("AC12345600") {
		t.Error("Contains is wrong at the edges of a book")
	}
	if got := want[0].Number(49); got != "AB12345649" || want[0].Number(50) != "" {
		t.Errorf("Number(49) = %q, Number(50) = %q", got, want[0].Number(50))
	}
}

func TestParseBooksRefusals(t *testing.T) {
	const ok = "11512,AB,12345600,12345649\n"
	for _, c := range []struct {
		name, in, want string
	}{
		{"empty", "", "檔案是空的"},
		{"header only", BookCSVHeader + "\n", "沒有任何號碼範圍"},
		{"wrong header", "period,track,begin,end\n" + ok, "第 1 行:標題列應為"},
		{"odd month", BookCSVHeader + "\n" + "11511,AB,12345600,12345649\n", "第 2 行:期別「11511」不正確"},
		{"bad period", BookCSVHeader + "\n" + ok + "2026-12,AB,12345600,12345649\n", "第 3 行:期別「2026-12」格式不正確"},
		{"lower track", BookCSVHeader + "\n" + "11512,ab,12345600,12345649\n", "第 2 行:字軌「ab」格式不正確"},
		{"short number", BookCSVHeader + "\n" + "11512,AB,1234560,12345649\n", "第 2 行:起號「1234560」應為 8 碼數字"},
		{"letter number", BookCSVHeader + "\n" + "11512,AB,12345600,1234564X\n", "第 2 行:迄號「1234564X」應為 8 碼數字"},
		{"begin after end", BookCSVHeader + "\n" + "11512,AB,12345650,12345649\n", "第 2 行:起號 12345650 大於迄號 12345649"},
		{"begin not 00/50", BookCSVHeader + "\n" + "11512,AB,12345601,12345649\n", "第 2 行:起號 12345601 應以 00 或 50 結尾"},
		{"end not 49/99", BookCSVHeader + "\n" + "11512,AB,12345600,12345650\n", "第 2 行:迄號 12345650 應以 49 或 99 結尾"},
		{"fields", BookCSVHeader + "\n" + "11512,AB,12345600\n", "第 2 行:應有 4 個欄位"},
		{"overlap", BookCSVHeader + "\n" + "11512,AB,12345600,12345699\n11512,AB,12345650,12345749\n", "第 3 行:號碼範圍 11512 AB12345650–AB12345749 與第 2 行的 11512 AB12345600–AB12345699 重疊"},
		{"overlap CRLF BOM", "\ufeff" + BookCSVHeader + "\r\n" + ok + "\r\n" + strings.TrimSpace(ok) + "\r\n", "第 4 行:號碼範圍"},
		{"quote", BookCSVHeader + "\n" + "11512,\"AB,12345600,12345649\n", "無法解析 CSV"},
	} {
		books, err := ParseBooks(strings.NewReader(c.in))
		if err == nil {
			t.Errorf("%s: accepted, got %v", c.name, books)
			continue
		}
		if ErrorCode(err) != EInvalid {
			t.Errorf("%s: code %q, want %q", c.name, ErrorCode(err), EInvalid)
		}
		if !strings.Contains(err.(*Error).Detail, c.want) {
			t.Errorf("%s: %q does not say %q", c.name, err.(*Error).Detail, c.want)
		}
	}
	// Every bad row is named, not only the first.
	_, err := ParseBooks(strings.NewReader(BookCSVHeader + "\n11511,AB,12345600,12345649\n" + ok + "11512,AB,12345601,12345649\n"))
	if d := err.(*Error).Detail; !strings.Contains(d, "第 2 行") || !strings.Contains(d, "第 4 行") || strings.Contains(d, "第 3 行") {
		t.Errorf("several faults: %q", d)
	}
	// The same numbers in another period or track are not an overlap.
	if _, err := ParseBooks(strings.NewReader(BookCSVHeader + "\n" + ok + "11602,AB,12345600,12345649\n11512,AC,12345600,12345649\n")); err != nil {
		t.Errorf("other period or track: %v", err)
	}
}
