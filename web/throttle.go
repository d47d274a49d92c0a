package web

import (
	"log/slog"
	"math"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/labstack/echo/v4"
	"golang.org/x/time/rate"

	"webstore/views"
)

// Sign-in is throttled per login and per client address, in this process
// (a documented per-process limit: N app processes allow N times as many
// attempts). Only failed attempts spend from the buckets; a throttled
// attempt is refused before the password is checked, so it costs no
// bcrypt work. With the defaults a login takes 5 failures in a row, then
// one per minute; an address 20, then one every 6 seconds.
type throttle struct {
	login, addr bucketSet
}

// throttleRule is a bucket: burst failures at once, then one per every.
type throttleRule struct {
	burst int
	every time.Duration
}

var (
	loginThrottle = throttleRule{burst: 5, every: time.Minute}
	addrThrottle  = throttleRule{burst: 20, every: 6 * time.Second}
)

func newThrottle(login, addr throttleRule, now func() time.Time) *throttle {
	return &throttle{login: bucketSet{rule: login, now: now, m: map[string]*rate.Limiter{}},
		addr: bucketSet{rule: addr, now: now, m: map[string]*rate.Limiter{}}}
}

// maxLoginKey bounds what of a typed login is kept as a key.
const maxLoginKey = 128

func loginKey(login string) string {
	k := strings.ToLower(strings.TrimSpace(login))
	if len(k) > maxLoginKey {
		k = k[:maxLoginKey]
	}
	return k
}

// wait is how long until an attempt for login from addr may be checked
// (0: now).
func (t *throttle) wait(login, addr string) time.Duration {
	return max(t.login.wait(loginKey(login)), t.addr.wait(addr))
}

// failed spends a failure from both buckets and reports which of them it
// emptied (a lockout starting), for the audit trail.
func (t *throttle) failed(login, addr string) (loginLocked, addrLocked bool) {
	return t.login.spend(loginKey(login)), t.addr.spend(addr)
}

// bucketSet is one token bucket per key. A bucket that has refilled holds
// no state, so it is dropped when the set grows (the map stays bounded by
// the keys failing lately).
type bucketSet struct {
	rule throttleRule
	now  func() time.Time
	mu   sync.Mutex
	m    map[string]*rate.Limiter
}

// A set sweeps its refilled buckets when it holds sweepAbove; if failures
// from very many keys at once still fill it to maxBuckets, it starts over
// (forgetting is the bound on memory; the per-address buckets still hold
// each address to its rate).
const (
	sweepAbove = 10000
	maxBuckets = 100000
)

func (b *bucketSet) wait(key string) time.Duration {
	b.mu.Lock()
	defer b.mu.Unlock()
	lim, ok := b.m[key]
	if !ok {
		return 0
	}
	tokens := lim.TokensAt(b.now())
	if tokens >= 1 {
		return 0
	}
	return time.Duration(math.Ceil((1 - tokens) * float64(b.rule.every)))
}

func (b *bucketSet) spend(key string) (emptied bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	lim, ok := b.m[key]
	if !ok {
		if len(b.m) >= sweepAbove {
			for k, l := range b.m {
				if l.TokensAt(now) >= float64(b.rule.burst) {
					delete(b.m, k)
				}
			}
			if len(b.m) >= maxBuckets {
				clear(b.m)
			}
		}
		lim = rate.NewLimiter(rate.Every(b.rule.every), b.rule.burst)
		b.m[key] = lim
	}
	lim.AllowN(now, 1)
	return lim.TokensAt(now) < 1
}

// signInThrottled refuses a sign-in attempt while its login or address is
// throttled: 429 with Retry-After, the sign-in page saying how long to
// wait, and no password checked.
func (s *Server) signInThrottled(c echo.Context, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	p := page(c, lang(c).T("登入", "Sign in"))
	p.Error = p.Lang.Tf("登入失敗次數過多,請於 %d 秒後再試。", "Too many failed sign-ins. Try again in %d seconds.", secs)
	return render(c, http.StatusTooManyRequests, views.SignIn(p, c.FormValue("login"), c.FormValue("next")))
}

// signInFailed spends a failure; a lockout that starts is written to the
// audit trail (the login as typed, lower-cased, or the address).
func (s *Server) signInFailed(c echo.Context, login, addr string) {
	loginLocked, addrLocked := s.signins.failed(login, addr)
	ctx := c.Request().Context()
	if loginLocked {
		until := time.Now().Add(s.signins.login.wait(loginKey(login)))
		if err := s.store.RecordSignInLockout(ctx, "login", loginKey(login), until); err != nil {
			slog.Error("audit sign-in lockout", "err", err)
		}
	}
	if addrLocked {
		until := time.Now().Add(s.signins.addr.wait(addr))
		if err := s.store.RecordSignInLockout(ctx, "address", addr, until); err != nil {
			slog.Error("audit sign-in lockout", "err", err)
		}
	}
}

// clientAddress is how the app tells the client's address (sign-in
// throttling is per address): the connection's peer, unless the peer is
// one of the trusted reverse proxies, in which case the nearest address in
// X-Forwarded-For that is not a trusted proxy. Nothing else in
// X-Forwarded-For is believed: a visitor could write anything there.
func clientAddress(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{echo.TrustLoopback(false), echo.TrustLinkLocal(false), echo.TrustPrivateNet(false)}
	for _, n := range trusted {
		opts = append(opts, echo.TrustIPRange(n))
	}
	// A peer that is not trusted is the client, whatever it wrote.
	return echo.ExtractIPFromXFFHeader(opts...)
}
