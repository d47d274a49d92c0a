package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"webstore/billing"
	"webstore/db"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/sandboxtest"
)

func TestListenURL(t *testing.T) {
	for _, tc := range []struct {
		addr net.Addr
		want string
	}{
		{&net.TCPAddr{IP: net.IPv6unspecified, Port: 8080}, "http://localhost:8080"},
		{&net.TCPAddr{IP: net.IPv4zero, Port: 8080}, "http://localhost:8080"},
		{&net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080}, "http://127.0.0.1:8080"},
		{&net.TCPAddr{IP: net.IPv6loopback, Port: 8080}, "http://[::1]:8080"},
	} {
		if got := listenURL(tc.addr); got != tc.want {
			t.Errorf("listenURL(%v) = %q, want %q", tc.addr, got, tc.want)
		}
	}
}

// slowGateway is the card gateway sandbox behind a provider that takes
// delay to answer a charge. It tells when the first charge reached it and
// when its answer was sent, and keeps that answer.
type slowGateway struct {
	h        http.Handler
	delay    time.Duration
	once     sync.Once
	started  chan struct{}
	finished chan struct{}
	answer   []byte
}

func (g *slowGateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost || r.URL.Path != "/api/v1/charges" {
		g.h.ServeHTTP(w, r)
		return
	}
	first := false
	g.once.Do(func() { first = true; close(g.started) })
	time.Sleep(g.delay)
	if !first {
		g.h.ServeHTTP(w, r)
		return
	}
	rec := &teeWriter{ResponseWriter: w}
	g.h.ServeHTTP(rec, r)
	g.answer = rec.buf.Bytes()
	close(g.finished)
}

type teeWriter struct {
	http.ResponseWriter
	buf bytes.Buffer
}

func (w *teeWriter) Write(b []byte) (int, error) { w.buf.Write(b); return w.ResponseWriter.Write(b) }

// lockedBuffer is a buffer serve writes to while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string { l.mu.Lock(); defer l.mu.Unlock(); return l.b.String() }

// serveFixture is `webstore serve` running in this process against a
// seeded database whose account cat (medium, admin alice) pays by card
// through a slow card gateway.
type serveFixture struct {
	store  *db.Store
	gw     *slowGateway
	cards  *cardgw.Client
	url    string
	stop   context.CancelFunc
	done   chan struct{} // closed when serve returned, with err
	err    error
	stderr *lockedBuffer
	stdout *lockedBuffer
}

func startServe(t *testing.T, delay, grace time.Duration, extra ...string) *serveFixture {
	t.Helper()
	ctx := context.Background()
	d, dsn := sandboxtest.NewDB(t)
	t.Setenv("DATABASE_URL", dsn)
	st := db.New(d, billing.SystemClock, nil)
	if _, err := st.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	gw := &slowGateway{delay: delay, started: make(chan struct{}), finished: make(chan struct{}),
		h: cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: "pk_slow", SecretKey: "sk_slow"})}
	gwSrv := &http.Server{Handler: gw}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go gwSrv.Serve(ln)
	t.Cleanup(func() { gwSrv.Close() })
	gwURL := "http://" + ln.Addr().String()
	t.Setenv("CARDGW_API_URL", gwURL)
	t.Setenv("CARDGW_PUBLIC_KEY", "pk_slow")
	t.Setenv("CARDGW_SECRET_KEY", "sk_slow")
	cards := &cardgw.Client{BaseURL: gwURL, SecretKey: "sk_slow"}

	// cat's admin has entered a card and e-invoice details before.
	p, err := sandboxtest.EnterCard(ctx, http.DefaultClient, cardgw.FieldsURL(gwURL, "pk_slow", "http://merchant.test/return"),
		sandboxtest.Card{Number: "4242 4242 4242 4242", Expiry: "12/30", CVC: "123", Name: "Alice"})
	if err != nil || p.Location == nil {
		t.Fatalf("enter card: %v %+v", err, p)
	}
	card, err := cards.AttachCard(ctx, p.Location.Query().Get("card_token"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.AddPaymentMethod(ctx, "test", db.PaymentMethod{AccountID: "cat", Kind: billing.CreditCard, Token: card.ID}, true); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SaveInvoiceDetails(ctx, "test", "cat", billing.InvoiceDetails{Kind: billing.InvoiceDonation, DonationCode: "919", Email: "a@b.example.tw"}); err != nil {
		t.Fatal(err)
	}

	sctx, stop := context.WithCancel(ctx)
	f := &serveFixture{store: st, gw: gw, cards: cards, stop: stop, done: make(chan struct{}), stderr: &lockedBuffer{}}
	stdout := &lockedBuffer{}
	f.stdout = stdout
	go func() {
		defer close(f.done)
		f.err = cmdServe(sctx, append([]string{"--addr", "127.0.0.1:0", "--shutdown-timeout", grace.String()}, extra...), stdout, f.stderr)
	}()
	t.Cleanup(func() {
		stop()
		select {
		case <-f.done:
		case <-time.After(grace + 10*time.Second):
		}
	})
	listening := regexp.MustCompile(`webstore listening on (http://\S+)`)
	for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if m := listening.FindStringSubmatch(stdout.String()); m != nil {
			f.url = m[1]
			break
		}
		select {
		case <-f.done:
			t.Fatalf("serve ended before listening: %v\n%s", f.err, f.stderr)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("serve did not start: %q %q", stdout, f.stderr)
		}
	}
	if !strings.HasPrefix(f.url, "http://127.0.0.1:") {
		t.Errorf("serve printed %q, want http://127.0.0.1:<port>", f.url)
	}
	return f
}

