package web_test

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"regexp"
	"runtime"
	"testing"
)

// signedInClient is an HTTP client signed in as login, with keep-alive
// connections enough for the benchmark's concurrency.
func signedInClient(b *testing.B, base, login string) *http.Client {
	b.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Transport: &http.Transport{MaxIdleConnsPerHost: 128, MaxConnsPerHost: 128},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := c.Get(base + "/signin")
	if err != nil {
		b.Fatal(err)
	}
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	m := regexp.MustCompile(`name="_csrf" value="([^"]+)"`).FindSubmatch(body)
	if m == nil {
		b.Fatal("no CSRF token on the sign-in page")
	}
	res, err = c.PostForm(base+"/signin", url.Values{"_csrf": {string(m[1])}, "login": {login}, "password": {"demo1234"}})
	if err != nil {
		b.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusSeeOther {
		b.Fatalf("sign-in: %s", res.Status)
	}
	return c
}

// benchPage fetches path with 64 concurrent clients (32 goroutines per
// core on this 2-core machine) over one signed-in session.
func benchPage(b *testing.B, path string) {
	a := newApp(b)
	c := signedInClient(b, a.URL, "alice")
	b.SetParallelism(64 / max(1, runtimeCPUs()))
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			res, err := c.Get(a.URL + path)
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				b.Errorf("%s: %s", path, res.Status)
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}

// go test -run '^$' -bench Page -benchtime 5s ./web/
func BenchmarkPlanPage(b *testing.B)     { benchPage(b, "/a/cat/plan") }
func BenchmarkCheckoutPage(b *testing.B) { benchPage(b, "/a/cat/checkout?plan=high") }

func runtimeCPUs() int { return runtime.GOMAXPROCS(0) }
