package migcheck

import (
	"fmt"
	"strconv"
	"time"
	"unicode/utf8"
)

// Field lengths of EINVOICE.md, in characters.
const (
	maxName            = 60
	maxDescription     = 500
	maxCancelReason    = 20
	maxAllowanceNumber = 16
)

// Carrier types with a format of their own.
const (
	mobileBarcode      = "3J0002"
	citizenCertificate = "CQ0001"
)

// invoice checks an F0401's field rules.
func (c *checker) invoice(root string, r *node) {
	m, mp := r.child("Main"), root+"/Main"
	c.invoiceNumber(get(mp, m, "InvoiceNumber"))
	day := c.date(get(mp, m, "InvoiceDate"))
	c.clock(get(mp, m, "InvoiceTime"))
	c.ban(get(mp, m, "Seller", "Identifier"), false)
	c.text(get(mp, m, "Seller", "Name"), maxName)
	buyer := get(mp, m, "Buyer", "Identifier")
	b2b := buyer.ok && buyer.value != b2cBuyer
	c.ban(buyer, true)
	c.text(get(mp, m, "Buyer", "Name"), maxName)
	c.equals(get(mp, m, "InvoiceType"), "07")

	carrier := c.carrier(mp, m)
	donate := get(mp, m, "DonateMark")
	npoban := get(mp, m, "NPOBAN")
	donated := donate.ok && donate.value == "1"
	switch {
	case donate.ok && donate.value != "0" && !donated:
		c.add(donate.path, "應為 0 或 1,實際為「%s」", donate.value)
	case donated && !npoban.ok:
		c.add(npoban.path, "捐贈的發票(DonateMark 1)需有捐贈碼")
	case donated && carrier:
		c.add(donate.path, "捐贈的發票不可同時有載具")
	case donated && b2b:
		c.add(donate.path, "打統一編號的發票不可捐贈")
	case !donated && npoban.ok:
		c.add(npoban.path, "未捐贈(DonateMark 0)不應有捐贈碼")
	}
	if npoban.ok && (len(npoban.value) < 3 || len(npoban.value) > 7 || !digits(npoban.value)) {
		c.add(npoban.path, "捐贈碼「%s」應為 3 至 7 碼數字", npoban.value)
	}
	printMark := get(mp, m, "PrintMark")
	switch {
	case !printMark.ok:
	case b2b && printMark.value != "Y":
		c.add(printMark.path, "打統一編號的發票應為 Y,實際為「%s」", printMark.value)
	case b2b && carrier:
		c.add(printMark.path, "打統一編號的發票(PrintMark Y)不應有載具")
	case !b2b && printMark.value != "N":
		c.add(printMark.path, "有載具或捐贈的發票應為 N,實際為「%s」", printMark.value)
	case !b2b && !carrier && !donated:
		c.add(printMark.path, "個人的發票需有載具或捐贈")
	}
	if rn := get(mp, m, "RandomNumber"); rn.ok && (len(rn.value) != 4 || !digits(rn.value)) {
		c.add(rn.path, "隨機碼「%s」應為 4 碼數字", rn.value)
	}
	c.inBooks(get(mp, m, "InvoiceNumber"), day)

	var items int64
	dp := root + "/Details"
	for i, it := range r.child("Details").all("ProductItem") {
		ip := fmt.Sprintf("%s/ProductItem[%d]", dp, i+1)
		c.text(get(ip, it, "Description"), maxDescription)
		c.equals(get(ip, it, "Quantity"), "1")
		c.equals(get(ip, it, "TaxType"), "1")
		c.equals(get(ip, it, "SequenceNumber"), fmt.Sprintf("%03d", i+1))
		price, okP := c.money(get(ip, it, "UnitPrice"))
		amt, okA := c.money(get(ip, it, "Amount"))
		if okP && okA && price != amt {
			c.add(ip+"/Amount", "數量 1 的金額 %d 應等於單價 %d", amt, price)
		}
		items += amt
	}

	a, ap := r.child("Amount"), root+"/Amount"
	c.equals(get(ap, a, "FreeTaxSalesAmount"), "0")
	c.equals(get(ap, a, "ZeroTaxSalesAmount"), "0")
	c.equals(get(ap, a, "TaxType"), "1")
	c.equals(get(ap, a, "TaxRate"), "0.05")
	sales, okS := c.money(get(ap, a, "SalesAmount"))
	tax, okT := c.money(get(ap, a, "TaxAmount"))
	total, okTot := c.money(get(ap, a, "TotalAmount"))
	if !okS || !okT || !okTot {
		return
	}
	if items != sales {
		c.add(ap+"/SalesAmount", "品項金額合計 %d 應等於銷售額 %d", items, sales)
	}
	if total <= 0 {
		c.add(ap+"/TotalAmount", "總計應大於 0")
	}
	if !b2b {
		// B2C amounts are tax-inclusive: one price, no separate tax.
		if tax != 0 {
			c.add(ap+"/TaxAmount", "個人的發票為含稅金額,稅額應為 0,實際為 %d", tax)
		}
		if sales != total {
			c.add(ap+"/TotalAmount", "個人的發票總計 %d 應等於銷售額 %d(含稅)", total, sales)
		}
		return
	}
	if sales+tax != total {
		c.add(ap+"/TotalAmount", "銷售額 %d + 稅額 %d 應等於總計 %d", sales, tax, total)
	}
	if want := (sales*5 + 50) / 100; tax != want {
		c.add(ap+"/TaxAmount", "稅額應為銷售額 %d 的 5%%(四捨五入)= %d,實際為 %d", sales, want, tax)
	}
}