var hiddenInput = regexp.MustCompile(`<input type="hidden" name="([a-z_]+)" value="([^"]*)"`)

// startPurchase signs alice in, opens the checkout for cat's upgrade to
// high and posts the purchase; the answer (or the transport error) comes
// on the returned channel.
func (f *serveFixture) startPurchase(t *testing.T) <-chan purchaseResult {
	t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	form := func(path string) url.Values {
		res, err := c.Get(f.url + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %s", path, res.Status)
		}
		v := url.Values{}
		for _, m := range hiddenInput.FindAllSubmatch(b, -1) {
			if v.Get(string(m[1])) == "" {
				v.Set(string(m[1]), string(m[2]))
			}
		}
		return v
	}
	signin := form("/signin")
	signin.Set("login", "alice")
	signin.Set("password", db.DemoPassword)
	res, err := c.PostForm(f.url+"/signin", signin)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		t.Fatalf("sign in: %s", res.Status)
	}
	buy := form("/a/cat/checkout?plan=high")
	if buy.Get("key") == "" || buy.Get("expect_total") == "" || buy.Get("expect_total") == "0" {
		t.Fatalf("checkout form: %v", buy)
	}
	buy.Set("terms", "yes")
	out := make(chan purchaseResult, 1)
	go func() {
		res, err := c.PostForm(f.url+"/a/cat/checkout", buy)
		if err != nil {
			out <- purchaseResult{err: err}
			return
		}
		res.Body.Close()
		out <- purchaseResult{status: res.StatusCode, location: res.Header.Get("Location")}
	}()
	return out
}

type purchaseResult struct {
	status   int
	location string
	err      error
}

// catUpgrade is cat's one upgrade charge.
func (f *serveFixture) catUpgrade(t *testing.T) db.Charge {
	t.Helper()
	chs, err := f.store.FindCharges(context.Background(), "cat")
	if err != nil {
		t.Fatal(err)
	}
	var ups []db.Charge
	for _, ch := range chs {
		if ch.Kind == billing.KindUpgrade {
			ups = append(ups, ch)
		}
	}
	if len(ups) != 1 {
		t.Fatalf("cat has %d upgrade charges, want 1: %+v", len(ups), ups)
	}
	return ups[0]
}

