package web

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// staffRoutes is the billing team's console under /staff/: its own role
// (users.is_staff), checked on every route; anyone else gets a plain 404,
// no hint the console exists. The JSON API authenticates itself (a staff
// session or a staff API token) and stands outside the CSRF group.
func (s *Server) staffRoutes(app *echo.Group) {
	s.e.POST("/staff/api/simulate", s.apiSimulate)

	st := app.Group("/staff", s.requireStaff, noStore)
	st.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/staff/accounts") })
	st.GET("/accounts", s.staffSearch)
	st.GET("/accounts/:id", s.staffAccount)
	st.GET("/preview", s.staffPreview)
	st.GET("/simulate", s.staffSimulatePage)
	st.POST("/simulate", s.staffSimulate)
	st.GET("/campaigns", s.staffCampaigns)
	st.POST("/campaigns", s.staffCreateCampaign)
	st.GET("/campaigns/:id", s.staffCampaign)
	st.POST("/campaigns/:id", s.staffUpdateCampaign)
	st.POST("/campaigns/:id/codes", s.staffGenerateCodes)
	st.GET("/campaigns/:id/codes.csv", s.staffCodesCSV)
	st.GET("/campaigns/:id/jobs/:job", s.staffCodeJob)
	st.GET("/campaigns/:id/jobs/:job/progress", s.staffCodeJobProgress)
	st.GET("/renewals", s.staffRenewals)
	st.GET("/renewals/:month", s.staffRun)
	st.POST("/renewals/:month", s.staffStartRun)
	st.GET("/renewals/:month/progress", s.staffRunProgress)
	st.POST("/charges/:id/retry", s.staffRetry)
	st.GET("/audit", s.staffAudit)
	st.GET("/tokens", s.staffTokens)
	st.POST("/tokens", s.staffCreateToken)
	st.POST("/tokens/revoke", s.staffRevokeToken)
}

// requireStaff lets only staff through. A visitor is sent to sign in; a
// signed-in brand user gets 404.
func (s *Server) requireStaff(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess, ok := c.Get(ctxSession).(db.Session)
		if !ok {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return echo.ErrNotFound
		}
		if !sess.User.IsStaff {
			return echo.ErrNotFound
		}
		return next(c)
	}
}

// staffActor names the staff member for the audit trail.
func staffActor(c echo.Context) db.Actor { return db.Actor("staff:" + session(c).User.Login) }

func staffPage(c echo.Context, section, zh, en string) views.StaffPage {
	return views.StaffPage{Page: page(c, lang(c).T(zh, en)), Section: section}
}

func (s *Server) staffSearch(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	hits, err := s.store.SearchAccounts(c.Request().Context(), q, 50)
	if err != nil {
		return err
	}
	if len(hits) == 1 && hits[0].ID == q {
		return c.Redirect(http.StatusSeeOther, "/staff/accounts/"+url.PathEscape(q))
	}
	return render(c, http.StatusOK, views.StaffSearch(staffPage(c, "accounts", "帳號查詢", "Accounts"), q, accountHits(hits)))
}

// staffAccount is the account page: one statement reads it all (the plan
// catalog aside).
func (s *Server) staffAccount(c echo.Context) error {
	d, err := s.store.StaffAccountPage(c.Request().Context(), c.Param("id"))
	if err != nil {
		if billing.ErrorCode(err) == billing.EUnknownAccount {
			return echo.ErrNotFound
		}
		return err
	}
	p := staffPage(c, "accounts", "帳號查詢", "Accounts")
	p.Title = d.Overview.Name
	return render(c, http.StatusOK, views.StaffAccount(p, staffAccountView(p.Lang, d)))
}

// parseTaipei reads a datetime-local value as Taiwan time.
func parseTaipei(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, billing.Errorf(billing.EInvalid, "時間格式不正確:%s", s)
}

