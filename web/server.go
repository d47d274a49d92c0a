// Package web is the HTTP side: one route table, middleware (session, CSRF,
// roles), handlers grouped by area (webstore, manager, staff), one error
// handler and the buffered templ Render helper.
package web

import (
	"net/http"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"webstore/db"
	"webstore/static"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// Config is the web app's configuration.
type Config struct {
	// SecureCookies marks cookies Secure (behind TLS).
	SecureCookies bool
	// LinePay and Cards are the payment providers' clients; their sandboxes
	// are mounted on this server when the Sandbox* fields are set.
	LinePay        *linepay.Client
	Cards          *cardgw.Client
	CardPublicKey  string
	SandboxLinePay http.Handler
	SandboxCards   http.Handler
}

// Server is the web app.
type Server struct {
	cfg   Config
	store *db.Store
	auth  Authenticator
	e     *echo.Echo
}

// New builds the app and its route table.
func New(cfg Config, store *db.Store) *Server {
	s := &Server{cfg: cfg, store: store, auth: passwordAuth{store}, e: echo.New()}
	s.e.HideBanner = true
	s.e.HidePort = true
	s.e.IPExtractor = echo.ExtractIPDirect()
	s.e.HTTPErrorHandler = s.errorHandler
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

// routes is the whole route table, top to bottom.
func (s *Server) routes() {
	e := s.e
	e.Use(middleware.Recover())
	e.Use(middleware.SecureWithConfig(middleware.SecureConfig{XFrameOptions: "SAMEORIGIN", ContentTypeNosniff: "nosniff",
		ReferrerPolicy: "same-origin"}))

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/static/*", s.static)
	if s.cfg.SandboxLinePay != nil {
		e.Any("/sandbox/linepay/*", echo.WrapHandler(s.cfg.SandboxLinePay))
	}
	if s.cfg.SandboxCards != nil {
		e.Any("/sandbox/card/*", echo.WrapHandler(s.cfg.SandboxCards))
	}

	// Usage ingestion authenticates with the account's API token, not a
	// session, so it stands outside the CSRF-protected group.
	e.POST("/api/usage", s.recordUsage)

	app := e.Group("", middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup: "form:_csrf,header:X-CSRF-Token", CookieName: "ws_csrf", CookiePath: "/",
		CookieHTTPOnly: true, CookieSameSite: http.SameSiteLaxMode, CookieSecure: s.cfg.SecureCookies,
	}), s.loadSession)
	app.GET("/", s.home)
	app.GET("/lang", s.setLang)
	app.GET("/terms", s.terms)
	app.GET("/signin", s.signInPage)
	app.POST("/signin", s.signIn)
	app.POST("/signout", s.signOut)
	app.GET("/accounts", s.accounts, requireUser)

	// The phone webstore: every page of one official account.
	a := app.Group("/a/:acct", requireUser, s.requireMember, noStore)
	a.GET("", s.menu)
	a.GET("/menu", s.menu)
	a.GET("/plan", s.plan)
	a.POST("/plan/downgrade", s.downgrade, requireAdmin)
	a.POST("/plan/downgrade/cancel", s.cancelDowngrade, requireAdmin)
	a.GET("/checkout", s.checkout)
	a.POST("/checkout/code", s.checkoutCode, requireAdmin)
	a.POST("/checkout", s.purchase, requireAdmin)
	a.GET("/charges/:id", s.charge)
	a.GET("/history", s.history)
	a.GET("/scheduled", s.scheduled)
	a.GET("/promo", s.promo)
	a.POST("/promo", s.registerCode, requireAdmin)
	a.GET("/einvoice", s.einvoice)
	a.POST("/einvoice", s.saveEinvoice, requireAdmin)
	a.GET("/payment-methods", s.methods)
	a.GET("/payment-methods/new", s.newMethod, requireAdmin)
	a.POST("/payment-methods/new", s.startMethod, requireAdmin)
	a.GET("/payment-methods/linepay/confirm", s.linePayConfirm, requireAdmin)
	a.GET("/payment-methods/linepay/cancel", s.methodCancelled, requireAdmin)
	a.GET("/payment-methods/card/return", s.cardReturn, requireAdmin)
	a.POST("/payment-methods/:id/main", s.setMainMethod, requireAdmin)
	a.POST("/payment-methods/:id/remove", s.removeMethod, requireAdmin)
}

func (s *Server) static(c echo.Context) error {
	name := c.Param("*")
	b, err := static.FS.ReadFile(name)
	if err != nil {
		return echo.ErrNotFound
	}
	if c.QueryParam("v") != "" {
		c.Response().Header().Set("Cache-Control", "public, max-age=31536000, immutable")
	}
	ct := "application/octet-stream"
	switch {
	case len(name) > 4 && name[len(name)-4:] == ".css":
		ct = "text/css; charset=utf-8"
	case len(name) > 3 && name[len(name)-3:] == ".js":
		ct = "text/javascript; charset=utf-8"
	case len(name) > 4 && name[len(name)-4:] == ".svg":
		ct = "image/svg+xml"
	}
	return c.Blob(http.StatusOK, ct, b)
}
