package billing

import (
	"errors"
	"strings"
	"testing"
)

// 統一編號 checksum worked by hand. Weights 1,2,1,2,1,2,4,1; each product's
// digits are summed; the total must be divisible by 5 (10 before 2023-04-01).
// When the 7th digit is 7 (4×7 = 28 → 10) the term counts as 1 or 0.
var taxIDCases = []struct {
	in        string
	want      bool // current rule, divisor 5
	wantOld10 bool // pre-2023 rule, divisor 10
}{
	// 0 4 5 9 5 2 5 2 → 0,8,5,18→9,5,4,20→2,2 = 35: 35%5 = 0, 35%10 = 5.
	{"04595252", true, false},
	// 1 2 3 4 5 6 7 5 → 1,4,3,8,5,12→3,(28→10),5: others 29; 29+1 = 30 ok.
	{"12345675", true, true},
	// 1 2 3 4 5 6 7 6 → others 1+4+3+8+5+3+6 = 30; counted as 0: 30 ok.
	{"12345676", true, true},
	// 1 2 3 4 5 6 7 0 → others 24; 24+1 = 25 (÷5, not ÷10); 24 neither.
	{"12345670", true, false},
	// 1 0 4 5 8 5 7 5 → 1,0,4,10→1,8,10→1,(10),5: others 20; counted as 0: 20 ok.
	{"10458575", true, true},
	// 2 2 0 9 9 1 3 1 → 2,4,0,18→9,9,2,12→3,1 = 30.
	{"22099131", true, true},
	// 0 4 5 9 5 2 5 7 → 0,8,5,9,5,4,2,7 = 40.
	{"04595257", true, true},
	// 2 2 5 5 5 0 0 3 → 2,4,5,10→1,5,0,0,3 = 20.
	{"22555003", true, true},
	// 9 6 9 7 9 9 3 3 → 9,12→3,9,14→5,9,18→9,12→3,3 = 50.
	{"96979933", true, true},
	// 5 3 2 1 2 5 3 9 → 5,6,2,2,2,10→1,12→3,9 = 30.
	{"53212539", true, true},
	// 8 8 1 1 7 1 2 6 → 8,16→7,1,2,7,2,8,6 = 41.
	{"88117126", false, false},
	// 1 1 1 1 1 1 1 1 → 1,2,1,2,1,2,4,1 = 14.
	{"11111111", false, false},
	// 1 2 3 4 5 6 7 7 → others 31; 32 and 31 both fail.
	{"12345677", false, false},
	// 1 2 3 4 5 6 7 8 → others 32; 33 and 32 both fail.
	{"12345678", false, false},
	// 1 2 3 4 5 6 7 3 → others 27; 28 and 27 both fail.
	{"12345673", false, false},
	// 0 4 5 9 5 2 5 3 → 0,8,5,9,5,4,2,3 = 36.
	{"04595253", false, false},
	{"", false, false},
	{"0459525", false, false},   // 7 digits
	{"045952520", false, false}, // 9 digits
	{"0459525A", false, false},
	{"0459 252", false, false},
	{"-4595252", false, false},
	{"０４５９５２５２", false, false}, // full-width: Normalize first
}

func TestValidTaxID(t *testing.T) {
	for _, c := range taxIDCases {
		if got := ValidTaxID(c.in); got != c.want {
			t.Errorf("ValidTaxID(%q) = %v, want %v", c.in, got, c.want)
		}
		if got := validTaxID(c.in, 5); got != c.want {
			t.Errorf("validTaxID(%q, 5) = %v, want %v", c.in, got, c.want)
		}
		if got := validTaxID(c.in, 10); got != c.wantOld10 {
			t.Errorf("validTaxID(%q, 10) = %v, want %v", c.in, got, c.wantOld10)
		}
	}
}

