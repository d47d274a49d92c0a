package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"time"

	"webstore/billing"
	"webstore/db"
	"webstore/web"
)

func cmdServe(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("serve", "serve [--addr :8080] [--migrate]\n\nRuns the web app. Refuses to start on a stale schema unless --migrate is given.", stderr)
	addr := fs.String("addr", envOr("ADDR", ":8080"), "listen address")
	migrate := fs.Bool("migrate", false, "apply pending migrations before starting")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	if *migrate {
		d, err := db.Open(ctx, cfg.DatabaseURL)
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
	webCfg, gw := providers(s.DB, selfURL(*addr))
	s.Payments = gw
	webCfg.DatabaseURL = cfg.DatabaseURL
	app := web.New(webCfg, s)
	srv := &http.Server{Addr: *addr, Handler: app, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		shutdown, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(shutdown)
	}()
	go dailyJobs(ctx, s, stderr)
	go sweepPurchases(ctx, s, stderr)
	fmt.Fprintf(stdout, "webstore listening on http://localhost%s\n", *addr)
	if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg, nil)
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
	fs := newFlags("loadgen", "loadgen --accounts N\n\nFills the database with N realistic accounts (ids L00000001...) paid for the\ncurrent month, ready for `webstore renew --at <next month start>`.", stderr)
	n := fs.Int64("accounts", 0, "how many accounts")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *n <= 0 {
		return usageError{errors.New("--accounts must be a positive number")}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	s, err := openStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	sum, err := s.Loadgen(ctx, *n)
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(sum)
}

// dailyJobs runs the 02:00 JST jobs while the server runs: the message
// counts admins see (usage refresh) and promo-code expiry. Both are safe to
// repeat, so several servers may run them. `webstore usage refresh --at`
// runs the refresh by hand.
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
		if n, err := s.ExpireCodes(ctx); err != nil {
			fmt.Fprintf(log, "daily code expiry: %v\n", err)
		} else if n > 0 {
			fmt.Fprintf(log, "daily code expiry: %d codes expired\n", n)
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
	}
}
