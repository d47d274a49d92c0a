package web

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/billing"
	"webstore/db"
	"webstore/db/dbtest"
)

// countingAuth counts the password checks made.
type countingAuth struct {
	next  Authenticator
	calls atomic.Int64
}

func (a *countingAuth) Authenticate(c echo.Context) (db.User, error) {
	a.calls.Add(1)
	return a.next.Authenticate(c)
}

var csrfInput = regexp.MustCompile(`name="_csrf" value="([^"]+)"`)

// Failed sign-ins are throttled per client address, overall and at one
// login: 429 with Retry-After and the reason in the visitor's language, no
// password check while throttled, the lockout (and the login coming under
// attack) in the audit trail; good sign-ins spend nothing. The owner at
// another address is spared: TestSignInThrottleSparesTheOwner
// (cmd/webstore) and TestThrottleSlowsALoginUnderAttack.
func TestSignInThrottling(t *testing.T) {
	ctx := context.Background()
	d, _ := dbtest.New(t)
	store := db.New(d, billing.SystemClock, nil)
	if _, err := store.Seed(ctx); err != nil {
		t.Fatal(err)
	}
	s := New(Config{}, store)
	// A clock that stands still: no bucket refills while bcrypt runs on a
	// loaded machine.
	frozen := time.Now()
	s.signins = newThrottle(loginThrottle, addrThrottle, func() time.Time { return frozen })
	auth := &countingAuth{next: s.auth}
	s.auth = auth
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)

	jar, _ := cookiejar.New(nil)
	hc := &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := hc.Get(srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	csrf := string(csrfInput.FindSubmatch(b)[1])
	signIn := func(login, password, lang string) (*http.Response, string) {
		t.Helper()
		form := url.Values{"login": {login}, "password": {password}, "_csrf": {csrf}}
		req, _ := http.NewRequest("POST", srv.URL+"/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", lang)
		res, err := hc.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res, string(b)
	}

	for range 10 {
		if res, _ := signIn("oscar", db.DemoPassword, "zh-TW"); res.StatusCode != http.StatusSeeOther {
			t.Fatalf("a good sign-in: %s", res.Status)
		}
	}
	for i := range loginThrottle.burst {
		if res, _ := signIn("Alice", "wrong", "zh-TW"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %s, want 401", i+1, res.Status)
		}
	}
	checks := auth.calls.Load()
	res, body := signIn("alice", db.DemoPassword, "zh-TW") // even the right one, now
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "登入失敗次數過多") {
		t.Errorf("attempt after %d failures: %s, want 429 saying why:\n%.300s", loginThrottle.burst, res.Status, body)
	}
	if secs, err := strconv.Atoi(res.Header.Get("Retry-After")); err != nil || secs < 1 || secs > 60 {
		t.Errorf("Retry-After %q", res.Header.Get("Retry-After"))
	}
	res, body = signIn("alice", "wrong", "en")
	if res.StatusCode != http.StatusTooManyRequests || !strings.Contains(body, "Too many failed sign-ins") {
		t.Errorf("throttled, in English: %s\n%.300s", res.Status, body)
	}
	if n := auth.calls.Load() - checks; n != 0 {
		t.Errorf("%d passwords checked while throttled", n)
	}
	// oscar is not alice: his sign-in still works from the same address.
	if res, _ := signIn("oscar", db.DemoPassword, "zh-TW"); res.StatusCode != http.StatusSeeOther {
		t.Errorf("another login while alice is throttled: %s", res.Status)
	}

	// The address: failures spread over many logins.
	for i := range addrThrottle.burst - loginThrottle.burst {
		if res, _ := signIn("nobody"+strconv.Itoa(i), "x", "zh-TW"); res.StatusCode != http.StatusUnauthorized {
			t.Fatalf("unknown login %d: %s", i, res.Status)
		}
	}
	if res, _ := signIn("oscar", db.DemoPassword, "zh-TW"); res.StatusCode != http.StatusTooManyRequests {
		t.Errorf("after %d failures from one address: %s, want 429", addrThrottle.burst, res.Status)
	}

	entries, err := store.FindAudit(ctx, db.AuditFilter{Kind: "signin.throttled"})
	if err != nil {
		t.Fatal(err)
	}
	var scopes []string
	for _, e := range entries {
		scopes = append(scopes, e.After.String)
	}
	if all := strings.Join(scopes, " "); len(entries) != 2 || !strings.Contains(all, `"alice"`) || !strings.Contains(all, `"address"`) {
		t.Errorf("lockouts in the audit trail: %q, want alice's and the address's", scopes)
	}
}

