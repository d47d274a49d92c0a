package web

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 優惠活動: the console's campaigns, code generation jobs and the codes'
// CSV export.

// campaignChoices are the upgrades and renewals the campaign form offers:
// the catalog's.
func (s *Server) campaignChoices(ctx context.Context) (views.CampaignChoices, error) {
	cat, err := s.store.Catalog(ctx)
	return views.CampaignChoices{Upgrades: cat.Upgrades(), Renewals: cat.PaidPlans(), Catalog: cat}, err
}

func (s *Server) staffCampaigns(c echo.Context) error {
	cs, err := s.store.FindCampaigns(c.Request().Context())
	if err != nil {
		return err
	}
	choices, err := s.campaignChoices(c.Request().Context())
	if err != nil {
		return err
	}
	now := s.store.Clock.Now().In(billing.Taipei)
	f := views.CampaignForm{Zone: "Asia/Taipei", Face: "800", From: now.Format("2006-01-02") + "T00:00:00",
		Until: now.AddDate(0, 3, 0).Format("2006-01-02") + "T23:59:59", Regions: "TW",
		Kinds: map[string]bool{}, Upgrades: map[string]bool{}, Renewals: map[string]bool{}, Choices: choices}
	return render(c, http.StatusOK, views.StaffCampaigns(staffPage(c, "campaigns", "優惠活動", "Campaigns"), campaignRows(cs), f))
}

// campaignFromForm reads the campaign form; the form as typed comes back
// for re-rendering on a refusal.
func campaignFromForm(c echo.Context) (billing.Campaign, views.CampaignForm, error) {
	fp, _ := c.FormParams()
	return campaignFromValues(fp)
}

// campaignFromValues decodes the campaign form's fields: the campaign, the
// form as typed, and EInvalid for a face value, zone or instant that does
// not parse (the store checks the rest).
func campaignFromValues(fp url.Values) (billing.Campaign, views.CampaignForm, error) {
	f := views.CampaignForm{ID: strings.TrimSpace(fp.Get("id")), Name: strings.TrimSpace(fp.Get("name")), Face: fp.Get("face"),
		From: fp.Get("from"), Until: fp.Get("until"), Zone: fp.Get("zone"), Regions: fp.Get("regions"),
		Kinds: map[string]bool{}, Upgrades: map[string]bool{}, Renewals: map[string]bool{}}
	camp := billing.Campaign{ID: f.ID, Name: f.Name}
	for _, k := range fp["kinds"] {
		f.Kinds[k] = true
		camp.PaymentKinds = append(camp.PaymentKinds, billing.PaymentKind(k))
	}
	for _, t := range fp["upgrades"] {
		f.Upgrades[t] = true
		if tr, ok := billing.ParseTransition(t); ok {
			camp.Upgrades = append(camp.Upgrades, tr)
		}
	}
	for _, p := range fp["renewals"] {
		f.Renewals[p] = true
		camp.RenewalPlans = append(camp.RenewalPlans, billing.PlanID(p))
	}
	camp.Regions = append(camp.Regions, strings.FieldsFunc(strings.ToUpper(f.Regions), func(r rune) bool { return r == ',' || r == ' ' || r == '、' })...)
	face, err := strconv.ParseInt(strings.TrimSpace(f.Face), 10, 64)
	if err != nil {
		return camp, f, billing.Errorf(billing.EInvalid, "面額必須是整數(NT$)")
	}
	camp.FaceValue = billing.Money(face)
	loc, err := time.LoadLocation(f.Zone)
	if err != nil {
		return camp, f, billing.Errorf(billing.EInvalid, "未知的時區 %s", f.Zone)
	}
	if camp.ValidFrom, err = parseTaipei(f.From, loc); err != nil {
		return camp, f, err
	}
	if camp.ValidUntil, err = parseTaipei(f.Until, loc); err != nil {
		return camp, f, err
	}
	return camp, f, nil
}

func (s *Server) staffCreateCampaign(c echo.Context) error {
	ctx := c.Request().Context()
	camp, f, err := campaignFromForm(c)
	if err == nil {
		_, err = s.store.CreateCampaign(ctx, staffActor(c), camp)
	}
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		cs, ferr := s.store.FindCampaigns(ctx)
		if ferr != nil {
			return ferr
		}
		if f.Choices, ferr = s.campaignChoices(ctx); ferr != nil {
			return ferr
		}
		p := staffPage(c, "campaigns", "優惠活動", "Campaigns")
		p.Error = p.Lang.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.StaffCampaigns(p, campaignRows(cs), f))
	}
	return c.Redirect(http.StatusSeeOther, withNotice("/staff/campaigns/"+url.PathEscape(camp.ID), "campaign-created"))
}

func (s *Server) campaignView(c echo.Context, id string) (views.StaffCampaignView, error) {
	ctx := c.Request().Context()
	v := views.StaffCampaignView{MaxCodes: db.MaxCodesPerJob}
	camp, err := s.store.FindCampaignByID(ctx, id)
	if err != nil {
		return v, echo.ErrNotFound
	}
	v.Campaign = camp
	v.Form = views.CampaignFormFrom(camp, "Asia/Taipei")
	if v.Form.Choices, err = s.campaignChoices(ctx); err != nil {
		return v, err
	}
	r, err := s.store.FindCampaignReport(ctx, id)
	if err != nil {
		return v, err
	}
	v.Report = campaignReport(r)
	days, series := views.CampaignDays(codeDays(r.Daily), camp, s.store.Clock.Now())
	l := lang(c)
	v.Chart = views.NewBarChart(days, series, []string{"s1", "s2"}, []string{l.T("登錄", "registered"), l.T("使用", "redeemed")}, 620, 140)
	jobs, err := s.store.FindCodeJobs(ctx, id)
	v.Jobs = codeJobs(jobs)
	return v, err
}

