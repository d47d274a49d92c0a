package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

const (
	ctxSession    = "session"
	ctxSurface    = "surface"
	ctxMembership = "membership"
	cookieSession = "ws_session"
	cookieLang    = "ws_lang"
)

// lang is the page language: the remembered switch, else Accept-Language
// (English only when preferred over Chinese), else zh-TW.
func lang(c echo.Context) views.Lang {
	if ck, err := c.Cookie(cookieLang); err == nil {
		if ck.Value == string(views.EN) {
			return views.EN
		}
		if ck.Value == string(views.ZH) {
			return views.ZH
		}
	}
	for _, part := range strings.Split(c.Request().Header.Get("Accept-Language"), ",") {
		tag := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		switch {
		case strings.HasPrefix(tag, "zh"):
			return views.ZH
		case strings.HasPrefix(tag, "en"):
			return views.EN
		}
	}
	return views.ZH
}

// setLang remembers the language switch: in the browser, and for a
// signed-in user as their language, which their mail is written in.
func (s *Server) setLang(c echo.Context) error {
	to := views.ZH
	if c.QueryParam("to") == string(views.EN) {
		to = views.EN
	}
	if sess, ok := c.Get(ctxSession).(db.Session); ok {
		if err := s.store.SetUserLang(c.Request().Context(), sess.User.ID, string(to)); err != nil {
			return err
		}
	}
	c.SetCookie(&http.Cookie{Name: cookieLang, Value: string(to), Path: "/", MaxAge: 365 * 24 * 3600,
		HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: s.cfg.SecureCookies})
	return c.Redirect(http.StatusSeeOther, localNext(c.QueryParam("next"), "/"))
}

// The two surfaces an account's pages are served on.
const (
	surfacePhone   = "a" // the phone webstore
	surfaceDesktop = "m" // the desktop manager
)

// withSurface marks the request's surface for pathFor and the views.
func withSurface(surface string) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(ctxSurface, surface)
			return next(c)
		}
	}
}

// surface is the request's surface (phone when outside an account).
func surface(c echo.Context) string {
	if v, ok := c.Get(ctxSurface).(string); ok {
		return v
	}
	return surfacePhone
}

// loadSession attaches the signed-in user, if any.
func (s *Server) loadSession(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if ck, err := c.Cookie(cookieSession); err == nil && ck.Value != "" {
			// One round trip: the session, the membership in the account
			// the path names (if any), and the reference data's version.
			r := c.Request()
			if sess, err := s.store.FindSessionIn(r.Context(), ck.Value, c.Param("acct")); err == nil {
				c.Set(ctxSession, sess)
				// Every page drawn for someone signed in is theirs alone:
				// no cache (shared or the browser's back button) keeps it.
				c.Response().Header().Set("Cache-Control", "no-store")
				ctx := db.WithReferenceVersion(r.Context(), sess.ReferenceVersion)
				if r.Method == http.MethodGet || r.Method == http.MethodHead {
					// The account's overview may come from the cache when
					// still current (db.WithAccountVersion); a page that
					// writes is not a GET, and reads it afresh.
					ctx = db.WithAccountVersion(ctx, c.Param("acct"), sess.AccountVersion, sess.OverviewGlobal)
				}
				c.SetRequest(r.WithContext(ctx))
			}
		}
		return next(c)
	}
}

// requireUser sends visitors without a session to sign in.
func requireUser(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if _, ok := c.Get(ctxSession).(db.Session); !ok {
			if c.Request().Method == http.MethodGet {
				return c.Redirect(http.StatusSeeOther, "/signin?next="+url.QueryEscape(c.Request().URL.RequestURI()))
			}
			return billing.Errorf(billing.EForbidden, "")
		}
		return next(c)
	}
}

// requireMember loads the user's membership in the account named in the
// path; a user with none gets a plain 404, no hint the account exists.
func (s *Server) requireMember(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		sess := c.Get(ctxSession).(db.Session)
		if sess.Member == nil || sess.Member.AccountID != c.Param("acct") {
			return echo.ErrNotFound
		}
		c.Set(ctxMembership, *sess.Member)
		return next(c)
	}
}

// requireAdmin refuses a change by anyone but the account's admin.
func requireAdmin(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		if m, _ := c.Get(ctxMembership).(db.Membership); m.Role != billing.RoleAdmin {
			return billing.Errorf(billing.EForbidden, "")
		}
		return next(c)
	}
}

// noStore keeps pages with account data out of shared caches.
func noStore(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		c.Response().Header().Set("Cache-Control", "no-store")
		return next(c)
	}
}

func member(c echo.Context) db.Membership { return c.Get(ctxMembership).(db.Membership) }

func session(c echo.Context) db.Session { return c.Get(ctxSession).(db.Session) }

// actor names the signed-in user for the audit trail.
func actor(c echo.Context) db.Actor {
	if sess, ok := c.Get(ctxSession).(db.Session); ok {
		return db.Actor("user:" + sess.User.Login)
	}
	return "anonymous"
}
