package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"webstore/web"
)

var providerEnv = []string{"LINEPAY_API_URL", "LINEPAY_CHANNEL_ID", "LINEPAY_CHANNEL_SECRET",
	"CARDGW_API_URL", "CARDGW_PUBLIC_KEY", "CARDGW_SECRET_KEY", "BASE_URL",
	"LINE_LOGIN_ISSUER", "LINE_LOGIN_CHANNEL_ID", "LINE_LOGIN_CHANNEL_SECRET",
	"SELLER_BAN", "SELLER_NAME", "EINVOICE_MEMBER_CARRIER_TYPE"}

// setEnv sets the environment for one test: every provider setting empty
// unless given.
func setEnv(t *testing.T, kv map[string]string) {
	t.Helper()
	for _, k := range append(providerEnv, "WEBSTORE_ENV", "METRICS_ADDR", "TRUSTED_PROXIES", "JOBS_DATABASE_URL") {
		t.Setenv(k, kv[k])
	}
	// Nothing may reach the database before the configuration is checked.
	t.Setenv("DATABASE_URL", "postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=1")
}

var production = map[string]string{
	"WEBSTORE_ENV": "production", "BASE_URL": "https://billing.example.tw",
	"LINEPAY_API_URL": "https://api-pay.line.me", "LINEPAY_CHANNEL_ID": "1656999999", "LINEPAY_CHANNEL_SECRET": "s3cret",
	"CARDGW_API_URL": "https://api.cardgw.example", "CARDGW_PUBLIC_KEY": "pk_live_x", "CARDGW_SECRET_KEY": "sk_live_x",
	"LINE_LOGIN_ISSUER": "https://access.line.me", "LINE_LOGIN_CHANNEL_ID": "2000999999", "LINE_LOGIN_CHANNEL_SECRET": "l1ne",
	"TRUSTED_PROXIES": "10.0.0.0/8",
	"SELLER_BAN":      "04595257", "SELLER_NAME": "台灣測試股份有限公司", "EINVOICE_MEMBER_CARRIER_TYPE": "EJ0113",
}

var development = map[string]string{"WEBSTORE_ENV": "development"}

func without(m map[string]string, keys ...string) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = v
	}
	for _, k := range keys {
		delete(out, k)
	}
	return out
}

func with(m map[string]string, k, v string) map[string]string {
	out := without(m)
	out[k] = v
	return out
}

// WEBSTORE_ENV=production refuses to start, naming what is missing, unless
// both providers are configured and BASE_URL is https; so does every other
// command (collect pays, too).
func TestProductionRefusesIncompleteSettings(t *testing.T) {
	for _, tc := range []struct {
		name  string
		env   map[string]string
		args  []string
		wants []string
	}{
		{"nothing set", map[string]string{"WEBSTORE_ENV": "production"}, []string{"serve"}, providerEnv},
		{"card gateway forgotten", without(production, "CARDGW_API_URL", "CARDGW_SECRET_KEY"), []string{"serve"},
			[]string{"not set: CARDGW_API_URL, CARDGW_SECRET_KEY"}},
		{"plain http", with(production, "BASE_URL", "http://billing.example.tw"), []string{"serve"}, []string{"not https: BASE_URL"}},
		{"collect", without(production, "LINEPAY_CHANNEL_SECRET"), []string{"collect"}, []string{"LINEPAY_CHANNEL_SECRET"}},
		{"no seller", without(production, "SELLER_BAN", "SELLER_NAME"), []string{"serve"}, []string{"not set: SELLER_BAN, SELLER_NAME"}},
		{"a seller's number with a wrong check digit", with(production, "SELLER_BAN", "04595258"), []string{"serve"}, []string{"SELLER_BAN", "檢查碼"}},
		{"unknown environment", map[string]string{"WEBSTORE_ENV": "prod"}, []string{"serve"}, []string{`WEBSTORE_ENV is "prod"`}},
		// Fail closed: a server started without WEBSTORE_ENV is held to
		// production's rules, and the refusal names the variable.
		{"WEBSTORE_ENV unset", map[string]string{}, []string{"serve"},
			append([]string{"WEBSTORE_ENV is not set", "WEBSTORE_ENV=development", "TRUSTED_PROXIES"}, providerEnv...)},
		{"WEBSTORE_ENV unset, migrate", map[string]string{}, []string{"migrate"}, []string{"WEBSTORE_ENV is not set"}},
		{"proxies not said", without(production, "TRUSTED_PROXIES"), []string{"serve"}, []string{"not set: TRUSTED_PROXIES"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			setEnv(t, tc.env)
			var out, errOut bytes.Buffer
			code := run(context.Background(), tc.args, &out, &errOut)
			if code == 0 {
				t.Fatalf("exit 0, want a refusal; stderr %q", errOut.String())
			}
			for _, w := range tc.wants {
				if !strings.Contains(errOut.String(), w) {
					t.Errorf("stderr %q does not name %q", errOut.String(), w)
				}
			}
			if strings.Contains(errOut.String(), "connect") || strings.Contains(errOut.String(), "dial") {
				t.Errorf("the database was reached before the settings were checked: %q", errOut.String())
			}
		})
	}
}

