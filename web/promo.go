package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 優惠活動代碼: the promo page and registering a code.

func (s *Server) promoView(c echo.Context) (views.PromoView, error) {
	o, err := s.overviewWith(c, db.OverviewWith{CodeCharge: true, Skip: db.SkipMethods | db.SkipInvoice | db.SkipOwed})
	if err != nil {
		return views.PromoView{}, err
	}
	v := views.PromoView{O: accountView(o)}
	if o.Code == nil {
		return v, nil
	}
	if o.Code.ChargeID != 0 && o.Code.Status == billing.CodeRedeemed && o.CodeCharge != nil {
		used := chargeView(lang(c), *o.CodeCharge)
		v.UsedIn = &used
	}
	if o.Code.Status == billing.CodeRegistered {
		hold := &billing.PromoCode{Code: o.Code.Code, CampaignID: o.Code.Campaign.ID, AccountID: o.ID, Status: billing.CodeRegistered}
		if q, ok := o.Catalog.NextRenewalOffset(o.Account, hold, o.Code.Campaign, o.Now); ok {
			v.Later = &q
		}
	}
	return v, nil
}

func (s *Server) promo(c echo.Context) error {
	v, err := s.promoView(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.Promo(page(c, lang(c).T("優惠活動代碼", "Promo codes")), v))
}

func (s *Server) registerCode(c echo.Context) error {
	typed := c.FormValue("code")
	_, err := s.store.RegisterCode(c.Request().Context(), actor(c), member(c).AccountID, typed)
	if err == nil {
		return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/promo"), "code"))
	}
	if billing.ErrorCode(err) == "" {
		return err
	}
	v, verr := s.promoView(c)
	if verr != nil {
		return verr
	}
	v.Input, v.CodeError = typed, lang(c).Err(err)
	return render(c, http.StatusUnprocessableEntity, views.Promo(page(c, lang(c).T("優惠活動代碼", "Promo codes")), v))
}
