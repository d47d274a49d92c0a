package web

import (
	"net/http"
	"net/url"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// Authenticator verifies a person at sign-in. The demo signs users in with a
// password; a LINE Login (OpenID Connect) provider implements the same
// interface from its authorization-code callback, mapping the ID token's
// subject to a user.
type Authenticator interface {
	Authenticate(c echo.Context) (db.User, error)
}

// passwordAuth signs in the seeded demo users.
type passwordAuth struct{ store *db.Store }

func (a passwordAuth) Authenticate(c echo.Context) (db.User, error) {
	return a.store.CheckPassword(c.Request().Context(), c.FormValue("login"), c.FormValue("password"))
}

func (s *Server) home(c echo.Context) error {
	if _, ok := c.Get(ctxSession).(db.Session); ok {
		return c.Redirect(http.StatusSeeOther, "/accounts")
	}
	return c.Redirect(http.StatusSeeOther, "/signin")
}

func (s *Server) terms(c echo.Context) error {
	return render(c, http.StatusOK, views.Terms(page(c, lang(c).T("服務條款", "Terms of service"))))
}

func (s *Server) signInPage(c echo.Context) error {
	p := page(c, lang(c).T("登入", "Sign in"))
	return render(c, http.StatusOK, views.SignIn(p, "", c.QueryParam("next")))
}

func (s *Server) signIn(c echo.Context) error {
	login, addr := c.FormValue("login"), c.RealIP()
	if wait := s.signins.wait(login, addr); wait > 0 {
		return s.signInThrottled(c, wait)
	}
	if d := s.signins.slow(login); d > 0 {
		// The login is under attack from elsewhere: this client, without
		// failures of its own, is let in, a little later.
		select {
		case <-time.After(d):
		case <-c.Request().Context().Done():
			return c.Request().Context().Err()
		}
	}
	user, err := s.auth.Authenticate(c)
	if err != nil {
		if billing.ErrorCode(err) == "" {
			return err
		}
		s.signInFailed(c, login, addr)
		p := page(c, lang(c).T("登入", "Sign in"))
		p.Error = p.Lang.T("帳號或密碼不正確。", "The login or password is not correct.")
		return render(c, http.StatusUnauthorized, views.SignIn(p, c.FormValue("login"), c.FormValue("next")))
	}
	return s.startSession(c, user, c.FormValue("next"))
}

// startSession signs user in (a new session and its cookie) and sends them
// on to next, if it is a page of this site, or to their accounts.
func (s *Server) startSession(c echo.Context, user db.User, next string) error {
	// Signing in ends this browser's previous session on the server, so a
	// cookie copied before (or left by the previous person at a shared
	// computer) stops working, whoever signs in now.
	if ck, err := c.Cookie(cookieSession); err == nil && ck.Value != "" {
		if err := s.store.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	tok, err := s.store.CreateSession(c.Request().Context(), user.ID)
	if err != nil {
		return err
	}
	// A language switched before signing in is the user's choice too.
	if ck, err := c.Cookie(cookieLang); err == nil && (ck.Value == string(views.ZH) || ck.Value == string(views.EN)) {
		if err := s.store.SetUserLang(c.Request().Context(), user.ID, ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: cookieSession, Value: tok, Path: "/", HttpOnly: true,
		SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies, MaxAge: int(db.SessionLifetime.Seconds())})
	next = localNext(next, "/accounts")
	if user.IsStaff && next == "/accounts" {
		next = "/staff"
	}
	return c.Redirect(http.StatusSeeOther, next)
}

func (s *Server) signOut(c echo.Context) error {
	if ck, err := c.Cookie(cookieSession); err == nil {
		if err := s.store.DeleteSession(c.Request().Context(), ck.Value); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: cookieSession, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	return c.Redirect(http.StatusSeeOther, "/signin")
}

// signOutEverywhere is 登出所有裝置 on 帳號設定: any member ends every
// session of their own, this browser's included (a phone left signed in, a
// shared computer), and signs in again.
func (s *Server) signOutEverywhere(c echo.Context) error {
	if _, err := s.store.DeleteUserSessions(c.Request().Context(), actor(c), session(c).User.ID, member(c).AccountID); err != nil {
		return err
	}
	c.SetCookie(&http.Cookie{Name: cookieSession, Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	return c.Redirect(http.StatusSeeOther, "/signin")
}

func (s *Server) accounts(c echo.Context) error {
	ms, err := s.store.Memberships(c.Request().Context(), session(c).User.ID)
	if err != nil {
		return err
	}
	if len(ms) == 1 && c.QueryParam("pick") == "" {
		return c.Redirect(http.StatusSeeOther, "/a/"+url.PathEscape(ms[0].AccountID)+"/menu")
	}
	return render(c, http.StatusOK, views.Accounts(page(c, lang(c).T("選擇帳號", "Choose an account")), membershipViews(ms)))
}
