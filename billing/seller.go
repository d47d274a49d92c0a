package billing

import "unicode/utf8"

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

// DemoSeller issues the invoices of development and tests when no seller
// is configured: a 統一編號 with a valid check digit that names no real
// business here, and a member carrier type of the same form as the
// platform's.
var DemoSeller = Seller{BAN: "04595257", Name: "LINE官方帳號示範商店", MemberCarrierType: "EJ0001"}