func (s *Server) staffPreview(c echo.Context) error {
	ctx := c.Request().Context()
	p := staffPage(c, "preview", "費用試算", "Charge preview")
	cat, err := s.store.Catalog(ctx)
	if err != nil {
		return err
	}
	now := s.store.Clock.Now()
	f := views.PreviewForm{Account: strings.TrimSpace(c.QueryParam("account")), At: c.QueryParam("at"), Action: c.QueryParam("action"),
		Plan: c.QueryParam("plan"), Code: strings.TrimSpace(c.QueryParam("code"))}
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
		if p.Error == "" {
			req := db.PreviewRequest{AccountID: f.Account, At: at, Kind: billing.KindUpgrade, Plan: billing.PlanID(v.Form.Plan), Code: f.Code}
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

// scenarioSamples are the public scenario files offered on the simulator
// page, read from the testdata folder when the server runs from the repo.
func scenarioSamples() [][2]string {
	var out [][2]string
	for _, dir := range []string{"testdata/scenarios", "../testdata/scenarios"} {
		fsys := os.DirFS(dir)
		names, err := fs.Glob(fsys, "*.json")
		if err != nil || len(names) == 0 {
			continue
		}
		for _, n := range names {
			if b, err := fs.ReadFile(fsys, n); err == nil {
				out = append(out, [2]string{n, string(b)})
			}
		}
		return out
	}
	return out
}

func (s *Server) staffSimulatePage(c echo.Context) error {
	p := staffPage(c, "simulate", "情境模擬", "Scenarios")
	return render(c, http.StatusOK, views.StaffSimulate(p, views.SimulateView{Samples: scenarioSamples()}))
}

func (s *Server) staffSimulate(c echo.Context) error {
	p := staffPage(c, "simulate", "情境模擬", "Scenarios")
	v := views.SimulateView{Samples: scenarioSamples(), Input: c.FormValue("scenario")}
	if fh, err := c.FormFile("file"); err == nil && fh.Size > 0 {
		f, err := fh.Open()
		if err != nil {
			return err
		}
		b, err := io.ReadAll(io.LimitReader(f, 1<<20))
		f.Close()
		if err != nil {
			return err
		}
		v.Input = string(b)
	}
	status := http.StatusOK
	if strings.TrimSpace(v.Input) == "" {
		v.Err, status = p.Lang.T("請貼上、上傳或建立一個情境。", "Paste, upload or build a scenario."), http.StatusUnprocessableEntity
	} else if out, err := s.simulate(c.Request().Context(), []byte(v.Input)); err != nil {
		v.Err, status = simError(p.Lang, err), http.StatusUnprocessableEntity
		if billing.ErrorCode(err) == "" && !isInputError(err) {
			slog.Error("simulate", "err", err)
			status = http.StatusInternalServerError
		}
	} else {
		v.Output = simOutput(out)
	}
	return render(c, status, views.StaffSimulate(p, v))
}

// simulate parses and runs a scenario exactly as `webstore simulate` does.
func (s *Server) simulate(ctx context.Context, data []byte) (db.SimOutput, error) {
	sc, err := db.ParseScenario(data)
	if err != nil {
		return db.SimOutput{}, err
	}
	if s.cfg.DatabaseURL == "" {
		return db.SimOutput{}, billing.Errorf(billing.EInvalid, "此伺服器未設定模擬用的資料庫")
	}
	return db.Simulate(ctx, s.cfg.DatabaseURL, sc)
}

func isInputError(err error) bool {
	var ie *db.InputError
	return errors.As(err, &ie)
}

func simError(l views.Lang, err error) string {
	var ie *db.InputError
	if errors.As(err, &ie) {
		return l.Tf("情境格式錯誤:%s:%s", "Malformed scenario: %s: %s", ie.Field, ie.Msg)
	}
	if billing.ErrorCode(err) != "" {
		return l.Err(err)
	}
	return l.T("模擬失敗,請稍後再試。", "The simulation failed; please try again.")
}

// apiSimulate is POST /staff/api/simulate: the scenario JSON in, the
// simulator's JSON out (as the CLI prints it). It authenticates with a
// staff API token (Authorization: Bearer) or a staff session cookie; with
// the cookie the body must be JSON (a cross-site form cannot send that),
// which stands in for the CSRF token. 401 without either, 404 for a
// brand user, 400 for a malformed scenario (naming the field).
func (s *Server) apiSimulate(c echo.Context) error {
	ctx := c.Request().Context()
	req := c.Request()
	if tok, ok := strings.CutPrefix(req.Header.Get(echo.HeaderAuthorization), "Bearer "); ok {
		if _, err := s.store.FindStaffToken(ctx, strings.TrimSpace(tok)); err != nil {
			if billing.ErrorCode(err) != billing.EForbidden {
				return err
			}
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="webstore-staff"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "API 權杖無效或已撤銷。"})
		}
	} else {
		ck, err := c.Cookie(cookieSession)
		if err != nil || ck.Value == "" {
			c.Response().Header().Set(echo.HeaderWWWAuthenticate, `Bearer realm="webstore-staff"`)
			return c.JSON(http.StatusUnauthorized, map[string]string{"error": "unauthorized", "message": "需要後台登入或 API 權杖(Authorization: Bearer)。"})
		}
		sess, err := s.store.FindSession(ctx, ck.Value)
		if err != nil || !sess.User.IsStaff {
			return echo.ErrNotFound
		}
		if !strings.HasPrefix(req.Header.Get(echo.HeaderContentType), echo.MIMEApplicationJSON) {
			return c.JSON(http.StatusUnsupportedMediaType, map[string]string{"error": string(billing.EInvalid), "message": "要求內容必須是 application/json。"})
		}
	}
	body, err := io.ReadAll(http.MaxBytesReader(c.Response(), req.Body, 1<<20))
	if err != nil {
		return c.JSON(http.StatusRequestEntityTooLarge, map[string]string{"error": string(billing.EInvalid), "message": "情境檔超過 1 MB。"})
	}
	out, err := s.simulate(ctx, body)
	var ie *db.InputError
	if errors.As(err, &ie) {
		return c.JSON(http.StatusBadRequest, map[string]string{"error": string(billing.EInvalid), "field": ie.Field, "message": ie.Msg})
	} else if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, out)
}

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
	for _, r := range strings.FieldsFunc(strings.ToUpper(f.Regions), func(r rune) bool { return r == ',' || r == ' ' || r == '、' }) {
		camp.Regions = append(camp.Regions, r)
	}
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
	v, err := s.campaignView(c, c.Param("id"))
	if err != nil {
		return err
	}
	p := staffPage(c, "campaigns", "優惠活動", "Campaigns")
	p.Title = v.Campaign.Name
	return render(c, http.StatusOK, views.StaffCampaign(p, v))
}