// In production no sandbox is mounted, cookies are Secure and HSTS is sent;
// in development (make run) the sandboxes stand in for unset providers.
func TestProductionServesNoSandbox(t *testing.T) {
	for _, tc := range []struct {
		env                   map[string]string
		sandbox, secure, hsts bool
	}{
		{production, false, true, true},
		{with(production, "TRUSTED_PROXIES", "none"), false, true, true},
		{development, true, false, false},
	} {
		setEnv(t, tc.env)
		cfg, err := loadConfig()
		if err != nil {
			t.Fatal(err)
		}
		webCfg, gw := providers(cfg, nil, "http://127.0.0.1:8080")
		if got := webCfg.SandboxLinePay != nil || webCfg.SandboxCards != nil || webCfg.SandboxLineLogin != nil; got != tc.sandbox {
			t.Errorf("%v: sandboxes mounted %v, want %v", tc.env, got, tc.sandbox)
		}
		if tc.env["LINEPAY_API_URL"] != "" && (gw.LinePay.BaseURL != tc.env["LINEPAY_API_URL"] || gw.Cards.SecretKey != tc.env["CARDGW_SECRET_KEY"]) {
			t.Errorf("clients: %+v %+v", gw.LinePay, gw.Cards)
		}
		app := web.New(webCfg, nil)
		rec := httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/signin", nil))
		cookies := rec.Result().Cookies()
		if len(cookies) == 0 {
			t.Fatalf("%v: the sign-in page set no cookie", tc.env)
		}
		for _, ck := range cookies {
			if ck.Secure != tc.secure {
				t.Errorf("%v: cookie %s Secure=%v, want %v", tc.env, ck.Name, ck.Secure, tc.secure)
			}
		}
		if got := rec.Header().Get("Strict-Transport-Security") != ""; got != tc.hsts {
			t.Errorf("%v: HSTS sent %v, want %v", tc.env, got, tc.hsts)
		}
		rec = httptest.NewRecorder()
		app.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/sandbox/card/fields?key=pk_sandbox&return_url=/", nil))
		if got := rec.Code != http.StatusNotFound; got != tc.sandbox {
			t.Errorf("%v: /sandbox/card/fields answered %d", tc.env, rec.Code)
		}
	}
}

// TRUSTED_PROXIES takes addresses and CIDR ranges; anything else is refused
// by name.
func TestTrustedProxies(t *testing.T) {
	setEnv(t, development)
	t.Setenv("TRUSTED_PROXIES", " 10.0.0.0/8, 192.0.2.7 ,2001:db8::/32")
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, n := range cfg.TrustedProxies {
		got = append(got, n.String())
	}
	if strings.Join(got, " ") != "10.0.0.0/8 192.0.2.7/32 2001:db8::/32" {
		t.Errorf("TrustedProxies = %v", got)
	}
	if webCfg, _ := providers(cfg, nil, "http://127.0.0.1:1"); len(webCfg.TrustedProxies) != 3 {
		t.Errorf("the web configuration has %d trusted proxies", len(webCfg.TrustedProxies))
	}
	for _, none := range []string{"none", " NONE "} {
		t.Setenv("TRUSTED_PROXIES", none)
		if cfg, err := loadConfig(); err != nil || len(cfg.TrustedProxies) != 0 || !cfg.ProxiesSet {
			t.Errorf("TRUSTED_PROXIES=%q: %v, %d proxies, set %v", none, err, len(cfg.TrustedProxies), cfg.ProxiesSet)
		}
	}
	t.Setenv("TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal")
	if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), `TRUSTED_PROXIES: "proxy.internal"`) {
		t.Errorf("a host name in TRUSTED_PROXIES: %v", err)
	}
}

// Links are built on BASE_URL, or in development without it on the listen
// address the server was given: the web app never needs a request's Host.
func TestLinksBaseFromConfiguration(t *testing.T) {
	setEnv(t, development)
	cfg, err := loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if webCfg, _ := providers(cfg, nil, "http://localhost:8080"); webCfg.BaseURL != "http://localhost:8080" {
		t.Errorf("development without BASE_URL: links on %q, want the listen address", webCfg.BaseURL)
	}
	setEnv(t, with(development, "BASE_URL", "https://staging.example.tw/"))
	if cfg, err = loadConfig(); err != nil {
		t.Fatal(err)
	}
	webCfg, _ := providers(cfg, nil, "http://localhost:8080")
	if webCfg.BaseURL != "https://staging.example.tw" || webCfg.LineLogin.RedirectURL != "https://staging.example.tw/signin/line/callback" {
		t.Errorf("with BASE_URL: links on %q, LINE Login callback %q", webCfg.BaseURL, webCfg.LineLogin.RedirectURL)
	}
}

// CAMPAIGN_MAX_FACE_VALUE raises the face-value cap; anything but a whole
// number in range is refused by name.
func TestMaxFaceValueSetting(t *testing.T) {
	setEnv(t, development)
	for v, want := range map[string]int64{"": 0, "5000": 5000, " 2400 ": 2400} {
		t.Setenv("CAMPAIGN_MAX_FACE_VALUE", v)
		if cfg, err := loadConfig(); err != nil || int64(cfg.MaxFaceValue) != want {
			t.Errorf("CAMPAIGN_MAX_FACE_VALUE=%q: %d, %v; want %d", v, cfg.MaxFaceValue, err, want)
		}
	}
	for _, v := range []string{"0", "-1", "1e3", "9223372036854775807", "lots"} {
		t.Setenv("CAMPAIGN_MAX_FACE_VALUE", v)
		if _, err := loadConfig(); err == nil || !strings.Contains(err.Error(), "CAMPAIGN_MAX_FACE_VALUE") {
			t.Errorf("CAMPAIGN_MAX_FACE_VALUE=%q: %v, want a refusal naming it", v, err)
		}
	}
}