func TestValidMobileBarcode(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"/ABC+123", true},
		{"/ABC1234", true},
		{"/.+-.+-.", true},
		{"/0000000", true},
		{"/ZZZZZZZ", true},
		{"/abc1234", false},  // lower case: Normalize first
		{"ABC1234", false},   // no slash
		{"/AB12345X", false}, // 8 characters after the slash
		{"/AB1234", false},   // 6
		{"/", false},
		{"", false},
		{"/ABC 123", false},
		{"/ABC_123", false},
		{"/ABC/123", false},
		{"//ABC123", false},
		{"\\ABC1234", false},
		{"／ＡＢＣ＋１２３", false}, // full-width: Normalize first
	}
	for _, c := range cases {
		if got := ValidMobileBarcode(c.in); got != c.want {
			t.Errorf("ValidMobileBarcode(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestValidCitizenCertificate(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"AB12345678901234", true},
		{"ZZ00000000000000", true},
		{"ab12345678901234", false},  // lower case: Normalize first
		{"A123456789012345", false},  // 1 letter + 15 digits
		{"ABC1234567890123", false},  // 3 letters + 13 digits
		{"AB1234567890123", false},   // 13 digits
		{"AB123456789012345", false}, // 15 digits
		{"AB1234567890123X", false},
		{"12AB345678901234", false},
		{"", false},
	}
	for _, c := range cases {
		if got := ValidCitizenCertificate(c.in); got != c.want {
			t.Errorf("ValidCitizenCertificate(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestValidDonationCode(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"123", true},
		{"8585", true},
		{"1234567", true},
		{"001", true},
		{"12", false},
		{"12345678", false},
		{"", false},
		{"12A4", false},
		{"12 34", false},
		{"-123", false},
		{"１２３", false}, // full-width: Normalize first
	}
	for _, c := range cases {
		if got := ValidDonationCode(c.in); got != c.want {
			t.Errorf("ValidDonationCode(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestValidEmail(t *testing.T) {
	cases := []struct {
		in   string
		want bool
	}{
		{"a@b.tw", true},
		{"billing.team+inv@example.com.tw", true},
		{"user@sub-domain.example.co", true},
		{"", false},
		{"a.example.com", false},
		{"@example.com", false},
		{"a@", false},
		{"a@localhost", false},
		{"a@@example.com", false},
		{"a@b@example.com", false},
		{"a b@example.com", false},
		{"a@exa mple.com", false},
		{"a@.example.com", false},
		{"a@example.com.", false},
		{"a@example..com", false},
		{"a@-example.com", false},
		{"a@example-.com", false},
		{".a@example.com", false},
		{"a..b@example.com", false},
		{"<a@example.com>", false},
		{"Name <a@example.com>", false},
		{"a＠example.com", false}, // full-width @: Normalize first
	}
	for _, c := range cases {
		if got := validEmail(c.in); got != c.want {
			t.Errorf("validEmail(%q) = %v, want %v", c.in, got, c.want)
		}
	}
}

func TestInvoiceDetailsNormalize(t *testing.T) {
	cases := []struct {
		name string
		in   InvoiceDetails
		want InvoiceDetails
	}{
		{
			"full-width mobile barcode",
			InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "／ＡＢＣ＋１２３", Email: "ａ＠ｂ．ｔｗ"},
			InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/ABC+123", Email: "a@b.tw"},
		},
		{
			"lower-case barcode with spaces",
			InvoiceDetails{Kind: " mobile_barcode ", Carrier: "  /abc-12.  ", Email: " a@b.tw\t"},
			InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/ABC-12.", Email: "a@b.tw"},
		},
		{
			"full-width lower-case barcode, ideographic spaces",
			InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "\u3000／ａｂｃ１２３４\u3000", Email: "a@b.tw"},
			InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/ABC1234", Email: "a@b.tw"},
		},
		{
			"citizen certificate upper-cased",
			InvoiceDetails{Kind: InvoiceCitizenCertificate, Carrier: " ａｂ12345678901234 ", Email: "a@b.tw"},
			InvoiceDetails{Kind: InvoiceCitizenCertificate, Carrier: "AB12345678901234", Email: "a@b.tw"},
		},
		{
			"company: tax id half-width, title only trimmed",
			InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "  範例科技股份有限公司（台灣）  ", TaxID: " ２２０９９１３１ ", Email: "a@b.tw"},
			InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例科技股份有限公司（台灣）", TaxID: "22099131", Email: "a@b.tw"},
		},
		{
			"donation code half-width",
			InvoiceDetails{Kind: InvoiceDonation, DonationCode: "\u3000８５８５ ", Email: "a@b.tw"},
			InvoiceDetails{Kind: InvoiceDonation, DonationCode: "8585", Email: "a@b.tw"},
		},
		{
			"carrier not upper-cased for other kinds",
			InvoiceDetails{Kind: InvoiceDonation, Carrier: "/abc1234", DonationCode: "123", Email: "a@b.tw"},
			InvoiceDetails{Kind: InvoiceDonation, Carrier: "/abc1234", DonationCode: "123", Email: "a@b.tw"},
		},
	}
	for _, c := range cases {
		got := c.in.Normalize()
		if got != c.want {
			t.Errorf("%s: Normalize() = %+v, want %+v", c.name, got, c.want)
		}
		if again := got.Normalize(); again != got {
			t.Errorf("%s: Normalize() twice = %+v, want %+v", c.name, again, got)
		}
	}
}

func TestInvoiceDetailsValidate(t *testing.T) {
	const email = "billing@example.com.tw"
	cases := []struct {
		name string
		in   InvoiceDetails
		want string // "" for valid, else a phrase the zh-TW Detail must contain
	}{
		// kind
		{"no kind", InvoiceDetails{Email: email}, "請選擇發票類型"},
		{"unknown kind", InvoiceDetails{Kind: "paper", Email: email}, "發票類型不正確"},
		{"kind not normalized", InvoiceDetails{Kind: "Company", CompanyTitle: "範例", TaxID: "22099131", Email: email}, "發票類型不正確"},

		// mobile barcode
		{"barcode ok", InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/ABC+123", Email: email}, ""},
		{"barcode missing", InvoiceDetails{Kind: InvoiceMobileBarcode, Email: email}, "請輸入手機條碼"},
		{"barcode no slash", InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "ABC1234", Email: email}, "手機條碼格式不正確"},
		{"barcode 8 chars", InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/AB12345X", Email: email}, "手機條碼格式不正確"},
		{"barcode lower case", InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/abc1234", Email: email}, "手機條碼格式不正確"},
		{"barcode is a certificate", InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "AB12345678901234", Email: email}, "手機條碼格式不正確"},
		{"barcode email missing", InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/ABC+123"}, "電子郵件"},

		// citizen certificate
		{"certificate ok", InvoiceDetails{Kind: InvoiceCitizenCertificate, Carrier: "AB12345678901234", Email: email}, ""},
		{"certificate missing", InvoiceDetails{Kind: InvoiceCitizenCertificate, Email: email}, "請輸入自然人憑證條碼"},
		{"certificate too short", InvoiceDetails{Kind: InvoiceCitizenCertificate, Carrier: "AB1234567890123", Email: email}, "自然人憑證條碼格式不正確"},
		{"certificate is a barcode", InvoiceDetails{Kind: InvoiceCitizenCertificate, Carrier: "/ABC+123", Email: email}, "自然人憑證條碼格式不正確"},
		{"certificate email bad", InvoiceDetails{Kind: InvoiceCitizenCertificate, Carrier: "AB12345678901234", Email: "billing@localhost"}, "電子郵件地址格式不正確"},

		// company
		{"company ok", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例科技股份有限公司", TaxID: "22099131", Email: email}, ""},
		{"company ok, 7th digit 7", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", TaxID: "12345675", Email: email}, ""},
		{"company ok, valid only since 2023", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", TaxID: "04595252", Email: email}, ""},
		{"company title missing", InvoiceDetails{Kind: InvoiceCompany, TaxID: "22099131", Email: email}, "請輸入公司抬頭"},
		{"company title blank", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: " \u3000", TaxID: "22099131", Email: email}, "請輸入公司抬頭"},
		{"company tax id missing", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", Email: email}, "請輸入統一編號"},
		{"company tax id 7 digits", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", TaxID: "2209913", Email: email}, "統一編號格式不正確"},
		{"company tax id 9 digits", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", TaxID: "220991310", Email: email}, "統一編號格式不正確"},
		{"company tax id letters", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", TaxID: "2209913A", Email: email}, "統一編號格式不正確"},
		{"company tax id checksum", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", TaxID: "88117126", Email: email}, "統一編號不正確"},
		{"company email missing", InvoiceDetails{Kind: InvoiceCompany, CompanyTitle: "範例", TaxID: "22099131"}, "電子郵件"},

		// donation
		{"donation ok", InvoiceDetails{Kind: InvoiceDonation, DonationCode: "8585", Email: email}, ""},
		{"donation missing", InvoiceDetails{Kind: InvoiceDonation, Email: email}, "請輸入捐贈碼"},
		{"donation too short", InvoiceDetails{Kind: InvoiceDonation, DonationCode: "12", Email: email}, "捐贈碼格式不正確"},
		{"donation too long", InvoiceDetails{Kind: InvoiceDonation, DonationCode: "12345678", Email: email}, "捐贈碼格式不正確"},
		{"donation letters", InvoiceDetails{Kind: InvoiceDonation, DonationCode: "85A5", Email: email}, "捐贈碼格式不正確"},
		{"donation email missing", InvoiceDetails{Kind: InvoiceDonation, DonationCode: "8585"}, "請輸入接收電子發票通知的電子郵件地址"},
		{"donation email bad", InvoiceDetails{Kind: InvoiceDonation, DonationCode: "8585", Email: "billing.example.com"}, "電子郵件地址格式不正確"},

		// fields of other kinds are not checked
		{"donation ignores carrier", InvoiceDetails{Kind: InvoiceDonation, DonationCode: "8585", Carrier: "junk", TaxID: "x", Email: email}, ""},
	}
	for _, c := range cases {
		err := c.in.Validate()
		if c.want == "" {
			if err != nil {
				t.Errorf("%s: Validate() = %v, want nil", c.name, err)
			}
			continue
		}
		var e *Error
		if !errors.As(err, &e) {
			t.Errorf("%s: Validate() = %v, want *Error containing %q", c.name, err, c.want)
			continue
		}
		if got, want := e.Code, EInvalid; got != want {
			t.Errorf("%s: code = %q, want %q", c.name, got, want)
		}
		if got := e.Detail; !strings.Contains(got, c.want) {
			t.Errorf("%s: detail = %q, want it to contain %q", c.name, got, c.want)
		}
	}
}

func TestValidateDetailSentence(t *testing.T) {
	err := InvoiceDetails{Kind: InvoiceMobileBarcode, Carrier: "/ABC", Email: "a@b.tw"}.Validate()
	got, want := ErrorCode(err), EInvalid
	if got != want {
		t.Fatalf("ErrorCode = %q, want %q", got, want)
	}
	if got, want := err.(*Error).Detail, "手機條碼格式不正確:應為「/」加 7 碼英數字或 . + - 符號"; got != want {
		t.Errorf("detail = %q, want %q", got, want)
	}
}

func TestNormalizeThenValidate(t *testing.T) {
	cases := []InvoiceDetails{
		{Kind: InvoiceMobileBarcode, Carrier: "／ａｂｃ＋１２３", Email: " ａ＠ｂ．ｔｗ "},
		{Kind: InvoiceCitizenCertificate, Carrier: "ab12345678901234", Email: "a@b.tw"},
		{Kind: InvoiceCompany, CompanyTitle: " 範例 ", TaxID: "０４５９５２５２", Email: "a@b.tw"},
		{Kind: InvoiceDonation, DonationCode: " ８５８５ ", Email: "a@b.tw"},
	}
	for _, d := range cases {
		if err := d.Validate(); err == nil {
			t.Errorf("Validate(%+v) = nil before Normalize, want an error", d)
		}
		if err := d.Normalize().Validate(); err != nil {
			t.Errorf("Normalize().Validate(%+v) = %v, want nil", d, err)
		}
	}
}

// 會員載具 needs only the e-mail address it is kept under.
func TestMemberCarrier(t *testing.T) {
	if err := (InvoiceDetails{Kind: InvoiceMember, Email: "owner@bear.example.tw"}).Normalize().Validate(); err != nil {
		t.Errorf("member carrier with an e-mail: %v", err)
	}
	if err := (InvoiceDetails{Kind: InvoiceMember}).Normalize().Validate(); ErrorCode(err) != EInvalid {
		t.Errorf("member carrier without an e-mail: %v, want invalid", err)
	}
	if !InvoiceMember.Valid() {
		t.Error("member is not a valid kind")
	}
}
