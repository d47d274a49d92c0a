package migcheck

import (
	"strings"
	"testing"
	"time"

	"webstore/billing"
)

// Hand-written messages, independent of the writer: each passes as it is,
// and each bad case below changes one thing.

var books = []billing.BookRange{
	{Period: billing.InvoicePeriod{Year: 2026, Month: time.November}, Track: "AB", Begin: 12345600, End: 12345649},
	{Period: billing.InvoicePeriod{Year: 2026, Month: time.November}, Track: "AB", Begin: 12345700, End: 12345749},
}

const b2cInvoice = `<?xml version="1.0" encoding="UTF-8"?>
<Invoice xmlns="urn:GEINV:eInvoiceMessage:F0401:4.1">
  <Main>
    <InvoiceNumber>AB12345600</InvoiceNumber>
    <InvoiceDate>20261215</InvoiceDate>
    <InvoiceTime>09:30:00</InvoiceTime>
    <Seller><Identifier>04595252</Identifier><Name>台灣連線股份有限公司</Name></Seller>
    <Buyer><Identifier>0000000000</Identifier><Name>王小明的店</Name></Buyer>
    <InvoiceType>07</InvoiceType>
    <DonateMark>0</DonateMark>
    <CarrierType>3J0002</CarrierType>
    <CarrierId1>/ABC+123</CarrierId1>
    <CarrierId2>/ABC+123</CarrierId2>
    <PrintMark>N</PrintMark>
    <RandomNumber>0420</RandomNumber>
  </Main>
  <Details>
    <ProductItem>
      <Description>LINE官方帳號 高用量 2026/12</Description>
      <Quantity>1</Quantity>
      <UnitPrice>420</UnitPrice>
      <TaxType>1</TaxType>
      <Amount>420</Amount>
      <SequenceNumber>001</SequenceNumber>
    </ProductItem>
  </Details>
  <Amount>
    <SalesAmount>420</SalesAmount>
    <FreeTaxSalesAmount>0</FreeTaxSalesAmount>
    <ZeroTaxSalesAmount>0</ZeroTaxSalesAmount>
    <TaxType>1</TaxType>
    <TaxRate>0.05</TaxRate>
    <TaxAmount>0</TaxAmount>
    <TotalAmount>420</TotalAmount>
  </Amount>
</Invoice>
`

// b2bInvoice is b2cInvoice to a company: tax-exclusive amounts, PrintMark Y.
var b2bInvoice = replace(b2cInvoice,
	"<Identifier>0000000000</Identifier><Name>王小明的店</Name>", "<Identifier>22099131</Identifier><Name>小明有限公司</Name>",
	"<CarrierType>3J0002</CarrierType>\n    <CarrierId1>/ABC+123</CarrierId1>\n    <CarrierId2>/ABC+123</CarrierId2>\n", "",
	"<PrintMark>N</PrintMark>", "<PrintMark>Y</PrintMark>",
	"<UnitPrice>420</UnitPrice>", "<UnitPrice>400</UnitPrice>",
	"<Amount>420</Amount>", "<Amount>400</Amount>",
	"<SalesAmount>420</SalesAmount>", "<SalesAmount>400</SalesAmount>",
	"<TaxAmount>0</TaxAmount>", "<TaxAmount>20</TaxAmount>")

const cancelInvoice = `<?xml version="1.0" encoding="UTF-8"?>
<CancelInvoice xmlns="urn:GEINV:eInvoiceMessage:F0501:4.1">
  <CancelInvoiceNumber>AB12345600</CancelInvoiceNumber>
  <InvoiceDate>20261215</InvoiceDate>
  <BuyerId>0000000000</BuyerId>
  <SellerId>04595252</SellerId>
  <CancelDate>20270112</CancelDate>
  <CancelTime>23:59:59</CancelTime>
  <CancelReason>全額退款</CancelReason>
</CancelInvoice>
`

