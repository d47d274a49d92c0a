package web

import (
	"context"
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
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
// then LINE's authorize page. Posted from an invitation's page (with its
// CSRF token) it carries the invitation: the person LINE identifies joins
// through it (lineJoin).
func (s *Server) lineSignIn(c echo.Context) error {
	if s.cfg.LineLogin == nil {
		return echo.ErrNotFound
	}
	f := lineauth.NewFlow()
	to, err := s.cfg.LineLogin.AuthURL(c.Request().Context(), f)
	if err != nil {
		return err
	}
	var invite string
	if c.Request().Method == http.MethodPost {
		invite = c.FormValue("invite")
	}
	enc := base64.RawURLEncoding.EncodeToString
	c.SetCookie(&http.Cookie{Name: cookieLineFlow,
		Value: strings.Join([]string{f.State, f.Nonce, f.Verifier, enc([]byte(localNext(c.QueryParam("next"), ""))), enc([]byte(invite))}, "."),
		Path:  linePath, MaxAge: 600, HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	return c.Redirect(http.StatusSeeOther, to)
}

// lineCallback finishes a LINE Login: the flow in this browser's cookie
// must match and the ID token must verify. Then the subject's user is
// signed in as with a password; a flow started from an invitation joins
// through it instead (lineJoin); an unknown subject without one is told to
// ask for an invitation.
func (s *Server) lineCallback(c echo.Context) error {
	if s.cfg.LineLogin == nil {
		return echo.ErrNotFound
	}
	var f lineauth.Flow
	var next, invite string
	if ck, err := c.Cookie(cookieLineFlow); err == nil {
		if parts := strings.Split(ck.Value, "."); len(parts) == 5 {
			f = lineauth.Flow{State: parts[0], Nonce: parts[1], Verifier: parts[2]}
			if b, err := base64.RawURLEncoding.DecodeString(parts[3]); err == nil {
				next = string(b)
			}
			if b, err := base64.RawURLEncoding.DecodeString(parts[4]); err == nil {
				invite = string(b)
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
	if invite != "" {
		return s.lineJoin(c, invite, who)
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

// lineJoin makes the person LINE identified a member through the
// invitation token: someone signed in here links their user to this LINE
// account; anyone else is the user of that LINE account, created for a
// new one. A new session begins unless the browser's own user joined; it
// lands on the account. A link that cannot be used, or a LINE account that
// belongs to someone else, is shown on the invitation's page and changes
// nothing.
func (s *Server) lineJoin(c echo.Context, token string, who lineauth.Identity) error {
	j := db.LineJoin{Token: token, Subject: who.Subject, Name: who.Name}
	act := db.Actor("line:" + who.Subject)
	if sess, ok := c.Get(ctxSession).(db.Session); ok {
		j.SignedIn, act = sess.User.ID, actor(c)
	}
	user, m, joined, err := s.store.JoinWithLine(c.Request().Context(), act, j)
	switch billing.ErrorCode(err) {
	case "":
	case billing.ELineTaken, billing.ELineOther:
		return s.renderInvitation(c, http.StatusConflict, token, lang(c).Err(err))
	default:
		return s.invitationRefused(c, err)
	}
	notice := "joined"
	if !joined {
		notice = "already-member"
	}
	to := withNotice("/"+surfacePhone+"/"+url.PathEscape(m.AccountID)+"/menu", notice)
	if user.ID == j.SignedIn {
		return c.Redirect(http.StatusSeeOther, to)
	}
	return s.startSession(c, user, to)
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
