package billing

import (
	"bufio"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
)

// BookCSVHeader is the header line of the staff's number-book CSV.
const BookCSVHeader = "year_month,track,begin,end"

// ParseBooks reads the number-book CSV staff import: the header
// "year_month,track,begin,end", then one range a line, e.g.
// "11512,AB,12345600,12345649". A UTF-8 byte-order mark, CRLF line ends,
// blank lines and spaces around fields are tolerated. Each row must name a
// valid period and track and whole books of 50 (see BookRange.Validate),
// and no two rows may share a number.
//
// It returns the rows in file order, or one *Error with code EInvalid whose
// Detail lists every fault, a line each, naming the line number in zh-TW:
// "第 3 行:起號 12345601 應以 00 或 50 結尾(每本 50 號)".
func ParseBooks(r io.Reader) ([]BookRange, error) {
	br := bufio.NewReader(r)
	if bom, err := br.Peek(3); err == nil && string(bom) == "\ufeff" {
		_, _ = br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // counted below, with a message of our own
	cr.TrimLeadingSpace = true

	var (
		books    []BookRange
		lines    []int // lines[i] is the line of books[i]
		problems []string
		header   = true
	)
	fault := func(line int, format string, args ...any) {
		problems = append(problems, fmt.Sprintf("第 %d 行:", line)+fmt.Sprintf(format, args...))
	}
	for {
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if errors.As(err, &pe) {
				fault(pe.Line, "無法解析 CSV(%v)", pe.Err)
				break
			}
			return nil, err
		}
		line, _ := cr.FieldPos(0)
		for i := range rec {
			rec[i] = strings.TrimSpace(rec[i])
		}
		if header {
			header = false
			if strings.Join(rec, ",") != BookCSVHeader {
				fault(line, "標題列應為「%s」", BookCSVHeader)
				break
			}
			continue
		}
		if len(rec) != 4 {
			fault(line, "應有 4 個欄位(year_month,track,begin,end),實際有 %d 個", len(rec))
			continue
		}
		b, msg := bookFromRow(rec)
		if msg != "" {
			fault(line, "%s", msg)
			continue
		}
		for i, o := range books {
			if b.Overlaps(o) {
				fault(line, "號碼範圍 %s 與第 %d 行的 %s 重疊", b, lines[i], o)
				break
			}
		}
		books = append(books, b)
		lines = append(lines, line)
	}
	if header && len(problems) == 0 {
		problems = append(problems, "檔案是空的:第 1 行應為標題列「"+BookCSVHeader+"」")
	}
	if len(problems) == 0 && len(books) == 0 {
		problems = append(problems, "檔案中沒有任何號碼範圍")
	}
	if len(problems) > 0 {
		return nil, Errorf(EInvalid, "%s", strings.Join(problems, "\n"))
	}
	return books, nil
}

// bookFromRow reads one data row (fields trimmed), returning the book or a
// zh-TW sentence saying what is wrong with it.
func bookFromRow(rec []string) (BookRange, string) {
	p, err := ParseInvoicePeriod(rec[0])
	if err != nil {
		return BookRange{}, err.(*Error).Detail
	}
	var serials [2]int
	for i, f := range rec[2:] {
		what := [2]string{"起號", "迄號"}[i]
		if len(f) != 8 || !allDigits(f) {
			return BookRange{}, fmt.Sprintf("%s「%s」應為 8 碼數字", what, f)
		}
		serials[i], _ = strconv.Atoi(f)
	}
	b := BookRange{Period: p, Track: rec[1], Begin: serials[0], End: serials[1]}
	if err := b.Validate(); err != nil {
		return BookRange{}, err.(*Error).Detail
	}
	return b, ""
}
