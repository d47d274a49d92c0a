package billing

import (
	"fmt"
	"unicode/utf8"
)

// Seller is who issues the store's e-invoices: its 統一編號 and name
// (SELLER_BAN, SELLER_NAME), and the carrier type the platform assigned to
// its member carrier (EINVOICE_MEMBER_CARRIER_TYPE).
type Seller struct {
	BAN               string
	Name              string
	MemberCarrierType string
}

// Validate checks the seller's settings, in zh-TW.
func (s Seller) Validate() error {
	if !ValidTaxID(s.BAN) {
		return Errorf(EInvalid, "賣方統一編號 %q 不正確(8 位數字,檢查碼須相符)", s.BAN)
	}
	if s.Name == "" || utf8.RuneCountInString(s.Name) > 60 {
		return Errorf(EInvalid, "賣方名稱須為 1 至 60 字")
	}
	if !validCarrierType(s.MemberCarrierType) {
		return Errorf(EInvalid, "會員載具類別號碼 %q 不正確(2 碼大寫英文字母加 4 碼數字)", s.MemberCarrierType)
	}
	return nil
}

func validCarrierType(s string) bool {
	return len(s) == 6 && isUpper(s[0]) && isUpper(s[1]) && allDigits(s[2:])
}

// Carrier types the platform names (MIG 4.1).
const (
	CarrierMobileBarcode      = "3J0002" // 手機條碼
	CarrierCitizenCertificate = "CQ0001" // 自然人憑證
)

// B2CBuyerID is the buyer identifier of an invoice to a person.
const B2CBuyerID = "0000000000"

// InvoiceBuyer is who an e-invoice is issued to and where it is kept, as
// F0401 names them.
type InvoiceBuyer struct {
	B2B         bool
	BAN         string // the buyer's 統一編號; B2CBuyerID for a person
	Name        string // the company title (B2B) or the account's name, ≤ 60 characters
	CarrierType string // "" with no carrier (B2B, donation)
	CarrierID   string // CarrierId1 = CarrierId2
	NPOBAN      string // 愛心碼 of a donation
	PrintMark   string // "Y" (B2B, a printable 電子發票證明聯) or "N"
}

// Donated reports whether the invoice is donated (DonateMark 1).
func (b InvoiceBuyer) Donated() bool { return b.NPOBAN != "" }

// BuyerOf is the buyer of an invoice issued now to an account whose
// 電子發票資訊 is d (nil: none given), named accountName, member number
// memberID, by seller:
//
//   - company: B2B to its 統一編號 and title, printed (PrintMark Y);
//   - mobile barcode, citizen certificate: B2C in that carrier;
//   - donation: B2C, donated to the 愛心碼, no carrier;
//   - member carrier, or no details: B2C in the seller's member carrier
//     under the account's member number.
func BuyerOf(d *InvoiceDetails, accountName, memberID string, seller Seller) InvoiceBuyer {
	b := InvoiceBuyer{BAN: B2CBuyerID, Name: truncateRunes(accountName, 60), PrintMark: "N"}
	kind := InvoiceMember
	if d != nil {
		kind = d.Kind
	}
	switch kind {
	case InvoiceCompany:
		b.B2B, b.BAN, b.Name, b.PrintMark = true, d.TaxID, truncateRunes(d.CompanyTitle, 60), "Y"
	case InvoiceMobileBarcode:
		b.CarrierType, b.CarrierID = CarrierMobileBarcode, d.Carrier
	case InvoiceCitizenCertificate:
		b.CarrierType, b.CarrierID = CarrierCitizenCertificate, d.Carrier
	case InvoiceDonation:
		b.NPOBAN = d.DonationCode
	default:
		b.CarrierType, b.CarrierID = seller.MemberCarrierType, memberID
	}
	return b
}

// InvoiceDescription is the one item of a charge's invoice (≤ 500
// characters), e.g. 「LINE官方帳號 高用量 2026/12」, 「LINE官方帳號 高用量
// 2026/12 升級差額」 or 「LINE官方帳號 加購訊息 2026/11」.
func InvoiceDescription(kind ChargeKind, plan Plan, m Month) string {
	ym := fmt.Sprintf("%d/%02d", m.Year, int(m.Month))
	switch kind {
	case KindUpgrade:
		return truncateRunes("LINE官方帳號 "+plan.NameZH+" "+ym+" 升級差額", 500)
	case KindUsage:
		return truncateRunes("LINE官方帳號 加購訊息 "+ym, 500)
	}
	return truncateRunes("LINE官方帳號 "+plan.NameZH+" "+ym, 500)
}

// truncateRunes returns s cut to at most n characters (runes, not bytes).
func truncateRunes(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n])
}

// DemoSeller issues the invoices of development and tests when no seller
// is configured: a 統一編號 with a valid check digit that names no real
// business here, and a member carrier type of the same form as the
// platform's.
var DemoSeller = Seller{BAN: "04595257", Name: "LINE官方帳號示範商店", MemberCarrierType: "EJ0001"}
