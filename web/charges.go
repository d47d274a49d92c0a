package web

import (
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// A charge's pages (result, 立即付款, receipt), 付款記錄 and 預定付款.

// accountCharge is the charge named in the path, if it is this account's.
func (s *Server) accountCharge(c echo.Context) (db.Charge, error) {
	_, ch, err := s.chargeOverview(c)
	return ch, err
}

// chargeOverview reads the account with the charge named in the path, if
// it is this account's, in one round trip.
func (s *Server) chargeOverview(c echo.Context) (db.Overview, db.Charge, error) {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil || id <= 0 {
		return db.Overview{}, db.Charge{}, echo.ErrNotFound
	}
	o, err := s.overviewWith(c, db.OverviewWith{Charge: id, Skip: db.SkipInvoice | db.SkipCode | db.SkipOwed})
	if err != nil {
		return o, db.Charge{}, err
	}
	if o.Charge == nil {
		return o, db.Charge{}, echo.ErrNotFound
	}
	return o, *o.Charge, nil
}

func (s *Server) charge(c echo.Context) error {
	o, ch, err := s.chargeOverview(c)
	if err != nil {
		return err
	}
	v := views.ChargeView{C: withInvoice(chargeView(lang(c), ch), o), Catalog: o.Catalog, Just: c.QueryParam("done") != "", Already: c.QueryParam("already") != "",
		Plan: o.Plan, Method: methodLabel(lang(c), o.Methods, ch),
		MonthEnd: o.MonthEnd}
	if ch.Kind == billing.KindUpgrade && ch.Status == billing.StatusPaid && o.Plan.ID == ch.Plan {
		if r, err := o.Quote(billing.KindRenewal, ""); err == nil && r.Chargeable() && r.Plan == ch.Plan {
			v.Renewal = &r
		}
	}
	if to, err := o.Catalog.Plan(ch.Plan); err == nil && ch.Kind == billing.KindUpgrade && ch.Status == billing.StatusFailed {
		v.Rebuy = o.Plan.IsUpgradeTo(to)
	}
	p := page(c, lang(c).T("付款明細", "Charge details"))
	if ch.Status == billing.StatusPending && ch.Kind == billing.KindUpgrade {
		p.Refresh = 2 // a purchase in progress (another tab, a double-click): show its outcome when it lands
	}
	return render(c, http.StatusOK, views.ChargeResult(p, v))
}

// payNow is the admin's 立即付款 on a failed charge: the same retry as the
// automatic ones and the console's (db.Store.RetryCharge), quoted again
// against the account as it is now. The charge page then shows the outcome.
func (s *Server) payNow(c echo.Context) error {
	ch, err := s.accountCharge(c)
	if err != nil {
		return err
	}
	back := pathFor(c, "/charges/"+strconv.FormatInt(ch.ID, 10))
	ch, err = s.store.RetryCharge(c.Request().Context(), actor(c), ch.ID)
	switch code := billing.ErrorCode(err); {
	case err == nil && ch.Status == billing.StatusPaid:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "paid-now"))
	case err == nil, code == billing.EPaymentPending:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "retried"))
	case code == billing.EPaymentFailed:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "retry-failed"))
	case code == billing.ENoPaymentMethod:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "retry-no-method"))
	case code == billing.ENothingToRetry:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "nothing-owed"))
	case code == billing.EMonthNotCurrent:
		return c.Redirect(http.StatusSeeOther, withNotice(back, "renewal-given-up"))
	}
	return err
}

// receipt is a paid charge's printable receipt.
func (s *Server) receipt(c echo.Context) error {
	o, ch, err := s.chargeOverview(c)
	if err != nil {
		return err
	}
	if ch.Status != billing.StatusPaid {
		return echo.ErrNotFound
	}
	v := views.ReceiptView{C: withInvoice(chargeView(lang(c), ch), o), Catalog: o.Catalog, Method: methodLabel(lang(c), o.Methods, ch), Account: o.Name}
	return render(c, http.StatusOK, views.Receipt(page(c, lang(c).T("付款收據", "Receipt")), v))
}

func methodLabel(l views.Lang, ms []db.PaymentMethod, ch db.Charge) string {
	for _, m := range ms {
		if ch.PaymentID.Valid && m.ID == ch.PaymentID.Int64 {
			return l.MethodLabel(methodView(m))
		}
	}
	if ch.PaymentKind != "" {
		return l.PaymentKind(billing.PaymentKind(ch.PaymentKind))
	}
	return ""
}

// history lists the account's charges, newest first, optionally of one
// billing month (?month=YYYY-MM).
func (s *Server) history(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Charges: true, Skip: db.SkipInvoice | db.SkipCode | db.SkipOwed})
	if err != nil {
		return err
	}
	all := o.Charges
	v := views.HistoryView{Catalog: o.Catalog, Methods: map[int64]string{}, Month: c.QueryParam("month")}
	if _, err := billing.ParseMonth(v.Month); err != nil {
		v.Month = ""
	}
	for _, ch := range all {
		m := ch.Month().String()
		if !slices.Contains(v.Months, m) {
			v.Months = append(v.Months, m)
		}
		if v.Month != "" && m != v.Month {
			continue
		}
		v.Charges = append(v.Charges, withInvoice(chargeView(lang(c), ch), o))
		if ch.PaymentID.Valid {
			v.Methods[ch.PaymentID.Int64] = methodLabel(lang(c), o.Methods, ch)
		}
	}
	slices.SortFunc(v.Months, func(a, b string) int { return strings.Compare(b, a) })
	return render(c, http.StatusOK, views.History(page(c, lang(c).T("付款記錄", "Payment history")), v))
}

func (s *Server) scheduled(c echo.Context) error {
	o, err := s.overview(c)
	if err != nil {
		return err
	}
	q, err := o.Quote(billing.KindRenewal, "")
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Scheduled(page(c, lang(c).T("預定付款", "Scheduled payment")), views.ScheduledView{O: accountView(o), Next: q}))
}
