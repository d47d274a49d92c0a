package web

import (
	"bytes"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strings"

	"github.com/a-h/templ"
	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"webstore/billing"
	"webstore/db"
	"webstore/views"
)

// render writes a component buffered, so a rendering error can still become
// a proper error response.
func render(c echo.Context, status int, comp templ.Component) error {
	var buf bytes.Buffer
	if err := comp.Render(c.Request().Context(), &buf); err != nil {
		return err
	}
	return c.HTMLBlob(status, buf.Bytes())
}

// page builds the layout's view model for the request.
func page(c echo.Context, title string) views.Page {
	p := views.Page{Lang: lang(c), Title: title, Path: c.Request().URL.RequestURI(), Desktop: surface(c) == surfaceDesktop}
	if r := c.Request(); r.Method != http.MethodGet {
		// A form re-rendered after a POST: the language switch goes back to
		// the page the form was on (a POST URL has no GET route).
		p.Path = "/"
		if ref, err := url.Parse(r.Referer()); err == nil && ref.Host == r.Host {
			p.Path = localNext(ref.RequestURI(), "/")
		}
	}
	if tok, ok := c.Get(middleware.DefaultCSRFConfig.ContextKey).(string); ok {
		p.CSRF = tok
	}
	if sess, ok := c.Get(ctxSession).(db.Session); ok {
		u := sess.User
		p.User = &u
	}
	if m, ok := c.Get(ctxMembership).(db.Membership); ok {
		p.Account = &m
	}
	if n := c.QueryParam("notice"); n != "" {
		p.Notice = noticeText(p.Lang, n)
	}
	return p
}

// noticeText turns a notice id from a redirect into a sentence: only known
// ids are shown, so a link cannot put words on the page.
func noticeText(l views.Lang, id string) string {
	switch id {
	case "downgrade":
		return l.T("已預定降級,將於下個月1日生效。", "The downgrade is scheduled for the 1st of next month.")
	case "downgrade-cancelled":
		return l.T("已取消預定的降級。", "The scheduled downgrade was withdrawn.")
	case "account-renamed":
		return l.T("已更新帳號名稱。", "The account name was updated.")
	case "einvoice":
		return l.T("已儲存電子發票資訊。", "E-invoice details saved.")
	case "method-added":
		return l.T("已新增主要的付款方式。", "The payment method was added as your main one.")
	case "method-main":
		return l.T("已變更主要付款方式。", "The main payment method was changed.")
	case "method-removed":
		return l.T("已刪除付款方式。", "The payment method was removed.")
	case "code":
		return l.T("已登錄優惠活動代碼。", "The promo code was registered.")
	case "method-cancelled":
		return l.T("已取消新增付款方式。", "Adding the payment method was cancelled.")
	}
	return ""
}

// withNotice appends a notice id to a local URL.
func withNotice(u, id string) string {
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "notice=" + url.QueryEscape(id)
}

// localNext returns next if it is a path on this site, else def, so a
// redirect cannot be pointed elsewhere.
func localNext(next, def string) string {
	u, err := url.Parse(next)
	if err != nil || u.Scheme != "" || u.Host != "" || u.User != nil || !strings.HasPrefix(next, "/") ||
		strings.HasPrefix(next, "//") || strings.ContainsAny(next, "\\") {
		return def
	}
	for _, r := range next {
		// Browsers drop tabs and newlines from URLs: "/\t/evil" would
		// become "//evil", another site.
		if r < 0x20 || r == 0x7f {
			return def
		}
	}
	return next
}

// httpStatus maps a billing error code to an HTTP status, in one table.
func httpStatus(code billing.Code) int {
	switch code {
	case billing.EUnknownAccount:
		return http.StatusNotFound
	case billing.EForbidden:
		return http.StatusForbidden
	case billing.EConflict, billing.EPaymentPending, billing.EUsageBatchConflict:
		return http.StatusConflict
	case billing.EQuotaExceeded:
		return http.StatusTooManyRequests
	case billing.EPaymentFailed:
		return http.StatusPaymentRequired
	case "":
		return http.StatusInternalServerError
	}
	return http.StatusUnprocessableEntity
}

// errorHandler is the one place errors become responses.
func (s *Server) errorHandler(err error, c echo.Context) {
	if c.Response().Committed {
		return
	}
	status := http.StatusInternalServerError
	l := lang(c)
	msg := l.T("發生錯誤,請稍後再試。", "Something went wrong. Please try again.")
	var he *echo.HTTPError
	switch {
	case errors.As(err, &he):
		status = he.Code
		switch status {
		case http.StatusNotFound:
			msg = l.T("找不到這個頁面。", "Page not found.")
		case http.StatusForbidden, http.StatusBadRequest:
			if errors.Is(err, middleware.ErrCSRFInvalid) || strings.Contains(strings.ToLower(he.Error()), "csrf") {
				status = http.StatusForbidden
				msg = l.T("頁面已過期,請重新整理後再試一次。", "This page has expired. Refresh it and try again.")
			} else if status == http.StatusForbidden {
				msg = billing.CodeMessage(billing.EForbidden, string(l))
			} else {
				msg = l.T("要求的格式不正確。", "The request was not valid.")
			}
		case http.StatusMethodNotAllowed:
			msg = l.T("不支援此操作。", "This action is not supported.")
		}
	case billing.ErrorCode(err) != "":
		code := billing.ErrorCode(err)
		status = httpStatus(code)
		msg = l.Err(err)
		if code == billing.EUnknownAccount {
			msg = l.T("找不到這個頁面。", "Page not found.")
		}
	default:
		slog.Error("request failed", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
	}
	if strings.HasPrefix(c.Request().URL.Path, "/api/") || strings.HasPrefix(c.Request().URL.Path, "/staff/api/") {
		c.JSON(status, map[string]any{"error": string(billing.ErrorCode(err)), "message": msg})
		return
	}
	if err := render(c, status, views.ErrorPage(page(c, msg), status, msg)); err != nil {
		c.String(status, msg)
	}
}
