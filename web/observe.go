package web

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"webstore/billing"
	"webstore/db"
)

// Metrics are what an operator watches from outside, in Prometheus's
// format: request latency by route, payments by provider and outcome,
// pending charges, and the latest renewal run's progress. They are served
// by Handler, which cmd/webstore puts on its own listen address (never the
// public one).
type Metrics struct {
	reg      *prometheus.Registry
	latency  *prometheus.HistogramVec
	inFlight prometheus.Gauge
	payments *prometheus.CounterVec
	// statements is the database round trips per request, by route.
	statements *prometheus.HistogramVec
}

// NewMetrics registers the app's metrics, with the Go runtime's and the
// process's, in a registry of their own.
func NewMetrics() *Metrics {
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "webstore_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern, method and status code.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"route", "method", "code"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "webstore_http_requests_in_flight",
			Help: "HTTP requests being answered.",
		}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "webstore_payments_total",
			Help: "Payments asked of a provider, by provider (payment kind) and outcome: paid, declined, or unknown (no clear answer; the charge stays pending).",
		}, []string{"provider", "outcome"}),
		statements: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "webstore_http_request_db_statements",
			Help:    "Database round trips (statements, BEGIN, COMMIT) made to answer an HTTP request, by route pattern.",
			Buckets: []float64{1, 2, 3, 5, 8, 13, 21, 34},
		}, []string{"route"}),
	}
	m.reg.MustRegister(m.latency, m.inFlight, m.payments, m.statements,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg})
}

// Payments wraps the store's payment gateway so that every payment is
// counted by provider and outcome.
func (m *Metrics) Payments(g billing.Gateway) billing.Gateway { return meteredGateway{g, m} }

type meteredGateway struct {
	next billing.Gateway
	m    *Metrics
}

func (g meteredGateway) Pay(ctx context.Context, p billing.Payment) (string, error) {
	ref, err := g.next.Pay(ctx, p)
	outcome := "paid"
	var de *billing.DeclineError
	switch {
	case errors.As(err, &de):
		outcome = "declined"
	case err != nil:
		outcome = "unknown"
	}
	provider := string(p.Kind)
	if provider == "" {
		provider = "none"
	}
	g.m.payments.WithLabelValues(provider, outcome).Inc()
	return ref, err
}

// Refund passes a refund to the gateway, counted as the provider's
// refunded, refund_declined or refund_unknown.
func (g meteredGateway) Refund(ctx context.Context, r billing.RefundPayment) (string, error) {
	rf, ok := g.next.(billing.Refunder)
	if !ok {
		return "", errors.New("the payment gateway cannot refund")
	}
	ref, err := rf.Refund(ctx, r)
	outcome := "refunded"
	var de *billing.DeclineError
	switch {
	case errors.As(err, &de):
		outcome = "refund_declined"
	case err != nil:
		outcome = "refund_unknown"
	}
	g.m.payments.WithLabelValues(string(r.Kind), outcome).Inc()
	return ref, err
}

// watchStore adds the store's gauges, read when the metrics are scraped.
func (m *Metrics) watchStore(s *db.Store) {
	m.reg.MustRegister(storeCollector{s})
}

var (
	pendingDesc = prometheus.NewDesc("webstore_charges_pending", "Charges waiting for a payment's outcome, by kind.", []string{"kind"}, nil)
	runDoneDesc = prometheus.NewDesc("webstore_renewal_run_accounts_done",
		"Accounts renewed so far by the latest renewal run, by month and phase (renewing, billing_usage, collecting, finished, failed).", []string{"month", "phase"}, nil)
	runExpectedDesc = prometheus.NewDesc("webstore_renewal_run_accounts_expected",
		"Accounts the latest renewal run expected to renew when it started.", []string{"month", "phase"}, nil)
	scrapeErrDesc = prometheus.NewDesc("webstore_store_scrape_errors", "1 when the store's gauges could not be read at this scrape.", nil, nil)
)

type storeCollector struct{ s *db.Store }

func (c storeCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- pendingDesc
	ch <- runDoneDesc
	ch <- runExpectedDesc
	ch <- scrapeErrDesc
}

