// Package web is the HTTP side: one route table, middleware (session, CSRF,
// roles), handlers grouped by area (webstore, manager, staff), one error
// handler and the buffered templ Render helper.
package web

import (
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"webstore/db"
	"webstore/sim"
	"webstore/static"
	"webstore/web/lineauth"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// Config is the web app's configuration.
type Config struct {
	// Production is set when the app serves the public over https (see
	// cmd/webstore's WEBSTORE_ENV): HSTS is sent.
	Production bool
	// SecureCookies marks cookies Secure (behind TLS).
	SecureCookies bool
	// BaseURL is the app's public URL (no trailing slash): links it hands
	// out and the providers' return URLs are built on it, never on a
	// request header (cmd/webstore sets it to BASE_URL, or in development
	// to the listen address). Unset, links are bare paths.
	BaseURL string
	// LinePay and Cards are the payment providers' clients; their sandboxes
	// are mounted on this server when the Sandbox* fields are set.
	LinePay        *linepay.Client
	Cards          *cardgw.Client
	CardPublicKey  string
	SandboxLinePay http.Handler
	SandboxCards   http.Handler
	// LineLogin signs people in with LINE (OpenID Connect); its sandbox is
	// mounted when SandboxLineLogin is set (development).
	LineLogin        *lineauth.Client
	SandboxLineLogin http.Handler
	// DatabaseURL is where the staff simulator makes its throwaway schemas
	// (a connection that keeps its session: they set search_path).
	DatabaseURL string
	// JobStore, when set, is the store the console's renewal runs use: the
	// app's own database on a connection that keeps its session, for the
	// run's session-level advisory lock, when the app's own store is
	// behind a transaction pooler. Unset, they use the app's store.
	JobStore *db.Store
	// TrustedProxies are the reverse proxies in front, whose
	// X-Forwarded-For names the client (see clientAddress).
	TrustedProxies []*net.IPNet
	// Logger receives the request log (default slog.Default()); Metrics,
	// when set, observes every request and the store's gauges.
	Logger  *slog.Logger
	Metrics *Metrics
}

// Server is the web app.
type Server struct {
	cfg   Config
	store *db.Store
	auth  Authenticator
	e     *echo.Echo
	jobs  *jobs
	// sim runs the console's scenarios (nil without cfg.DatabaseURL).
	sim *sim.Simulator
	// signins throttles failed sign-ins per login and client address.
	signins *throttle
}

// New builds the app and its route table.
func New(cfg Config, store *db.Store) *Server {
	s := &Server{cfg: cfg, store: store, auth: passwordAuth{store}, e: echo.New(), jobs: newJobs(),
		signins: newThrottle(loginThrottle, addrThrottle, time.Now)}
	if cfg.DatabaseURL != "" {
		s.sim = sim.New(cfg.DatabaseURL)
	}
	s.e.HideBanner = true
	s.e.HidePort = true
	s.e.IPExtractor = clientAddress(cfg.TrustedProxies)
	s.e.HTTPErrorHandler = s.errorHandler
	if cfg.Metrics != nil && store != nil {
		cfg.Metrics.watchStore(store)
	}
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

// routes is the whole route table, top to bottom.
func (s *Server) routes() {
	e := s.e
	e.Use(requestID, s.requestLog())
	e.Use(middleware.Recover())
	e.Use(s.securityHeaders)
	e.Use(limitBody, requireText)
	e.Use(boundPageTime(pageTimeout))
	e.Use(boundSimulations(maxSimulations, simulationWait))

	e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET("/static/*", s.static)
	if s.cfg.SandboxLinePay != nil {
		e.Any("/sandbox/linepay/*", echo.WrapHandler(s.cfg.SandboxLinePay))
	}
	if s.cfg.SandboxCards != nil {
		e.Any("/sandbox/card/*", echo.WrapHandler(s.cfg.SandboxCards))
	}
	if s.cfg.SandboxLineLogin != nil {
		e.Any("/sandbox/line-login/*", echo.WrapHandler(s.cfg.SandboxLineLogin))
	}

	// Usage ingestion authenticates with the account's API token, not a
	// session, so it stands outside the CSRF-protected group. So does the
	// staff simulator's JSON API: it authenticates itself (a staff session
	// or a staff API token, see apiSimulate).
	e.POST("/api/usage", s.recordUsage)
	e.POST("/staff/api/simulate", s.apiSimulate)

	app := e.Group("", middleware.CSRFWithConfig(middleware.CSRFConfig{
		TokenLookup: "form:_csrf,header:X-CSRF-Token", CookieName: "ws_csrf", CookiePath: "/",
		CookieHTTPOnly: true, CookieSameSite: http.SameSiteLaxMode, CookieSecure: s.cfg.SecureCookies,
	}), s.loadSession)
	app.GET("/", s.home)
	app.GET("/lang", s.setLang)
	app.GET("/terms", s.terms)
	app.GET("/signin", s.signInPage)
	app.POST("/signin", s.signIn)
	app.GET("/signin/line", s.lineSignIn)
	app.POST("/signin/line", s.lineSignIn)
	app.GET("/signin/line/callback", s.lineCallback)
	app.POST("/signout", s.signOut)
	app.GET("/accounts", s.accounts, requireUser)

	// The billing team's console under /staff/: its own role
	// (users.is_staff), checked on every route; anyone else gets a plain
	// 404, no hint the console exists.
	st := app.Group("/staff", s.requireStaff, noStore)
	st.GET("", func(c echo.Context) error { return c.Redirect(http.StatusSeeOther, "/staff/accounts") })
	st.GET("/accounts", s.staffSearch)
	st.GET("/accounts/:id", s.staffAccount)
	st.GET("/preview", s.staffPreview)
	st.GET("/simulate", s.staffSimulatePage)
	st.POST("/simulate", s.staffSimulate)
	st.GET("/campaigns", s.staffCampaigns)
	st.POST("/campaigns", s.staffCreateCampaign)
	st.GET("/campaigns/:id", s.staffCampaign)
	st.POST("/campaigns/:id", s.staffUpdateCampaign)
	st.POST("/campaigns/:id/codes", s.staffGenerateCodes)
	st.GET("/campaigns/:id/codes.csv", s.staffCodesCSV)
	st.GET("/campaigns/:id/jobs/:job", s.staffCodeJob)
	st.GET("/campaigns/:id/jobs/:job/progress", s.staffCodeJobProgress)
	st.GET("/renewals", s.staffRenewals)
	st.GET("/renewals/:month", s.staffRun)
	st.POST("/renewals/:month", s.staffStartRun)
	st.GET("/renewals/:month/progress", s.staffRunProgress)
	st.GET("/charges/:id", s.staffCharge)
	st.POST("/charges/:id/retry", s.staffRetry)
	st.POST("/charges/:id/refund", s.staffRefund)
	st.GET("/einvoices", s.staffEInvoices)
	st.POST("/einvoices/books", s.staffImportBooks)
	st.GET("/einvoices/messages/:file", s.staffMessageXML)
	st.POST("/einvoices/allowances/:refund/resend", s.staffResendAllowanceLink)
	st.GET("/audit", s.staffAudit)
	st.GET("/tokens", s.staffTokens)
	st.POST("/tokens", s.staffCreateToken)
	st.POST("/tokens/revoke", s.staffRevokeToken)

	// The invitation link's pages, outside any account: the person opening
	// one is not a member yet.
	app.GET("/invite/:token", s.invitation, noStore)
	app.POST("/invite/:token", s.acceptInvitation, requireUser, noStore)
	// The e-mailed link where an admin agrees to an allowance (折讓) after
	// a refund: the token is the credential, a session is optional.
	app.GET(db.AllowancePath(":token"), s.allowanceConsent, noStore)
	app.POST(db.AllowancePath(":token"), s.agreeAllowance, noStore)

	// Every page of one official account, on two surfaces over the same
	// handlers: /a/ the phone webstore, /m/ the desktop manager's 設定 →
	// 帳務專區. Only the views differ.
	for _, surface := range []string{surfacePhone, surfaceDesktop} {
		s.accountRoutes(app.Group("/"+surface+"/:acct", requireUser, s.requireMember, noStore, withSurface(surface)))
	}
}

// accountRoutes are an account's pages under g (/a/:acct or /m/:acct).
func (s *Server) accountRoutes(g *echo.Group) {
	g.GET("", s.menu)
	g.GET("/menu", s.menu)
	g.GET("/plan", s.plan)
	g.GET("/plan/news", s.planNews)
	g.GET("/premium-id", s.premiumID)
	g.POST("/plan/downgrade", s.downgrade, requireAdmin)
	g.POST("/plan/downgrade/cancel", s.cancelDowngrade, requireAdmin)
	g.GET("/checkout", s.checkout)
	g.POST("/checkout/code", s.checkoutCode, requireAdmin)
	g.POST("/checkout", s.purchase, requireAdmin)
	g.GET("/charges/:id", s.charge)
	g.POST("/charges/:id/pay", s.payNow, requireAdmin)
	g.GET("/charges/:id/receipt", s.receipt)
	g.GET("/charges/:id/einvoice", s.einvoiceProof)
	g.GET("/account", s.accountSettings)
	g.POST("/account", s.renameAccount, requireAdmin)
	g.POST("/account/sign-out-everywhere", s.signOutEverywhere) // any member, for their own sessions
	g.GET("/history", s.history)
	g.GET("/scheduled", s.scheduled)
	g.GET("/promo", s.promo)
	g.POST("/promo", s.registerCode, requireAdmin)
	g.GET("/einvoice", s.einvoice)
	g.POST("/einvoice", s.saveEinvoice, requireAdmin)
	g.GET("/payment-methods", s.methods)
	g.GET("/payment-methods/new", s.newMethod, requireAdmin)
	g.POST("/payment-methods/new", s.startMethod, requireAdmin)
	g.GET("/payment-methods/linepay/confirm", s.linePayConfirm, requireAdmin)
	g.GET("/payment-methods/linepay/cancel", s.methodCancelled, requireAdmin)
	g.GET("/payment-methods/card/return", s.cardReturn, requireAdmin)
	g.POST("/payment-methods/:id/main", s.setMainMethod, requireAdmin)
	g.POST("/payment-methods/:id/remove", s.removeMethod, requireAdmin)
	g.GET("/members", s.members)
	g.POST("/members/invite", s.invite, requireAdmin)
	g.POST("/members/invitations/:id/revoke", s.revokeInvitation, requireAdmin)
	g.POST("/members/:user/role", s.changeRole, requireAdmin)
	g.POST("/members/:user/remove", s.removeMember, requireAdmin)
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
