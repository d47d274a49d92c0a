package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// 續約作業: the console's renewal estimate and runs, and the retry of a
// failed charge.

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
	switch billing.ErrorCode(err) {
	case billing.EPaymentFailed:
		notice, err = "staff-retry-failed", nil
	case billing.ENoPaymentMethod:
		notice, err = "staff-retry-no-method", nil
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
