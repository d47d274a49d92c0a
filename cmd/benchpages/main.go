// Command benchpages measures the webstore's pages against what the
// database allows them: in one run on one database it serves the app, a
// bare Echo handler that does one primary-key read through the app's own
// pool (the one-read ceiling) and a bare handler with no database, and
// loads each in turn with the same concurrent clients, signed in as alice.
//
// The server is this binary re-executed with -serve, so the peak RSS it
// prints is the server's alone, not the load client's. `make bench-pages`
// runs it against a fresh PostgreSQL; DATABASE_URL must be set.
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"regexp"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/web"
)

// The bare handlers' paths, routed to their own Echo ahead of the app.
const (
	barePath     = "/_bench/bare"
	ceilingPath  = "/_bench/one-read"
	preparedPath = "/_bench/one-read-prepared"
)

// A target is one URL under load.
type target struct{ name, path string }

var (
	bare    = target{"bare handler, no database", barePath}
	ceiling = target{"one-read ceiling", ceilingPath}
	// prepared is the same read as a prepared statement, as the pages'
	// statements are: one network round trip where lib/pq takes two for
	// an unnamed statement. Shown for reference; ratios are to ceiling.
	prepared = target{"one read, prepared", preparedPath}
	plan     = target{"plan", "/a/cat/plan"}
	pages    = []target{
		plan,
		{"checkout", "/a/cat/checkout?plan=high"},
		{"history", "/a/cat/history"},
		{"menu", "/a/cat/menu"},
	}
)

type options struct {
	d, warmup time.Duration
	clients   int
	pool      int
	pools     []int
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintf(os.Stderr, "benchpages: %v\n", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	fs := flag.NewFlagSet("benchpages", flag.ContinueOnError)
	var o options
	fs.DurationVar(&o.d, "d", 5*time.Second, "measured duration per target")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "warm-up per target, not measured (each pool connection prepares a page's statements and PostgreSQL plans them five times before settling on a generic plan)")
	fs.IntVar(&o.clients, "c", 64, "concurrent clients")
	fs.IntVar(&o.pool, "pool", 0, "the pool's max open and idle connections (0: what db.Open sets)")
	pools := fs.String("pools", "", "comma-separated pool sizes: measure the ceiling and the plan page at each, e.g. 4,8,16,40")
	serve := fs.Bool("serve", false, "be the server (the parent re-executes itself with this)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return errors.New("DATABASE_URL is not set (make bench-pages starts a fresh PostgreSQL for you)")
	}
	if *serve {
		return serveApp(ctx, dbURL, o.pool, stdout)
	}
	for f := range strings.SplitSeq(*pools, ",") {
		if f = strings.TrimSpace(f); f == "" {
			continue
		}
		n, err := strconv.Atoi(f)
		if err != nil || n <= 0 {
			return fmt.Errorf("-pools: %q is not a pool size", f)
		}
		o.pools = append(o.pools, n)
	}
	if o.d <= 0 || o.warmup < 0 || o.clients <= 0 || o.pool < 0 {
		return errors.New("-d and -c must be positive, -warmup and -pool not negative")
	}
	if err := prepare(ctx, dbURL); err != nil {
		return err
	}
	if err := mainTable(ctx, o, stdout); err != nil {
		return err
	}
	if len(o.pools) > 0 {
		return poolTable(ctx, o, stdout)
	}
	return nil
}

// prepare migrates and seeds the database, as the tests and `make run` do,
// and analyzes it.
func prepare(ctx context.Context, dbURL string) error {
	d, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := db.Migrate(ctx, d); err != nil {
		return err
	}
	if _, err = db.New(d, billing.SystemClock, nil).Seed(ctx); err != nil {
		return err
	}
	// Settle the fresh tables' statistics first, as autovacuum would on a
	// running system, so no target is measured during an analyze.
	_, err = d.ExecContext(ctx, `VACUUM ANALYZE`)
	return err
}

