package mig

import (
	"encoding/xml"
	"time"

	"webstore/billing"
)

// G0401 is an allowance (折讓) issued by the seller against one invoice, with
// one item: the refund split into its tax-exclusive amount and tax
// (billing.SplitRefund).
type G0401 struct {
	AllowanceNumber string    // billing.AllowanceNumber, at most 16 characters
	Date            time.Time // when the allowance is made
	Seller          Party
	Buyer           Party
	// The original invoice: its number, when it was issued and its item's
	// description.
	InvoiceNumber       billing.InvoiceNumber
	InvoiceIssued       time.Time
	InvoiceDescription  string
	Net, Tax            billing.Money // tax-exclusive amount and its tax
	InvoiceItemSequence string        // the original item's SequenceNumber; "" means "001"
}

// Type implements Message.
func (G0401) Type() string { return "G0401" }

// Number implements Message.
func (m G0401) Number() string { return m.AllowanceNumber }

type g0401Wire struct {
	XMLName xml.Name
	Main    g0401Main
	Details struct {
		ProductItem []g0401Item
	}
	Amount g0401Amount
}

// g0401Main follows Main: AllowanceNumber, AllowanceDate, Seller, Buyer,
// AllowanceType, (Attachment).
type g0401Main struct {
	AllowanceNumber string
	AllowanceDate   string
	Seller          wireParty
	Buyer           wireParty
	AllowanceType   string
}

// g0401Item follows ProductItem: OriginalInvoiceDate, OriginalInvoiceNumber,
// OriginalSequenceNumber, OriginalDescription, Quantity, (Unit), UnitPrice,
// Amount, Tax, AllowanceSequenceNumber, TaxType.
type g0401Item struct {
	OriginalInvoiceDate     string
	OriginalInvoiceNumber   string
	OriginalSequenceNumber  string
	OriginalDescription     string
	Quantity                string
	UnitPrice               string
	Amount                  string
	Tax                     string
	AllowanceSequenceNumber string
	TaxType                 string
}

// g0401Amount follows Amount: TaxAmount, TotalAmount (tax-exclusive).
type g0401Amount struct {
	TaxAmount   string
	TotalAmount string
}

// allowanceBySeller is AllowanceType 2: the seller issues the allowance.
const allowanceBySeller = "2"

// XML implements Message. It returns EInvalid for a malformed number, an
// empty or too long name or description, or an amount not above 0.
func (m G0401) XML() ([]byte, error) {
	if m.AllowanceNumber == "" || len(m.AllowanceNumber) > billing.MaxAllowanceNumber {
		return nil, billing.Errorf(billing.EInvalid, "折讓單號碼「%s」應為 1 至 %d 個字元", m.AllowanceNumber, billing.MaxAllowanceNumber)
	}
	if !billing.ValidInvoiceNumber(string(m.InvoiceNumber)) {
		return nil, billing.Errorf(billing.EInvalid, "發票號碼「%s」格式不正確", m.InvoiceNumber)
	}
	if err := checkParty("賣方", m.Seller); err != nil {
		return nil, err
	}
	if err := checkParty("買方", m.Buyer); err != nil {
		return nil, err
	}
	if _, err := billing.CleanText("原品名", m.InvoiceDescription, MaxDescription); err != nil {
		return nil, err
	}
	if m.Net <= 0 || m.Tax < 0 {
		return nil, billing.Errorf(billing.EInvalid, "折讓金額不正確:未稅 %d、稅額 %d", m.Net, m.Tax)
	}
	seq := m.InvoiceItemSequence
	if seq == "" {
		seq = "001"
	}
	w := g0401Wire{
		XMLName: root("G0401", "Allowance"),
		Main: g0401Main{
			AllowanceNumber: m.AllowanceNumber,
			AllowanceDate:   date(m.Date),
			Seller:          m.Seller.wire(),
			Buyer:           m.Buyer.wire(),
			AllowanceType:   allowanceBySeller,
		},
		Amount: g0401Amount{TaxAmount: amount(m.Tax), TotalAmount: amount(m.Net)},
	}
	w.Details.ProductItem = []g0401Item{{
		OriginalInvoiceDate:     date(m.InvoiceIssued),
		OriginalInvoiceNumber:   string(m.InvoiceNumber),
		OriginalSequenceNumber:  seq,
		OriginalDescription:     m.InvoiceDescription,
		Quantity:                "1",
		UnitPrice:               amount(m.Net),
		Amount:                  amount(m.Net),
		Tax:                     amount(m.Tax),
		AllowanceSequenceNumber: "1",
		TaxType:                 taxTypeOne,
	}}
	return marshal(w)
}

// G0501 cancels an allowance.
type G0501 struct {
	AllowanceNumber string
	AllowanceDate   time.Time // the allowance's Date
	BuyerID         string
	SellerID        string
	Cancelled       time.Time
	Reason          string // at most MaxCancelReason runes
}

// Type implements Message.
func (G0501) Type() string { return "G0501" }

// Number implements Message.
func (m G0501) Number() string { return m.AllowanceNumber }

// g0501Wire follows CancelAllowance: CancelAllowanceNumber, AllowanceDate,
// BuyerId, SellerId, CancelDate, CancelTime, CancelReason, (Remark).
type g0501Wire struct {
	XMLName               xml.Name
	CancelAllowanceNumber string
	AllowanceDate         string
	BuyerId               string
	SellerId              string
	CancelDate            string
	CancelTime            string
	CancelReason          string
}

// XML implements Message. It returns EInvalid for a malformed number or a
// missing or too long reason.
func (m G0501) XML() ([]byte, error) {
	if m.AllowanceNumber == "" || len(m.AllowanceNumber) > billing.MaxAllowanceNumber {
		return nil, billing.Errorf(billing.EInvalid, "折讓單號碼「%s」應為 1 至 %d 個字元", m.AllowanceNumber, billing.MaxAllowanceNumber)
	}
	if err := checkReason(m.Reason); err != nil {
		return nil, err
	}
	return marshal(g0501Wire{
		XMLName:               root("G0501", "CancelAllowance"),
		CancelAllowanceNumber: m.AllowanceNumber,
		AllowanceDate:         date(m.AllowanceDate),
		BuyerId:               m.BuyerID,
		SellerId:              m.SellerID,
		CancelDate:            date(m.Cancelled),
		CancelTime:            clock(m.Cancelled),
		CancelReason:          m.Reason,
	})
}