func (s *Server) staffUpdateCampaign(c echo.Context) error {
	id := c.Param("id")
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
	id := c.Param("id")
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
	if err != nil || j.CampaignID != c.Param("id") {
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
	id := c.Param("id")
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

// renewalMonth reads a month and allows the current month and the next.
func (s *Server) renewalMonth(raw string) (billing.Month, error) {
	m, err := billing.ParseMonth(raw)
	if err != nil {
		return m, billing.Errorf(billing.EInvalid, "月份格式不正確(例:2026-12)")
	}
	if cur := billing.MonthOf(s.store.Clock.Now()); cur.Next().Before(m) {
		return m, billing.Errorf(billing.EInvalid, "只能續約本月或下個月(%s 或 %s)", cur, cur.Next())
	}
	return m, nil
}

func (s *Server) staffRenewals(c echo.Context) error {
	ctx := c.Request().Context()
	p := staffPage(c, "renewals", "續約作業", "Renewals")
	v := views.StaffRenewalsView{Month: billing.MonthOf(s.store.Clock.Now())}
	status := http.StatusOK
	if raw := c.QueryParam("month"); raw != "" {
		m, err := s.renewalMonth(raw)
		if err != nil {
			p.Error, status = p.Lang.Err(err), http.StatusUnprocessableEntity
		} else {
			v.Month = m
			est, err := s.store.EstimateRenewal(ctx, m)
			if err != nil {
				return err
			}
			v.Estimate = renewalEstimate(est)
		}
	}
	runs, err := s.store.FindRenewalRuns(ctx)
	if err != nil {
		return err
	}
	v.Runs = renewalRuns(runs)
	return render(c, status, views.StaffRenewals(p, v))
}

// staffStartRun claims the month's run and executes it detached from the
// request (a goroutine with its own context); of two staff starting it at
// once, one runs it and both land on its progress page.
func (s *Server) staffStartRun(c echo.Context) error {
	m, err := s.renewalMonth(c.Param("month"))
	if err != nil {
		return err
	}
	actor := staffActor(c)
	jobs := s.store
	if s.cfg.JobStore != nil {
		jobs = s.cfg.JobStore
	}
	err = jobs.ClaimRenewalRun(c.Request().Context(), actor, m)
	if billing.ErrorCode(err) == billing.EConflict {
		return c.Redirect(http.StatusSeeOther, withNotice("/staff/renewals/"+m.String(), "run-busy"))
	} else if err != nil {
		return err
	}
	s.background(func(ctx context.Context) {
		defer recoverJob("renewal run", m.String())
		if _, err := jobs.RunRenewal(ctx, actor, m, true); err != nil {
			slog.Error("renewal run", "month", m, "err", err)
		}
	})
	return c.Redirect(http.StatusSeeOther, "/staff/renewals/"+m.String())
}

func (s *Server) findRun(c echo.Context) (db.RenewalRun, billing.Month, error) {
	m, err := billing.ParseMonth(c.Param("month"))
	if err != nil {
		return db.RenewalRun{}, m, echo.ErrNotFound
	}
	r, ok, err := s.store.FindRenewalRun(c.Request().Context(), m)
	if err == nil && !ok {
		err = echo.ErrNotFound
	}
	return r, m, err
}

func (s *Server) staffRun(c echo.Context) error {
	r, m, err := s.findRun(c)
	if err != nil {
		return err
	}
	p := staffPage(c, "renewals", "續約作業", "Renewals")
	v := views.StaffRunView{Month: m, Run: renewalRun(r)}
	if !r.Running() {
		o, err := s.store.FindRenewalOutcome(c.Request().Context(), m)
		if err != nil {
			return err
		}
		v.Outcome = renewalOutcome(p.Lang, o)
	}
	if v.Catalog, err = s.store.Catalog(c.Request().Context()); err != nil {
		return err
	}
	p.Title = p.Lang.Tf("%s 續約", "%s renewal", m)
	if r.Running() {
		p.Refresh = 2
	}
	return render(c, http.StatusOK, views.StaffRun(p, v))
}

// staffRunProgress is the progress fragment; once the run has finished it
// tells htmx to reload the whole page, which then shows the outcome.
func (s *Server) staffRunProgress(c echo.Context) error {
	r, _, err := s.findRun(c)
	if err != nil {
		return err
	}
	if !r.Running() {
		c.Response().Header().Set("HX-Refresh", "true")
	}
	return render(c, http.StatusOK, views.RunProgress(lang(c), renewalRun(r)))
}

func (s *Server) staffRetry(c echo.Context) error {
	id, err := strconv.ParseInt(c.Param("id"), 10, 64)
	if err != nil {
		return echo.ErrNotFound
	}
	ch, err := s.store.RetryCharge(c.Request().Context(), staffActor(c), id)
	notice := "retried"
	if billing.ErrorCode(err) == billing.EPaymentFailed {
		notice, err = "retry-failed", nil
	}
	if err != nil {
		return err
	}
	next := localNext(c.FormValue("next"), "/staff/accounts/"+url.PathEscape(ch.AccountID))
	if !strings.HasPrefix(next, "/staff/") {
		next = "/staff/accounts/" + url.PathEscape(ch.AccountID)
	}
	return c.Redirect(http.StatusSeeOther, withNotice(next, notice))
}

func (s *Server) staffAudit(c echo.Context) error {
	p := staffPage(c, "audit", "稽核紀錄", "Audit log")
	v := views.AuditView{Filter: [5]string{c.QueryParam("account"), c.QueryParam("actor"), c.QueryParam("kind"), c.QueryParam("from"), c.QueryParam("to")}}
	f := db.AuditFilter{AccountID: strings.TrimSpace(v.Filter[0]), Actor: strings.TrimSpace(v.Filter[1]), Kind: strings.TrimSpace(v.Filter[2])}
	status := http.StatusOK
	var err error
	if v.Filter[3] != "" {
		if f.From, err = parseTaipei(v.Filter[3], billing.Taipei); err != nil {
			p.Error, status = p.Lang.Err(err), http.StatusUnprocessableEntity
		}
	}
	if v.Filter[4] != "" {
		if f.To, err = parseTaipei(v.Filter[4], billing.Taipei); err != nil {
			p.Error, status = p.Lang.Err(err), http.StatusUnprocessableEntity
		}
	}
	if p.Error == "" {
		es, err := s.store.FindAudit(c.Request().Context(), f)
		if err != nil {
			return err
		}
		v.Entries = auditRows(es)
	}
	return render(c, status, views.StaffAudit(p, v))
}

func (s *Server) staffTokens(c echo.Context) error {
	ts, err := s.store.FindStaffTokens(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.StaffTokens(staffPage(c, "tokens", "API 權杖", "API tokens"), views.TokensView{Tokens: tokenRows(ts)}))
}

// staffCreateToken makes a token and shows it once, on this response (not
// after a redirect, so it is never in a URL or a later page).
func (s *Server) staffCreateToken(c echo.Context) error {
	ctx := c.Request().Context()
	label := strings.TrimSpace(c.FormValue("label"))
	tok, err := s.store.CreateStaffToken(ctx, staffActor(c), session(c).User.ID, label)
	if err != nil {
		return err
	}
	ts, err := s.store.FindStaffTokens(ctx)
	if err != nil {
		return err
	}
	return render(c, http.StatusCreated, views.StaffTokens(staffPage(c, "tokens", "API 權杖", "API tokens"), views.TokensView{Tokens: tokenRows(ts), New: tok}))
}

func (s *Server) staffRevokeToken(c echo.Context) error {
	if err := s.store.RevokeStaffToken(c.Request().Context(), staffActor(c), c.FormValue("id")); err != nil {
		return err
	}
	return c.Redirect(http.StatusSeeOther, withNotice("/staff/tokens", "token-revoked"))
}

// recoverJob keeps a panic in a background job from taking the server down;
// the job's row then reads as interrupted once it goes stale.
func recoverJob(name string, id any) {
	if r := recover(); r != nil {
		slog.Error(name+": panic", "id", id, "panic", r, "stack", string(debug.Stack()))
	}
}