// carrier checks CarrierType, CarrierId1 and CarrierId2 and reports whether
// the invoice has a carrier.
func (c *checker) carrier(mp string, m *node) bool {
	typ, id1, id2 := get(mp, m, "CarrierType"), get(mp, m, "CarrierId1"), get(mp, m, "CarrierId2")
	if !typ.ok && !id1.ok && !id2.ok {
		return false
	}
	if !typ.ok || !id1.ok || !id2.ok {
		c.add(mp+"/CarrierType", "載具需同時有 CarrierType、CarrierId1 與 CarrierId2")
		return true
	}
	if id1.value != id2.value {
		c.add(id2.path, "CarrierId2「%s」應與 CarrierId1「%s」相同", id2.value, id1.value)
	}
	v := id1.value
	switch typ.value {
	case mobileBarcode:
		if !validMobileBarcode(v) {
			c.add(id1.path, "手機條碼「%s」應為「/」加 7 碼 0-9、A-Z、.、+、-", v)
		}
	case citizenCertificate:
		if len(v) != 16 || !upper(v[:2]) || !digits(v[2:]) {
			c.add(id1.path, "自然人憑證條碼「%s」應為 2 碼大寫英文字母加 14 碼數字", v)
		}
	default:
		// The seller's member carrier: a 6-character type from the platform.
		if len(typ.value) != 6 || !alnum(typ.value) {
			c.add(typ.path, "載具類別「%s」應為 6 碼大寫英數字", typ.value)
		}
		if n := utf8.RuneCountInString(v); n == 0 || n > 64 {
			c.add(id1.path, "會員載具號碼長度應為 1 至 64 個字")
		}
	}
	return true
}

func validMobileBarcode(s string) bool {
	if len(s) != 8 || s[0] != '/' {
		return false
	}
	for i := 1; i < 8; i++ {
		if ch := s[i]; !(ch >= '0' && ch <= '9' || ch >= 'A' && ch <= 'Z' || ch == '.' || ch == '+' || ch == '-') {
			return false
		}
	}
	return true
}

func alnum(s string) bool {
	for i := 0; i < len(s); i++ {
		if !digits(s[i:i+1]) && !upper(s[i:i+1]) {
			return false
		}
	}
	return true
}