func (c storeCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	failed := 0.0
	if pending, err := c.s.PendingCharges(ctx); err != nil {
		failed = 1
	} else {
		for _, k := range []billing.ChargeKind{billing.KindUpgrade, billing.KindRenewal, billing.KindUsage} {
			ch <- prometheus.MustNewConstMetric(pendingDesc, prometheus.GaugeValue, float64(pending[string(k)]), string(k))
		}
	}
	if runs, err := c.s.FindRenewalRuns(ctx); err != nil {
		failed = 1
	} else if len(runs) > 0 {
		r := runs[0]
		month := billing.MonthFromDate(r.Month).String()
		ch <- prometheus.MustNewConstMetric(runDoneDesc, prometheus.GaugeValue, float64(r.Done), month, r.Phase)
		ch <- prometheus.MustNewConstMetric(runExpectedDesc, prometheus.GaugeValue, float64(r.Expected), month, r.Phase)
	}
	ch <- prometheus.MustNewConstMetric(scrapeErrDesc, prometheus.GaugeValue, failed)
}

// requestID gives every request an id, echoed in X-Request-Id and the
// request log: the one a proxy in front sent, if it looks like an id, else
// a new one.
func requestID(next echo.HandlerFunc) echo.HandlerFunc {
	return func(c echo.Context) error {
		id := c.Request().Header.Get(echo.HeaderXRequestID)
		if !plausibleID(id) {
			var b [12]byte
			rand.Read(b[:])
			id = hex.EncodeToString(b[:])
			c.Request().Header.Set(echo.HeaderXRequestID, id)
		}
		c.Response().Header().Set(echo.HeaderXRequestID, id)
		return next(c)
	}
}

func plausibleID(id string) bool {
	if id == "" || len(id) > 64 {
		return false
	}
	for _, r := range id {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' || r == '.') {
			return false
		}
	}
	return true
}

// requestLog writes one structured line per request (method, route
// pattern, status, duration, request id) and, with metrics, observes its
// latency. Errors go through the error handler first, so the status logged
// is the one sent.
func (s *Server) requestLog() echo.MiddlewareFunc {
	log := s.cfg.Logger
	if log == nil {
		log = slog.Default()
	}
	m := s.cfg.Metrics
	return middleware.RequestLoggerWithConfig(middleware.RequestLoggerConfig{
		HandleError:  true,
		LogLatency:   true,
		LogMethod:    true,
		LogURIPath:   true,
		LogRoutePath: true,
		LogRequestID: true,
		LogStatus:    true,
		BeforeNextFunc: func(c echo.Context) {
			// Every request counts its database round trips (db/count.go),
			// under a counter of its own unless the caller brought one.
			if db.StatementsIn(c.Request().Context()) == nil {
				ctx, _ := db.WithStatementCounter(c.Request().Context())
				c.SetRequest(c.Request().WithContext(ctx))
			}
			if m != nil {
				m.inFlight.Inc()
			}
		},
		LogValuesFunc: func(c echo.Context, v middleware.RequestLoggerValues) error {
			route := v.RoutePath
			if route == "" || route == "/*" {
				// No route (Echo's catch-all): the path is the visitor's,
				// never a label.
				route = "unmatched"
			}
			statements := db.StatementsIn(c.Request().Context()).N()
			if m != nil {
				m.inFlight.Dec()
				m.latency.WithLabelValues(route, v.Method, strconv.Itoa(v.Status)).Observe(v.Latency.Seconds())
				m.statements.WithLabelValues(route).Observe(float64(statements))
			}
			level := slog.LevelInfo
			if v.Status >= 500 {
				level = slog.LevelError
			}
			log.LogAttrs(c.Request().Context(), level, "request",
				slog.String("method", v.Method), slog.String("route", route), slog.String("path", v.URIPath),
				slog.Int("status", v.Status), slog.Float64("duration_ms", float64(v.Latency.Microseconds())/1000),
				slog.Int("db_statements", statements), slog.String("request_id", v.RequestID))
			return nil
		},
	})
}
