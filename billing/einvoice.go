package billing

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// InvoiceKind is how an account receives its Taiwan e-invoice (電子發票).
// The values are stored as-is (einvoice_details.kind).
type InvoiceKind string

// E-invoice kinds.
const (
	InvoiceMember             InvoiceKind = "member"              // 會員載具 (kept under the e-mail address)
	InvoiceMobileBarcode      InvoiceKind = "mobile_barcode"      // 手機條碼載具
	InvoiceCitizenCertificate InvoiceKind = "citizen_certificate" // 自然人憑證載具
	InvoiceCompany            InvoiceKind = "company"             // 公司(三聯式,統一編號)
	InvoiceDonation           InvoiceKind = "donation"            // 捐贈
)

// Valid reports whether k is one of the e-invoice kinds.
func (k InvoiceKind) Valid() bool {
	switch k {
	case InvoiceMember, InvoiceMobileBarcode, InvoiceCitizenCertificate, InvoiceCompany, InvoiceDonation:
		return true
	}
	return false
}

// InvoiceDetails is what an account gives for its e-invoices. Only the fields
// its Kind uses are checked; Email is always required.
type InvoiceDetails struct {
	Kind         InvoiceKind
	Carrier      string // mobile barcode or citizen certificate value
	CompanyTitle string // 公司抬頭, for company
	TaxID        string // 統一編號, for company
	DonationCode string // 捐贈碼 (愛心碼), for donation
	Email        string // where the e-invoice notice goes
}

// Normalize returns d as it should be checked and stored: every field trimmed;
// full-width ASCII forms (digits, letters, "/", "+", "@", ...) typed on a
// phone turned into their half-width forms in Carrier, TaxID, DonationCode
// and Email; and the carrier upper-cased for the mobile barcode and citizen
// certificate kinds. CompanyTitle is only trimmed: it is printed as given.
func (d InvoiceDetails) Normalize() InvoiceDetails {
	d.Kind = InvoiceKind(strings.TrimSpace(string(d.Kind)))
	d.Carrier = strings.TrimSpace(halfWidth(d.Carrier))
	d.CompanyTitle = TrimText(d.CompanyTitle)
	d.TaxID = strings.TrimSpace(halfWidth(d.TaxID))
	d.DonationCode = strings.TrimSpace(halfWidth(d.DonationCode))
	d.Email = strings.TrimSpace(halfWidth(d.Email))
	if d.Kind == InvoiceMobileBarcode || d.Kind == InvoiceCitizenCertificate {
		d.Carrier = strings.ToUpper(d.Carrier)
	}
	return d
}

// Validate checks d as given (call Normalize first) and returns nil or an
// *Error with code EInvalid whose Detail names the first field at fault.
func (d InvoiceDetails) Validate() error {
	switch d.Kind {
	case "":
		return Errorf(EInvalid, "請選擇發票類型")
	case InvoiceMember:
		// Kept in the member carrier of Email, checked below.
	case InvoiceMobileBarcode:
		if d.Carrier == "" {
			return Errorf(EInvalid, "請輸入手機條碼")
		}
		if !ValidMobileBarcode(d.Carrier) {
			return Errorf(EInvalid, "手機條碼格式不正確:應為「/」加 7 碼英數字或 . + - 符號")
		}
	case InvoiceCitizenCertificate:
		if d.Carrier == "" {
			return Errorf(EInvalid, "請輸入自然人憑證條碼")
		}
		if !ValidCitizenCertificate(d.Carrier) {
			return Errorf(EInvalid, "自然人憑證條碼格式不正確:應為 2 碼大寫英文字母加 14 碼數字")
		}
	case InvoiceCompany:
		if strings.TrimSpace(d.CompanyTitle) == "" {
			return Errorf(EInvalid, "請輸入公司抬頭")
		}
		if _, err := CleanText("公司抬頭", d.CompanyTitle, MaxInvoiceTitle); err != nil {
			return err
		}
		if d.TaxID == "" {
			return Errorf(EInvalid, "請輸入統一編號")
		}
		if !allDigits(d.TaxID) || len(d.TaxID) != 8 {
			return Errorf(EInvalid, "統一編號格式不正確:應為 8 碼數字")
		}
		if !ValidTaxID(d.TaxID) {
			return Errorf(EInvalid, "統一編號不正確:檢查碼不符,請確認號碼是否輸入正確")
		}
	case InvoiceDonation:
		if d.DonationCode == "" {
			return Errorf(EInvalid, "請輸入捐贈碼")
		}
		if !ValidDonationCode(d.DonationCode) {
			return Errorf(EInvalid, "捐贈碼格式不正確:應為 3 至 7 碼數字")
		}
	default:
		return Errorf(EInvalid, "發票類型不正確:應為會員載具、手機條碼載具、自然人憑證載具、公司(統一編號)或捐贈")
	}
	if d.Email == "" {
		return Errorf(EInvalid, "請輸入接收電子發票通知的電子郵件地址")
	}
	if !validEmail(d.Email) {
		return Errorf(EInvalid, "電子郵件地址格式不正確")
	}
	return nil
}

