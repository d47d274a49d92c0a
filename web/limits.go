package web

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/labstack/echo/v4"
)

// Request bodies are bounded before anything reads them (the CSRF check
// parses the form, so it must not be first): every form and API call gets
// formBodyLimit, and only the routes in bodyRules get more or may send
// multipart/form-data.
const formBodyLimit = 64 << 10

// scenarioLimit is the largest scenario file the simulator takes (its
// handlers say "1 MB"); a multipart upload of one has some overhead.
const scenarioLimit = 1 << 20

type bodyRule struct {
	limit     int64
	multipart bool // the route takes files
}

// bodyRules are the routes that need more than a form, by method and route
// pattern.
var bodyRules = map[string]bodyRule{
	"POST /staff/simulate":        {limit: scenarioLimit + 64<<10, multipart: true},
	"POST /staff/api/simulate":    {limit: scenarioLimit},
	"POST /staff/einvoices/books": {limit: booksLimit + 64<<10, multipart: true},
}

// errBodyTooLarge and errMultipart are answered by errorHandler.
var (
	errBodyTooLarge = echo.NewHTTPError(http.StatusRequestEntityTooLarge, "request body too large")
	errMultipart    = echo.NewHTTPError(http.StatusUnsupportedMediaType, "multipart/form-data is taken only where a file is uploaded")
)

// limitBody reads the request body, up to its route's limit, before any
// other middleware or handler sees it: a larger body is refused with 413
// (at once when Content-Length says so) and the connection closed, so
// nothing is spooled to memory or disk; multipart bodies are refused with
// 415 except on the routes that take files.
func limitBody(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if r.Body == nil || r.Body == http.NoBody {
			return next(c)
		}
		rule, ok := bodyRules[r.Method+" "+c.Path()]
		if !ok {
			rule.limit = formBodyLimit
		}
		if mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType)); mt == echo.MIMEMultipartForm && !rule.multipart {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return errMultipart
		}
		if r.ContentLength > rule.limit {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return errBodyTooLarge
		}
		b, err := io.ReadAll(io.LimitReader(r.Body, rule.limit+1))
		if err != nil {
			var mbe *http.MaxBytesError
			if errors.As(err, &mbe) {
				return errBodyTooLarge
			}
			return echo.NewHTTPError(http.StatusBadRequest, "the request body could not be read").SetInternal(err)
		}
		if int64(len(b)) > rule.limit {
			c.Response().Header().Set(echo.HeaderConnection, "close")
			return errBodyTooLarge
		}
		r.Body.Close()
		r.Body = io.NopCloser(bytes.NewReader(b))
		r.ContentLength = int64(len(b))
		return next(c)
	}
}

// pageTimeout bounds what a GET may spend, its database queries included
// (lib/pq cancels a query when its context ends): a page that cannot be
// built in time is a 503, not a connection held open. slowGets are the
// exports that stream more.
const pageTimeout = 15 * time.Second

var slowGets = map[string]bool{"/staff/campaigns/:id/codes.csv": true}

func boundPageTime(d time.Duration) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			r := c.Request()
			if (r.Method != http.MethodGet && r.Method != http.MethodHead) || slowGets[c.Path()] {
				return next(c)
			}
			ctx, cancel := context.WithTimeout(r.Context(), d)
			defer cancel()
			c.SetRequest(r.WithContext(ctx))
			err := next(c)
			// The error handler renders the error page after this returns:
			// give it the request's own context, not the page's, which is
			// cancelled by then, and say if the page ran out of time.
			c.SetRequest(r)
			if err != nil && errors.Is(ctx.Err(), context.DeadlineExceeded) {
				err = errors.Join(err, context.DeadlineExceeded)
			}
			return err
		}
	}
}

// Scenario simulations each take a schema of their own with a pool of up to 9
// connections beside the app's 40, so only maxSimulations run at once; a
// request waits up to simulationWait for a slot, then gets a 503.
const (
	maxSimulations = 2
	simulationWait = 10 * time.Second
)

var simulateRoutes = map[string]bool{"POST /staff/simulate": true, "POST /staff/api/simulate": true}

var errBusy = echo.NewHTTPError(http.StatusServiceUnavailable, "busy")

func boundSimulations(slots int, wait time.Duration) echo.MiddlewareFunc {
	sem := make(chan struct{}, slots)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if !simulateRoutes[c.Request().Method+" "+c.Path()] {
				return next(c)
			}
			t := time.NewTimer(wait)
			defer t.Stop()
			select {
			case sem <- struct{}{}:
			case <-t.C:
				c.Response().Header().Set("Retry-After", "10")
				return errBusy
			case <-c.Request().Context().Done():
				return c.Request().Context().Err()
			}
			defer func() { <-sem }()
			return next(c)
		}
	}
}

// maxIdempotencyKey bounds a checkout's idempotency key (db.NewToken makes
// far shorter ones): a longer one is refused with 400 before it reaches the
// charges' unique index, which cannot hold keys of some kilobytes.
const maxIdempotencyKey = 200

// errNotText refuses a request whose path, query or form carries a NUL or
// bytes that are not UTF-8: PostgreSQL stores neither in text, so such a
// value would otherwise end as a 500 wherever it reached a query.
var errNotText = echo.NewHTTPError(http.StatusBadRequest, "the request carries a NUL or invalid UTF-8")

// requireText is errNotText's check, after limitBody has read the body.
func requireText(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		r := c.Request()
		if !isText(r.URL.Path) || !valuesAreText(r.URL.RawQuery) {
			return errNotText
		}
		if r.Body != nil && r.Body != http.NoBody {
			mt, _, _ := mime.ParseMediaType(r.Header.Get(echo.HeaderContentType))
			switch mt {
			case echo.MIMEApplicationForm, echo.MIMEApplicationJSON:
				b, err := io.ReadAll(r.Body) // already in memory (limitBody)
				if err != nil {
					return err
				}
				r.Body = io.NopCloser(bytes.NewReader(b))
				if mt == echo.MIMEApplicationForm && !valuesAreText(string(b)) ||
					mt == echo.MIMEApplicationJSON && (!utf8.Valid(b) || bytes.Contains(bytes.ToLower(b), []byte(`\u0000`))) {
					return errNotText
				}
			}
		}
		return next(c)
	}
}

func isText(s string) bool { return utf8.ValidString(s) && !strings.ContainsRune(s, 0) }

// valuesAreText checks every key and value of a URL-encoded query or form
// (one that does not parse is left to its handler).
func valuesAreText(raw string) bool {
	vs, err := url.ParseQuery(raw)
	if err != nil {
		return true
	}
	for k, v := range vs {
		if !isText(k) {
			return false
		}
		for _, s := range v {
			if !isText(s) {
				return false
			}
		}
	}
	return true
}
