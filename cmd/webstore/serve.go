package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"webstore/billing"
	"webstore/db"
	"webstore/db/loadgen"
	"webstore/web"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--addr :8080] [--migrate]\n\nRuns the web app. Refuses to start on a stale schema unless --migrate is given.\nOn SIGTERM or SIGINT it stops accepting connections, lets requests in flight\nand background jobs finish (up to --shutdown-timeout), then exits.", stderr)
	addr := fs.String("addr", envOr("ADDR", ":8080"), "listen address")
	migrate := fs.Bool("migrate", false, "apply pending migrations before starting")
	grace := fs.Duration("shutdown-timeout", 30*time.Second, "how long requests in flight and background jobs get to finish on shutdown")
	metricsAddr := fs.String("metrics-addr", "", "serve Prometheus metrics at /metrics on this separate address, e.g. 127.0.0.1:9090 (default METRICS_ADDR; off when unset)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	web.TuneGC()
	if *migrate {
		d, err := db.Open(ctx, cfg.JobsURL)
		if err != nil {
			return err
		}
		if _, err := db.Migrate(ctx, d); err != nil {
			d.Close()
			return err
		}
		d.Close()
	}
	s, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	self := listenURL(ln.Addr())
	webCfg, gw := providers(cfg, s.DB, self)
	if _, err := migrateSandboxes(ctx, s.DB, webCfg); err != nil {
		ln.Close()
		return fmt.Errorf("payment sandboxes: %w", err)
	}
	s.Payments = gw
	webCfg.DatabaseURL = cfg.JobsURL // the simulator's schemas set search_path
	webCfg.Logger = newLogger(cfg, stderr)
	if cfg.Production {
		// The app's own error lines join the request log's format.
		slog.SetDefault(webCfg.Logger)
	}
	if *metricsAddr == "" {
		*metricsAddr = cfg.MetricsAddr
	}
	if *metricsAddr != "" {
		m := web.NewMetrics()
		webCfg.Metrics, s.Payments = m, m.Payments(gw)
		mln, err := net.Listen("tcp", *metricsAddr)
		if err != nil {
			return fmt.Errorf("metrics: %w", err)
		}
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", m.Handler())
		msrv := newHTTPServer(mux)
		go msrv.Serve(mln)
		defer msrv.Close()
		fmt.Fprintf(stdout, "metrics on %s/metrics\n", listenURL(mln.Addr()))
	}
	if cfg.JobsURL != cfg.DatabaseURL {
		// The console's renewal runs hold a session-level advisory lock,
		// on a connection of their own beside their two batch writers
		// (db.Store.RenewWorkers) and the run's progress updates.
		jobStore, err := openJobStore(ctx, cfg, s.Payments)
		if err != nil {
			return err
		}
		defer jobStore.DB.Close()
		jobStore.DB.SetMaxOpenConns(6)
		jobStore.DB.SetMaxIdleConns(1)
		webCfg.JobStore = jobStore
	}
	app := web.New(webCfg, s)
	srv := newHTTPServer(app)

	// The server's own jobs stop when ctx ends (a signal); serve waits for
	// them below, so none is cut off between two statements by the exit.
	var jobs sync.WaitGroup
	if err := startMail(ctx, cfg, s, self, &jobs, stderr); err != nil {
		return err
	}
	jobs.Go(func() { dailyJobs(ctx, s, stderr) })
	jobs.Go(func() { sweepPurchases(ctx, s, stderr) })
	if cfg.EInvoiceDir != "" {
		jobs.Go(func() { exportLoop(ctx, s, cfg.EInvoiceDir, stderr) })
	}

	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()
	fmt.Fprintf(stdout, "webstore listening on %s\n", self)
	select {
	case err := <-served:
		// The listener failed: nothing was in flight for long.
		srv.Close()
		app.Shutdown(context.Background())
		jobs.Wait()
		return err
	case <-ctx.Done():
	}
	return shutdown(srv, app, &jobs, *grace, stderr)
}

