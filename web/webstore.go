package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// An account's pages, on the phone webstore (/a/) and the desktop manager
// (/m/) alike: what they share (the overview, paths on the surface), the
// menu, the payment methods list and 帳號設定. The others live in files
// by domain: plan, checkout, charges, promo, einvoice, methods (adding a
// method), members.

func (s *Server) overview(c echo.Context) (db.Overview, error) {
	return s.store.FindOverview(c.Request().Context(), member(c).AccountID)
}

// overviewWith is overview with a page's extras, in the same round trip.
func (s *Server) overviewWith(c echo.Context, with db.OverviewWith) (db.Overview, error) {
	return s.store.FindOverviewWith(c.Request().Context(), member(c).AccountID, with)
}

func (s *Server) menu(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Menu(page(c, lang(c).T("選單", "Menu")), views.PlanView{O: accountView(o), Owed: chargeViews(lang(c), o.Owed)}))
}

// pathFor is an account page's path on the request's surface.
func pathFor(c echo.Context, p string) string {
	return "/" + surface(c) + "/" + url.PathEscape(member(c).AccountID) + p
}

func (s *Server) methods(c echo.Context) error {
	ms, err := s.store.PaymentMethods(c.Request().Context(), member(c).AccountID)
	if err != nil {
		return err
	}
	v := views.MethodsView{Methods: methodViews(ms), Next: localNext(c.QueryParam("next"), "")}
	return render(c, http.StatusOK, views.Methods(page(c, lang(c).T("付款方式", "Payment methods")), v))
}

func (s *Server) setMainMethod(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if err := s.store.SetMainPaymentMethod(c.Request().Context(), actor(c), member(c).AccountID, id); err != nil {
		return err
	}
	if next := localNext(c.FormValue("next"), ""); next != "" {
		return c.Redirect(http.StatusSeeOther, withNotice(next, "method-main"))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/payment-methods"), "method-main"))
}

// removeMethod removes a payment method. Removing the only one of an
// account on a paid plan takes two steps: the first POST shows the methods
// page asking to confirm (the next renewal could not be paid), the second
// (confirm=yes) removes it.
func (s *Server) removeMethod(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	if c.FormValue("confirm") != "yes" {
		o, err := s.overview(c)
		if err != nil {
			return err
		}
		if len(o.Methods) == 1 && o.Methods[0].ID == id && (!o.Plan.Free() || !o.NextRenewal.IsZero()) {
			v := views.MethodsView{Methods: methodViews(o.Methods), ConfirmRemove: id, Plan: o.Plan, NextRenewal: o.NextRenewal}
			return render(c, http.StatusOK, views.Methods(page(c, lang(c).T("付款方式", "Payment methods")), v))
		}
	}
	if err := s.store.RemovePaymentMethod(c.Request().Context(), actor(c), member(c).AccountID, id); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/payment-methods"), "method-removed"))
}

// accountSettings is 帳號設定: the account's name (editable by an admin) and
// region (read-only: it decides which campaigns apply).
func (s *Server) accountSettings(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode | db.SkipOwed})
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.AccountSettings(page(c, lang(c).T("帳號設定", "Account settings")), accountSettingsView(o, o.Name)))
}

func (s *Server) renameAccount(c echo.Context) error {
	name := c.FormValue("name")
	err := s.store.RenameAccount(c.Request().Context(), actor(c), member(c).AccountID, name)
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		o, oerr := s.overview(c)
		if oerr != nil {
			return oerr
		}
		p := page(c, lang(c).T("帳號設定", "Account settings"))
		p.Error = p.Lang.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.AccountSettings(p, accountSettingsView(o, name)))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/account"), "account-renamed"))
}
