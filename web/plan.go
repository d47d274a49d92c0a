package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 方案: the plan page, its news and 專屬ID pages, downgrades scheduled and
// cancelled.

func (s *Server) plan(c echo.Context) error {
	o, err := s.overviewWith(c, db.OverviewWith{Skip: db.SkipMethods | db.SkipInvoice | db.SkipCode})
	if err != nil {
		return err
	}
	return s.renderPlan(c, http.StatusOK, o, "")
}

func (s *Server) renderPlan(c echo.Context, status int, o db.Overview, errMsg string) error {
	return s.renderPlanConfirm(c, status, o, errMsg, nil)
}

// renderPlanConfirm is the plan page, asking first to confirm a downgrade
// to confirm when it is not nil.
func (s *Server) renderPlanConfirm(c echo.Context, status int, o db.Overview, errMsg string, confirm *billing.Plan) error {
	p := page(c, lang(c).T("方案", "Plan"))
	p.Error = errMsg
	usage := o.Usage
	v := views.PlanView{O: accountView(o), Usage: views.Usage{FreeSent: usage.FreeSent, AdditionalSent: usage.AdditionalSent,
		RefreshedAt: usage.RefreshedAt}, Owed: chargeViews(p.Lang, o.Owed)}
	v.ConfirmDowngrade = confirm
	if confirm != nil && o.Code != nil && o.Code.Status == billing.CodeRegistered {
		// Asked of the billing core: would the renewal after the downgrade
		// use the code?
		hold := &billing.PromoCode{Code: o.Code.Code, CampaignID: o.Code.Campaign.ID, AccountID: o.ID, Status: billing.CodeRegistered}
		if after, err := o.Catalog.Downgrade(o.Account, confirm.ID, o.Now); err == nil {
			_, used := o.Catalog.NextRenewalOffset(after, hold, o.Code.Campaign, o.Now)
			v.CodeUnused = !used
		}
	}
	if o.Plan.Additional && usage.AdditionalSent > 0 {
		// What the additional messages so far would be charged after the
		// month ends, under the tiers in force.
		tiers, err := s.store.UsageTiers(c.Request().Context())
		if err != nil {
			return err
		}
		q, err := billing.QuoteUsage(tiers, billing.MonthOf(o.Now), usage.AdditionalSent)
		if err != nil {
			return err
		}
		v.Usage.Estimate = &q
	}
	return render(c, status, views.PlanPage(p, v))
}

// planNews is the page behind the 2023/9/1 plan-change notice's 更多詳細內容.
func (s *Server) planNews(c echo.Context) error {
	cat, err := s.store.Catalog(c.Request().Context()) // cached: no round trip
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.PlanNews(page(c, lang(c).T("推廣方案更新", "Plan update")), cat))
}

// premiumID is 專屬ID: the account's basic ID; a premium ID is not sold here.
func (s *Server) premiumID(c echo.Context) error {
	return render(c, http.StatusOK, views.PremiumID(page(c, lang(c).T("專屬ID", "Premium ID")), member(c).AccountID))
}

// downgrade schedules a downgrade in two steps: the first POST shows the
// plan page asking to confirm it (when and what it changes, no refunds),
// the second (confirm=yes) schedules it. A plan that is no downgrade is
// refused by the store at the first step.
func (s *Server) downgrade(c echo.Context) error {
	to := billing.PlanID(c.FormValue("plan"))
	if c.FormValue("confirm") != "yes" {
		o, err := s.overview(c)
		if err != nil {
			return err
		}
		if target, err := o.Catalog.Plan(to); err == nil && o.Plan.IsDowngradeTo(target) {
			return s.renderPlanConfirm(c, http.StatusOK, o, "", &target)
		}
	}
	_, err := s.store.ScheduleDowngrade(c.Request().Context(), actor(c), member(c).AccountID, to)
	return s.afterPlanChange(c, err, "downgrade")
}

func (s *Server) cancelDowngrade(c echo.Context) error {
	_, err := s.store.CancelDowngrade(c.Request().Context(), actor(c), member(c).AccountID)
	return s.afterPlanChange(c, err, "downgrade-cancelled")
}

func (s *Server) afterPlanChange(c echo.Context, err error, notice string) error {
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		o, oerr := s.overview(c)
		if oerr != nil {
			return oerr
		}
		return s.renderPlan(c, http.StatusUnprocessableEntity, o, lang(c).Err(err))
	}
	return c.Redirect(http.StatusSeeOther, withNotice(pathFor(c, "/plan"), notice))
}
