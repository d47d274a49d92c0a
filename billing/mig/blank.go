package mig

import (
	"encoding/xml"
	"fmt"
	"slices"

	"webstore/billing"
)

// Blank is a contiguous range of unused serials of one track, both ends
// inclusive.
type Blank struct {
	Begin, End int
}

// Blanks returns the unused numbers of book as contiguous ranges, in order.
// used may hold numbers of other books or tracks; they are ignored, as are
// duplicates.
func Blanks(book billing.BookRange, used []billing.InvoiceNumber) []Blank {
	var taken []int
	for _, n := range used {
		if book.Contains(n) {
			taken = append(taken, n.Serial())
		}
	}
	slices.Sort(taken)
	taken = slices.Compact(taken)
	var out []Blank
	next := book.Begin // first serial not yet accounted for
	for _, s := range taken {
		if s > next {
			out = append(out, Blank{next, s - 1})
		}
		next = s + 1
	}
	if next <= book.End {
		out = append(out, Blank{next, book.End})
	}
	return out
}

// BlankReports returns the period's E0402 messages, one per track with
// unused numbers, tracks in alphabetical order: the blanks of every book of
// the period (books of other periods are ignored) given the numbers used.
func BlankReports(headBan, branchBan string, period billing.InvoicePeriod, books []billing.BookRange, used []billing.InvoiceNumber) []E0402 {
	byTrack := map[string]*E0402{}
	var tracks []string
	for _, b := range books {
		if b.Period != period {
			continue
		}
		blanks := Blanks(b, used)
		if len(blanks) == 0 {
			continue
		}
		m := byTrack[b.Track]
		if m == nil {
			m = &E0402{HeadBan: headBan, BranchBan: branchBan, Period: period, Track: b.Track}
			byTrack[b.Track] = m
			tracks = append(tracks, b.Track)
		}
		m.Blanks = append(m.Blanks, blanks...)
	}
	slices.Sort(tracks)
	out := make([]E0402, 0, len(tracks))
	for _, t := range tracks {
		m := byTrack[t]
		slices.SortFunc(m.Blanks, func(a, b Blank) int { return a.Begin - b.Begin })
		out = append(out, *m)
	}
	return out
}

// E0402 reports a period's unused numbers of one track (空白未使用字軌).
type E0402 struct {
	HeadBan   string // the seller's 統一編號 (總機構)
	BranchBan string // the branch's 統一編號; the seller's own when it has none
	Period    billing.InvoicePeriod
	Track     string
	Blanks    []Blank
}

// Type implements Message.
func (E0402) Type() string { return "E0402" }

// Number implements Message: the period's name and the track, "11512AB".
func (m E0402) Number() string { return m.Period.Name() + m.Track }

// e0402Wire follows BranchTrackBlank: Main (HeadBan, BranchBan, InvoiceType,
// YearMonth, InvoiceTrack), Details (BranchTrackBlankItem: InvoiceBeginNo,
// InvoiceEndNo).
type e0402Wire struct {
	XMLName xml.Name
	Main    struct {
		HeadBan      string
		BranchBan    string
		InvoiceType  string
		YearMonth    string
		InvoiceTrack string
	}
	Details struct {
		BranchTrackBlankItem []e0402Item
	}
}

type e0402Item struct {
	InvoiceBeginNo string
	InvoiceEndNo   string
}

// XML implements Message. It returns EInvalid for an invalid period or
// track, no blanks, or a blank outside 8 digits or with Begin > End.
func (m E0402) XML() ([]byte, error) {
	if !m.Period.Valid() || !billing.ValidTrack(m.Track) {
		return nil, billing.Errorf(billing.EInvalid, "空白字軌的期別或字軌不正確(%v %q)", m.Period, m.Track)
	}
	if len(m.Blanks) == 0 {
		return nil, billing.Errorf(billing.EInvalid, "沒有空白號碼,不需申報")
	}
	w := e0402Wire{XMLName: root("E0402", "BranchTrackBlank")}
	w.Main.HeadBan = m.HeadBan
	w.Main.BranchBan = m.BranchBan
	w.Main.InvoiceType = invoiceType
	w.Main.YearMonth = m.Period.Name()
	w.Main.InvoiceTrack = m.Track
	for _, b := range m.Blanks {
		if b.Begin < 0 || b.End > 99999999 || b.Begin > b.End {
			return nil, billing.Errorf(billing.EInvalid, "空白號碼範圍 %d–%d 不正確", b.Begin, b.End)
		}
		w.Details.BranchTrackBlankItem = append(w.Details.BranchTrackBlankItem, e0402Item{
			InvoiceBeginNo: fmt.Sprintf("%08d", b.Begin),
			InvoiceEndNo:   fmt.Sprintf("%08d", b.End),
		})
	}
	return marshal(w)
}
