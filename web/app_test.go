package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/web"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

// testNow is inside the seeded demo campaign's window.
var testNow = time.Date(2026, 11, 23, 12, 0, 0, 0, billing.Taipei)

// app is the whole webstore on a real database, with both payment sandboxes
// mounted, served on a loopback port.
type app struct {
	URL     string
	Store   *db.Store
	Clock   *billingtest.Clock
	LinePay *linepay.Client
	// last is the statement counter of the latest request served.
	last *atomic.Pointer[db.StatementCounter]
	dsn  string
}

// lastStatements is the database round trips the latest request made.
func (a app) lastStatements() *db.StatementCounter { return a.last.Load() }

func newApp(t testing.TB) app {
	t.Helper()
	d, dsn := dbtest.Clone(t, seededTemplate(t))
	a := serveApp(t, d, billingtest.NewClock(testNow), false)
	a.dsn = dsn
	return a
}

// seeded is a database with the demo data seeded at testNow, made by the
// first newApp and dropped by TestMain: each newApp starts from a copy of
// it, which is what seeding a fresh database gives, without seeding again.
var seeded struct {
	sync.Mutex
	name string
	drop func()
}

func seededTemplate(t testing.TB) string {
	t.Helper()
	seeded.Lock()
	defer seeded.Unlock()
	if seeded.name == "" {
		seeded.name, seeded.drop = dbtest.NewTemplate(t, sandboxtest.Extra(), func(d *sqlx.DB) error {
			_, err := db.New(d, billingtest.NewClock(testNow), nil).Seed(context.Background())
			return err
		})
	}
	return seeded.name
}

// newAppOn is newApp on the database d (a test database, maybe reached
// through a pooler).
func newAppOn(t testing.TB, d *sqlx.DB) app {
	t.Helper()
	return serveApp(t, d, billingtest.NewClock(testNow), true)
}

// twin is a second server on a's database, with its own connection pool,
// caches and sandboxes, as a second `serve` process is; it shares a's
// clock.
func (a app) twin(t testing.TB) app {
	t.Helper()
	d, err := db.Open(context.Background(), a.dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	b := serveApp(t, d, a.Clock, false)
	b.dsn = a.dsn
	return b
}

// serveApp serves the whole webstore on d at a loopback port, seeding the
// demo data first when asked.
func serveApp(t testing.TB, d *sqlx.DB, clk *billingtest.Clock, seed bool) app {
	t.Helper()
	ctx := context.Background()
	var handler http.Handler
	last := new(atomic.Pointer[db.StatementCounter])
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// The app counts each request's round trips under the counter it
		// finds in the request's context; the statement-count test reads it.
		ctx, n := db.WithStatementCounter(r.Context())
		last.Store(n)
		handler.ServeHTTP(w, r.WithContext(ctx))
	}))
	t.Cleanup(srv.Close)

	lp := &linepay.Client{BaseURL: srv.URL + "/sandbox/linepay", ChannelID: "1656000000", ChannelSecret: "sandbox-channel-secret"}
	cards := &cardgw.Client{BaseURL: srv.URL + "/sandbox/card", SecretKey: "sk_sandbox"}
	store := db.New(d, clk, payments.Gateway{LinePay: lp, Cards: cards})
	if seed {
		if _, err := store.Seed(ctx); err != nil {
			t.Fatal(err)
		}
	}
	line, lineSandbox := lineLoginSandbox(t, srv.URL, d)
	handler = web.New(web.Config{
		LinePay: lp, Cards: cards, CardPublicKey: "pk_sandbox", BaseURL: srv.URL,
		SandboxLinePay:   linepay.NewSandbox(d, linepay.SandboxConfig{ChannelID: lp.ChannelID, ChannelSecret: lp.ChannelSecret, BasePath: "/sandbox/linepay"}),
		SandboxCards:     cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: "pk_sandbox", SecretKey: "sk_sandbox", BasePath: "/sandbox/card"}),
		LineLogin:        line,
		SandboxLineLogin: lineSandbox,
	}, store)
	return app{URL: srv.URL, Store: store, Clock: clk, LinePay: lp, last: last}
}