const allowance = `<?xml version="1.0" encoding="UTF-8"?>
<Allowance xmlns="urn:GEINV:eInvoiceMessage:G0401:4.1">
  <Main>
    <AllowanceNumber>ALAB1234560001</AllowanceNumber>
    <AllowanceDate>20270120</AllowanceDate>
    <Seller><Identifier>04595252</Identifier><Name>台灣連線股份有限公司</Name></Seller>
    <Buyer><Identifier>0000000000</Identifier><Name>王小明的店</Name></Buyer>
    <AllowanceType>2</AllowanceType>
  </Main>
  <Details>
    <ProductItem>
      <OriginalInvoiceDate>20261215</OriginalInvoiceDate>
      <OriginalInvoiceNumber>AB12345600</OriginalInvoiceNumber>
      <OriginalSequenceNumber>001</OriginalSequenceNumber>
      <OriginalDescription>LINE官方帳號 高用量 2026/12</OriginalDescription>
      <Quantity>1</Quantity>
      <UnitPrice>200</UnitPrice>
      <Amount>200</Amount>
      <Tax>10</Tax>
      <AllowanceSequenceNumber>1</AllowanceSequenceNumber>
      <TaxType>1</TaxType>
    </ProductItem>
  </Details>
  <Amount>
    <TaxAmount>10</TaxAmount>
    <TotalAmount>200</TotalAmount>
  </Amount>
</Allowance>
`

const cancelAllowance = `<?xml version="1.0" encoding="UTF-8"?>
<CancelAllowance xmlns="urn:GEINV:eInvoiceMessage:G0501:4.1">
  <CancelAllowanceNumber>ALAB1234560001</CancelAllowanceNumber>
  <AllowanceDate>20270120</AllowanceDate>
  <BuyerId>0000000000</BuyerId>
  <SellerId>04595252</SellerId>
  <CancelDate>20270121</CancelDate>
  <CancelTime>10:00:00</CancelTime>
  <CancelReason>折讓開立錯誤</CancelReason>
</CancelAllowance>
`

const blank = `<?xml version="1.0" encoding="UTF-8"?>
<BranchTrackBlank xmlns="urn:GEINV:eInvoiceMessage:E0402:4.1">
  <Main>
    <HeadBan>04595252</HeadBan>
    <BranchBan>04595252</BranchBan>
    <InvoiceType>07</InvoiceType>
    <YearMonth>11512</YearMonth>
    <InvoiceTrack>AB</InvoiceTrack>
  </Main>
  <Details>
    <BranchTrackBlankItem><InvoiceBeginNo>12345603</InvoiceBeginNo><InvoiceEndNo>12345649</InvoiceEndNo></BranchTrackBlankItem>
    <BranchTrackBlankItem><InvoiceBeginNo>12345700</InvoiceBeginNo><InvoiceEndNo>12345749</InvoiceEndNo></BranchTrackBlankItem>
  </Details>
</BranchTrackBlank>
`

