package mig

import (
	"encoding/xml"
	"time"

	"webstore/billing"
)

// F0401 is an issued invoice (B2C or B2B) with one item.
type F0401 struct {
	InvoiceNumber billing.InvoiceNumber
	Issued        time.Time // when the charge was paid; written in Taiwan time
	Seller        Party
	Buyer         Party // Identifier billing.B2CBuyerID for a person
	// Carrier is a B2C invoice's carrier; the zero Carrier for a donation
	// or a B2B invoice.
	Carrier Carrier
	// NPOBAN is the 愛心碼 of a donated invoice (DonateMark 1), else "".
	NPOBAN       string
	RandomNumber string // 4 digits, billing.NewRandomNumber
	Description  string // ItemDescription
	Amounts      billing.InvoiceAmounts
}

// B2B reports whether the buyer is a company (has a 統一編號).
func (m F0401) B2B() bool { return m.Buyer.Identifier != billing.B2CBuyerID }

// Type implements Message.
func (F0401) Type() string { return "F0401" }

// Number implements Message.
func (m F0401) Number() string { return string(m.InvoiceNumber) }

type f0401Wire struct {
	XMLName xml.Name
	Main    f0401Main
	Details struct {
		ProductItem []f0401Item
	}
	Amount f0401Amount
}

// f0401Main follows the schema's Main sequence: InvoiceNumber, InvoiceDate,
// InvoiceTime, Seller, Buyer, (BuyerRemark, MainRemark,
// CustomsClearanceMark, Category, RelateNumber), InvoiceType, (GroupMark),
// DonateMark, CarrierType, CarrierId1, CarrierId2, PrintMark, NPOBAN,
// RandomNumber, … Parenthesised elements are optional and not written.
type f0401Main struct {
	InvoiceNumber string
	InvoiceDate   string
	InvoiceTime   string
	Seller        wireParty
	Buyer         wireParty
	InvoiceType   string
	DonateMark    string
	CarrierType   string `xml:",omitempty"`
	CarrierId1    string `xml:",omitempty"`
	CarrierId2    string `xml:",omitempty"`
	PrintMark     string
	NPOBAN        string `xml:",omitempty"`
	RandomNumber  string
}

// f0401Item follows ProductItem: Description, Quantity, (Unit), UnitPrice,
// TaxType, Amount, SequenceNumber, (Remark, RelateNumber).
type f0401Item struct {
	Description    string
	Quantity       string
	UnitPrice      string
	TaxType        string
	Amount         string
	SequenceNumber string
}

// f0401Amount follows Amount: SalesAmount, FreeTaxSalesAmount,
// ZeroTaxSalesAmount, TaxType, TaxRate, TaxAmount, TotalAmount, (…).
type f0401Amount struct {
	SalesAmount        string
	FreeTaxSalesAmount string
	ZeroTaxSalesAmount string
	TaxType            string
	TaxRate            string
	TaxAmount          string
	TotalAmount        string
}

// Fixed values of the store's invoices: 一般稅額 (InvoiceType 07), taxable
// (TaxType 1) at 5 %.
const (
	invoiceType = "07"
	taxTypeOne  = "1"
	taxRate     = "0.05"
)

// XML implements Message. It returns EInvalid if the number is not a number
// or a name or the description is empty or too long; the field rules as a
// whole are migcheck's.
func (m F0401) XML() ([]byte, error) {
	if !billing.ValidInvoiceNumber(string(m.InvoiceNumber)) {
		return nil, billing.Errorf(billing.EInvalid, "發票號碼「%s」格式不正確", m.InvoiceNumber)
	}
	if err := checkParty("賣方", m.Seller); err != nil {
		return nil, err
	}
	if err := checkParty("買方", m.Buyer); err != nil {
		return nil, err
	}
	if _, err := billing.CleanText("品名", m.Description, MaxDescription); err != nil {
		return nil, err
	}
	donate, printMark := "0", "N"
	if m.NPOBAN != "" {
		donate = "1"
	}
	if m.B2B() {
		printMark = "Y" // a printable 電子發票證明聯 is offered to the admin
	}
	a := m.Amounts
	w := f0401Wire{
		XMLName: root("F0401", "Invoice"),
		Main: f0401Main{
			InvoiceNumber: string(m.InvoiceNumber),
			InvoiceDate:   date(m.Issued),
			InvoiceTime:   clock(m.Issued),
			Seller:        m.Seller.wire(),
			Buyer:         m.Buyer.wire(),
			InvoiceType:   invoiceType,
			DonateMark:    donate,
			CarrierType:   m.Carrier.Type,
			CarrierId1:    m.Carrier.ID,
			CarrierId2:    m.Carrier.ID,
			PrintMark:     printMark,
			NPOBAN:        m.NPOBAN,
			RandomNumber:  m.RandomNumber,
		},
		Amount: f0401Amount{
			SalesAmount:        amount(a.SalesAmount),
			FreeTaxSalesAmount: "0",
			ZeroTaxSalesAmount: "0",
			TaxType:            taxTypeOne,
			TaxRate:            taxRate,
			TaxAmount:          amount(a.TaxAmount),
			TotalAmount:        amount(a.TotalAmount),
		},
	}
	w.Details.ProductItem = []f0401Item{{
		Description:    m.Description,
		Quantity:       "1",
		UnitPrice:      amount(a.UnitPrice),
		TaxType:        taxTypeOne,
		Amount:         amount(a.Amount),
		SequenceNumber: "001",
	}}
	return marshal(w)
}

// F0501 cancels (作廢) an invoice.
type F0501 struct {
	InvoiceNumber billing.InvoiceNumber
	Issued        time.Time // the invoice's InvoiceDate
	BuyerID       string    // the invoice's buyer identifier
	SellerID      string
	Cancelled     time.Time
	Reason        string // at most MaxCancelReason runes
}

// Type implements Message.
func (F0501) Type() string { return "F0501" }

// Number implements Message.
func (m F0501) Number() string { return string(m.InvoiceNumber) }

// f0501Wire follows CancelInvoice: CancelInvoiceNumber, InvoiceDate, BuyerId,
// SellerId, CancelDate, CancelTime, CancelReason, (ReturnTaxDocumentNumber,
// Remark, …).
type f0501Wire struct {
	XMLName             xml.Name
	CancelInvoiceNumber string
	InvoiceDate         string
	BuyerId             string
	SellerId            string
	CancelDate          string
	CancelTime          string
	CancelReason        string
}

// XML implements Message. It returns EInvalid for a malformed number or a
// missing or too long reason.
func (m F0501) XML() ([]byte, error) {
	if !billing.ValidInvoiceNumber(string(m.InvoiceNumber)) {
		return nil, billing.Errorf(billing.EInvalid, "發票號碼「%s」格式不正確", m.InvoiceNumber)
	}
	if err := checkReason(m.Reason); err != nil {
		return nil, err
	}
	return marshal(f0501Wire{
		XMLName:             root("F0501", "CancelInvoice"),
		CancelInvoiceNumber: string(m.InvoiceNumber),
		InvoiceDate:         date(m.Issued),
		BuyerId:             m.BuyerID,
		SellerId:            m.SellerID,
		CancelDate:          date(m.Cancelled),
		CancelTime:          clock(m.Cancelled),
		CancelReason:        m.Reason,
	})
}
