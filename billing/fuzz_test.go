package billing

import (
	"bytes"
	"strings"
	"testing"
	"unicode"
)

// FuzzNormalizeCode: the code normalizer is idempotent, leaves no space,
// dash or ASCII lower case, ignores where spaces and dashes were typed, and
// its output never makes the typo check panic; a generated code survives
// being retyped in full-width or lower case.
func FuzzNormalizeCode(f *testing.F) {
	for _, s := range []string{"DEMO-2611-0001", " summer-2024-0001 ", "7KQ3-HXNM-2WRT-PZ9D", "７ｋｑ３－ｈｘｎｍ—２ｗｒｔ　ｐｚ９ｄ",
		"", "-", "ß", "ǅ", "\xff\xfe", "BEAR-0611-AAAA", "a\u00a0b\u2010c", "ｉ"} {
		f.Add(s, uint8(3))
	}
	f.Fuzz(func(t *testing.T, s string, at uint8) {
		n := NormalizeCode(s)
		if again := NormalizeCode(n); again != n {
			t.Errorf("NormalizeCode(%q) = %q, but NormalizeCode of that = %q", s, n, again)
		}
		for _, r := range n {
			if unicode.IsSpace(r) || r == '-' || unicode.Is(unicode.Pd, r) || (r >= 'a' && r <= 'z') {
				t.Errorf("NormalizeCode(%q) = %q keeps %q", s, n, r)
			}
		}
		// Spaces and dashes typed anywhere change nothing.
		i := 0
		if len(s) > 0 {
			i = int(at) % (len(s) + 1)
			for i > 0 && i < len(s) && !utf8RuneStart(s[i]) {
				i--
			}
		}
		for _, sep := range []string{"-", " ", "\u3000", "－"} {
			if got := NormalizeCode(s[:i] + sep + s[i:]); got != n {
				t.Errorf("NormalizeCode with %q at %d: %q, want %q", sep, i, got, n)
			}
		}
		if err := CheckCodeTypo(n); err != nil && ErrorCode(err) != ECodeMistyped {
			t.Errorf("CheckCodeTypo(%q): %v", n, err)
		}
	})
}

func utf8RuneStart(b byte) bool { return b&0xC0 != 0x80 }

// FuzzGeneratedCodeRetyped: a generated code typed in lower case, full-width
// or with other grouping normalizes back to itself and passes the check;
// changing any one symbol to another of the alphabet is caught.
func FuzzGeneratedCodeRetyped(f *testing.F) {
	f.Add([]byte("0123456789abcdef0123456789"), uint8(0), uint8(1))
	f.Add(bytes.Repeat([]byte{0xff}, 40), uint8(15), uint8(30))
	f.Fuzz(func(t *testing.T, seed []byte, pos, sym uint8) {
		if len(seed) < GeneratedCodeLen {
			return
		}
		c, err := CodeGenerator{Rand: bytes.NewReader(bytes.Repeat(seed, 8))}.Next()
		if err != nil {
			return // the seed ran out of usable bytes
		}
		n := NormalizeCode(c)
		if err := CheckCodeTypo(n); err != nil {
			t.Fatalf("generated %s: %v", c, err)
		}
		for _, typed := range []string{strings.ToLower(c), fullWidth(c), strings.ReplaceAll(c, "-", " "), " " + n + " "} {
			if got := NormalizeCode(typed); got != n {
				t.Errorf("%q normalizes to %q, want %q", typed, got, n)
			}
		}
		i := int(pos) % GeneratedCodeLen
		r := CodeAlphabet[int(sym)%len(CodeAlphabet)]
		if r == n[i] {
			return
		}
		wrong := n[:i] + string(r) + n[i+1:]
		if ErrorCode(CheckCodeTypo(wrong)) != ECodeMistyped {
			t.Errorf("%s with symbol %d changed to %c (%s) passes the check", n, i, r, wrong)
		}
	})
}

func fullWidth(s string) string {
	return strings.Map(func(r rune) rune {
		if r > ' ' && r <= '~' {
			return r + 0xFEE0
		}
		return r
	}, s)
}

// FuzzInvoiceDetails: Normalize is idempotent; Validate never panics and
// refuses only with EInvalid; what it accepts satisfies the validator of
// its kind and a sane e-mail address.
func FuzzInvoiceDetails(f *testing.F) {
	f.Add("mobile_barcode", "/ABC+123", "", "", "", "a@b.example.tw")
	f.Add("citizen_certificate", "ab12345678901234", "", "", "", "x@y.tw")
	f.Add("company", "", "熊美服飾股份有限公司", "０４５９５２５７", "", "  acct@bear.example.com ")
	f.Add("donation", "", "", "", "９１９", "a@b.tw")
	f.Add(" donation ", "", "", "", "1234567", "a..b@c.tw")
	f.Add("company", "", " ", "12345675", "", "a@-b.tw")
	f.Add("", "", "", "", "", "")
	f.Fuzz(func(t *testing.T, kind, carrier, title, taxID, donation, email string) {
		d := InvoiceDetails{Kind: InvoiceKind(kind), Carrier: carrier, CompanyTitle: title, TaxID: taxID, DonationCode: donation, Email: email}
		n := d.Normalize()
		if again := n.Normalize(); again != n {
			t.Errorf("Normalize is not idempotent: %+v then %+v", n, again)
		}
		err := n.Validate()
		if err != nil {
			if ErrorCode(err) != EInvalid {
				t.Errorf("Validate(%+v): %v, want EInvalid", n, err)
			}
			return
		}
		ok := false
		switch n.Kind {
		case InvoiceMember:
			ok = true // only the e-mail address, checked below
		case InvoiceMobileBarcode:
			ok = ValidMobileBarcode(n.Carrier) && len(n.Carrier) == 8
		case InvoiceCitizenCertificate:
			ok = ValidCitizenCertificate(n.Carrier)
		case InvoiceCompany:
			ok = ValidTaxID(n.TaxID) && len(n.TaxID) == 8 && strings.TrimSpace(n.CompanyTitle) != ""
		case InvoiceDonation:
			ok = ValidDonationCode(n.DonationCode)
		}
		if !ok {
			t.Errorf("Validate accepted %+v", n)
		}
		if at := strings.Count(n.Email, "@"); at != 1 || len(n.Email) > 254 || strings.ContainsAny(n.Email, " \t\r\n<>") {
			t.Errorf("Validate accepted the e-mail %q", n.Email)
		}
	})
}

// FuzzTaxID: the checksum rule of 2023 (divisor 5) accepts every number the
// rule before it (divisor 10) accepted, and anything accepted is 8 digits.
func FuzzTaxID(f *testing.F) {
	for _, s := range []string{"04595257", "12345675", "10458575", "00000000", "1234567", "１２３４５６７５", "0459525７"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if validTaxID(s, 10) && !ValidTaxID(s) {
			t.Errorf("%q passed the old rule but not the new", s)
		}
		if ValidTaxID(s) && (len(s) != 8 || !allDigits(s)) {
			t.Errorf("ValidTaxID(%q) with %d bytes", s, len(s))
		}
	})
}
