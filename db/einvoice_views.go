package db

import (
	"time"

	"webstore/billing"
)

// What the admin's pages show of a charge's e-invoice, refunds and
// allowances: read with the account overview (FindOverviewWith, migration
// 019), in the page's one statement.

// Invoice states (einvoices.status).
const (
	InvoiceWaiting   = "waiting"   // no number left in its period yet
	InvoiceIssued    = "issued"    // numbered and reported (F0401)
	InvoiceCancelled = "cancelled" // cancelled by a full refund (F0501)
)

// Allowance states (einvoice_allowances.status).
const (
	AllowanceAwaitingConsent = "awaiting_consent"
	AllowanceIssued          = "issued"
)

// Invoice is a charge's e-invoice as its buyer sees it.
type Invoice struct {
	ChargeID int64 `json:"charge_id"`
	// Number is "" while the invoice waits for numbers.
	Number string `json:"number"`
	Status string `json:"status"`
	// At is the instant the charge was paid: InvoiceDate and InvoiceTime.
	At           time.Time `json:"invoice_at"`
	RandomNumber string    `json:"random_number"` // "" while waiting
	B2B          bool      `json:"b2b"`
	// BuyerBAN is the company's 統一編號 (B2B) or 0000000000.
	BuyerBAN  string `json:"buyer_ban"`
	BuyerName string `json:"buyer_name"`
	// CarrierType and CarrierID are where a person's invoice is kept
	// (3J0002, CQ0001 or the seller's member carrier); NPOBAN the 愛心碼 of
	// a donated one.
	CarrierType string        `json:"carrier_type"`
	CarrierID   string        `json:"carrier_id"`
	NPOBAN      string        `json:"npoban"`
	PrintMark   string        `json:"print_mark"`
	Description string        `json:"description"`
	Net         billing.Money `json:"net"`
	Tax         billing.Money `json:"tax"`
	Total       billing.Money `json:"total"`
	CancelledAt *time.Time    `json:"cancelled_at"`
	// Allowed is what the allowances against it add up to (issued or
	// waiting for the admin's agreement).
	Allowed billing.Money `json:"allowed"`
}

// Period is the two-month period the invoice belongs to: the one
// containing the instant it was paid.
func (i Invoice) Period() billing.InvoicePeriod { return billing.InvoicePeriodOf(i.At) }

// Printable is whether the invoice has a 電子發票證明聯 for the buyer to
// print: a company's (PrintMark Y) once it has its number.
func (i Invoice) Printable() bool {
	return i.PrintMark == "Y" && i.Number != ""
}

// InvoiceSeller is who issues the store's invoices (the demo seller when
// none is configured), as a 電子發票證明聯 names it.
func (s *Store) InvoiceSeller() billing.Seller { return s.seller() }

// chargeExtras are the e-invoice, refunds and allowances of the charges an
// overview read, by charge.
type chargeExtras struct {
	Invoices   jsonList[Invoice]   `db:"einvoices"`
	Refunds    jsonList[Refund]    `db:"refunds"`
	Allowances jsonList[Allowance] `db:"allowances"`
}

func (x chargeExtras) fill(o *Overview) {
	o.Invoices = map[int64]Invoice{}
	for _, inv := range x.Invoices {
		o.Invoices[inv.ChargeID] = inv
	}
	o.Refunds = map[int64][]Refund{}
	for _, r := range x.Refunds {
		o.Refunds[r.ChargeID] = append(o.Refunds[r.ChargeID], r)
	}
	o.Allowances = map[int64][]Allowance{}
	for _, al := range x.Allowances {
		o.Allowances[al.ChargeID] = append(o.Allowances[al.ChargeID], al)
		if inv, ok := o.Invoices[al.ChargeID]; ok {
			inv.Allowed += al.Total
			o.Invoices[al.ChargeID] = inv
		}
	}
}
