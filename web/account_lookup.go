package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/views"
)

// 帳號查詢: the console's account search and account page.

func (s *Server) staffSearch(c echo.Context) error {
	q := strings.TrimSpace(c.QueryParam("q"))
	hits, err := s.store.SearchAccounts(c.Request().Context(), q, 50)
	if err != nil {
		return err
	}
	if len(hits) == 1 && hits[0].ID == q {
		return c.Redirect(http.StatusSeeOther, "/staff/accounts/"+url.PathEscape(q))
	}
	cat, err := s.store.Catalog(c.Request().Context())
	if err != nil {
		return err
	}
	return render(c, http.StatusOK, views.StaffSearch(staffPage(c, "accounts", "帳號查詢", "Accounts"), q, accountHits(lang(c), cat, hits)))
}

// staffAccount is the account page: one statement reads it all (the plan
// catalog aside).
func (s *Server) staffAccount(c echo.Context) error {
	d, err := s.store.StaffAccountPage(c.Request().Context(), pathParam(c, "id"))
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
