package web

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
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
	// With its length known the page goes out in one piece, not chunked.
	c.Response().Header().Set(echo.HeaderContentLength, strconv.Itoa(buf.Len()))
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
		u := userView(sess.User)
		p.User = &u
	}
	if m, ok := c.Get(ctxMembership).(db.Membership); ok {
		a := membershipView(m)
		p.Account = &a
	}
	if n := c.QueryParam("notice"); n != "" {
		if failureNotices[n] {
			p.Error = noticeText(p.Lang, n) // a failure is shown as one (red), never as a success
		} else {
			p.Notice = noticeText(p.Lang, n)
		}
	}
	return p
}

// notices are the sentences a redirect may ask a page to show, by id:
// only known ids are shown, so a link cannot put words on the page. One
// table for every area (webstore, manager, members, staff console).
var notices = map[string][2]string{
	"downgrade":             {"已預定降級,將於下個月1日生效。", "The downgrade is scheduled for the 1st of next month."},
	"downgrade-cancelled":   {"已取消預定的降級。", "The scheduled downgrade was withdrawn."},
	"account-renamed":       {"已更新帳號名稱。", "The account name was updated."},
	"einvoice":              {"已儲存電子發票資訊。", "E-invoice details saved."},
	"method-added":          {"已新增主要的付款方式。", "The payment method was added as your main one."},
	"method-main":           {"已變更主要付款方式。", "The main payment method was changed."},
	"method-removed":        {"已刪除付款方式。", "The payment method was removed."},
	"code":                  {"已登錄優惠活動代碼。", "The promo code was registered."},
	"method-cancelled":      {"已取消新增付款方式。", "Adding the payment method was cancelled."},
	"invitation-revoked":    {"已取消邀請,該連結已無法使用。", "The invitation was cancelled; its link no longer works."},
	"role-changed":          {"已變更權限。", "The role was changed."},
	"member-removed":        {"已移除成員。", "The member was removed."},
	"joined":                {"您已加入此帳號。", "You have joined this account."},
	"already-member":        {"您已是此帳號的成員,權限維持不變。", "You are already a member of this account; your role is unchanged."},
	"campaign-created":      {"已建立活動。", "The campaign was created."},
	"campaign-saved":        {"已儲存活動。", "The campaign was saved."},
	"retried":               {"已重新嘗試付款。", "The payment was retried."},
	"paid-now":              {"付款完成,本月費用已付清。", "Paid: this month is paid in full."},
	"nothing-owed":          {"此筆款項已不需付款,未收取任何費用。", "Nothing is owed for this charge any more; nothing was charged."},
	"renewal-given-up":      {"此筆續約的月份已結束,續約已取消,方案已改為輕用量;可隨時重新升級。", "This renewal's month has ended: it was cancelled and the plan moved to Light. You can upgrade again at any time."},
	"retry-failed":          {"付款失敗,未收取任何費用。請確認下方原因,變更付款方式後再按「立即付款」。", "The payment failed; nothing was charged. See the reason below, change the payment method, then press Pay now again."},
	"staff-retry-failed":    {"重試付款仍然失敗,未收取任何費用;原因已記錄於下方。", "The retry failed again; nothing was charged. The reason is recorded below."},
	"staff-retry-no-method": {"此帳號沒有付款方式,未重試,也未計入付款次數。", "The account has no payment method: nothing was retried or counted."},
	"retry-no-method":       {"尚未設定付款方式,未收取任何費用。請先新增付款方式,再按「立即付款」。", "There is no payment method; nothing was charged. Add one, then press Pay now."},
	"token-revoked":         {"已撤銷權杖。", "The token was revoked."},
	"run-busy":              {"此月份的續約正在執行中,以下為目前進度。", "This month's renewal is already running; here is its progress."},
}

// failureNotices are the notices that report a failure: the page shows
// them as errors.
var failureNotices = map[string]bool{"retry-failed": true, "retry-no-method": true, "staff-retry-failed": true, "staff-retry-no-method": true}

// noticeText is a notice id's sentence in l ("" for an unknown id).
func noticeText(l views.Lang, id string) string {
	n, ok := notices[id]
	if !ok {
		return ""
	}
	return l.T(n[0], n[1])
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
	case billing.EConflict, billing.EPaymentPending, billing.EUsageBatchConflict, billing.EKeyReused:
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

// StatusClientClosed is the status logged for a request whose client went
// away before it was answered (nginx's 499; no client sees it).
const StatusClientClosed = 499

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
		case http.StatusRequestEntityTooLarge:
			msg = l.T("送出的資料太大,無法處理(表單上限 64 KB,情境檔上限 1 MB)。",
				"What was sent is too large (forms take up to 64 KB, scenario files up to 1 MB).")
		case http.StatusUnsupportedMediaType:
			msg = l.T("此頁面不接受檔案上傳。", "This page does not take file uploads.")
		case http.StatusServiceUnavailable:
			msg = l.T("系統忙碌中,請稍後再試。", "The system is busy. Please try again shortly.")
		}
	case billing.ErrorCode(err) != "":
		code := billing.ErrorCode(err)
		status = httpStatus(code)
		msg = l.Err(err)
		if code == billing.EUnknownAccount {
			msg = l.T("找不到這個頁面。", "Page not found.")
		}
	case errors.Is(err, context.Canceled) || errors.Is(c.Request().Context().Err(), context.Canceled):
		// The client went away (closed the tab, timed out): nothing failed
		// here and nobody reads the answer. Logged as nginx does, 499, at
		// info (requestLog).
		c.NoContent(StatusClientClosed)
		return
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(c.Request().Context().Err(), context.DeadlineExceeded):
		// The page ran out of time (boundPageTime); the database driver
		// reports a cancelled query as its own error.
		status = http.StatusServiceUnavailable
		msg = l.T("頁面處理逾時,請稍後再試。", "The page took too long. Please try again shortly.")
		slog.Warn("request timed out", "method", c.Request().Method, "path", c.Request().URL.Path, "err", err)
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