// A purchase waiting on a slow provider when serve is told to stop
// finishes: the person gets the charge page, the charge is paid, and serve
// exits cleanly only after that; new connections are refused meanwhile.
func TestServeShutdownLetsAPurchaseFinish(t *testing.T) {
	f := startServe(t, 2*time.Second, 30*time.Second)
	res := f.startPurchase(t)
	select {
	case <-f.gw.started:
	case r := <-res:
		t.Fatalf("the purchase ended before reaching the provider: %+v", r)
	case <-time.After(20 * time.Second):
		t.Fatal("the purchase never reached the provider")
	}
	f.stop() // SIGTERM
	time.Sleep(200 * time.Millisecond)
	if _, err := http.Get(f.url + "/healthz"); err == nil {
		t.Error("serve still accepts connections after the signal")
	}
	select {
	case <-f.done:
		t.Fatalf("serve returned (%v) while a purchase was in flight", f.err)
	default:
	}
	var r purchaseResult
	select {
	case r = <-res:
	case <-time.After(30 * time.Second):
		t.Fatal("the purchase did not finish")
	}
	if r.err != nil || r.status != http.StatusSeeOther || !regexp.MustCompile(`^/a/cat/charges/\d+\?done=1$`).MatchString(r.location) {
		t.Fatalf("purchase: %+v, want 303 to the charge page", r)
	}
	select {
	case <-f.done:
		if f.err != nil {
			t.Fatalf("serve: %v", f.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return after the purchase finished")
	}
	if ch := f.catUpgrade(t); ch.Status != "paid" || ch.PaymentRef == "" {
		t.Errorf("charge after shutdown: status %q ref %q, want paid", ch.Status, ch.PaymentRef)
	}
	if !strings.Contains(f.stderr.String(), "webstore: stopped") {
		t.Errorf("serve's log: %q", f.stderr)
	}
}

// A provider slower than the shutdown's grace: serve cuts the request off
// and says so; the charge stays pending with its key, and collecting it
// later takes the provider's first answer instead of charging again.
func TestServeShutdownCutOffLeavesPurchasePending(t *testing.T) {
	f := startServe(t, 3*time.Second, 500*time.Millisecond)
	res := f.startPurchase(t)
	select {
	case <-f.gw.started:
	case r := <-res:
		t.Fatalf("the purchase ended before reaching the provider: %+v", r)
	case <-time.After(20 * time.Second):
		t.Fatal("the purchase never reached the provider")
	}
	f.stop()
	select {
	case <-f.done:
		if f.err == nil || !strings.Contains(f.err.Error(), "cut off") {
			t.Errorf("serve: %v, want requests reported cut off", f.err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not give up after its grace")
	}
	if r := <-res; r.err == nil {
		t.Errorf("purchase: %+v, want the connection closed", r)
	}
	<-f.gw.finished // the provider took the money meanwhile
	var first struct {
		ID     string `json:"id"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(f.gw.answer, &first); err != nil || first.Status != "succeeded" {
		t.Fatalf("provider's answer: %s %v", f.gw.answer, err)
	}
	time.Sleep(200 * time.Millisecond)
	if ch := f.catUpgrade(t); ch.Status != "pending" {
		t.Fatalf("charge after the cut-off: %q, want pending", ch.Status)
	}
	f.store.Payments = payments.Gateway{Cards: f.cards}
	sum, err := f.store.Collect(context.Background(), "test", 0)
	if err != nil {
		t.Fatal(err)
	}
	ch := f.catUpgrade(t)
	if ch.Status != "paid" || ch.PaymentRef != first.ID {
		t.Errorf("collected: %+v; charge %q ref %q, want paid with the first payment %s", sum, ch.Status, ch.PaymentRef, first.ID)
	}
}

// Every stage of a connection is bounded, and so is every call to a
// payment provider.
func TestTimeouts(t *testing.T) {
	srv := newHTTPServer(http.NotFoundHandler())
	if srv.ReadHeaderTimeout <= 0 || srv.ReadTimeout <= 0 || srv.WriteTimeout <= 0 || srv.IdleTimeout <= 0 || srv.MaxHeaderBytes <= 0 {
		t.Errorf("unbounded server: %+v", srv)
	}
	if srv.WriteTimeout <= providerTimeout {
		t.Errorf("WriteTimeout %s would cut off a purchase still waiting (up to %s) for its provider", srv.WriteTimeout, providerTimeout)
	}
	t.Setenv("WEBSTORE_ENV", "development")
	t.Setenv("DATABASE_URL", "postgres://x/y")
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	_, gw := providers(cfg, nil, "http://127.0.0.1:1")
	for name, hc := range map[string]*http.Client{"LINE Pay": gw.LinePay.HTTP, "card gateway": gw.Cards.HTTP} {
		if hc == nil || hc.Timeout != providerTimeout {
			t.Errorf("%s client: %+v, want a %s timeout", name, hc, providerTimeout)
			continue
		}
		if tr, ok := hc.Transport.(*http.Transport); !ok || tr.ResponseHeaderTimeout <= 0 || tr.TLSHandshakeTimeout <= 0 || tr.MaxConnsPerHost <= 0 {
			t.Errorf("%s transport not bounded: %+v", name, hc.Transport)
		}
	}
}

// With --metrics-addr, serve answers /metrics on that address only, and
// logs every request as one structured line.
func TestServeMetricsApart(t *testing.T) {
	f := startServe(t, 0, 5*time.Second, "--metrics-addr", "127.0.0.1:0")
	m := regexp.MustCompile(`metrics on (http://\S+/metrics)`).FindStringSubmatch(f.stdout.String())
	if m == nil {
		t.Fatalf("serve did not say where the metrics are: %q", f.stdout)
	}
	get := func(u string) (int, string) {
		res, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, _ := get(f.url + "/healthz"); code != http.StatusOK {
		t.Fatalf("healthz: %d", code)
	}
	if code, _ := get(f.url + "/metrics"); code != http.StatusNotFound {
		t.Errorf("the public app answers /metrics: %d", code)
	}
	code, body := get(m[1])
	if code != http.StatusOK || !strings.Contains(body, `webstore_http_request_duration_seconds_count{code="200",method="GET",route="/healthz"} 1`) {
		t.Errorf("metrics: %d\n%.2000s", code, body)
	}
	if !regexp.MustCompile(`msg=request method=GET route=/healthz path=/healthz status=200 duration_ms=\S+ db_statements=0 request_id=\w+`).MatchString(f.stderr.String()) {
		t.Errorf("no request log line for /healthz in %q", f.stderr)
	}
}
