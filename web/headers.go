package web

import (
	"strings"

	"github.com/labstack/echo/v4"
)

// contentSecurityPolicy lets pages load scripts, styles, images and
// requests from this origin only, with no inline script or style (the few
// behaviours live in static/app.js and staff.js, bound by data attributes;
// htmx is told not to inject styles) and no framing. form-action is left
// open: adding a LINE Pay method posts a form that is redirected to the
// provider's own pages, and CSP checks a form's redirects too.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; " +
	"connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// sandboxSecurityPolicy is for the payment sandboxes' pages (development
// only, never mounted in production), which stand in for the providers'
// own sites and carry their styles inline.
const sandboxSecurityPolicy = "default-src 'self'; style-src 'self' 'unsafe-inline'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'"

// permissionsPolicy turns off the browser features no page uses.
const permissionsPolicy = "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), bluetooth=(), " +
	"magnetometer=(), gyroscope=(), accelerometer=(), browsing-topics=()"

// hstsHeader asks browsers to use https only, for two years; sent in
// production (behind TLS) only.
const hstsHeader = "max-age=63072000; includeSubDomains"

// securityHeaders sets the headers every response carries.
func (s *Server) securityHeaders(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		h := c.Response().Header()
		csp := contentSecurityPolicy
		if strings.HasPrefix(c.Request().URL.Path, "/sandbox/") {
			csp = sandboxSecurityPolicy
		}
		h.Set("Content-Security-Policy", csp)
		h.Set("X-Frame-Options", "DENY")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("Permissions-Policy", permissionsPolicy)
		if s.cfg.Production {
			h.Set("Strict-Transport-Security", hstsHeader)
		}
		return next(c)
	}
}
