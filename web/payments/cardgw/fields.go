package cardgw

import (
	"bytes"
	"crypto/rand"
	"embed"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"
)

//go:embed templates/*.html
var templateFS embed.FS

// pages are the person-facing templates by name, each joined with the
// layout.
type pages map[string]*template.Template

func parsePages() pages {
	ps := pages{}
	for _, name := range []string{"fields", "problem"} {
		// The templates are compiled into the binary; a parse error is a
		// build defect that every test would show.
		ps[name] = template.Must(template.ParseFS(templateFS, "templates/layout.html", "templates/"+name+".html"))
	}
	return ps
}

// fieldsData is what the card fields page shows. The CVC is never sent
// back to the browser.
type fieldsData struct {
	Title     string
	Action    string
	Key       string
	ReturnURL string
	Number    string
	Expiry    string
	Name      string
	Errors    fieldErrors
	TestCards []testCard
	// Problem and Detail are for the problem page.
	Problem string
	Detail  string
}

// fieldErrors holds one zh-TW message per field; empty when it is fine.
type fieldErrors struct {
	Number, Expiry, CVC, Name string
}

func (e fieldErrors) Any() bool { return e != fieldErrors{} }

// render writes a page. Card pages are never cached, framed, or named in a
// Referer.
func (s *sandbox) render(w http.ResponseWriter, status int, name string, d fieldsData) {
	var buf bytes.Buffer
	if err := s.pages[name].ExecuteTemplate(&buf, "layout", d); err != nil {
		s.cfg.Logger.Error("card gateway sandbox: render", "page", name, "err", err)
		http.Error(w, "頁面發生錯誤", http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'")
	h.Set("Referrer-Policy", "no-referrer")
	w.WriteHeader(status)
	buf.WriteTo(w)
}

// merchant checks the public key and return URL of a fields request; when
// they are wrong it answers with a problem page and returns false.
func (s *sandbox) merchant(w http.ResponseWriter, key, returnURL string) bool {
	u, err := url.Parse(returnURL)
	switch {
	case s.cfg.PublicKey == "" || key != s.cfg.PublicKey:
		s.render(w, http.StatusBadRequest, "problem", fieldsData{Title: "無法開啟信用卡輸入頁面",
			Problem: "無法開啟信用卡輸入頁面。", Detail: "商店的金鑰不正確,請回到商店再試一次。"})
		return false
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		s.render(w, http.StatusBadRequest, "problem", fieldsData{Title: "無法開啟信用卡輸入頁面",
			Problem: "無法開啟信用卡輸入頁面。", Detail: "商店的返回網址不正確,請回到商店再試一次。"})
		return false
	}
	return true
}

func (s *sandbox) fieldsData(r *http.Request, key, returnURL string) fieldsData {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	action := url.URL{Scheme: scheme, Host: r.Host, Path: s.base + "/fields"}
	return fieldsData{Title: "輸入信用卡資料", Action: action.String(), Key: key, ReturnURL: returnURL, TestCards: testCards()}
}

// fieldsPage is the hosted card fields form.
func (s *sandbox) fieldsPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	key, returnURL := q.Get("key"), q.Get("return_url")
	if !s.merchant(w, key, returnURL) {
		return
	}
	s.render(w, http.StatusOK, "fields", s.fieldsData(r, key, returnURL))
}

// submitFields checks the typed card and, if it is good, issues a one-time
// token and sends the person back to the merchant with it.
func (s *sandbox) submitFields(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
	if err := r.ParseForm(); err != nil {
		s.render(w, http.StatusBadRequest, "problem", fieldsData{Title: "無法處理", Problem: "無法處理這個表單。", Detail: "請回到商店再試一次。"})
		return
	}
	key, returnURL := r.PostForm.Get("key"), r.PostForm.Get("return_url")
	if !s.merchant(w, key, returnURL) {
		return
	}
	if r.PostForm.Get("action") == "cancel" {
		http.Redirect(w, r, withQuery(returnURL, "card_error", "cancelled"), http.StatusSeeOther)
		return
	}
	d := s.fieldsData(r, key, returnURL)
	d.Number, d.Expiry, d.Name = r.PostForm.Get("number"), r.PostForm.Get("exp"), strings.TrimSpace(r.PostForm.Get("name"))
	now := s.cfg.Now()
	number := cleanNumber(d.Number)
	month, year, expiryOK := parseExpiry(d.Expiry)
	d.Errors = checkCard(number, d.Expiry, month, year, expiryOK, r.PostForm.Get("cvc"), d.Name, now)
	if d.Errors.Any() {
		s.render(w, http.StatusUnprocessableEntity, "fields", d)
		return
	}
	token := "tok_" + strings.ToLower(rand.Text())
	if _, err := s.db.ExecContext(r.Context(), `INSERT INTO sandbox_card_tokens (token, number, exp_month, exp_year, holder, created_at, expires_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`, token, number, month, year, d.Name, now, now.Add(tokenLifetime)); err != nil {
		s.cfg.Logger.ErrorContext(r.Context(), "card gateway sandbox: store token", "err", err)
		s.render(w, http.StatusInternalServerError, "problem", fieldsData{Title: "系統錯誤", Problem: "系統暫時無法處理。", Detail: "請稍後再試一次。"})
		return
	}
	http.Redirect(w, r, withQuery(returnURL, "card_token", token), http.StatusSeeOther)
}

// checkCard validates the typed card; each message says what to fix.
func checkCard(number, rawExpiry string, month, year int, expiryOK bool, cvc, name string, now time.Time) fieldErrors {
	var e fieldErrors
	switch {
	case number == "":
		e.Number = "請輸入卡號。"
	case !allDigits(number) || len(number) < 12 || len(number) > 19:
		e.Number = "卡號格式不正確,請輸入 12 至 19 位數字。"
	case !luhnValid(number):
		e.Number = "卡號不正確,請再檢查一次。"
	default:
		if _, ok := findTestCard(number); !ok {
			e.Number = "這是測試環境,只接受測試卡號,例如 4242 4242 4242 4242。"
		}
	}
	switch {
	case strings.TrimSpace(rawExpiry) == "":
		e.Expiry = "請輸入到期日。"
	case !expiryOK:
		e.Expiry = "到期日格式不正確,請以 月/年 (MM/YY) 輸入,例如 12/28。"
	case expired(month, year, now):
		e.Expiry = "這張卡片已過期,請改用其他卡片。"
	case year > now.Year()+20:
		e.Expiry = "到期日不正確,請再檢查一次。"
	}
	cvcLen := 3
	if brandOf(number) == "amex" {
		cvcLen = 4
	}
	switch cvc = strings.TrimSpace(cvc); {
	case cvc == "":
		e.CVC = "請輸入安全碼。"
	case !allDigits(cvc) || len(cvc) != cvcLen:
		if cvcLen == 4 {
			e.CVC = "安全碼不正確:美國運通卡為卡片正面的 4 位數字。"
		} else {
			e.CVC = "安全碼不正確:請輸入卡片背面的 3 位數字。"
		}
	}
	switch {
	case name == "":
		e.Name = "請輸入持卡人姓名。"
	case utf8.RuneCountInString(name) > 60:
		e.Name = "持卡人姓名最多 60 個字。"
	}
	return e
}

func allDigits(s string) bool {
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return s != ""
}

// withQuery adds key=value to a URL's query, keeping what is there.
func withQuery(raw, key, value string) string {
	u, err := url.Parse(raw)
	if err != nil { // checked by merchant; kept safe anyway
		return raw
	}
	q := u.Query()
	q.Set(key, value)
	u.RawQuery = q.Encode()
	return u.String()
}
