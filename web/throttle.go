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

// Sign-in is throttled in this process (a documented per-process limit: N
// app processes allow N times as many attempts). Only failed attempts
// spend from the buckets; a refused attempt is refused before the password
// is checked, so it costs no bcrypt work. Three buckets, so that nobody's
// failures can keep the owner of a login out:
//
//   - the client address (hard): 20 failures, then one every 6 seconds,
//     whatever the logins (one client guessing many logins);
//   - the client at one login (hard): 5 failures for a login from one
//     address, then one a minute, for that address only;
//   - the login (a slow-down, never a refusal): after 5 failures for it
//     from anywhere, it is under attack for as long as its bucket is empty
//     (one a minute refills it). While it is, each password check for it
//     waits slowDown first, and a failure from an address drains that
//     address's bucket at the login at once, so each new address gets one
//     guess a minute at it; a client without failures (its owner, at
//     another address) still signs in, a second later.
//
// So guessing one login's password is bounded per address (5, then one a
// minute), and a distributed guesser by its number of addresses, each
// slowed; what an attacker can no longer do is lock the owner out.
type throttle struct {
	login, addr, pair bucketSet
	// slowDown is the wait before a password check of a login under
	// attack.
	slowDown time.Duration
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

const slowDown = time.Second

// newThrottle: login is the rule both for a login and for one address at
// a login; addr for an address.
func newThrottle(login, addr throttleRule, now func() time.Time) *throttle {
	return &throttle{login: bucketSet{rule: login, now: now, m: map[string]*rate.Limiter{}},
		pair:     bucketSet{rule: login, now: now, m: map[string]*rate.Limiter{}},
		addr:     bucketSet{rule: addr, now: now, m: map[string]*rate.Limiter{}},
		slowDown: slowDown}
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

func pairKey(login, addr string) string { return addr + " " + loginKey(login) }

// wait is how long until an attempt for login from addr may be checked
// (0: now): only this address's own failures, overall or at this login,
// make it wait.
func (t *throttle) wait(login, addr string) time.Duration {
	return max(t.pair.wait(pairKey(login, addr)), t.addr.wait(addr))
}

// slow is how long a permitted attempt for login waits before its
// password is checked: slowDown while the login is under attack, else 0.
func (t *throttle) slow(login string) time.Duration {
	if t.login.wait(loginKey(login)) > 0 {
		return t.slowDown
	}
	return 0
}

// failed spends a failure from the buckets and reports which of them it
// emptied (an attack on the login starting, an address locked out), for
// the audit trail. A failure at a login under attack empties the
// address's bucket at that login.
func (t *throttle) failed(login, addr string) (loginLocked, addrLocked bool) {
	underAttack := t.login.wait(loginKey(login)) > 0
	loginLocked = t.login.spend(loginKey(login)) && !underAttack
	if underAttack {
		t.pair.drain(pairKey(login, addr))
	} else {
		t.pair.spend(pairKey(login, addr))
	}
	return loginLocked, t.addr.spend(addr)
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
	lim := b.limiter(key, now)
	lim.AllowN(now, 1)
	return lim.TokensAt(now) < 1
}

// drain empties key's bucket.
func (b *bucketSet) drain(key string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	now := b.now()
	lim := b.limiter(key, now)
	lim.AllowN(now, max(1, int(math.Floor(lim.TokensAt(now)))))
}

// limiter is key's bucket, made (full) if there is none; b.mu is held.
func (b *bucketSet) limiter(key string, now time.Time) *rate.Limiter {
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
	return lim
}

// signInThrottled refuses a sign-in attempt while its address is
// throttled (overall or at this login): 429 with Retry-After, the sign-in page saying how long to
// wait, and no password checked.
func (s *Server) signInThrottled(c echo.Context, wait time.Duration) error {
	secs := int(math.Ceil(wait.Seconds()))
	c.Response().Header().Set("Retry-After", strconv.Itoa(secs))
	p := page(c, lang(c).T("登入", "Sign in"))
	p.Error = p.Lang.Tf("登入失敗次數過多,請於 %d 秒後再試。", "Too many failed sign-ins. Try again in %d seconds.", secs)
	return render(c, http.StatusTooManyRequests, views.SignIn(p, c.FormValue("login"), c.FormValue("next")))
}

// signInFailed spends a failure; a lockout that starts is written to the
// audit trail (the login as typed, lower-cased, from when it is slowed
// down; or the address).
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