// replace applies old/new pairs to s, panicking if an old string is absent
// so a case never silently tests the unchanged document.
func replace(s string, pairs ...string) string {
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			panic("test document lacks " + pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

func TestGoodMessagesPass(t *testing.T) {
	for name, doc := range map[string]string{
		"F0401 B2C mobile barcode": b2cInvoice,
		"F0401 B2B":                b2bInvoice,
		"F0401 citizen certificate": replace(b2cInvoice,
			"3J0002", "CQ0001", "/ABC+123", "AB12345678901234", "/ABC+123", "AB12345678901234"),
		"F0401 member carrier": replace(b2cInvoice,
			"3J0002", "EJ0113", "/ABC+123", "M000123", "/ABC+123", "M000123"),
		"F0401 donation": replace(b2cInvoice,
			"<DonateMark>0</DonateMark>", "<DonateMark>1</DonateMark>",
			"<CarrierType>3J0002</CarrierType>\n    <CarrierId1>/ABC+123</CarrierId1>\n    <CarrierId2>/ABC+123</CarrierId2>\n", "",
			"<PrintMark>N</PrintMark>", "<PrintMark>N</PrintMark><NPOBAN>25885</NPOBAN>"),
		"F0401 optional elements in order": replace(b2cInvoice,
			"<Name>台灣連線股份有限公司</Name></Seller>", "<Name>台灣連線股份有限公司</Name><Address>台北市</Address><EmailAddress>a@b.tw</EmailAddress></Seller>",
			"<InvoiceType>07</InvoiceType>", "<MainRemark>備註</MainRemark><InvoiceType>07</InvoiceType>"),
		"F0401 60-character name": replace(b2cInvoice, "王小明的店", strings.Repeat("店", 60)),
		"F0501":                   cancelInvoice,
		"G0401":                   allowance,
		"G0501":                   cancelAllowance,
		"E0402":                   blank,
	} {
		if ps := Check([]byte(doc), books); len(ps) != 0 {
			t.Errorf("%s: %v", name, ps)
		}
	}
	if ps := CheckAs("F0401", []byte(b2cInvoice), books); len(ps) != 0 {
		t.Errorf("CheckAs F0401: %v", ps)
	}
}

// Each bad document must be refused with a problem at path (a suffix of the
// problem's path) whose message says want.
func TestBadMessagesRefused(t *testing.T) {
	noCarrier := "<CarrierType>3J0002</CarrierType>\n    <CarrierId1>/ABC+123</CarrierId1>\n    <CarrierId2>/ABC+123</CarrierId2>\n"
	for _, c := range []struct {
		name, doc, path, want string
	}{
		{"wrong namespace", replace(b2cInvoice, "F0401:4.1", "F0401:4.0"), "/Invoice", "命名空間應為 urn:GEINV:eInvoiceMessage:F0401:4.1"},
		{"MIG 3 namespace and root", replace(b2cInvoice, "<Invoice xmlns=\"urn:GEINV:eInvoiceMessage:F0401:4.1\">", "<Invoice xmlns=\"urn:GEINV:eInvoiceMessage:C0401:3.2\">"), "/Invoice", "命名空間"},
		{"child in another namespace", replace(b2cInvoice, "<RandomNumber>0420</RandomNumber>", `<RandomNumber xmlns="urn:other">0420</RandomNumber>`), "/Main/RandomNumber", "命名空間"},
		{"unknown root", replace(cancelInvoice, "<CancelInvoice xmlns", "<VoidInvoice xmlns", "</CancelInvoice>", "</VoidInvoice>"), "/VoidInvoice", "根元素"},
		{"not XML", "<Invoice><Main></Invoice>", "/", "無法解析 XML"},
		{"missing RandomNumber", replace(b2cInvoice, "<RandomNumber>0420</RandomNumber>", ""), "/Main/RandomNumber", "缺少必要欄位"},
		{"missing Amount block", replace(allowance, "<Amount>\n    <TaxAmount>10</TaxAmount>\n    <TotalAmount>200</TotalAmount>\n  </Amount>\n", ""), "/Allowance/Amount", "缺少必要欄位"},
		{"missing CancelReason", replace(cancelInvoice, "<CancelReason>全額退款</CancelReason>", ""), "/CancelReason", "缺少必要欄位"},
		{"bad order", replace(b2cInvoice, "<InvoiceDate>20261215</InvoiceDate>\n    <InvoiceTime>09:30:00</InvoiceTime>", "<InvoiceTime>09:30:00</InvoiceTime>\n    <InvoiceDate>20261215</InvoiceDate>"), "/Main/InvoiceDate", "順序錯誤"},
		{"Buyer before Seller", replace(allowance, "<Seller><Identifier>04595252</Identifier><Name>台灣連線股份有限公司</Name></Seller>\n    <Buyer><Identifier>0000000000</Identifier><Name>王小明的店</Name></Buyer>", "<Buyer><Identifier>0000000000</Identifier><Name>王小明的店</Name></Buyer>\n    <Seller><Identifier>04595252</Identifier><Name>台灣連線股份有限公司</Name></Seller>"), "/Main/Seller", "順序錯誤"},
		{"unknown element", replace(cancelInvoice, "<CancelReason>", "<Note>x</Note><CancelReason>"), "/Note", "不應出現"},
		{"twice", replace(cancelInvoice, "<BuyerId>0000000000</BuyerId>", "<BuyerId>0000000000</BuyerId><BuyerId>0000000000</BuyerId>"), "/BuyerId", "最多出現 1 次"},
		{"B2C tax not 0", replace(b2cInvoice, "<SalesAmount>420</SalesAmount>", "<SalesAmount>400</SalesAmount>", "<TaxAmount>0</TaxAmount>", "<TaxAmount>20</TaxAmount>", "<UnitPrice>420</UnitPrice>", "<UnitPrice>400</UnitPrice>", "<Amount>420</Amount>", "<Amount>400</Amount>"), "/Amount/TaxAmount", "稅額應為 0"},
		{"B2C total not sales", replace(b2cInvoice, "<TotalAmount>420</TotalAmount>", "<TotalAmount>441</TotalAmount>"), "/Amount/TotalAmount", "應等於銷售額"},
		{"items not adding up", replace(b2cInvoice, "<UnitPrice>420</UnitPrice>", "<UnitPrice>400</UnitPrice>", "<Amount>420</Amount>", "<Amount>400</Amount>"), "/Amount/SalesAmount", "品項金額合計 400 應等於銷售額 420"},
		{"unit price not amount", replace(b2cInvoice, "<UnitPrice>420</UnitPrice>", "<UnitPrice>421</UnitPrice>"), "/ProductItem[1]/Amount", "應等於單價"},
		{"B2B not adding up", replace(b2bInvoice, "<TotalAmount>420</TotalAmount>", "<TotalAmount>421</TotalAmount>"), "/Amount/TotalAmount", "銷售額 400 + 稅額 20 應等於總計 421"},
		{"B2B tax not 5%", replace(b2bInvoice, "<TaxAmount>20</TaxAmount>", "<TaxAmount>21</TaxAmount>", "<TotalAmount>420</TotalAmount>", "<TotalAmount>421</TotalAmount>"), "/Amount/TaxAmount", "= 20,實際為 21"},
		{"B2B tax-inclusive", replace(b2bInvoice, "<TaxAmount>20</TaxAmount>", "<TaxAmount>0</TaxAmount>", "<TotalAmount>420</TotalAmount>", "<TotalAmount>400</TotalAmount>"), "/Amount/TaxAmount", "5%"},
		{"decimal amount", replace(b2cInvoice, "<TotalAmount>420</TotalAmount>", "<TotalAmount>420.5</TotalAmount>"), "/Amount/TotalAmount", "應為 0 以上的整數"},
		{"tax rate", replace(b2cInvoice, "<TaxRate>0.05</TaxRate>", "<TaxRate>5</TaxRate>"), "/Amount/TaxRate", "應為 0.05"},
		{"number outside the book", replace(b2cInvoice, "<InvoiceNumber>AB12345600</InvoiceNumber>", "<InvoiceNumber>AB12345650</InvoiceNumber>"), "/Main/InvoiceNumber", "不在 11512 期匯入的號碼範圍內"},
		{"number of another period", replace(b2cInvoice, "<InvoiceDate>20261215</InvoiceDate>", "<InvoiceDate>20270101</InvoiceDate>"), "/Main/InvoiceNumber", "不在 11602 期"},
		{"other track", replace(b2cInvoice, "<InvoiceNumber>AB12345600</InvoiceNumber>", "<InvoiceNumber>AC12345600</InvoiceNumber>"), "/Main/InvoiceNumber", "不在"},
		{"bad number", replace(b2cInvoice, "<InvoiceNumber>AB12345600</InvoiceNumber>", "<InvoiceNumber>ab12345600</InvoiceNumber>"), "/Main/InvoiceNumber", "2 碼大寫英文字母加 8 碼數字"},
		{"bad seller BAN checksum", replace(b2cInvoice, "<Identifier>04595252</Identifier>", "<Identifier>04595253</Identifier>"), "/Seller/Identifier", "檢查碼"},
		{"bad buyer BAN checksum", replace(b2bInvoice, "<Identifier>22099131</Identifier>", "<Identifier>88117126</Identifier>"), "/Buyer/Identifier", "統一編號「88117126」不正確"},
		{"bad head BAN", replace(blank, "<HeadBan>04595252</HeadBan>", "<HeadBan>1234567</HeadBan>"), "/Main/HeadBan", "統一編號"},
		{"bad date", replace(b2cInvoice, "<InvoiceDate>20261215</InvoiceDate>", "<InvoiceDate>2026-12-15</InvoiceDate>"), "/Main/InvoiceDate", "yyyyMMdd"},
		{"no such day", replace(b2cInvoice, "<InvoiceDate>20261215</InvoiceDate>", "<InvoiceDate>20261232</InvoiceDate>"), "/Main/InvoiceDate", "yyyyMMdd"},
		{"bad time", replace(b2cInvoice, "<InvoiceTime>09:30:00</InvoiceTime>", "<InvoiceTime>9:30</InvoiceTime>"), "/Main/InvoiceTime", "HH:mm:ss"},
		{"invoice type", replace(b2cInvoice, "<InvoiceType>07</InvoiceType>", "<InvoiceType>08</InvoiceType>"), "/Main/InvoiceType", "應為 07"},
		{"random number", replace(b2cInvoice, "<RandomNumber>0420</RandomNumber>", "<RandomNumber>42</RandomNumber>"), "/Main/RandomNumber", "4 碼數字"},
		{"mobile barcode", replace(b2cInvoice, "/ABC+123", "/abc+123", "/ABC+123", "/abc+123"), "/Main/CarrierId1", "手機條碼"},
		{"carrier ids differ", replace(b2cInvoice, "<CarrierId2>/ABC+123</CarrierId2>", "<CarrierId2>/ABC+124</CarrierId2>"), "/Main/CarrierId2", "應與 CarrierId1"},
		{"carrier id missing", replace(b2cInvoice, "<CarrierId2>/ABC+123</CarrierId2>", ""), "/Main/CarrierType", "同時有"},
		{"citizen certificate", replace(b2cInvoice, "3J0002", "CQ0001", "/ABC+123", "AB1234567890123", "/ABC+123", "AB1234567890123"), "/Main/CarrierId1", "自然人憑證"},
		{"member carrier type", replace(b2cInvoice, "3J0002", "ej01", "/ABC+123", "M1", "/ABC+123", "M1"), "/Main/CarrierType", "6 碼"},
		{"B2C without carrier", replace(b2cInvoice, noCarrier, ""), "/Main/PrintMark", "需有載具或捐贈"},
		{"carrier with PrintMark Y", replace(b2cInvoice, "<PrintMark>N</PrintMark>", "<PrintMark>Y</PrintMark>"), "/Main/PrintMark", "應為 N"},
		{"B2B with PrintMark N", replace(b2bInvoice, "<PrintMark>Y</PrintMark>", "<PrintMark>N</PrintMark>"), "/Main/PrintMark", "應為 Y"},
		{"B2B with carrier", replace(b2bInvoice, "<PrintMark>Y</PrintMark>", noCarrier+"<PrintMark>Y</PrintMark>"), "/Main/PrintMark", "不應有載具"},
		{"donation without NPOBAN", replace(b2cInvoice, "<DonateMark>0</DonateMark>", "<DonateMark>1</DonateMark>", noCarrier, ""), "/Main/NPOBAN", "需有捐贈碼"},
		{"donation with carrier", replace(b2cInvoice, "<DonateMark>0</DonateMark>", "<DonateMark>1</DonateMark>", "<PrintMark>N</PrintMark>", "<PrintMark>N</PrintMark><NPOBAN>25885</NPOBAN>"), "/Main/DonateMark", "不可同時有載具"},
		{"NPOBAN too short", replace(b2cInvoice, "<DonateMark>0</DonateMark>", "<DonateMark>1</DonateMark>", noCarrier, "", "<PrintMark>N</PrintMark>", "<PrintMark>N</PrintMark><NPOBAN>12</NPOBAN>"), "/Main/NPOBAN", "3 至 7 碼數字"},
		{"NPOBAN without DonateMark", replace(b2cInvoice, "<PrintMark>N</PrintMark>", "<PrintMark>N</PrintMark><NPOBAN>25885</NPOBAN>"), "/Main/NPOBAN", "不應有捐贈碼"},
		{"B2B donation", replace(b2bInvoice, "<DonateMark>0</DonateMark>", "<DonateMark>1</DonateMark>", "<PrintMark>Y</PrintMark>", "<PrintMark>Y</PrintMark><NPOBAN>25885</NPOBAN>"), "/Main/DonateMark", "不可捐贈"},
		{"61-character name", replace(b2cInvoice, "王小明的店", strings.Repeat("店", 61)), "/Buyer/Name", "1 至 60 個字,實際為 61"},
		{"empty name", replace(b2cInvoice, "王小明的店", ""), "/Buyer/Name", "實際為 0"},
		{"501-character description", replace(b2cInvoice, "LINE官方帳號 高用量 2026/12", strings.Repeat("高", 501)), "/ProductItem[1]/Description", "1 至 500"},
		{"21-character reason", replace(cancelInvoice, "全額退款", strings.Repeat("退", 21)), "/CancelReason", "1 至 20"},
		{"cancel after the 12th", replace(cancelInvoice, "<CancelDate>20270112</CancelDate>", "<CancelDate>20270113</CancelDate>"), "/CancelDate", "已過期限(20270113 前)"},
		{"cancel before invoice", replace(cancelInvoice, "<CancelDate>20270112</CancelDate>", "<CancelDate>20261214</CancelDate>"), "/CancelDate", "早於發票日期"},
		{"cancelled number outside book", replace(cancelInvoice, "<CancelInvoiceNumber>AB12345600</CancelInvoiceNumber>", "<CancelInvoiceNumber>AB12345699</CancelInvoiceNumber>"), "/CancelInvoiceNumber", "不在"},
		{"17-character allowance number", replace(allowance, "ALAB1234560001", "ALAB1234560001XYZ"), "/Main/AllowanceNumber", "1 至 16"},
		{"allowance type", replace(allowance, "<AllowanceType>2</AllowanceType>", "<AllowanceType>1</AllowanceType>"), "/Main/AllowanceType", "應為 2"},
		{"allowance total not sum", replace(allowance, "<TotalAmount>200</TotalAmount>", "<TotalAmount>210</TotalAmount>"), "/Amount/TotalAmount", "應等於品項金額(未稅)合計 200"},
		{"allowance tax not sum", replace(allowance, "<TaxAmount>10</TaxAmount>", "<TaxAmount>11</TaxAmount>"), "/Amount/TaxAmount", "應等於品項稅額合計 10"},
		{"allowance tax-inclusive item", replace(allowance, "<UnitPrice>200</UnitPrice>", "<UnitPrice>210</UnitPrice>", "<Amount>200</Amount>", "<Amount>210</Amount>", "<Tax>10</Tax>", "<Tax>0</Tax>", "<TaxAmount>10</TaxAmount>", "<TaxAmount>0</TaxAmount>", "<TotalAmount>200</TotalAmount>", "<TotalAmount>210</TotalAmount>"), "/ProductItem[1]/Tax", "5%"},
		{"allowance before invoice", replace(allowance, "<AllowanceDate>20270120</AllowanceDate>", "<AllowanceDate>20261214</AllowanceDate>"), "/Main/AllowanceDate", "早於原發票日期"},
		{"allowance of unknown number", replace(allowance, "<OriginalInvoiceNumber>AB12345600</OriginalInvoiceNumber>", "<OriginalInvoiceNumber>AB99999999</OriginalInvoiceNumber>"), "/OriginalInvoiceNumber", "不在"},
		{"allowance cancel before allowance", replace(cancelAllowance, "<CancelDate>20270121</CancelDate>", "<CancelDate>20270119</CancelDate>"), "/CancelDate", "早於折讓日期"},
		{"blank outside book", replace(blank, "<InvoiceEndNo>12345649</InvoiceEndNo>", "<InvoiceEndNo>12345699</InvoiceEndNo>"), "/BranchTrackBlankItem[1]", "不在 11512 期"},
		{"blank reversed", replace(blank, "<InvoiceBeginNo>12345603</InvoiceBeginNo>", "<InvoiceBeginNo>12345649</InvoiceBeginNo>", "<InvoiceEndNo>12345649</InvoiceEndNo>", "<InvoiceEndNo>12345603</InvoiceEndNo>"), "/BranchTrackBlankItem[1]", "大於迄號"},
		{"blanks overlap", replace(blank, "<InvoiceBeginNo>12345700</InvoiceBeginNo>", "<InvoiceBeginNo>12345640</InvoiceBeginNo>"), "/BranchTrackBlankItem[2]", "重疊"},
		{"blank period", replace(blank, "<YearMonth>11512</YearMonth>", "<YearMonth>11511</YearMonth>"), "/Main/YearMonth", "雙月"},
		{"blank of another period", replace(blank, "<YearMonth>11512</YearMonth>", "<YearMonth>11602</YearMonth>"), "/BranchTrackBlankItem[1]", "不在 11602 期"},
		{"blank without items", replace(blank, "<BranchTrackBlankItem><InvoiceBeginNo>12345603</InvoiceBeginNo><InvoiceEndNo>12345649</InvoiceEndNo></BranchTrackBlankItem>\n    <BranchTrackBlankItem><InvoiceBeginNo>12345700</InvoiceBeginNo><InvoiceEndNo>12345749</InvoiceEndNo></BranchTrackBlankItem>\n", ""), "/Details/BranchTrackBlankItem", "缺少必要欄位"},
	} {
		ps := Check([]byte(c.doc), books)
		found := false
		for _, p := range ps {
			if strings.HasSuffix(p.Path, c.path) && strings.Contains(p.Message, c.want) {
				found = true
			}
		}
		if !found {
			t.Errorf("%s: want a problem at …%s saying %q; got %v", c.name, c.path, c.want, ps)
		}
	}
}

func TestNoBooksNoNumber(t *testing.T) {
	ps := Check([]byte(b2cInvoice), nil)
	if len(ps) != 1 || !strings.HasSuffix(ps[0].Path, "/InvoiceNumber") {
		t.Errorf("Check without books = %v, want one problem on the number", ps)
	}
}

func TestCheckAsWrongFolder(t *testing.T) {
	if ps := CheckAs("F0501", []byte(b2cInvoice), books); len(ps) != 1 || !strings.Contains(ps[0].Message, "根元素應為 <CancelInvoice>") {
		t.Errorf("CheckAs(F0501, an F0401) = %v", ps)
	}
}