// shutdown stops a serving app within grace: the listener closes at once,
// requests in flight finish (a purchase in flight settles, or stays pending
// for the sweep to collect under its own key), then the console's
// background jobs and the server's own jobs stop at their next safe
// boundary. What is still running when grace ends is cut off and reported.
func shutdown(srv *http.Server, app *web.Server, jobs *sync.WaitGroup, grace time.Duration, log io.Writer) error {
	fmt.Fprintf(log, "webstore: shutting down (up to %s for requests and jobs in flight)\n", grace)
	sctx, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	var errs []error
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
		errs = append(errs, fmt.Errorf("requests still running after %s were cut off: %w", grace, err))
	}
	if err := app.Shutdown(sctx); err != nil {
		errs = append(errs, fmt.Errorf("background jobs still running after %s were abandoned: %w", grace, err))
	}
	done := make(chan struct{})
	go func() { jobs.Wait(); close(done) }()
	select {
	case <-done:
	case <-sctx.Done():
		errs = append(errs, fmt.Errorf("daily jobs or the purchase sweep still running after %s were abandoned", grace))
	}
	if err := errors.Join(errs...); err != nil {
		return err
	}
	fmt.Fprintln(log, "webstore: stopped")
	return nil
}

// newLogger is the request log's (and the app's) logger: JSON lines in
// production, for a log collector; text in development.
func newLogger(cfg config, w io.Writer) *slog.Logger {
	if cfg.Production {
		return slog.New(slog.NewJSONHandler(w, nil))
	}
	return slog.New(slog.NewTextHandler(w, nil))
}

// newHTTPServer bounds what one connection may take: its headers arrive
// within 10 s and its body (at most a 1 MB scenario) within 30 s, an answer
// is written within 60 s (a purchase waits for its provider up to 30 s;
// longer and it is left pending for the sweep), and an idle keep-alive
// connection is closed after 2 minutes.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
	}
}