// ValidMobileBarcode reports whether s is a 手機條碼: "/" followed by exactly
// 7 characters of 0-9, A-Z, ".", "+" or "-". Lower case is refused; Normalize
// upper-cases it.
func ValidMobileBarcode(s string) bool {
	if len(s) != 8 || s[0] != '/' {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isDigit(c) && !isUpper(c) && c != '.' && c != '+' && c != '-' {
			return false
		}
	}
	return true
}

// ValidCitizenCertificate reports whether s is a 自然人憑證 carrier: 2
// upper-case letters followed by 14 digits.
func ValidCitizenCertificate(s string) bool {
	return len(s) == 16 && isUpper(s[0]) && isUpper(s[1]) && allDigits(s[2:])
}

// ValidDonationCode reports whether s is a 捐贈碼 (愛心碼): 3 to 7 digits.
func ValidDonationCode(s string) bool {
	return len(s) >= 3 && len(s) <= 7 && allDigits(s)
}

// ValidTaxID reports whether s is a 統一編號 under the Ministry of Finance
// checksum rule in force since 2023-04-01: 8 digits, multiplied digit by digit
// by 1,2,1,2,1,2,4,1, each product's digits summed, and the total divisible
// by 5. When the 7th digit is 7 its product is 28, whose digits sum to 10;
// the number is then valid if the total is divisible by 5 with that term
// counted as either 1 or 0.
func ValidTaxID(s string) bool {
	return validTaxID(s, 5)
}

// validTaxID is the 統一編號 checksum with the divisor as a parameter: 5 since
// 2023-04-01, 10 before.
func validTaxID(s string, divisor int) bool {
	if len(s) != 8 || !allDigits(s) {
		return false
	}
	weights := [8]int{1, 2, 1, 2, 1, 2, 4, 1}
	sum := 0
	for i := range 8 {
		if i == 6 && s[i] == '7' {
			continue // 4×7 = 28 → 2+8 = 10: counted as 1 or 0 below
		}
		p := int(s[i]-'0') * weights[i]
		sum += p/10 + p%10
	}
	if s[6] == '7' {
		return (sum+1)%divisor == 0 || sum%divisor == 0
	}
	return sum%divisor == 0
}

// validEmail is a basic syntax check: one "@", a non-empty local part of
// printable characters, and a domain of at least two dot-separated labels of
// letters, digits and inner hyphens.
func validEmail(s string) bool {
	if len(s) > 254 || !utf8.ValidString(s) {
		return false
	}
	local, domain, ok := strings.Cut(s, "@")
	if !ok || local == "" || len(local) > 64 || strings.Contains(domain, "@") {
		return false
	}
	for _, r := range local {
		if unicode.IsSpace(r) || !unicode.IsPrint(r) || strings.ContainsRune(`"(),:;<>[\]`, r) {
			return false
		}
	}
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") || strings.Contains(local, "..") {
		return false
	}
	labels := strings.Split(domain, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for _, r := range l {
			if r != '-' && !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				return false
			}
		}
	}
	return true
}

// halfWidth turns full-width ASCII forms (U+FF01–U+FF5E) and the ideographic
// space into their half-width forms.
func halfWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= 0xFF01 && r <= 0xFF5E:
			return r - 0xFEE0
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isDigit(s[i]) {
			return false
		}
	}
	return true
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
func isUpper(c byte) bool { return c >= 'A' && c <= 'Z' }
