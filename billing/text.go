package billing

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Text a person types that the app keeps and shows to others (an account
// name, an e-invoice title, a campaign's name, a token's label) goes
// through CleanText; ids that end up in URLs through ValidID.

// Length limits, in characters.
const (
	// MaxAccountName is LINE's own limit on an official account's name.
	MaxAccountName = 20
	// MaxInvoiceTitle is the e-invoice platform's limit on a buyer's name
	// (公司抬頭).
	MaxInvoiceTitle = 60
	// MaxCampaignName and MaxLabel bound the staff console's names.
	MaxCampaignName = 60
	MaxLabel        = 60
	// MaxIDLength bounds an id that goes into a URL.
	MaxIDLength = 40
)

// CleanText trims s and checks it as a name called what (zh-TW, for the
// message): not empty, not only invisible characters, no bidirectional
// control character (which would reorder the text around it, in an audit
// line for one) and no control character, at most max characters. It
// returns the trimmed text, or EInvalid naming the fault.
func CleanText(what, s string, max int) (string, error) {
	s = TrimText(s)
	if s == "" {
		return "", Errorf(EInvalid, "%s不可空白(也不可只有看不見的字元)", what)
	}
	if !utf8.ValidString(s) {
		return "", Errorf(EInvalid, "%s含有無效的字元", what)
	}
	for _, r := range s {
		switch {
		case bidiControl(r):
			return "", Errorf(EInvalid, "%s不可含有改變文字方向的控制字元", what)
		case unicode.IsControl(r):
			return "", Errorf(EInvalid, "%s不可含有控制字元(例如換行)", what)
		}
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", Errorf(EInvalid, "%s最多 %d 個字(目前 %d 個字)", what, max, n)
	}
	return s, nil
}

// TrimText trims what shows nothing (white space, zero-width and format
// characters) from both ends of s.
func TrimText(s string) string { return strings.TrimFunc(s, invisible) }

// invisible reports whether r shows nothing: white space, format
// characters (zero-width space and joiners, the BOM, bidi controls), and
// the blank letters that render as nothing.
func invisible(r rune) bool {
	switch r {
	case '\u115F', '\u1160', '\u3164', '\uFFA0', '\u2800', '\u180E':
		return true
	}
	return unicode.IsSpace(r) || unicode.Is(unicode.Cf, r) || unicode.IsControl(r)
}

// bidiControl reports whether r is a bidirectional formatting character:
// the embeddings and overrides, the isolates, and the marks.
func bidiControl(r rune) bool {
	return (r >= '\u202A' && r <= '\u202E') || (r >= '\u2066' && r <= '\u2069') ||
		r == '\u200E' || r == '\u200F' || r == '\u061C'
}

// ValidID reports whether id may name something in a URL path: 1 to
// MaxIDLength letters, digits, '_' or '-'.
func ValidID(id string) bool {
	if id == "" || len(id) > MaxIDLength {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}
