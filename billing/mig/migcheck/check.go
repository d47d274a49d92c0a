// Package migcheck checks a MIG 4.1 e-invoice message against the field
// rules of EINVOICE.md. It reads the bytes generically, as an element tree,
// and shares no code with the writer in package mig, so that a mistake in
// one is caught by the other. Other packages run it over every file the
// store writes.
package migcheck

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"

	"webstore/billing"
)

// Problem is one way a message breaks the rules.
type Problem struct {
	Path    string // the element at fault, "/Invoice/Main/Buyer/Identifier"
	Message string // what is wrong, in zh-TW
}

// String is "path: message".
func (p Problem) String() string { return p.Path + ": " + p.Message }

// Check returns the problems of the message in data, or nil if it follows
// every rule: the root element and namespace of its type (F0401, F0501,
// G0401, G0501 or E0402); required elements present, unknown ones absent,
// all in the schema's order; each field's format and length; amounts that
// add up; and every invoice number (and E0402 range) inside one of books
// whose period contains the invoice's date. With no books, every invoice
// number is outside them.
func Check(data []byte, books []billing.BookRange) []Problem {
	c := &checker{books: books}
	if !utf8.Valid(data) {
		c.add("/", "文件不是有效的 UTF-8")
		return c.problems
	}
	root, err := parse(data)
	if err != nil {
		c.add("/", "無法解析 XML:%v", err)
		return c.problems
	}
	msgType := ""
	for t, m := range messages {
		if m.root == root.name.Local {
			msgType = t
		}
	}
	path := "/" + root.name.Local
	if msgType == "" {
		c.add(path, "不是 F0401、F0501、G0401、G0501 或 E0402 的根元素")
		return c.problems
	}
	if want := "urn:GEINV:eInvoiceMessage:" + msgType + ":4.1"; root.name.Space != want {
		c.add(path, "命名空間應為 %s,實際為「%s」", want, root.name.Space)
	}
	c.ns = root.name.Space
	c.structure(path, root, messages[msgType].seq)
	switch msgType {
	case "F0401":
		c.invoice(path, root)
	case "F0501":
		c.cancelInvoice(path, root)
	case "G0401":
		c.allowance(path, root)
	case "G0501":
		c.cancelAllowance(path, root)
	case "E0402":
		c.blank(path, root)
	}
	return c.problems
}

// CheckAs is Check for a message that must be of type msgType (the Turnkey
// folder it is written to).
func CheckAs(msgType string, data []byte, books []billing.BookRange) []Problem {
	ps := Check(data, books)
	m, ok := messages[msgType]
	if !ok {
		return append(ps, Problem{"/", "未知的訊息類型 " + msgType})
	}
	if root, err := parse(data); err == nil && root.name.Local != m.root {
		ps = append(ps, Problem{"/" + root.name.Local, fmt.Sprintf("%s 的根元素應為 <%s>", msgType, m.root)})
	}
	return ps
}

type checker struct {
	ns       string // the root's namespace, which every element shares
	books    []billing.BookRange
	problems []Problem
}

func (c *checker) add(path, format string, args ...any) {
	c.problems = append(c.problems, Problem{path, fmt.Sprintf(format, args...)})
}

// field returns the value at rel under n, and whether it is there; a
// missing required field was already reported by structure.
type field struct {
	path  string
	value string
	ok    bool
}

func get(base string, n *node, rel ...string) field {
	v, ok := n.value(rel...)
	p := base
	for _, r := range rel {
		p += "/" + r
	}
	return field{p, v, ok}
}

// b2cBuyer is the buyer identifier of an invoice to a person.
const b2cBuyer = "0000000000"

func (c *checker) equals(f field, want string) {
	if f.ok && f.value != want {
		c.add(f.path, "應為 %s,實際為「%s」", want, f.value)
	}
}

func (c *checker) invoiceNumber(f field) {
	v := f.value
	if f.ok && !(len(v) == 10 && upper(v[:2]) && digits(v[2:])) {
		c.add(f.path, "發票號碼「%s」應為 2 碼大寫英文字母加 8 碼數字", v)
	}
}

// date checks yyyyMMdd and returns the day, or the zero time.
func (c *checker) date(f field) time.Time {
	if !f.ok {
		return time.Time{}
	}
	d, err := time.Parse("20060102", f.value)
	if err != nil || len(f.value) != 8 {
		c.add(f.path, "日期「%s」應為 yyyyMMdd", f.value)
		return time.Time{}
	}
	return d
}

func (c *checker) clock(f field) {
	if !f.ok {
		return
	}
	if _, err := time.Parse("15:04:05", f.value); err != nil || len(f.value) != 8 {
		c.add(f.path, "時間「%s」應為 HH:mm:ss", f.value)
	}
}

// ban checks a 統一編號 (8 digits with a valid checksum); with person set,
// a B2C buyer's 0000000000 is accepted too.
func (c *checker) ban(f field, person bool) {
	if !f.ok || (person && f.value == b2cBuyer) {
		return
	}
	if !billing.ValidTaxID(f.value) {
		c.add(f.path, "統一編號「%s」不正確(應為 8 碼數字且檢查碼相符)", f.value)
	}
}

// text checks a non-empty value of at most max runes.
func (c *checker) text(f field, max int) {
	if !f.ok {
		return
	}
	if n := utf8.RuneCountInString(f.value); n == 0 || n > max {
		c.add(f.path, "長度應為 1 至 %d 個字,實際為 %d 個字", max, n)
	}
}

// money reads a whole-dollar amount, 0 or more.
func (c *checker) money(f field) (int64, bool) {
	if !f.ok {
		return 0, false
	}
	n, err := strconv.ParseInt(f.value, 10, 64)
	if err != nil || n < 0 || !digits(f.value) {
		c.add(f.path, "金額「%s」應為 0 以上的整數", f.value)
		return 0, false
	}
	return n, true
}

// period is the e-invoice period containing day d: the Gregorian year and
// the period's first month (January, March, …).
func period(d time.Time) (int, time.Month) {
	m := d.Month()
	return d.Year(), m - (m+1)%2
}

// inBooks checks that number f is in an imported range of the period that
// contains day (already checked: skipped when zero).
func (c *checker) inBooks(f field, day time.Time) {
	if !f.ok || day.IsZero() || len(f.value) != 10 {
		return
	}
	serial, err := strconv.Atoi(f.value[2:])
	if err != nil || c.inOneBook(day, f.value[:2], serial, serial) {
		return
	}
	year, first := period(day)
	c.add(f.path, "發票號碼 %s 不在 %03d%02d 期匯入的號碼範圍內", f.value, year-1911, int(first)+1)
}

// inOneBook reports whether serials begin to end of track all lie in one
// imported range of the period containing day.
func (c *checker) inOneBook(day time.Time, track string, begin, end int) bool {
	year, first := period(day)
	for _, b := range c.books {
		if b.Period.Year == year && b.Period.Month == first && b.Track == track && begin >= b.Begin && end <= b.End {
			return true
		}
	}
	return false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

func upper(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 'A' || s[i] > 'Z' {
			return false
		}
	}
	return s != ""
}