// browser opens a tab of headless Chromium at the given size, in a browser
// context of its own (its own cookies and storage), closed when the test
// ends. The Chromium process itself is shared: one per window size,
// started by the first test that asks for it and stopped by TestMain.
func browser(t *testing.T, width, height int64) context.Context {
	t.Helper()
	parent, err := sharedBrowser(width, height)
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	ctx, cancelB := chromedp.NewContext(parent, chromedp.WithNewBrowserContext())
	ctx, cancelC := context.WithTimeout(ctx, 3*time.Minute)
	t.Cleanup(func() { cancelC(); cancelB() })
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(width, height)); err != nil {
		t.Fatalf("open a chromium tab: %v", err)
	}
	return ctx
}

// browsers are the package's Chromium processes, one per window size.
var browsers struct {
	sync.Mutex
	m map[[2]int64]*chromium
}

type chromium struct {
	once   sync.Once
	ctx    context.Context
	cancel func()
	err    error
}

// sharedBrowser returns the context of the running Chromium whose window is
// width × height, starting it if need be.
func sharedBrowser(width, height int64) (context.Context, error) {
	browsers.Lock()
	if browsers.m == nil {
		browsers.m = map[[2]int64]*chromium{}
	}
	c := browsers.m[[2]int64{width, height}]
	if c == nil {
		c = new(chromium)
		browsers.m[[2]int64{width, height}] = c
	}
	browsers.Unlock()
	c.once.Do(func() {
		opts := append(chromedp.DefaultExecAllocatorOptions[:],
			chromedp.Flag("headless", true),
			chromedp.Flag("disable-gpu", true),
			chromedp.Flag("no-sandbox", true),
			chromedp.Flag("disable-quic", true),
			chromedp.Flag("disable-background-networking", true),
			chromedp.Flag("disable-component-update", true),
			chromedp.Flag("disable-sync", true),
			chromedp.Flag("lang", "zh-TW"),
			chromedp.Flag("accept-lang", "zh-TW,zh"),
			chromedp.WindowSize(int(width), int(height)),
		)
		if p := os.Getenv("CHROMIUM"); p != "" {
			opts = append(opts, chromedp.ExecPath(p))
		}
		actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
		bctx, cancelB := chromedp.NewContext(actx)
		c.ctx, c.cancel = bctx, func() { cancelB(); cancelA() }
		// The first run starts the process (and opens its first tab, which
		// the tests leave alone).
		c.err = chromedp.Do(bctx)
	})
	return c.ctx, c.err
}

// stopBrowsers stops every Chromium the tests started.
func stopBrowsers() {
	browsers.Lock()
	defer browsers.Unlock()
	for _, c := range browsers.m {
		if c.cancel != nil {
			c.cancel()
		}
	}
}

func TestMain(m *testing.M) {
	code := m.Run()
	stopBrowsers()
	if seeded.drop != nil {
		seeded.drop()
	}
	os.Exit(code)
}

// tid selects by data-testid.
func tid(id string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + id + `"]`) }

// stepTimeout bounds one do or text call, so a missing element fails the
// test with the page's text instead of hanging it.
const stepTimeout = 20 * time.Second

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("%v\nat %s\npage text:\n%s", err, loc, body)
	}
}

func text(t *testing.T, ctx context.Context, sel chromedp.CSS) string {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, stepTimeout)
	defer cancel()
	s, err := chromedp.Run(sctx, chromedp.Text(sel))
	if err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
		t.Fatalf("text %s: %v\nat %s\npage text:\n%s", sel, err, loc, body)
	}
	return strings.TrimSpace(s)
}

func signIn(t *testing.T, ctx context.Context, base, login string) {
	t.Helper()
	do(t, ctx,
		chromedp.Navigate(base+"/signin"),
		chromedp.SendKeys(tid("login"), login),
		chromedp.SendKeys(tid("password"), db.DemoPassword),
		chromedp.Click(tid("signin")),
		chromedp.WaitNotPresent(tid("signin")),
	)
}

// shot saves a screenshot when SCREENSHOTS names a folder (the README's
// pictures are made this way).
func shot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644); err != nil {
		t.Fatal(err)
	}
}
