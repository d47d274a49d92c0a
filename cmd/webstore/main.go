// Command webstore is the LINE Official Account billing webstore: the web
// server and the billing team's tools. Wiring only; the rules live in
// billing/ and the store in db/.
package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"webstore/billing"
	"webstore/db"
	"webstore/sim"
)

const usage = `webstore — the LINE Official Account billing webstore

Usage:
  webstore serve     [--addr :8080] [--migrate]   run the web app (SIGTERM: graceful stop)
  webstore migrate                                 apply database migrations
  webstore seed                                    load demo data (idempotent)
  webstore simulate  FILE...                       replay billing scenarios (JSON out)
  webstore renew     [--month M] [--at T] [--collect]  renew every account for the month in progress
  webstore collect                                 take payment for pending charges
  webstore loadgen   --accounts N                  fill the database with N accounts
  webstore usage     SUBCOMMAND                    record, refresh and bill message usage
  webstore einvoice  numbers import FILE           import the platform's invoice-number ranges (CSV)
  webstore einvoice  export --dir DIR              write the e-invoice messages not yet written
  webstore refund    --charge ID [--amount N] --reason TEXT   refund a paid charge through its provider

Every command reads DATABASE_URL. Run "webstore COMMAND --help" for its flags.
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	// The first signal asks the command to stop cleanly; a second one ends
	// the process at once.
	go func() { <-ctx.Done(); stop() }()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// run executes one subcommand and returns the process exit code: 0 done,
// 1 failed (or a scenario did not pass), 2 bad usage or input.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		fmt.Fprint(stdout, usage)
		return 0
	}
	cmds := map[string]func(context.Context, []string, io.Writer, io.Writer) error{
		"serve": cmdServe, "migrate": cmdMigrate, "seed": cmdSeed, "simulate": cmdSimulate,
		"renew": cmdRenew, "collect": cmdCollect, "loadgen": cmdLoadgen, "usage": cmdUsage,
		"einvoice": cmdEInvoice, "refund": cmdRefund,
	}
	cmd, ok := cmds[args[0]]
	if !ok {
		fmt.Fprintf(stderr, "webstore: unknown command %q\n\n%s", args[0], usage)
		return 2
	}
	err := cmd(ctx, args[1:], stdout, stderr)
	var ue usageError
	var ie *sim.InputError
	switch {
	case err == nil:
		return 0
	case errors.Is(err, flag.ErrHelp):
		return 0
	case errors.As(err, &ue):
		fmt.Fprintf(stderr, "webstore %s: %v\n", args[0], err)
		return 2
	case errors.As(err, &ie):
		fmt.Fprintf(stderr, "webstore %s: malformed input: %v\n", args[0], err)
		return 2
	case errors.Is(err, errNotPassed):
		return 1
	default:
		fmt.Fprintf(stderr, "webstore %s: %v\n", args[0], err)
		return 1
	}
}

type usageError struct{ error }

var errNotPassed = errors.New("scenario did not pass")

func newFlags(name, help string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: webstore %s\n\n", help)
		fs.PrintDefaults()
	}
	return fs
}

func parse(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err}
	}
	return nil
}

// openStore connects to DATABASE_URL and checks the schema is current.
func openStore(ctx context.Context, cfg config, gw billing.Gateway) (*db.Store, error) {
	return openStoreAt(ctx, cfg, cfg.DatabaseURL, gw)
}

// configuredStore loads the configuration and opens the store it names,
// for a command that needs both; the caller closes s.DB.
func configuredStore(ctx context.Context) (config, *db.Store, error) {
	cfg, err := loadConfig()
	if err != nil {
		return config{}, nil, err
	}
	s, err := openStore(ctx, cfg, nil)
	return cfg, s, err
}

// openJobStore is openStore on JOBS_DATABASE_URL: for a job that holds a
// session-level advisory lock (the renewal), which a transaction pooler
// would not keep.
func openJobStore(ctx context.Context, cfg config, gw billing.Gateway) (*db.Store, error) {
	return openStoreAt(ctx, cfg, cfg.JobsURL, gw)
}

func openStoreAt(ctx context.Context, cfg config, url string, gw billing.Gateway) (*db.Store, error) {
	d, err := db.Open(ctx, url)
	if err != nil {
		return nil, err
	}
	v, err := db.SchemaVersion(ctx, d)
	if err != nil {
		d.Close()
		return nil, err
	}
	if v != db.LatestVersion() {
		d.Close()
		return nil, fmt.Errorf("database schema is at version %d, this build needs %d: run `webstore migrate`", v, db.LatestVersion())
	}
	s := db.New(d, billing.SystemClock, gw)
	s.MaxFaceValue = cfg.MaxFaceValue
	s.Seller = cfg.Seller
	return s, nil
}

func cmdMigrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("migrate", "migrate", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	// Migrations wait for each other on a session-level advisory lock.
	d, err := db.Open(ctx, cfg.JobsURL)
	if err != nil {
		return err
	}
	defer d.Close()
	n, err := db.Migrate(ctx, d)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "migrations applied: %d (schema version %d)\n", n, db.LatestVersion())
	if !cfg.Production {
		// In development the sandboxes serve and their tables are ready
		// too (serve would apply their migrations anyway).
		webCfg, _ := providers(cfg, d, "")
		n, err := migrateSandboxes(ctx, d, webCfg)
		if err != nil {
			return fmt.Errorf("payment sandboxes: %w", err)
		}
		fmt.Fprintf(stdout, "payment sandboxes' migrations applied: %d\n", n)
	}
	return nil
}

func cmdSimulate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("simulate", "simulate FILE...\n\nReplays each scenario (SCENARIOS.md), each alone in an emptied schema dropped at\nthe end, and prints the result as JSON. Exits 1 if an expectation fails, 2 if a file is malformed.", stderr)
	if err := parse(fs, args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return usageError{errors.New("no scenario FILE given")}
	}
	var scs []sim.Scenario
	for _, f := range fs.Args() {
		data, err := os.ReadFile(f)
		if err != nil {
			return usageError{err}
		}
		sc, err := sim.ParseScenario(data)
		if err != nil {
			return fmt.Errorf("%s: %w", f, err)
		}
		scs = append(scs, sc)
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	simulator := sim.New(cfg.JobsURL) // its schemas set search_path
	defer simulator.Close()
	var outs []sim.Output
	passed := true
	for i, sc := range scs {
		out, err := simulator.Simulate(ctx, sc)
		if err != nil {
			return fmt.Errorf("%s: %w", fs.Arg(i), err)
		}
		for _, m := range out.Mismatches() {
			fmt.Fprintf(stderr, "%s: %s\n", fs.Arg(i), m)
		}
		passed = passed && out.Passed
		outs = append(outs, out)
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	var err2 error
	if len(outs) == 1 {
		err2 = enc.Encode(outs[0])
	} else {
		err2 = enc.Encode(outs)
	}
	if err2 != nil {
		return err2
	}
	if !passed {
		return errNotPassed
	}
	return nil
}

func cmdRenew(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("renew [--month YYYY-MM] [--at RFC3339] [--collect] [--workers N]", "renew [--month YYYY-MM] [--at RFC3339] [--collect] [--workers N]\n\n"+
		"Runs the month's renewal, the same operation as the staff console: gives up\nfailed renewals of months that have ended, renews every account for the month,\n"+
		"bills the month before's additional messages, and with --collect takes payment.\nOnly the month in progress may be renewed. Prints a JSON summary. Safe to run twice.", stderr)
	month := fs.String("month", "", "the month to renew, YYYY-MM (default: the month containing the clock)")
	at := fs.String("at", "", "run as if the clock read this instant, RFC 3339 with offset (a rehearsal, e.g. 2024-07-01T00:00:00+09:00)")
	collect := fs.Bool("collect", false, "then take payment for the pending charges and make the due retries")
	workers := fs.Int("workers", 2, "renewal batches written at once, each on its own database connection (1 to 16)")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *workers < 1 || *workers > 16 {
		return usageError{fmt.Errorf("--workers: want 1 to 16, got %d", *workers)}
	}
	clock := billing.SystemClock
	if *at != "" {
		t, err := time.Parse(time.RFC3339, *at)
		if err != nil {
			return usageError{fmt.Errorf("--at: want RFC 3339 with an offset, e.g. 2024-07-01T00:00:00+09:00")}
		}
		clock = billing.ClockFunc(func() time.Time { return t })
	}
	m := billing.MonthOf(clock.Now())
	if *month != "" {
		var err error
		if m, err = billing.ParseMonth(*month); err != nil {
			return usageError{fmt.Errorf("--month: %w", err)}
		}
	}
	if err := billing.MayRenew(m, clock.Now()); err != nil {
		return usageError{err}
	}
	cfg, err := loadConfig()
	if err != nil {
		return err
	}
	s, err := openJobStore(ctx, cfg, nil)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	s.Clock = clock
	s.RenewWorkers = *workers
	if *collect {
		stop, err := usePayments(ctx, cfg, s)
		if err != nil {
			return err
		}
		defer stop()
	}
	const actor = "system:renew-cli"
	started := time.Now()
	if err := s.ClaimRenewalRun(ctx, actor, m); err != nil {
		return err
	}
	res, err := s.RunRenewal(ctx, actor, m, *collect)
	if err != nil {
		return err
	}
	out := map[string]any{"renewal": res.Renewal, "usage": res.Usage, "max_rss_mb": peakRSSMB(),
		"wall_seconds": time.Since(started).Seconds()}
	if *collect {
		out["collection"] = res.Collection
	}
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}

func cmdCollect(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("collect", "collect [--limit N]\n\nTakes payment for pending charges through the configured payment providers.", stderr)
	limit := fs.Int("limit", 0, "at most this many charges (0: all)")
	if err := parse(fs, args); err != nil {
		return err
	}
	cfg, s, err := configuredStore(ctx)
	if err != nil {
		return err
	}
	defer s.DB.Close()
	stop, err := usePayments(ctx, cfg, s)
	if err != nil {
		return err
	}
	defer stop()
	sum, err := s.Collect(ctx, "system:collect", *limit)
	if err != nil {
		return err
	}
	// Refunds whose provider has not answered are asked again too.
	refunds, err := s.CollectRefunds(ctx, "system:collect", s.Clock.Now())
	if err != nil {
		return err
	}
	return json.NewEncoder(stdout).Encode(map[string]db.CollectSummary{"charges": sum, "refunds": refunds})
}

// peakRSSMB is this process's peak resident set size in MiB (Linux), or -1.
func peakRSSMB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return -1
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				return -1
			}
			return kb / 1024
		}
	}
	return -1
}
