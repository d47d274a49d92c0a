package web_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"log/slog"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/db"
	"webstore/db/dbtest"
	"webstore/web"
	"webstore/web/payments"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// lockedLog is a log buffer the server writes while the test reads.
type lockedLog struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedLog) lines(t *testing.T) []map[string]any {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(l.b.String()), "\n") {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		out = append(out, m)
	}
	return out
}

// unsure is a provider that never gives a clear answer.
type unsure struct{}

func (unsure) Pay(context.Context, billing.Payment) (string, error) { return "", errors.New("timeout") }

// The request log has one structured line per request, and the metrics
// (served apart, never by the app) count latency by route pattern,
// payments by provider and outcome, pending charges and the renewal run.
func TestRequestLogAndMetrics(t *testing.T) {
	ctx := context.Background()
	d, _ := dbtest.Clone(t, seededTemplate(t))
	var handler http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { handler.ServeHTTP(w, r) }))
	t.Cleanup(srv.Close)
	lp := &linepay.Client{BaseURL: srv.URL + "/sandbox/linepay", ChannelID: "1656000000", ChannelSecret: "sandbox-channel-secret"}
	cards := &cardgw.Client{BaseURL: srv.URL + "/sandbox/card", SecretKey: "sk_sandbox"}
	m := web.NewMetrics()
	store := db.New(d, billingtest.NewClock(testNow), m.Payments(payments.Gateway{LinePay: lp, Cards: cards}))
	logs := &lockedLog{}
	handler = web.New(web.Config{
		LinePay: lp, Cards: cards, CardPublicKey: "pk_sandbox", Metrics: m, BaseURL: srv.URL,
		Logger:         slog.New(slog.NewJSONHandler(logs, nil)),
		SandboxLinePay: linepay.NewSandbox(d, linepay.SandboxConfig{ChannelID: lp.ChannelID, ChannelSecret: lp.ChannelSecret, BasePath: "/sandbox/linepay"}),
		SandboxCards:   cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: "pk_sandbox", SecretKey: "sk_sandbox", BasePath: "/sandbox/card"}),
	}, store)
	a := app{URL: srv.URL, Store: store, LinePay: lp}

	res, err := http.Get(srv.URL + "/signin")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	signinID := res.Header.Get("X-Request-Id")
	for _, p := range []string{"/no-such-page/12345", "/metrics"} {
		if res, err := http.Get(srv.URL + p); err != nil || res.StatusCode != http.StatusNotFound {
			t.Errorf("GET %s on the app: %v %v, want 404", p, res.Status, err)
		}
	}
	req, _ := http.NewRequest("GET", srv.URL+"/signin", nil)
	req.Header.Set("X-Request-Id", "edge-proxy-42")
	if res, err := http.DefaultClient.Do(req); err != nil || res.Header.Get("X-Request-Id") != "edge-proxy-42" {
		t.Errorf("a proxy's request id is not kept: %v", err)
	}

	var found bool
	for _, l := range logs.lines(t) {
		if l["msg"] == "request" && l["route"] == "/signin" && l["request_id"] == signinID {
			found = true
			if l["method"] != "GET" || l["status"] != float64(200) || l["duration_ms"] == nil || l["path"] != "/signin" {
				t.Errorf("sign-in's log line: %v", l)
			}
		}
		if l["path"] == "/no-such-page/12345" && (l["route"] != "unmatched" || l["status"] != float64(404)) {
			t.Errorf("unmatched path's log line: %v", l)
		}
	}
	if !found || signinID == "" {
		t.Errorf("no log line with the sign-in's request id %q:\n%v", signinID, logs.lines(t))
	}

	// A payment of each outcome.
	setUpLinePay(t, a, "cat", linepay.CardCathayVisa)
	if ch, err := store.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "cat", Plan: billing.High, Key: "m1"}); err != nil || ch.Status != "paid" {
		t.Fatalf("cat's upgrade: %+v %v", ch, err)
	}
	setUpLinePay(t, a, "bear", linepay.CardDeclinedLater)
	if _, err := store.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "bear", Plan: billing.Medium, Key: "m2"}); billing.ErrorCode(err) != billing.EPaymentFailed {
		t.Fatalf("bear's upgrade: %v, want a decline", err)
	}
	setUpLinePay(t, a, "tokyo", linepay.CardCathayVisa)
	store.Payments = m.Payments(unsure{})
	if _, err := store.Upgrade(ctx, "test", db.UpgradeRequest{AccountID: "tokyo", Plan: billing.High, Key: "m3"}); billing.ErrorCode(err) != billing.EPaymentPending {
		t.Fatalf("tokyo's upgrade: %v, want pending", err)
	}
	if err := store.ClaimRenewalRun(ctx, "test", billing.MonthOf(testNow)); err != nil {
		t.Fatal(err)
	}

	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	body, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`webstore_http_request_duration_seconds_count{code="200",method="GET",route="/signin"} 2`,
		`webstore_http_request_duration_seconds_count{code="404",method="GET",route="unmatched"} 2`,
		`webstore_payments_total{outcome="paid",provider="line_pay"} 1`,
		`webstore_payments_total{outcome="declined",provider="line_pay"} 1`,
		`webstore_payments_total{outcome="unknown",provider="line_pay"} 1`,
		`webstore_charges_pending{kind="upgrade"} 1`,
		`webstore_charges_pending{kind="renewal"} 0`,
		`webstore_renewal_run_accounts_done{month="2026-11",phase="renewing"} 0`,
		`webstore_store_scrape_errors 0`,
		`go_goroutines`,
	} {
		if !strings.Contains(string(body), want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(string(body), "no-such-page") {
		t.Error("a visitor's path became a metric label")
	}
}