// cancelInvoice checks an F0501: a full cancel before 00:00 on the 13th of
// the first month after the invoice's period, so the last cancel day is the
// 12th.
func (c *checker) cancelInvoice(root string, r *node) {
	num := get(root, r, "CancelInvoiceNumber")
	c.invoiceNumber(num)
	day := c.date(get(root, r, "InvoiceDate"))
	c.ban(get(root, r, "BuyerId"), true)
	c.ban(get(root, r, "SellerId"), false)
	cancel := get(root, r, "CancelDate")
	cancelDay := c.date(cancel)
	c.clock(get(root, r, "CancelTime"))
	c.text(get(root, r, "CancelReason"), maxCancelReason)
	c.inBooks(num, day)
	if day.IsZero() || cancelDay.IsZero() {
		return
	}
	if cancelDay.Before(day) {
		c.add(cancel.path, "作廢日期 %s 早於發票日期", cancel.value)
	}
	year, first := period(day)
	if last := time.Date(year, first+2, 12, 0, 0, 0, 0, time.UTC); cancelDay.After(last) {
		c.add(cancel.path, "作廢日期 %s 已過期限(%s 前),應開立折讓", cancel.value, last.AddDate(0, 0, 1).Format("20060102"))
	}
}

// allowance checks a G0401: item amounts tax-exclusive, the totals their sums.
func (c *checker) allowance(root string, r *node) {
	m, mp := r.child("Main"), root+"/Main"
	c.text(get(mp, m, "AllowanceNumber"), maxAllowanceNumber)
	aday := c.date(get(mp, m, "AllowanceDate"))
	c.ban(get(mp, m, "Seller", "Identifier"), false)
	c.text(get(mp, m, "Seller", "Name"), maxName)
	c.ban(get(mp, m, "Buyer", "Identifier"), true)
	c.text(get(mp, m, "Buyer", "Name"), maxName)
	c.equals(get(mp, m, "AllowanceType"), "2")

	var sumAmount, sumTax int64
	for i, it := range r.child("Details").all("ProductItem") {
		ip := fmt.Sprintf("%s/Details/ProductItem[%d]", root, i+1)
		oday := c.date(get(ip, it, "OriginalInvoiceDate"))
		num := get(ip, it, "OriginalInvoiceNumber")
		c.invoiceNumber(num)
		c.inBooks(num, oday)
		if !oday.IsZero() && !aday.IsZero() && aday.Before(oday) {
			c.add(mp+"/AllowanceDate", "折讓日期早於原發票日期")
		}
		if s := get(ip, it, "OriginalSequenceNumber"); s.ok && (!digits(s.value) || len(s.value) > 4) {
			c.add(s.path, "原發票品項序號「%s」應為 1 至 4 碼數字", s.value)
		}
		c.text(get(ip, it, "OriginalDescription"), maxDescription)
		if s := get(ip, it, "AllowanceSequenceNumber"); s.ok && (!digits(s.value) || len(s.value) > 3) {
			c.add(s.path, "折讓序號「%s」應為 1 至 3 碼數字", s.value)
		}
		c.equals(get(ip, it, "TaxType"), "1")
		q := get(ip, it, "Quantity")
		qty, err := strconv.ParseInt(q.value, 10, 64)
		if q.ok && (err != nil || qty <= 0) {
			c.add(q.path, "數量「%s」應為正整數", q.value)
		}
		price, okP := c.money(get(ip, it, "UnitPrice"))
		amt, okA := c.money(get(ip, it, "Amount"))
		tax, okT := c.money(get(ip, it, "Tax"))
		if okP && okA && qty > 0 && price*qty != amt {
			c.add(ip+"/Amount", "金額 %d 應等於單價 %d × 數量 %d", amt, price, qty)
		}
		// The item's tax is 5 % of its tax-exclusive amount, within a dollar
		// of rounding.
		if okA && okT && (tax*100-amt*5 > 100 || amt*5-tax*100 > 100) {
			c.add(ip+"/Tax", "稅額 %d 應約為未稅金額 %d 的 5%%", tax, amt)
		}
		sumAmount += amt
		sumTax += tax
	}
	a, ap := r.child("Amount"), root+"/Amount"
	if tax, ok := c.money(get(ap, a, "TaxAmount")); ok && tax != sumTax {
		c.add(ap+"/TaxAmount", "稅額 %d 應等於品項稅額合計 %d", tax, sumTax)
	}
	if total, ok := c.money(get(ap, a, "TotalAmount")); ok {
		if total != sumAmount {
			c.add(ap+"/TotalAmount", "總計 %d 應等於品項金額(未稅)合計 %d", total, sumAmount)
		}
		if total <= 0 {
			c.add(ap+"/TotalAmount", "總計應大於 0")
		}
	}
}

