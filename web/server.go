// Package web is the HTTP side: one route table, middleware (session, CSRF,
// roles), handlers grouped by area (webstore, manager, staff), one error
// handler and the buffered templ Render helper.
package web

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"webstore/db"
)

// Config is the web app's configuration.
type Config struct {
	// SecureCookies marks cookies Secure (behind TLS).
	SecureCookies bool
}

// Server is the web app.
type Server struct {
	cfg   Config
	store *db.Store
	e     *echo.Echo
}

// New builds the app and its route table.
func New(cfg Config, store *db.Store) *Server {
	s := &Server{cfg: cfg, store: store, e: echo.New()}
	s.e.HideBanner = true
	s.e.HidePort = true
	s.e.IPExtractor = echo.ExtractIPDirect()
	s.routes()
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.e.ServeHTTP(w, r) }

func (s *Server) routes() {
	s.e.GET("/healthz", func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
}
