package views

import (
	"fmt"
	"time"

	"webstore/billing"
)

// InvoiceState is where a charge's e-invoice stands, as its pages say it.
type InvoiceState string

// Invoice states.
const (
	InvoiceIssued    InvoiceState = "issued"    // 已開立
	InvoiceWaiting   InvoiceState = "waiting"   // 待配號: issued as soon as numbers are available
	InvoiceCancelled InvoiceState = "cancelled" // 已作廢
)

// ChargeInvoice is a charge's e-invoice on the admin's pages: its number,
// date, random number and whom it was issued to.
type ChargeInvoice struct {
	Number       string // "" while it waits for numbers
	State        InvoiceState
	At           time.Time // InvoiceDate and InvoiceTime
	RandomNumber string
	// To is how it was issued: to a carrier (member, mobile barcode,
	// citizen certificate), donated, or to a company.
	To          billing.InvoiceKind
	CarrierID   string // the barcode, certificate number or member number
	NPOBAN      string // the 愛心碼 of a donated invoice
	BuyerBAN    string // a company's 統一編號
	BuyerName   string // a company's title
	Printable   bool   // a company's, with its 電子發票證明聯
	CancelledAt time.Time
}

// RefundLine is one refund of a charge: pending or given back.
type RefundLine struct {
	At      time.Time // when it was given back, or asked for while pending
	Amount  billing.Money
	Pending bool
}

// ChargeRefunds is what a charge's refunds say on its pages.
type ChargeRefunds struct {
	Lines []RefundLine
	Tally billing.RefundTally
	// AwaitingConsent is an allowance (折讓) waiting for the admin to agree
	// through the e-mailed link, until ConsentUntil.
	AwaitingConsent bool
	ConsentUntil    time.Time
}

// Any is whether the charge has a refund to show.
func (r ChargeRefunds) Any() bool { return len(r.Lines) > 0 }

// InvoiceTo is to whom, or where, an e-invoice was issued, in words:
// 「手機條碼載具 /ABC+123」, 「捐贈 愛心碼 8585」, 「統一編號 12345678 範例股份有限公司」.
func (l Lang) InvoiceTo(inv ChargeInvoice) string {
	switch inv.To {
	case billing.InvoiceMobileBarcode:
		return l.T("手機條碼載具 ", "Mobile barcode ") + inv.CarrierID
	case billing.InvoiceCitizenCertificate:
		return l.T("自然人憑證載具 ", "Citizen certificate ") + inv.CarrierID
	case billing.InvoiceMember:
		return l.T("會員載具 ", "Member carrier ") + inv.CarrierID
	case billing.InvoiceDonation:
		return l.T("捐贈 愛心碼 ", "Donated, code ") + inv.NPOBAN
	case billing.InvoiceCompany:
		return l.T("統一編號 ", "Tax ID ") + inv.BuyerBAN + " " + inv.BuyerName
	}
	return ""
}

// InvoiceState is an invoice's state in words.
func (l Lang) InvoiceState(s InvoiceState) string {
	switch s {
	case InvoiceIssued:
		return l.T("已開立", "Issued")
	case InvoiceWaiting:
		return l.T("待配號", "Awaiting a number")
	case InvoiceCancelled:
		return l.T("已作廢", "Cancelled")
	}
	return string(s)
}

// TWSeconds formats an instant in Taiwan time to the second, as an
// e-invoice's date and time read.
func TWSeconds(t time.Time) string { return t.In(billing.Taipei).Format("2006/01/02 15:04:05") }

// InvoicePeriod names a two-month e-invoice period in words: 「115年11–12月」,
// "Nov–Dec 2026".
func (l Lang) InvoicePeriod(p billing.InvoicePeriod) string {
	if l == ZH {
		return fmt.Sprintf("%d年%d–%d月", p.Year-1911, int(p.Month), int(p.Month)+1)
	}
	return fmt.Sprintf("%s–%s %d", p.Month.String()[:3], (p.Month + 1).String()[:3], p.Year)
}

// InvoicePeriodLabel is the two-month period an invoice belongs to, as a
// printed invoice heads it (in Chinese, a Taiwan tax document): 「115年11–12月」.
func InvoicePeriodLabel(t time.Time) string { return ZH.InvoicePeriod(billing.InvoicePeriodOf(t)) }

// EInvoiceProofView is a company's 電子發票證明聯.
type EInvoiceProofView struct {
	ChargeID          int64
	SellerBAN, Seller string
	Invoice           ChargeInvoice
	Description       string
	// Net, Tax and Total are the invoice's tax-exclusive amount (銷售額),
	// its 營業稅 and 總計.
	Net, Tax, Total billing.Money
}

// DashedInvoiceNumber is an invoice number as printed: 「AB-12345600」.
func DashedInvoiceNumber(n string) string {
	if len(n) != 10 {
		return n
	}
	return n[:2] + "-" + n[2:]
}

// MessageType names a MIG message type (F0401, G0401…) in words.
func (l Lang) MessageType(t string) string {
	switch t {
	case "F0401":
		return l.T("開立發票", "Invoice")
	case "F0501":
		return l.T("作廢發票", "Cancellation")
	case "G0401":
		return l.T("開立折讓", "Allowance")
	case "G0501":
		return l.T("作廢折讓", "Allowance cancellation")
	case "E0402":
		return l.T("空白字軌", "Unused numbers")
	}
	return t
}
