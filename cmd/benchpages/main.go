// Command benchpages measures the webstore's pages against an independent
// ceiling, in one run on one database: a separate bare Echo process that
// does one primary-key read through sqlx and lib/pq over TCP. Each target
// is loaded by Debian's wrk (-t2 -c64 by default), a separate process that
// does not share the server's Go scheduler, and the app runs in its own
// process too, so its peak RSS is its own.
//
// The app is served twice: with the default, pooler-safe statements (one
// unnamed statement per query, binary parameters) and with the hot page
// statements prepared once per pool connection (prepared_statements=
// per_connection), so the two settings are compared in the same run.
//
// `make bench-pages` runs it against a fresh PostgreSQL listening on
// 127.0.0.1, after `migrate` and `seed` as `make run` runs them and no
// other step; DATABASE_URL must be set.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
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
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/labstack/echo/v4"
	_ "github.com/lib/pq"

	"webstore/billing"
	"webstore/db"
	"webstore/web"
)

// The ceiling process's paths.
const (
	barePath    = "/_bench/bare"
	ceilingPath = "/_bench/one-read"
	errorsPath  = "/_bench/non-200" // how many responses were not 200
)

// A target is one URL under load on one server.
type target struct {
	name, path string
	srv        *server
}

var pagePaths = []struct{ name, path string }{
	{"plan", "/a/cat/plan"},
	{"checkout", "/a/cat/checkout?plan=high"},
	{"history", "/a/cat/history"},
	{"menu", "/a/cat/menu"},
}

