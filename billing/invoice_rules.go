package billing

import (
	"crypto/rand"
	"fmt"
	"io"
	"math/big"
	"time"
)

// Rules for issuing, cancelling and allowing e-invoices (EINVOICE.md): the
// amounts an invoice shows, the split of a refund into an allowance, the
// upload deadlines, the random number and the choice between F0501 and G0401.

// B2CBuyerID is the buyer identifier of an invoice to a person (no 統一編號).
const B2CBuyerID = "0000000000"

// InvoiceAmounts are the amounts an F0401 shows for one charge with one item.
type InvoiceAmounts struct {
	UnitPrice   Money // the item's unit price (quantity 1)
	Amount      Money // the item's amount
	SalesAmount Money // 應稅銷售額
	TaxAmount   Money // 營業稅額
	TotalAmount Money // 總計
}

// InvoiceAmountsFor returns the amounts of the invoice for a charge of net +
// tax = total. B2C amounts are tax-inclusive: the item's unit price and
// amount, the sales amount and the total are all the charge's total, and the
// tax amount is 0. B2B amounts are tax-exclusive: the item and the sales
// amount are the net, the tax amount the charge's tax, the total its total.
// It returns EInvalid if the three do not add up or the total is not above 0
// (a free charge has no invoice).
func InvoiceAmountsFor(net, tax, total Money, b2b bool) (InvoiceAmounts, error) {
	if net+tax != total || net < 0 || tax < 0 {
		return InvoiceAmounts{}, Errorf(EInvalid, "發票金額不一致:未稅 %d + 稅額 %d ≠ 總計 %d", net, tax, total)
	}
	if total <= 0 {
		return InvoiceAmounts{}, Errorf(EInvalid, "金額為 0 的款項不開立發票")
	}
	if !b2b {
		return InvoiceAmounts{UnitPrice: total, Amount: total, SalesAmount: total, TotalAmount: total}, nil
	}
	return InvoiceAmounts{UnitPrice: net, Amount: net, SalesAmount: net, TaxAmount: tax, TotalAmount: total}, nil
}

// SplitRefund splits a tax-inclusive refund into the allowance's
// tax-exclusive amount and its tax, which add up to refund exactly:
// net = refund ÷ 1.05 rounded half up to a whole dollar, tax = refund − net.
// Rounding the net (not the tax) keeps a full refund of a B2B charge equal to
// its invoice: for any net n, round((n + TaxOn(n)) ÷ 1.05) = n, because
// TaxOn is within 0.5 of 5 % of n.
func SplitRefund(refund Money) (net, tax Money) {
	if refund <= 0 {
		return 0, 0
	}
	// round(refund×100/105) half up = floor((refund×200 + 105) / 210).
	net = (refund*200 + 105) / 210
	return net, refund - net
}

// UploadDeadline is when an invoice, a cancel or an allowance made at event
// must be uploaded by: 48 hours after it for a B2C buyer, 7 days for B2B.
func UploadDeadline(event time.Time, b2b bool) time.Time {
	if b2b {
		return event.Add(7 * 24 * time.Hour)
	}
	return event.Add(48 * time.Hour)
}

// NewRandomNumber returns an invoice's 4-digit random number (隨機碼),
// "0000" to "9999", drawn from crypto/rand.
func NewRandomNumber() (string, error) {
	return randomNumber(rand.Reader)
}

func randomNumber(r io.Reader) (string, error) {
	n, err := rand.Int(r, big.NewInt(10000))
	if err != nil {
		return "", fmt.Errorf("invoice random number: %w", err)
	}
	return fmt.Sprintf("%04d", n.Int64()), nil
}

// RefundMessage is the e-invoice message a refund produces.
type RefundMessage string

// Refund messages.
const (
	RefundCancel    RefundMessage = "F0501" // 作廢: the invoice is cancelled
	RefundAllowance RefundMessage = "G0401" // 折讓: an allowance against it
)

// RefundDecision is what a refund does to an invoice.
type RefundDecision struct {
	Message RefundMessage
	// NeedsAgreement is set for a B2C allowance: it is issued only once the
	// buyer agrees (the store e-mails the admin a link).
	NeedsAgreement bool
	// Net and Tax are an allowance's tax-exclusive amount and tax
	// (SplitRefund); zero for a cancel.
	Net, Tax Money
}

// DecideRefund decides what refunding refund (tax-inclusive) of an invoice of
// total, issued at issued, does at instant at. A full refund before the
// cancel deadline of the invoice's period cancels it (F0501); a partial
// refund, or any refund from the deadline on, is an allowance (G0401), which
// for a B2C buyer needs the buyer's agreement. It returns EInvalid if refund
// is not above 0 or exceeds total.
func DecideRefund(issued time.Time, total, refund Money, at time.Time, b2b bool) (RefundDecision, error) {
	if refund <= 0 || refund > total {
		return RefundDecision{}, Errorf(EInvalid, "退款金額 %d 應大於 0 且不超過發票總計 %d", refund, total)
	}
	if refund == total && at.Before(InvoicePeriodOf(issued).CancelDeadline()) {
		return RefundDecision{Message: RefundCancel}, nil
	}
	net, tax := SplitRefund(refund)
	return RefundDecision{Message: RefundAllowance, NeedsAgreement: !b2b, Net: net, Tax: tax}, nil
}

// MaxAllowanceNumber is the platform's limit on an allowance number's length.
const MaxAllowanceNumber = 16

// AllowanceNumber returns the number of the seq-th allowance (1 to 99)
// against invoice n: "AL" + the invoice number + seq in 2 digits, 14
// characters, "ALAB1234560001". It is unique as long as invoice numbers are
// (the store never uses a number twice); the store's unique constraint on
// allowance numbers is the second lock.
func AllowanceNumber(n InvoiceNumber, seq int) (string, error) {
	if !ValidInvoiceNumber(string(n)) {
		return "", Errorf(EInvalid, "發票號碼「%s」格式不正確", n)
	}
	if seq < 1 || seq > 99 {
		return "", Errorf(EInvalid, "同一張發票最多開立 99 張折讓單(序號 %d)", seq)
	}
	return fmt.Sprintf("AL%s%02d", n, seq), nil
}
