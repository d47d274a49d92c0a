package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 費用試算: the console's charge preview (nothing is written).

func (s *Server) staffPreview(c echo.Context) error {
	ctx := c.Request().Context()
	p := staffPage(c, "preview", "費用試算", "Charge preview")
	cat, err := s.store.Catalog(ctx)
	if err != nil {
		return err
	}
	now := s.store.Clock.Now()
	f := views.PreviewForm{Account: strings.TrimSpace(c.QueryParam("account")), At: c.QueryParam("at"), Action: c.QueryParam("action"),
		Plan: c.QueryParam("plan"), Code: strings.TrimSpace(c.QueryParam("code")), Assume: c.QueryParam("assume")}
	v := views.StaffPreviewView{Form: f, Catalog: cat}
	if f.At == "" {
		v.Form.At = now.In(billing.Taipei).Format("2006-01-02T15:04:05")
	}
	if f.Plan == "" {
		v.Form.Plan = string(billing.High)
	}
	status := http.StatusOK
	if f.Account != "" {
		at := now
		if f.At != "" {
			if at, err = parseTaipei(f.At, billing.Taipei); err != nil {
				p.Error = p.Lang.Err(err)
			}
		}
		if f.Assume != "" && !billing.PaymentKind(f.Assume).Addable() {
			p.Error, status = p.Lang.T("只能假設新增信用卡或 LINE Pay。", "Only a credit card or LINE Pay can be assumed."), http.StatusUnprocessableEntity
		}
		if p.Error == "" {
			req := db.PreviewRequest{AccountID: f.Account, At: at, Kind: billing.KindUpgrade, Plan: billing.PlanID(v.Form.Plan), Code: f.Code,
				AssumePayment: billing.PaymentKind(f.Assume)}
			if f.Action == "renewal" {
				req.Kind, req.Plan = billing.KindRenewal, ""
			}
			res, err := s.store.PreviewCharge(ctx, req)
			switch {
			case billing.ErrorCode(err) == billing.EUnknownAccount:
				p.Error, status = p.Lang.Tf("找不到帳號 %s。", "No account %s.", f.Account), http.StatusNotFound
			case err != nil:
				return err
			default:
				v.Result = previewResult(res)
			}
		}
	}
	return render(c, status, views.StaffPreview(p, v))
}
