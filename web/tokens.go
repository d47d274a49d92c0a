package web

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/views"
)

// API 權杖: the console's staff API tokens.

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