type options struct {
	d, warmup        time.Duration
	threads, clients int
	pool             int
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
	fs.DurationVar(&o.d, "d", 5*time.Second, "measured duration per target (wrk -d)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "an unmeasured wrk run per target first")
	fs.IntVar(&o.threads, "t", 2, "wrk threads (-t)")
	fs.IntVar(&o.clients, "c", 64, "wrk connections (-c)")
	fs.IntVar(&o.pool, "pool", 0, "the app's pool: max open and idle connections (0: what db.Open sets)")
	serve := fs.String("serve", "", "be a server: app (with -statements) or ceiling (the parent re-executes itself with this)")
	statements := fs.String("statements", "", "the app's prepared_statements setting: off or per_connection")
	if err := fs.Parse(args); err != nil {
		return err
	}
	dbURL := os.Getenv("DATABASE_URL")
	if dbURL == "" {
		return errors.New("DATABASE_URL is not set (make bench-pages starts a fresh PostgreSQL for you)")
	}
	switch *serve {
	case "app":
		return serveApp(ctx, dbURL, *statements, o.pool, stdout)
	case "ceiling":
		return serveCeiling(ctx, dbURL, stdout)
	case "":
	default:
		return fmt.Errorf("-serve %q: want app or ceiling", *serve)
	}
	if o.d <= 0 || o.warmup < 0 || o.clients <= 0 || o.threads <= 0 || o.pool < 0 {
		return errors.New("-d, -t and -c must be positive, -warmup and -pool not negative")
	}
	wrk, err := exec.LookPath("wrk")
	if err != nil {
		return errors.New("wrk is not installed (make bench-pages installs it: .ci/bench-deps)")
	}
	if err := prepare(ctx, dbURL); err != nil {
		return err
	}
	return measure(ctx, wrk, o, dbURL, stdout)
}

// prepare migrates and seeds the database as `make run` does: migrate and
// seed end by analyzing what they wrote, and nothing else is done here.
func prepare(ctx context.Context, dbURL string) error {
	d, err := db.Open(ctx, dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	if _, err := db.Migrate(ctx, d); err != nil {
		return err
	}
	_, err = db.New(d, billing.SystemClock, nil).Seed(ctx)
	return err
}

func measure(ctx context.Context, wrk string, o options, dbURL string, stdout io.Writer) error {
	ceil, err := startServer(ctx, "-serve", "ceiling")
	if err != nil {
		return err
	}
	defer ceil.stop()
	app, err := startServer(ctx, "-serve", "app", "-statements", "off", "-pool", strconv.Itoa(o.pool))
	if err != nil {
		return err
	}
	defer app.stop()
	prep, err := startServer(ctx, "-serve", "app", "-statements", "per_connection", "-pool", strconv.Itoa(o.pool))
	if err != nil {
		return err
	}
	defer prep.stop()
	for _, s := range []*server{app, prep} {
		if s.cookie, err = signIn(s.url, "alice"); err != nil {
			return err
		}
	}
	u, _ := url.Parse(dbURL)
	busy, _ := os.ReadFile("/proc/loadavg") // the host is shared: say how busy it was
	fmt.Fprintf(stdout, "bench-pages  %s  wrk -t%d -c%d -d%s (after a %s wrk run)  app pool %d  database %s  %d CPUs, load average %s\n",
		time.Now().UTC().Format("2006-01-02 15:04 MST"), o.threads, o.clients, o.d, o.warmup, app.pool, dbHost(u),
		runtime.NumCPU(), strings.Join(strings.Fields(string(busy))[:min(3, len(strings.Fields(string(busy))))], " "))
	fmt.Fprintln(stdout, "ceiling: a separate bare Echo process, SELECT id, name FROM accounts WHERE id=$1 through sqlx/lib/pq (its defaults, pool 40) over TCP")
	tw := tabwriter.NewWriter(stdout, 0, 0, 2, ' ', tabwriter.AlignRight)
	defer tw.Flush()
	fmt.Fprintln(tw, "what\tstatements\tpath\treq/s\tof ceiling\tp50\tp99\t")
	targets := []target{{"bare handler, no database", barePath, ceil}, {"one-read ceiling", ceilingPath, ceil}}
	for _, p := range pagePaths {
		targets = append(targets, target{p.name, p.path, app})
	}
	for _, p := range pagePaths[:2] {
		targets = append(targets, target{p.name, p.path, prep})
	}
	var top wrkResult
	for _, t := range targets {
		r, err := load(ctx, wrk, t, o)
		if err != nil {
			tw.Flush()
			return err
		}
		share, mode := "—", "—"
		switch {
		case t.path == ceilingPath:
			top, share = r, "100%"
		case t.path != barePath:
			share = fmt.Sprintf("%.1f%%", 100*r.rate/top.rate)
			mode = t.srv.statements
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%.0f\t%s\t%s\t%s\t\n", t.name, mode, t.path, r.rate, share, r.p50, r.p99)
	}
	tw.Flush()
	for _, s := range []*server{app, prep} {
		rss, err := s.peakRSS()
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "app server peak RSS (statements %s; VmHWM of its own process): %d MB\n", s.statements, rss>>10)
	}
	return nil
}

// dbHost names where the database is reached, for the header.
func dbHost(u *url.URL) string {
	if u == nil {
		return "?"
	}
	if h := u.Query().Get("host"); h != "" {
		return h + ":" + u.Query().Get("port")
	}
	return u.Host
}

// wrkResult is one wrk run's figures.
type wrkResult struct {
	rate     float64
	p50, p99 string
}

var (
	reqRate = regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`)
	pct     = regexp.MustCompile(`(?m)^\s+(50|99)%\s+(\S+)`)
	sockErr = regexp.MustCompile(`(?m)^\s+Socket errors: .*`)
)

// load runs wrk against t for o.warmup (not measured), then for o.d with
// its latency distribution. Any response other than 200 (a redirect to the
// sign-in page included), counted by the server itself, or any socket
// error, ends the run with an error.
func load(ctx context.Context, wrk string, t target, o options) (wrkResult, error) {
	before, err := t.srv.non200()
	if err != nil {
		return wrkResult{}, err
	}
	args := func(d time.Duration) []string {
		// A slow response is measured, not dropped: wrk gives up on one
		// after 2 s unless told otherwise, and leaves it out of the tail.
		a := []string{"-t", strconv.Itoa(o.threads), "-c", strconv.Itoa(o.clients), "-d", fmt.Sprintf("%.0fs", d.Seconds()),
			"--timeout", "10s", "--latency"}
		if t.srv.cookie != "" {
			a = append(a, "-H", "Cookie: "+t.srv.cookie)
		}
		return append(a, t.srv.url+t.path)
	}
	if o.warmup > 0 {
		if out, err := exec.CommandContext(ctx, wrk, args(o.warmup)...).CombinedOutput(); err != nil {
			return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", t.path, err, out)
		}
	}
	out, err := exec.CommandContext(ctx, wrk, args(o.d)...).CombinedOutput()
	if err != nil {
		return wrkResult{}, fmt.Errorf("wrk %s: %v\n%s", t.path, err, out)
	}
	if m := sockErr.Find(out); m != nil {
		return wrkResult{}, fmt.Errorf("wrk %s:%s", t.path, m)
	}
	after, err := t.srv.non200()
	if err != nil {
		return wrkResult{}, err
	}
	if after != before {
		return wrkResult{}, fmt.Errorf("%s: %d responses were not 200", t.path, after-before)
	}
	var r wrkResult
	m := reqRate.FindSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk %s: no Requests/sec in its output:\n%s", t.path, out)
	}
	r.rate, _ = strconv.ParseFloat(string(m[1]), 64)
	for _, m := range pct.FindAllSubmatch(out, -1) {
		if string(m[1]) == "50" {
			r.p50 = string(m[2])
		} else {
			r.p99 = string(m[2])
		}
	}
	return r, nil
}

// counting counts the responses that are not 200 to a client still
// there, and answers errorsPath with the count.
func counting(h http.Handler) http.Handler {
	var n atomic.Int64
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == errorsPath {
			fmt.Fprint(w, n.Load())
			return
		}
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		h.ServeHTTP(sw, r)
		// wrk closes its connections at the end of a run: the requests in
		// flight then are cancelled, not failed.
		if sw.status != http.StatusOK && r.Context().Err() == nil {
			n.Add(1)
		}
	})
}

type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	w.status = code
	w.ResponseWriter.WriteHeader(code)
}

// serveApp is an app server process: the app as `webstore serve` builds it
// (without payment providers, which no GET page calls; the request log
// formatted as in production, then discarded) with the given
// prepared_statements setting. It prints "ready URL POOL" and serves
// until its standard input closes.
func serveApp(ctx context.Context, dbURL, statements string, pool int, stdout io.Writer) error {
	web.TuneGC() // as `webstore serve` runs
	u, err := url.Parse(dbURL)
	if err != nil {
		return err
	}
	q := u.Query()
	q.Set("prepared_statements", statements)
	u.RawQuery = q.Encode()
	d, err := db.Open(ctx, u.String())
	if err != nil {
		return err
	}
	defer d.Close()
	if pool > 0 {
		d.SetMaxOpenConns(pool)
		d.SetMaxIdleConns(pool)
	}
	store := db.New(d, billing.SystemClock, nil)
	app := web.New(web.Config{DatabaseURL: dbURL, Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))}, store)
	// BENCHPAGES_CPUPROFILE names a file for the default app server's CPU
	// profile.
	if f := os.Getenv("BENCHPAGES_CPUPROFILE"); f != "" && statements == "off" {
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
	return serveUntilStdinCloses(ctx, counting(app), d.Stats().MaxOpenConnections, stdout)
}

// serveCeiling is the ceiling process: bare Echo, no middleware, one
// primary-key read through sqlx and lib/pq with its defaults (no binary
// parameters: an unnamed statement's parse and execution are two round
// trips) over the pool db.Open would size, and a handler with no database.
func serveCeiling(ctx context.Context, dbURL string, stdout io.Writer) error {
	d, err := sqlx.Open("postgres", dbURL)
	if err != nil {
		return err
	}
	defer d.Close()
	d.SetMaxOpenConns(40)
	d.SetMaxIdleConns(40)
	if err := d.PingContext(ctx); err != nil {
		return err
	}
	e := echo.New()
	e.HideBanner, e.HidePort = true, true
	e.GET(barePath, func(c echo.Context) error { return c.String(http.StatusOK, "ok") })
	e.GET(ceilingPath, func(c echo.Context) error {
		var row struct {
			ID   string `db:"id"`
			Name string `db:"name"`
		}
		if err := d.GetContext(c.Request().Context(), &row, `SELECT id, name FROM accounts WHERE id=$1`, "cat"); err != nil {
			if errors.Is(err, sql.ErrNoRows) {
				return echo.ErrNotFound
			}
			return err
		}
		return c.String(http.StatusOK, row.Name)
	})
	return serveUntilStdinCloses(ctx, counting(e), 40, stdout)
}

func serveUntilStdinCloses(ctx context.Context, h http.Handler, pool int, stdout io.Writer) error {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: h}
	go srv.Serve(ln)
	defer srv.Close()
	fmt.Fprintf(stdout, "ready http://%s %d\n", ln.Addr(), pool)
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
	cmd        *exec.Cmd
	stdin      io.Closer
	url        string
	pool       int
	statements string // the app's setting; "" for the ceiling
	cookie     string // the signed-in session, for wrk
}

// startServer re-executes this binary with args and waits until it
// listens.
func startServer(ctx context.Context, args ...string) (*server, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, exe, args...)
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
	for i, a := range args {
		if a == "-statements" && i+1 < len(args) {
			s.statements = args[i+1]
		}
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if _, err2 := fmt.Sscanf(line, "ready %s %d", &s.url, &s.pool); err != nil || err2 != nil {
		s.stop()
		return nil, fmt.Errorf("server %v did not start (it said %q)", args, line)
	}
	return s, nil
}

// stop closes the server's standard input, its signal to exit, and waits.
func (s *server) stop() {
	s.stdin.Close()
	s.cmd.Wait()
}

// non200 is how many responses the server has answered with another
// status than 200.
func (s *server) non200() (int64, error) {
	res, err := http.Get(s.url + errorsPath)
	if err != nil {
		return 0, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		return 0, err
	}
	return strconv.ParseInt(strings.TrimSpace(string(b)), 10, 64)
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

// signIn signs in over HTTP as a person does (the sign-in page's CSRF
// token, then the form) and returns the session's Cookie header for wrk.
func signIn(base, login string) (string, error) {
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/signin")
	if err != nil {
		return "", err
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		return "", errors.New("no CSRF token on the sign-in page")
	}
	res, err = c.PostForm(base+"/signin", url.Values{"_csrf": {string(m[1])}, "login": {login}, "password": {db.DemoPassword}})
	if err != nil {
		return "", err
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		return "", fmt.Errorf("sign-in as %s: %s, want 303", login, res.Status)
	}
	u, _ := url.Parse(base)
	var parts []string
	for _, ck := range jar.Cookies(u) {
		parts = append(parts, ck.Name+"="+ck.Value)
	}
	if len(parts) == 0 {
		return "", errors.New("sign-in set no cookie")
	}
	return strings.Join(parts, "; "), nil
}