func (s *Server) staffCampaign(c echo.Context) error {
	v, err := s.campaignView(c, pathParam(c, "id"))
	if err != nil {
		return err
	}
	p := staffPage(c, "campaigns", "優惠活動", "Campaigns")
	p.Title = v.Campaign.Name
	return render(c, http.StatusOK, views.StaffCampaign(p, v))
}

func (s *Server) staffUpdateCampaign(c echo.Context) error {
	id := pathParam(c, "id")
	camp, f, err := campaignFromForm(c)
	camp.ID, f.ID, f.Editing = id, id, true
	if err == nil {
		_, err = s.store.UpdateCampaign(c.Request().Context(), staffActor(c), camp)
	}
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		v, verr := s.campaignView(c, id)
		if verr != nil {
			return verr
		}
		f.Choices = v.Form.Choices
		v.Form = f
		p := staffPage(c, "campaigns", "優惠活動", "Campaigns")
		p.Title, p.Error = v.Campaign.Name, p.Lang.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.StaffCampaign(p, v))
	}
	return c.Redirect(http.StatusSeeOther, withNotice("/staff/campaigns/"+url.PathEscape(id), "campaign-saved"))
}

// staffGenerateCodes records the job and runs it detached from the
// request; the page then watches its progress.
func (s *Server) staffGenerateCodes(c echo.Context) error {
	id := pathParam(c, "id")
	n, _ := strconv.Atoi(strings.TrimSpace(c.FormValue("n")))
	actor := staffActor(c)
	j, err := s.store.CreateCodeJob(c.Request().Context(), actor, id, n)
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		v, verr := s.campaignView(c, id)
		if verr != nil {
			return verr
		}
		p := staffPage(c, "campaigns", "優惠活動", "Campaigns")
		p.Title, p.Error = v.Campaign.Name, p.Lang.Err(err)
		return render(c, http.StatusUnprocessableEntity, views.StaffCampaign(p, v))
	}
	s.background(func(ctx context.Context) {
		defer recoverJob("generate codes", j.ID)
		if _, err := s.store.GenerateCodes(ctx, actor, j.ID, billing.CodeGenerator{}); err != nil {
			slog.Error("generate codes", "job", j.ID, "err", err)
		}
	})
	return c.Redirect(http.StatusSeeOther, "/staff/campaigns/"+url.PathEscape(id)+"/jobs/"+strconv.FormatInt(j.ID, 10))
}

func (s *Server) findJob(c echo.Context) (db.CodeJob, error) {
	jid, err := strconv.ParseInt(c.Param("job"), 10, 64)
	if err != nil {
		return db.CodeJob{}, echo.ErrNotFound
	}
	j, err := s.store.FindCodeJob(c.Request().Context(), jid)
	if err != nil || j.CampaignID != pathParam(c, "id") {
		return j, echo.ErrNotFound
	}
	return j, nil
}

func (s *Server) staffCodeJob(c echo.Context) error {
	j, err := s.findJob(c)
	if err != nil {
		return err
	}
	p := staffPage(c, "campaigns", "產生代碼", "Generating codes")
	if j.Status == "running" {
		p.Refresh = 2
	}
	return render(c, http.StatusOK, views.StaffCodeJob(p, codeJob(j)))
}

func (s *Server) staffCodeJobProgress(c echo.Context) error {
	j, err := s.findJob(c)
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.CodeJobProgress(lang(c), codeJob(j)))
}

// staffCodesCSV streams a campaign's codes as CSV, UTF-8 with a byte-order
// mark so Excel in zh-TW reads the Chinese header correctly.
func (s *Server) staffCodesCSV(c echo.Context) error {
	ctx := c.Request().Context()
	id := pathParam(c, "id")
	if _, err := s.store.FindCampaignByID(ctx, id); err != nil {
		return echo.ErrNotFound
	}
	h := c.Response().Header()
	h.Set(echo.HeaderContentType, "text/csv; charset=utf-8")
	h.Set(echo.HeaderContentDisposition, `attachment; filename="codes-`+url.PathEscape(id)+`.csv"`)
	c.Response().WriteHeader(http.StatusOK)
	bw := bufio.NewWriterSize(c.Response(), 64<<10)
	bw.WriteString("\uFEFF")
	w := csv.NewWriter(bw)
	w.UseCRLF = true
	w.Write([]string{"代碼 code", "狀態 status", "帳號 account", "登錄時間 registered (Asia/Taipei)", "使用時間 redeemed (Asia/Taipei)"})
	tw := func(t sql.NullTime) string {
		if !t.Valid {
			return ""
		}
		return t.Time.In(billing.Taipei).Format("2006-01-02 15:04:05")
	}
	err := s.store.EachCampaignCode(ctx, id, func(e db.CodeExport) error {
		return w.Write([]string{e.Display, e.Status, e.AccountID.String, tw(e.RegisteredAt), tw(e.RedeemedAt)})
	})
	w.Flush()
	if err == nil {
		err = w.Error()
	}
	if err == nil {
		err = bw.Flush()
	}
	if err != nil {
		slog.Error("codes csv", "campaign", id, "err", err) // the header is sent; the truncated file shows it
	}
	return nil
}
