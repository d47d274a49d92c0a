package web

import (
	"log/slog"
	"net/http"
	"net/url"
	"runtime/debug"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// The staff console's gate and what its pages share: the staff role on
// every /staff/ route, the actor the audit trail names, the page frame,
// path parameters, Taiwan-time form values and background jobs' recovery.
// The sections live in files of their own (account_lookup, preview,
// simulate, campaigns, renewal_runs, audit, tokens).

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

// parseTaipei reads a datetime-local value as Taiwan time.
func parseTaipei(s string, loc *time.Location) (time.Time, error) {
	for _, layout := range []string{"2006-01-02T15:04:05", "2006-01-02T15:04"} {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, billing.Errorf(billing.EInvalid, "時間格式不正確:%s", s)
}

// pathParam is a path parameter as the URL named it: unescaped, also when
// the path carried an escaped '/' (Echo then routes on the raw path and
// hands the parameter over still escaped). Ids are escaped where the
// console writes them (views.CampaignPath).
func pathParam(c echo.Context, name string) string {
	v := c.Param(name)
	if c.Request().URL.RawPath != "" {
		if u, err := url.PathUnescape(v); err == nil {
			return u
		}
	}
	return v
}

// recoverJob keeps a panic in a background job from taking the server down;
// the job's row then reads as interrupted once it goes stale.
func recoverJob(name string, id any) {
	if r := recover(); r != nil {
		slog.Error(name+": panic", "id", id, "panic", r, "stack", string(debug.Stack()))
	}
}