// A bucket refills: after its interval, one more attempt is let through.
func TestThrottleRefills(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	th := newThrottle(throttleRule{burst: 2, every: time.Minute}, throttleRule{burst: 100, every: time.Second}, func() time.Time { return now })
	for i := range 2 {
		if w := th.wait("a", "1.2.3.4"); w != 0 {
			t.Fatalf("attempt %d waits %s", i+1, w)
		}
		locked, _ := th.failed("A ", "1.2.3.4")
		if locked != (i == 1) {
			t.Errorf("failure %d: locked %v", i+1, locked)
		}
	}
	if w := th.wait("a", "1.2.3.4"); w != time.Minute {
		t.Errorf("wait after the burst: %s, want 1m", w)
	}
	now = now.Add(59 * time.Second)
	if w := th.wait("a", "1.2.3.4"); w <= 0 || w > 2*time.Second {
		t.Errorf("wait 59 s later: %s", w)
	}
	now = now.Add(time.Second)
	if w := th.wait("a", "1.2.3.4"); w != 0 {
		t.Errorf("wait a minute later: %s, want 0", w)
	}
}

// Behind trusted reverse proxies the client's address is the one their
// X-Forwarded-For names, so one client's failures do not lock out every
// visitor; from anyone else, X-Forwarded-For is not believed.
func TestClientAddressBehindProxies(t *testing.T) {
	_, loopback, _ := net.ParseCIDR("127.0.0.0/8")
	req := func(peer, xff string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = peer + ":41000"
		if xff != "" {
			r.Header.Set("X-Forwarded-For", xff)
		}
		return r
	}
	for _, tc := range []struct {
		trusted   []*net.IPNet
		peer, xff string
		want      string
	}{
		{nil, "127.0.0.1", "203.0.113.5", "127.0.0.1"},
		{[]*net.IPNet{loopback}, "127.0.0.1", "198.51.100.9, 203.0.113.5", "203.0.113.5"},
		{[]*net.IPNet{loopback}, "127.0.0.1", "203.0.113.5, 127.0.0.2", "203.0.113.5"},
		{[]*net.IPNet{loopback}, "198.51.100.1", "203.0.113.5", "198.51.100.1"},
		{[]*net.IPNet{loopback}, "127.0.0.1", "", "127.0.0.1"},
	} {
		if got := clientAddress(tc.trusted)(req(tc.peer, tc.xff)); got != tc.want {
			t.Errorf("trusted %v, peer %s, X-Forwarded-For %q: %s, want %s", tc.trusted, tc.peer, tc.xff, got, tc.want)
		}
	}

	d, _ := dbtest.New(t)
	store := db.New(d, billing.SystemClock, nil)
	if _, err := store.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	s := New(Config{TrustedProxies: []*net.IPNet{loopback}}, store)
	s.auth = failing{}
	frozen := time.Now()
	s.signins = newThrottle(loginThrottle, addrThrottle, func() time.Time { return frozen })
	attempt := func(client string) int {
		r := httptest.NewRequest("POST", "/signin", strings.NewReader(url.Values{"login": {"u" + client}, "password": {"x"}}.Encode()))
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		r.Header.Set("X-Forwarded-For", client)
		r.RemoteAddr = "127.0.0.1:41000"
		c := s.e.NewContext(r, httptest.NewRecorder())
		if err := s.signIn(c); err != nil {
			t.Fatal(err)
		}
		return c.Response().Status
	}
	for range addrThrottle.burst {
		attempt("203.0.113.5")
	}
	if got := attempt("203.0.113.5"); got != http.StatusTooManyRequests {
		t.Errorf("the failing client: %d, want 429", got)
	}
	if got := attempt("198.51.100.9"); got != http.StatusUnauthorized {
		t.Errorf("another client behind the same proxy: %d, want 401 (not throttled)", got)
	}
}