// mainTable measures the bare handler, the ceiling and every page on one
// server.
func mainTable(ctx context.Context, o options, stdout io.Writer) error {
	srv, err := startServer(ctx, o.pool)
	if err != nil {
		return err
	}
	defer srv.stop()
	c, err := signIn(srv.url, "alice")
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "bench-pages  %s  GOMAXPROCS=%d  %d clients  %s each (after %s warm-up)  pool %d\n",
		time.Now().Format("2006-01-02"), runtime.GOMAXPROCS(0), o.clients, o.d, o.warmup, srv.pool)
	// What was measured before a failure is printed too.
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "what\tpath\treq/s\tof ceiling\tp50\tp99")
	var top result
	for _, t := range append([]target{bare, ceiling, prepared}, pages...) {
		r, err := load(ctx, c, srv.url, t.path, o)
		if err != nil {
			return err
		}
		share := "—"
		switch t {
		case ceiling:
			top = r
			share = "100%"
		case bare:
		default:
			share = fmt.Sprintf("%.1f%%", 100*r.rate()/top.rate())
		}
		fmt.Fprintf(tw, "%s\t%s\t%.0f\t%s\t%s\t%s\n", t.name, t.path, r.rate(), share, ms(r.p50), ms(r.p99))
	}
	tw.Flush()
	rss, err := srv.peakRSS()
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "server peak RSS (VmHWM of the server process alone): %d MB\n", rss>>10)
	return nil
}

// poolTable measures the ceiling and the plan page at each pool size, on a
// fresh server each.
func poolTable(ctx context.Context, o options, stdout io.Writer) error {
	fmt.Fprintf(stdout, "\npool sweep: the ceiling and the plan page at each pool size (a fresh server each)\n")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', 0)
	defer tw.Flush()
	fmt.Fprintln(tw, "pool\tceiling req/s\tp50\tp99\tplan req/s\tof ceiling\tp50\tp99\tserver peak RSS")
	for _, n := range o.pools {
		if err := func() error {
			srv, err := startServer(ctx, n)
			if err != nil {
				return err
			}
			defer srv.stop()
			c, err := signIn(srv.url, "alice")
			if err != nil {
				return err
			}
			top, err := load(ctx, c, srv.url, ceiling.path, o)
			if err != nil {
				return err
			}
			p, err := load(ctx, c, srv.url, plan.path, o)
			if err != nil {
				return err
			}
			rss, err := srv.peakRSS()
			if err != nil {
				return err
			}
			fmt.Fprintf(tw, "%d\t%.0f\t%s\t%s\t%.0f\t%.1f%%\t%s\t%s\t%d MB\n", srv.pool,
				top.rate(), ms(top.p50), ms(top.p99), p.rate(), 100*p.rate()/top.rate(), ms(p.p50), ms(p.p99), rss>>10)
			return nil
		}(); err != nil {
			return err
		}
	}
	return nil
}

// serveApp is the server process: the app as `webstore serve` builds it
// (without payment providers, which no GET page calls), and beside it the
// bare handlers, the ceiling reading through the app's own pool. It prints
// "ready URL POOL" and serves until its standard input closes.
func serveApp(ctx context.Context, dbURL string, pool int, stdout io.Writer) error {
	web.TuneGC() // as `webstore serve` runs
	d, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	if pool > 0 {
		d.SetMaxOpenConns(pool)
		d.SetMaxIdleConns(pool)
	}
	store := db.New(d, billing.SystemClock, nil)
	// The request log is formatted as in production, then discarded.
	app := web.New(web.Config{DatabaseURL: dbURL, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, store)

	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(barePath, func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	one, err := store.DB.PreparexContext(ctx, `SELECT id, name FROM accounts WHERE id=$1`)
	if err != nil {
		return err
	}
	defer one.Close()
	e.GET(preparedPath, func(c echo.Context) error {
		var id, name string
		if err := one.QueryRowContext(c.Request().Context(), "cat").Scan(&id, &name); err != nil {
			return err
		}
		return c.String(http.StatusOK, name)
	})
	e.GET(ceilingPath, func(c echo.Context) error {
		var id, name string
		if err := store.DB.QueryRowContext(c.Request().Context(),
			`SELECT id, name FROM accounts WHERE id=$1`, "cat").Scan(&id, &name); err != nil {
			return err
		}
		return c.String(http.StatusOK, name)
	})
	mux := http.NewServeMux()
	mux.Handle("/_bench/", e)
	mux.Handle("/", app)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux}
	go srv.Serve(ln)
	defer srv.Close()
	// BENCHPAGES_CPUPROFILE names a file for the server's CPU profile.
	if f := os.Getenv("BENCHPAGES_CPUPROFILE"); f != "" {
		out, err := os.Create(f)
		if err != nil {
			return err
		}
		defer out.Close()
		if err := pprof.StartCPUProfile(out); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	fmt.Fprintf(stdout, "ready http://%s %d\n", ln.Addr(), d.Stats().MaxOpenConnections)

	closed := make(chan struct{})
	go func() { io.Copy(io.Discard, os.Stdin); close(closed) }()
	select {
	case <-closed:
	case <-ctx.Done():
	}
	return nil
}

// server is a running server process.
type server struct {
	cmd   *exec.Cmd
	stdin io.Closer
	url   string
	pool  int
}

// startServer re-executes this binary as the server, with pool connections
// (0: db.Open's), and waits until it listens.
func startServer(ctx context.Context, pool int) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, "-serve", "-pool", strconv.Itoa(pool))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	s := &server{cmd: cmd, stdin: in}
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, err2 := fmt.Sscanf(line, "ready %s %d", &s.url, &s.pool); err != nil || err2 != nil {
		s.stop()
		return nil, fmt.Errorf("server did not start (it said %q)", line)
	}
	return s, nil
}

