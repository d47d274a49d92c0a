package web

import (
	"net/http"
	"net/url"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 電子發票資訊: the account's e-invoice details.

func (s *Server) einvoice(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipCode | db.SkipOwed})
	if err != nil {
		return err
	}
	v := views.InvoiceView{Next: localNext(c.QueryParam("next"), "")}
	if o.Invoice != nil {
		v.D = *o.Invoice
	}
	return render(c, http.StatusOK, views.Invoice(page(c, lang(c).T("電子發票資訊", "E-invoice details")), v))
}

// invoiceFromForm reads the e-invoice form as typed; the store normalises
// and validates it (billing.InvoiceDetails Normalize, Validate).
func invoiceFromForm(f url.Values) billing.InvoiceDetails {
	return billing.InvoiceDetails{Kind: billing.InvoiceKind(f.Get("kind")), Carrier: f.Get("carrier"),
		CompanyTitle: f.Get("company_title"), TaxID: f.Get("tax_id"), DonationCode: f.Get("donation_code"),
		Email: f.Get("email")}
}

func (s *Server) saveEinvoice(c echo.Context) error {
	form, _ := c.FormParams()
	d := invoiceFromForm(form)
	next := localNext(c.FormValue("next"), "")
	_, err := s.store.SaveInvoiceDetails(c.Request().Context(), actor(c), member(c).AccountID, d)
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		p := page(c, lang(c).T("電子發票資訊", "E-invoice details"))
		p.Error = p.Lang.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.Invoice(p, views.InvoiceView{D: d, Next: next}))
	}
	if next != "" {
		return c.Redirect(http.StatusSeeOther, withNotice(next, "einvoice"))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/einvoice"), "einvoice"))
}