// failing refuses every sign-in, as a wrong password would.
type failing struct{}

func (failing) Authenticate(echo.Context) (db.User, error) {
	return db.User{}, billing.Errorf(billing.EForbidden, "")
}

// A login under attack is slowed down, not locked: a client without
// failures of its own is let in after slowDown; an address that fails at
// it then gets no second guess for a minute; the attack ends as the
// login's bucket refills.
func TestThrottleSlowsALoginUnderAttack(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	th := newThrottle(loginThrottle, addrThrottle, func() time.Time { return now })
	for range loginThrottle.burst {
		th.failed("oscar", "203.0.113.5")
	}
	if w := th.wait("oscar", "203.0.113.5"); w != time.Minute {
		t.Errorf("the failing address waits %s, want 1m", w)
	}
	if w, d := th.wait("oscar", "198.51.100.9"), th.slow("OSCAR"); w != 0 || d != slowDown {
		t.Errorf("another address: waits %s, slowed %s; want 0 and %s", w, d, slowDown)
	}
	if w, d := th.wait("alice", "203.0.113.5"), th.slow("alice"); w != 0 || d != 0 {
		t.Errorf("another login from the failing address: waits %s, slowed %s; want neither", w, d)
	}
	// A second address guesses once, then waits like the first.
	if locked, _ := th.failed("oscar", "198.51.100.77"); locked {
		t.Error("a failure at a login already under attack starts another lockout record")
	}
	if w := th.wait("oscar", "198.51.100.77"); w <= 0 {
		t.Errorf("a new address after one failure at a login under attack: waits %s, want a wait", w)
	}
	now = now.Add(loginThrottle.every)
	if d := th.slow("oscar"); d != 0 {
		t.Errorf("a minute later the login is still slowed: %s", d)
	}
}

// A client that goes away before its answer (here while its sign-in waits
// out a slow-down) is logged as 499 at info: nothing failed on our side.
func TestClientGoneIsLogged499(t *testing.T) {
	d, _ := dbtest.New(t)
	store := db.New(d, billing.SystemClock, nil)
	var logs strings.Builder
	var mu sync.Mutex
	s := New(Config{Logger: slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, nil))}, store)
	s.auth = failing{}
	s.signins.slowDown = 5 * time.Second
	for range loginThrottle.burst {
		s.signins.failed("oscar", "203.0.113.5")
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := httptest.NewRequest("POST", "/signin", strings.NewReader(url.Values{"login": {"oscar"}, "password": {"x"}}.Encode())).WithContext(ctx)
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("X-CSRF-Token", "t")
	r.AddCookie(&http.Cookie{Name: "ws_csrf", Value: "t"})
	time.AfterFunc(100*time.Millisecond, cancel)
	start := time.Now()
	s.ServeHTTP(httptest.NewRecorder(), r)
	if time.Since(start) > 3*time.Second {
		t.Errorf("the sign-in waited out its slow-down after the client left")
	}
	mu.Lock()
	out := logs.String()
	mu.Unlock()
	if !strings.Contains(out, "level=INFO msg=request method=POST route=/signin path=/signin status=499") {
		t.Errorf("request log: %q, want status=499 at INFO", out)
	}
	if strings.Contains(out, "ERROR") {
		t.Errorf("a client going away logged an error: %q", out)
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  io.Writer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
