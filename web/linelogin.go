package web

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"strings"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
	"webstore/web/lineauth"
)

// cookieLineFlow keeps a LINE Login attempt's state, nonce and PKCE
// verifier (and where to go after) between the redirect to LINE and the
// callback; only this browser has it, so a callback started elsewhere
// fails its state check.
const (
	cookieLineFlow = "ws_line_flow"
	linePath       = "/signin/line"
)

// lineSignIn starts a LINE Login: a fresh state, nonce and PKCE verifier,
// then LINE's authorize page.
func (s *Server) lineSignIn(c echo.Context) error {
	if s.cfg.LineLogin == nil {
		return echo.ErrNotFound
	}
	f := lineauth.NewFlow()
	to, err := s.cfg.LineLogin.AuthURL(c.Request().Context(), f)
	if err != nil {
		return err
	}
	next := base64.RawURLEncoding.EncodeToString([]byte(localNext(c.QueryParam("next"), "")))
	c.SetCookie(&http.Cookie{Name: cookieLineFlow, Value: strings.Join([]string{f.State, f.Nonce, f.Verifier, next}, "."),
		Path: linePath, MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	return c.Redirect(http.StatusSeeOther, to)
}

// lineCallback finishes a LINE Login: the flow in this browser's cookie
// must match, the ID token must verify, and its subject must be a person
// of the webstore; then they are signed in as with a password.
func (s *Server) lineCallback(c echo.Context) error {
	if s.cfg.LineLogin == nil {
		return echo.ErrNotFound
	}
	var f lineauth.Flow
	var next string
	if ck, err := c.Cookie(cookieLineFlow); err == nil {
		if parts := strings.Split(ck.Value, "."); len(parts) == 4 {
			f = lineauth.Flow{State: parts[0], Nonce: parts[1], Verifier: parts[2]}
			if b, err := base64.RawURLEncoding.DecodeString(parts[3]); err == nil {
				next = string(b)
			}
		}
	}
	c.SetCookie(&http.Cookie{Name: cookieLineFlow, Value: "", Path: linePath, MaxAge: -1, HttpOnly: true, Secure: s.cfg.SecureCookies})
	refuse := func(zh, en string) error {
		p := page(c, lang(c).T("登入", "Sign in"))
		p.Error = p.Lang.T(zh, en)
		return render(c, http.StatusUnauthorized, views.SignIn(p, "", next))
	}
	who, err := s.cfg.LineLogin.Finish(c.Request().Context(), f, c.QueryParam("state"), c.QueryParam("code"), c.QueryParam("error"))
	if errors.Is(err, lineauth.ErrRefused) {
		return refuse("LINE 登入未完成,請再試一次。", "The LINE sign-in was not completed. Please try again.")
	} else if err != nil {
		return err
	}
	user, err := s.store.FindUserByLineSubject(c.Request().Context(), who.Subject)
	if billing.ErrorCode(err) == billing.EForbidden {
		return refuse("這個 LINE 帳號尚未連結任何使用者,請向官方帳號的管理員索取邀請連結。",
			"This LINE account is not linked to any user. Ask the official account's admin for an invitation link.")
	} else if err != nil {
		return err
	}
	return s.startSession(c, user, next)
}

// LinePeople lists, for the LINE Login sandbox, the people of the database
// d with a LINE account (the demo users).
func LinePeople(d *sqlx.DB) func(ctx context.Context) ([]lineauth.Person, error) {
	return func(ctx context.Context) ([]lineauth.Person, error) {
		ps, err := db.LinePeople(ctx, d)
		out := make([]lineauth.Person, len(ps))
		for i, p := range ps {
			out[i] = lineauth.Person{Subject: p.Subject, Name: p.Name}
		}
		return out, err
	}
}