// cancelAllowance checks a G0501.
func (c *checker) cancelAllowance(root string, r *node) {
	c.text(get(root, r, "CancelAllowanceNumber"), maxAllowanceNumber)
	aday := c.date(get(root, r, "AllowanceDate"))
	c.ban(get(root, r, "BuyerId"), true)
	c.ban(get(root, r, "SellerId"), false)
	cancel := get(root, r, "CancelDate")
	cday := c.date(cancel)
	c.clock(get(root, r, "CancelTime"))
	c.text(get(root, r, "CancelReason"), maxCancelReason)
	if !aday.IsZero() && !cday.IsZero() && cday.Before(aday) {
		c.add(cancel.path, "作廢日期 %s 早於折讓日期", cancel.value)
	}
}

// blank checks an E0402: each range inside an imported range of its period
// and track, ranges not overlapping.
func (c *checker) blank(root string, r *node) {
	m, mp := r.child("Main"), root+"/Main"
	c.ban(get(mp, m, "HeadBan"), false)
	c.ban(get(mp, m, "BranchBan"), false)
	c.equals(get(mp, m, "InvoiceType"), "07")
	ym := get(mp, m, "YearMonth")
	var day time.Time // a day of the period, to match the books
	if ym.ok {
		roc, err1 := strconv.Atoi(ym.value[:min(3, len(ym.value))])
		last, err2 := strconv.Atoi(ym.value[min(3, len(ym.value)):])
		if len(ym.value) != 5 || !digits(ym.value) || err1 != nil || err2 != nil || roc < 1 || last < 2 || last > 12 || last%2 != 0 {
			c.add(ym.path, "期別「%s」應為民國年 3 碼加雙月 2 碼,例如 11512", ym.value)
		} else {
			day = time.Date(roc+1911, time.Month(last), 1, 0, 0, 0, 0, time.UTC)
		}
	}
	track := get(mp, m, "InvoiceTrack")
	if track.ok && (len(track.value) != 2 || !upper(track.value)) {
		c.add(track.path, "字軌「%s」應為 2 碼大寫英文字母", track.value)
	}
	type span struct{ begin, end int }
	var seen []span
	for i, it := range r.child("Details").all("BranchTrackBlankItem") {
		ip := fmt.Sprintf("%s/Details/BranchTrackBlankItem[%d]", root, i+1)
		b, e := get(ip, it, "InvoiceBeginNo"), get(ip, it, "InvoiceEndNo")
		bad := false
		for _, f := range []field{b, e} {
			if f.ok && (len(f.value) != 8 || !digits(f.value)) {
				c.add(f.path, "號碼「%s」應為 8 碼數字", f.value)
				bad = true
			}
		}
		if !b.ok || !e.ok || bad {
			continue
		}
		begin, _ := strconv.Atoi(b.value)
		end, _ := strconv.Atoi(e.value)
		if begin > end {
			c.add(ip, "起號 %s 大於迄號 %s", b.value, e.value)
			continue
		}
		for _, s := range seen {
			if begin <= s.end && s.begin <= end {
				c.add(ip, "範圍 %s–%s 與另一個空白範圍重疊", b.value, e.value)
			}
		}
		seen = append(seen, span{begin, end})
		if track.ok && !day.IsZero() && !c.inOneBook(day, track.value, begin, end) {
			c.add(ip, "範圍 %s%s–%s%s 不在 %s 期匯入的任一號碼範圍內", track.value, b.value, track.value, e.value, ym.value)
		}
	}
}
