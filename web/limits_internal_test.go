package web

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"webstore/db/dbtest"
)

// A page's database query is cancelled when the page runs out of time, and
// the visitor gets a 503 in their language; a POST is not bounded this way.
func TestPageTimeoutCancelsQueries(t *testing.T) {
	d, _ := dbtest.New(t)
	s := New(Config{}, nil)
	e := echo.New()
	e.HTTPErrorHandler = s.errorHandler
	e.Use(boundPageTime(300 * time.Millisecond))
	sleep := func(secs string) echo.HandlerFunc {
		return func(c echo.Context) error {
			if _, err := d.ExecContext(c.Request().Context(), `SELECT pg_sleep(`+secs+`)`); err != nil {
				return err
			}
			return c.String(http.StatusOK, "done")
		}
	}
	e.GET("/slow", sleep("10"))
	e.POST("/slow", sleep("1"))

	start := time.Now()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/slow", nil)
	req.Header.Set("Accept-Language", "zh-TW")
	e.ServeHTTP(rec, req)
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("the page took %s: its query was not cancelled", took)
	}
	if rec.Code != http.StatusServiceUnavailable || !strings.Contains(rec.Body.String(), "頁面處理逾時") {
		t.Errorf("slow page: %d %.200s, want 503 saying it timed out", rec.Code, rec.Body.String())
	}

	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/slow", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("POST: %d, want 200 (not bounded by the page timeout)", rec.Code)
	}
}

// Only maxSimulations run at once; one more waits, then gets a 503 with
// Retry-After.
func TestSimulationsAreBounded(t *testing.T) {
	s := New(Config{}, nil)
	e := echo.New()
	e.HTTPErrorHandler = s.errorHandler
	e.Use(boundSimulations(2, 200*time.Millisecond))
	release, started := make(chan struct{}), make(chan struct{}, 3)
	e.POST("/staff/api/simulate", func(c echo.Context) error {
		started <- struct{}{}
		<-release
		return c.NoContent(http.StatusOK)
	})
	e.POST("/staff/campaigns", func(c echo.Context) error { return c.NoContent(http.StatusOK) })
	var wg sync.WaitGroup
	codes := make([]int, 2)
	for i := range 2 {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/staff/api/simulate", nil))
			codes[i] = rec.Code
		})
	}
	<-started
	<-started
	rec := httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/staff/api/simulate", nil))
	if rec.Code != http.StatusServiceUnavailable || rec.Header().Get("Retry-After") == "" {
		t.Errorf("a third simulation: %d %v, want 503 with Retry-After", rec.Code, rec.Header())
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/staff/campaigns", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("another route while simulations run: %d", rec.Code)
	}
	close(release)
	wg.Wait()
	if codes[0] != http.StatusOK || codes[1] != http.StatusOK {
		t.Errorf("the two running simulations: %v", codes)
	}
	rec = httptest.NewRecorder()
	e.ServeHTTP(rec, httptest.NewRequest(http.MethodPost, "/staff/api/simulate", nil))
	if rec.Code != http.StatusOK {
		t.Errorf("a simulation after the others ended: %d", rec.Code)
	}
}