// listenURL is how this process reaches its own listener (and what serve
// prints): a wildcard address is reached as localhost.
func listenURL(a net.Addr) string {
	host, port, err := net.SplitHostPort(a.String())
	if err != nil {
		return "http://" + a.String()
	}
	if ip := net.ParseIP(host); ip == nil || ip.IsUnspecified() {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

func cmdSeed(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("seed", "seed\n\nLoads the demo accounts, users and campaigns. Safe to run again.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	created, err := s.Seed(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "demo data: %d new rows\n", created)
	return nil
}

func cmdLoadgen(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("loadgen", "loadgen --accounts N\nloadgen --bare-insert YYYY-MM\n\nFills the database with N realistic accounts (ids L00000001...) paid for the\ncurrent month, ready for `webstore renew --at <next month start>`. With\n--bare-insert, instead times one INSERT … SELECT of that month's renewal\ncharges into a table built like charges (rolled back): the renewal benchmark's floor.", stderr)
	n := fs.Int64("accounts", 0, "how many accounts")
	bare := fs.String("bare-insert", "", "time the bare insert of this month's renewal charges, YYYY-MM")
	if err := parse(fs, args); err != nil {
		return err
	}
	var month billing.Month
	if *bare != "" {
		m, err := billing.ParseMonth(*bare)
		if err != nil {
			return usageError{errors.New("--bare-insert: want YYYY-MM")}
		}
		month = m
	} else if *n <= 0 {
		return usageError{errors.New("--accounts must be a positive number")}
	}
	_, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	if *bare != "" {
		sum, err := loadgen.BareInsert(ctx, s.DB, month)
		if err != nil {
			return err
		}
		return json.NewEncoder(stdout).Encode(sum)
	}
	sum, err := loadgen.Accounts(ctx, s.DB, s.Clock.Now(), *n)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(sum)
}

// dailyJobs runs the 02:00 JST jobs while the server runs: the message
// counts admins see (usage refresh), reminders, promo-code expiry, the
// purge of ended sessions and the e-invoice blank-number reports. All are safe to repeat, so several servers may
// run them. `webstore usage refresh --at` runs the refresh by hand.
func dailyJobs(ctx context.Context, s *db.Store, log io.Writer) {
	for {
		next := billing.NextDaily(s.Clock.Now(), 2)
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		if sum, err := s.RefreshUsage(ctx, next); err != nil {
			fmt.Fprintf(log, "daily usage refresh: %v\n", err)
		} else {
			fmt.Fprintf(log, "daily usage refresh at %s: %d account-months\n", next.Format(time.RFC3339), sum.Accounts)
		}
		if n, err := s.QueueReminders(ctx); err != nil {
			fmt.Fprintf(log, "daily reminders: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(log, "daily reminders: %d messages queued\n", n)
		}
		if n, err := s.ExpireCodes(ctx); err != nil {
			fmt.Fprintf(log, "daily code expiry: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(log, "daily code expiry: %d codes expired\n", n)
		}
		if n, err := s.DeleteExpiredSessions(ctx); err != nil {
			fmt.Fprintf(log, "daily session purge: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(log, "daily session purge: %d ended sessions removed\n", n)
		}
		// On the 1st of a period (01:00 Taiwan time), the unused numbers of
		// the one that ended (E0402), listed on the console and written
		// with the other messages.
		if n, err := s.ReportBlanks(ctx, "system:daily"); err != nil {
			fmt.Fprintf(log, "daily blank-number reports: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(log, "daily blank-number reports: %d E0402 kept\n", n)
		}
	}
}

// sweepPurchases collects, every few minutes, purchases left pending by a
// provider that gave no clear answer, so none waits for the next renewal
// run; each is asked again under its own key, so none is paid twice.
func sweepPurchases(ctx context.Context, s *db.Store, log io.Writer) {
	t := time.NewTicker(5 * time.Minute)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		sum, err := s.CollectStalePurchases(ctx, "system:sweep", s.Clock.Now().Add(-5*time.Minute))
		if err != nil {
			fmt.Fprintf(log, "purchase sweep: %v\n", err)
		} else if sum.Attempted > 0 {
			fmt.Fprintf(log, "purchase sweep: %d paid, %d failed, %d still unknown\n", sum.Paid, sum.Failed, sum.Unknown)
		}
		// Refunds whose provider did not answer, asked again under their key.
		sum, err = s.CollectRefunds(ctx, "system:sweep", s.Clock.Now().Add(-5*time.Minute))
		if err != nil {
			fmt.Fprintf(log, "refund sweep: %v\n", err)
		} else if sum.Attempted > 0 {
			fmt.Fprintf(log, "refund sweep: %d refunded, %d refused, %d still unknown\n", sum.Paid, sum.Failed, sum.Unknown)
		}
		// The automatic retries of failed renewals and usage charges that
		// are due (billing.NextRetry), and the give-up of renewals whose
		// month has ended (billing.GiveUp).
		sum, err = s.RetryDue(ctx, "system:retry")
		if err != nil {
			fmt.Fprintf(log, "automatic retries: %v\n", err)
		} else if sum.Attempted > 0 {
			fmt.Fprintf(log, "automatic retries: %d paid, %d failed, %d void, %d still unknown\n", sum.Paid, sum.Failed, sum.Void, sum.Unknown)
		}
	}
}

// exportLoop writes the e-invoice messages for Turnkey into dir
// (EINVOICE_DIR) every minute, and the blank reports of ended periods.
func exportLoop(ctx context.Context, s *db.Store, dir string, log io.Writer) {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		if n, err := exportMessages(ctx, s, dir, io.Discard); err != nil {
			fmt.Fprintf(log, "e-invoice export: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(log, "e-invoice export: %d message(s) written to %s\n", n, dir)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
