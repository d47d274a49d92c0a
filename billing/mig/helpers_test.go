package mig

import (
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"webstore/billing"
)

func TestItemDescription(t *testing.T) {
	dec := billing.Month{Year: 2026, Month: time.December}
	for _, c := range []struct {
		plan, kind, want string
	}{
		{"高用量", "", "LINE官方帳號 高用量 2026/12"},
		{"高用量", "升級差額", "LINE官方帳號 高用量 2026/12 升級差額"},
		{" 中用量 ", " ", "LINE官方帳號 中用量 2026/12"},
	} {
		if got := ItemDescription(c.plan, dec, c.kind); got != c.want {
			t.Errorf("ItemDescription(%q, %q) = %q, want %q", c.plan, c.kind, got, c.want)
		}
	}
	long := ItemDescription(strings.Repeat("高", 600), dec, "")
	if n := utf8.RuneCountInString(long); n != MaxDescription {
		t.Errorf("long description has %d runes, want %d", n, MaxDescription)
	}
}

// Caps count runes: 61 Chinese characters are 183 bytes and are cut to 60
// characters, never inside one.
func TestCap(t *testing.T) {
	name := strings.Repeat("台", 61)
	got := CapName(name)
	if utf8.RuneCountInString(got) != 60 || !utf8.ValidString(got) {
		t.Errorf("CapName: %d runes, valid %v", utf8.RuneCountInString(got), utf8.ValidString(got))
	}
	if got := CapName("  台灣公司 "); got != "台灣公司" {
		t.Errorf("CapName trims: %q", got)
	}
	if got := Cap("abc", 5); got != "abc" {
		t.Errorf("Cap short = %q", got)
	}
}

func TestBlanks(t *testing.T) {
	p := billing.InvoicePeriod{Year: 2026, Month: time.November}
	book := billing.BookRange{Period: p, Track: "AB", Begin: 12345600, End: 12345649}
	for _, c := range []struct {
		name string
		used []billing.InvoiceNumber
		want []Blank
	}{
		{"none used", nil, []Blank{{12345600, 12345649}}},
		{"first three", []billing.InvoiceNumber{"AB12345600", "AB12345601", "AB12345602"}, []Blank{{12345603, 12345649}}},
		{"gaps, unordered, duplicates, other tracks",
			[]billing.InvoiceNumber{"AB12345610", "AB12345600", "AC12345605", "AB12345649", "AB12345610", "AB12345650"},
			[]Blank{{12345601, 12345609}, {12345611, 12345648}}},
		{"all used", allOf(book), nil},
	} {
		if got := Blanks(book, c.used); !slices.Equal(got, c.want) {
			t.Errorf("%s: Blanks = %v, want %v", c.name, got, c.want)
		}
	}

	books := []billing.BookRange{
		{Period: p, Track: "CD", Begin: 100, End: 149},
		book,
		{Period: p.Next(), Track: "EF", Begin: 0, End: 49},
		{Period: p, Track: "AB", Begin: 12345000, End: 12345049},
		{Period: p, Track: "GH", Begin: 0, End: 49},
	}
	got := BlankReports("04595252", "04595252", p, books, append(allOf(books[4]), "AB12345600", "CD00000100"))
	if len(got) != 2 || got[0].Track != "AB" || got[1].Track != "CD" {
		t.Fatalf("BlankReports = %+v", got)
	}
	if want := []Blank{{12345000, 12345049}, {12345601, 12345649}}; !slices.Equal(got[0].Blanks, want) {
		t.Errorf("AB blanks = %v, want %v", got[0].Blanks, want)
	}
	if got[0].Number() != "11512AB" || got[0].Period != p || got[0].HeadBan != "04595252" {
		t.Errorf("AB report = %+v", got[0])
	}
}

func allOf(b billing.BookRange) []billing.InvoiceNumber {
	var out []billing.InvoiceNumber
	for i := range b.Size() {
		out = append(out, b.Number(i))
	}
	return out
}