// stop closes the server's standard input, its signal to exit, and waits.
func (s *server) stop() {
	s.stdin.Close()
	s.cmd.Wait()
}

// peakRSS is the server process's VmHWM in kB.
func (s *server) peakRSS() (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", s.cmd.Process.Pid))
	if err != nil {
		return 0, err
	}
	for l := range strings.Lines(string(b)) {
		if v, ok := strings.CutPrefix(l, "VmHWM:"); ok {
			return strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		}
	}
	return 0, errors.New("no VmHWM in /proc/<pid>/status")
}

// signIn signs in over HTTP as a person does: the sign-in page's CSRF
// token, then the form. The client keeps enough keep-alive connections for
// every concurrent client and does not follow redirects, so a page that
// sends the visitor elsewhere shows as a failure.
func signIn(base, login string) (*http.Client, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		Transport:     &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/signin")
	if err != nil {
		return nil, err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return nil, errors.New("no CSRF token on the sign-in page")
	}
	res, err = c.PostForm(base+"/signin", url.Values{"_csrf": {string(m[1])}, "login": {login}, "password": {db.DemoPassword}})
	if err != nil {
		return nil, err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return nil, fmt.Errorf("sign-in as %s: %s, want 303", login, res.Status)
	}
	return c, nil
}

// result is one target's measurement.
type result struct {
	n        int
	d        time.Duration
	p50, p99 time.Duration
}

func (r result) rate() float64 { return float64(r.n) / r.d.Seconds() }

// load GETs path from o.clients goroutines for o.warmup, then for o.d.
// What it counts are the responses completed within the measured window;
// the first response that is not 200 ends the run with an error.
func load(ctx context.Context, c *http.Client, base, path string, o options) (result, error) {
	start := time.Now()
	from, until := start.Add(o.warmup), start.Add(o.warmup+o.d)
	var (
		stop     atomic.Bool
		failOnce sync.Once
		fail     error
		wg       sync.WaitGroup
	)
	lats := make([][]time.Duration, o.clients)
	for i := range lats {
		lats[i] = make([]time.Duration, 0, 4096)
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				t0 := time.Now()
				if !t0.Before(until) {
					return
				}
				err := get(ctx, c, base+path)
				t1 := time.Now()
				if err != nil {
					failOnce.Do(func() { fail = err })
					stop.Store(true)
					return
				}
				if !t1.Before(from) && !t1.After(until) {
					lats[i] = append(lats[i], t1.Sub(t0))
				}
			}
		})
	}
	wg.Wait()
	if fail != nil {
		return result{}, fail
	}
	if err := ctx.Err(); err != nil {
		return result{}, err
	}
	all := slices.Concat(lats...)
	slices.Sort(all)
	return result{n: len(all), d: o.d, p50: quantile(all, 0.50), p99: quantile(all, 0.99)}, nil
}

func get(ctx context.Context, c *http.Client, u string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	res, err := c.Do(req)
	if err != nil {
		return err
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		if to := res.Header.Get("Location"); to != "" {
			return fmt.Errorf("GET %s: %s to %s, want 200", u, res.Status, to)
		}
		body, _ := io.ReadAll(io.LimitReader(res.Body, 300))
		return fmt.Errorf("GET %s: %s, want 200: %q", u, res.Status, body)
	}
	_, err = io.Copy(io.Discard, res.Body)
	return err
}

// quantile is the nearest-rank q-quantile of sorted latencies.
func quantile(sorted []time.Duration, q float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[max(0, min(i, len(sorted)-1))]
}

// ms writes a latency in milliseconds with three significant figures or so.
func ms(d time.Duration) string {
	v := float64(d) / float64(time.Millisecond)
	switch {
	case v < 10:
		return fmt.Sprintf("%.2fms", v)
	case v < 100:
		return fmt.Sprintf("%.1fms", v)
	}
	return fmt.Sprintf("%.0fms", v)
}
