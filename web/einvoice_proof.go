package web

import (
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/billing/mig"
	"webstore/db"
	"webstore/views"
)

// A charge's e-invoice and refunds on the admin's pages (charge page,
// receipt, 付款記錄), and a company's printable 電子發票證明聯.

// withInvoice adds to a charge's view its e-invoice and refunds, from what
// the overview read with it.
func withInvoice(v views.Charge, o db.Overview) views.Charge {
	if inv, ok := o.Invoices[v.ID]; ok {
		iv := invoiceView(inv)
		v.EInvoice = &iv
	}
	v.Refunds = refundsView(v.Total, o.Refunds[v.ID], o.Allowances[v.ID], o.Now)
	return v
}

// invoiceView is an invoice as its buyer reads it. Whom it went to comes
// from what it was issued with (the account's details may have changed
// since): a company's 統一編號, a donation's 愛心碼, or its carrier.
func invoiceView(inv db.Invoice) views.ChargeInvoice {
	v := views.ChargeInvoice{Number: inv.Number, At: inv.At, RandomNumber: inv.RandomNumber, CarrierID: inv.CarrierID,
		NPOBAN: inv.NPOBAN, Printable: inv.Printable()}
	switch inv.Status {
	case db.InvoiceIssued:
		v.State = views.InvoiceIssued
	case db.InvoiceCancelled:
		v.State = views.InvoiceCancelled
		if inv.CancelledAt != nil {
			v.CancelledAt = *inv.CancelledAt
		}
	default:
		v.State = views.InvoiceWaiting
	}
	switch {
	case inv.B2B:
		v.To, v.BuyerBAN, v.BuyerName = billing.InvoiceCompany, inv.BuyerBAN, inv.BuyerName
	case inv.NPOBAN != "":
		v.To = billing.InvoiceDonation
	case inv.CarrierType == mig.CarrierMobileBarcode:
		v.To = billing.InvoiceMobileBarcode
	case inv.CarrierType == mig.CarrierCitizenCertificate:
		v.To = billing.InvoiceCitizenCertificate
	case inv.CarrierType != "":
		v.To = billing.InvoiceMember
	}
	return v
}

// refundsView is what a charge of total's refunds say: each given back or
// pending (a failed one gave nothing back and is not shown), what the
// charge paid net of them, and an allowance waiting for the admin's
// agreement, while its e-mailed link is still good.
func refundsView(total billing.Money, rs []db.Refund, als []db.Allowance, now time.Time) views.ChargeRefunds {
	v := views.ChargeRefunds{Tally: billing.RefundTally{Total: total}}
	for _, r := range rs {
		v.Tally.Add(r.Status, r.Amount)
		switch r.Status {
		case billing.RefundSucceeded:
			at := r.CreatedAt
			if r.SettledAt != nil {
				at = *r.SettledAt
			}
			v.Lines = append(v.Lines, views.RefundLine{At: at, Amount: r.Amount})
		case billing.RefundPending:
			v.Lines = append(v.Lines, views.RefundLine{At: r.CreatedAt, Amount: r.Amount, Pending: true})
		}
	}
	for _, al := range als {
		if al.Status == db.AllowanceAwaitingConsent && al.ConsentExpires != nil && al.ConsentExpires.After(now) {
			v.AwaitingConsent, v.ConsentUntil = true, *al.ConsentExpires
		}
	}
	return v
}

// einvoiceProof is a company's printable 電子發票證明聯: 404 for a charge
// with no invoice, a person's invoice, or one still waiting for its number.
func (s *Server) einvoiceProof(c echo.Context) error {
	o, ch, err := s.chargeOverview(c)
	if err != nil {
		return err
	}
	inv, ok := o.Invoices[ch.ID]
	if !ok || !inv.Printable() {
		return echo.ErrNotFound
	}
	seller := s.store.InvoiceSeller()
	v := views.EInvoiceProofView{ChargeID: ch.ID, SellerBAN: seller.BAN, Seller: seller.Name, Invoice: invoiceView(inv),
		Description: inv.Description, Net: inv.Net, Tax: inv.Tax, Total: inv.Total}
	return render(c, http.StatusOK, views.EInvoiceProof(page(c, lang(c).T("電子發票證明聯", "E-invoice proof")), v))
}
