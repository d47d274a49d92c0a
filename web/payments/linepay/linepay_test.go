package linepay_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing/billingtest"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

const (
	channelID  = "1657000000"
	secret     = "a917ab6a2367b536f8e5a6e2977e06f4"
	basePath   = "/sandbox/linepay"
	confirmURL = "https://merchant.example/linepay/confirm?checkout=c1"
	cancelURL  = "https://merchant.example/linepay/cancel?checkout=c1"
)

type fixture struct {
	ctx    context.Context
	db     *sqlx.DB
	clock  *billingtest.Clock
	srv    *httptest.Server
	client *linepay.Client
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d, _ := sandboxtest.NewDB(t)
	f := &fixture{ctx: context.Background(), db: d, clock: billingtest.NewClock(time.Date(2026, 6, 11, 2, 0, 0, 0, time.UTC))}
	f.srv = f.serve(t)
	f.client = &linepay.Client{BaseURL: f.srv.URL + basePath, ChannelID: channelID, ChannelSecret: secret, HTTP: f.srv.Client()}
	return f
}

// serve starts a sandbox on f's database, mounted as the app mounts it.
func (f *fixture) serve(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", linepay.NewSandbox(f.db, linepay.SandboxConfig{
		ChannelID: channelID, ChannelSecret: secret, BasePath: basePath, Now: f.clock.Now}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func (f *fixture) request(t *testing.T, orderID string, amount int64) linepay.RequestResult {
	t.Helper()
	res, err := f.client.Request(f.ctx, linepay.RequestParams{Amount: amount, OrderID: orderID,
		ProductName: "LINE官方帳號 中用量", ConfirmURL: confirmURL, CancelURL: cancelURL})
	if err != nil {
		t.Fatalf("request %s: %v", orderID, err)
	}
	return res
}

// register runs the whole registration: request, the person approves with
// card on the sandbox's pages, the merchant confirms. It returns the regKey.
func (f *fixture) register(t *testing.T, orderID string, card string) string {
	t.Helper()
	res := f.request(t, orderID, 840)
	back, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, card)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Query().Get("transactionId"); got != res.TransactionID {
		t.Fatalf("confirmUrl transactionId = %s, want %s", got, res.TransactionID)
	}
	conf, err := f.client.Confirm(f.ctx, res.TransactionID, 840, "TWD")
	if err != nil {
		t.Fatalf("confirm: %v", err)
	}
	return conf.RegKey
}

func apiCode(err error) string {
	var e *linepay.APIError
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}

func TestPreapprovedRegistrationAndPayments(t *testing.T) {
	f := newFixture(t)
	res := f.request(t, "reg-1", 840)

	// The transaction id is a 19-digit number; decoding it through float64
	// would have changed its last digits.
	var stored string
	if err := f.db.Get(&stored, `SELECT transaction_id::text FROM sandbox_linepay_transactions WHERE order_id='reg-1'`); err != nil {
		t.Fatal(err)
	}
	if len(res.TransactionID) != 19 || res.TransactionID != stored {
		t.Fatalf("transactionId %q, stored %q", res.TransactionID, stored)
	}
	if !strings.HasPrefix(res.PaymentURL.Web, f.srv.URL+basePath+"/web/payment/wait?transactionReserveId=") ||
		!strings.HasPrefix(res.PaymentURL.App, f.srv.URL+basePath+"/app/payment?transactionReserveId=") {
		t.Fatalf("payment URLs %+v", res.PaymentURL)
	}
	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 840, "TWD"); apiCode(err) != linepay.CodeNotApproved {
		t.Fatalf("confirm before the person approved: %v, want 1169", err)
	}

	wait, err := sandboxtest.Get(f.ctx, f.srv.Client(), res.PaymentURL.Web)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`lang="zh-Hant-TW"`, "請在手機上開啟 LINE 完成付款", "在此模擬手機上的 LINE", "NT$840", "LINE官方帳號 中用量", "#06C755"} {
		if !strings.Contains(wait.Body, want) {
			t.Errorf("wait page lacks %q", want)
		}
	}
	phone, err := sandboxtest.Get(f.ctx, f.srv.Client(), res.PaymentURL.App)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"國泰世華 Visa •••• 4242", "中國信託 Mastercard •••• 4444", "下一步", `name="viewport"`} {
		if !strings.Contains(phone.Body, want) {
			t.Errorf("phone page lacks %q", want)
		}
	}

	back, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, linepay.CardCathayVisa)
	if err != nil {
		t.Fatal(err)
	}
	q := back.Query()
	if back.Host != "merchant.example" || back.Path != "/linepay/confirm" || q.Get("checkout") != "c1" ||
		q.Get("transactionId") != res.TransactionID || q.Get("orderId") != "reg-1" {
		t.Fatalf("sent back to %s", back)
	}
	// Once approved, the computer's waiting page moves on to the merchant.
	again, err := sandboxtest.Get(f.ctx, f.srv.Client(), res.PaymentURL.Web)
	if err != nil || again.Location == nil || again.Location.String() != back.String() {
		t.Fatalf("wait page after approval: %+v %v", again.Location, err)
	}

	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 841, "TWD"); apiCode(err) != linepay.CodeAmountMismatch {
		t.Fatalf("confirm with another amount: %v, want 1153", err)
	}
	conf, err := f.client.Confirm(f.ctx, res.TransactionID, 840, "TWD")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(conf.RegKey, "RK") || conf.OrderID != "reg-1" || conf.TransactionID != res.TransactionID ||
		len(conf.PayInfo) != 1 || conf.PayInfo[0].MaskedCreditCardNumber != "************4242" || conf.PayInfo[0].Method != "CREDIT_CARD" {
		t.Fatalf("confirm: %+v", conf)
	}
	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 840, "TWD"); apiCode(err) != linepay.CodeDuplicateTransaction {
		t.Fatalf("second confirm: %v, want 1152", err)
	}
	if err := f.client.CheckRegKey(f.ctx, conf.RegKey); err != nil {
		t.Fatalf("check reg key: %v", err)
	}

	// The monthly payment, and its retry with the same orderId.
	id, err := f.client.PayPreapproved(f.ctx, conf.RegKey, 1260, "TWD", "charge-7", "LINE官方帳號 推廣方案")
	if err != nil {
		t.Fatal(err)
	}
	if len(id) != 19 || id == res.TransactionID {
		t.Fatalf("preapproved transaction id %q", id)
	}
	retry, err := f.client.PayPreapproved(f.ctx, conf.RegKey, 1260, "TWD", "charge-7", "LINE官方帳號 推廣方案")
	if err != nil || retry != id {
		t.Fatalf("retry: %q, %v; want %q", retry, err, id)
	}
	var paid int
	if err := f.db.Get(&paid, `SELECT count(*) FROM sandbox_linepay_transactions WHERE order_id='charge-7'`); err != nil || paid != 1 {
		t.Fatalf("%d transactions for charge-7 (%v), want 1", paid, err)
	}
	// The same orderId for another amount is not the same payment.
	if _, err := f.client.PayPreapproved(f.ctx, conf.RegKey, 840, "TWD", "charge-7", "LINE官方帳號 推廣方案"); apiCode(err) != linepay.CodeDuplicateOrderID {
		t.Fatalf("same orderId, other amount: %v, want 1172", err)
	}
	details, err := f.client.PaymentByOrderID(f.ctx, "charge-7")
	if err != nil || len(details) != 1 || details[0].TransactionID != id || details[0].Amount() != 1260 || details[0].TransactionType != "PAYMENT" {
		t.Fatalf("payment details: %+v, %v", details, err)
	}
	if none, err := f.client.PaymentByOrderID(f.ctx, "never-paid"); err != nil || len(none) != 0 {
		t.Fatalf("unknown order: %+v, %v", none, err)
	}

	if err := f.client.ExpireRegKey(f.ctx, conf.RegKey); err != nil {
		t.Fatal(err)
	}
	if err := f.client.CheckRegKey(f.ctx, conf.RegKey); apiCode(err) != linepay.CodeRegKeyExpired {
		t.Fatalf("check expired reg key: %v, want 1193", err)
	}
	_, err = f.client.PayPreapproved(f.ctx, conf.RegKey, 1260, "TWD", "charge-8", "LINE官方帳號 推廣方案")
	var apiErr *linepay.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != linepay.CodeRegKeyExpired || !apiErr.Declined() {
		t.Fatalf("pay with expired reg key: %v", err)
	}
	if err := f.client.CheckRegKey(f.ctx, "RKNOSUCHKEY0000"); apiCode(err) != linepay.CodeRegKeyUnavailable {
		t.Fatalf("unknown reg key: %v, want 1190", err)
	}
}

func TestSignatureAndChannelAreVerified(t *testing.T) {
	f := newFixture(t)
	wrong := *f.client
	wrong.ChannelSecret = "not-the-secret"
	if _, err := wrong.Request(f.ctx, linepay.RequestParams{Amount: 100, OrderID: "o1", ProductName: "x",
		ConfirmURL: confirmURL, CancelURL: cancelURL}); apiCode(err) != linepay.CodeHeaderError {
		t.Fatalf("wrong secret: %v, want 1106", err)
	}
	if _, err := wrong.PaymentByOrderID(f.ctx, "o1"); apiCode(err) != linepay.CodeHeaderError {
		t.Fatalf("wrong secret on GET: %v, want 1106", err)
	}
	other := *f.client
	other.ChannelID = "1999999999"
	if err := other.CheckRegKey(f.ctx, "RK0"); apiCode(err) != linepay.CodeMerchantNotFound {
		t.Fatalf("unknown channel: %v, want 1104", err)
	}

	// A body changed after signing, a query changed after signing, and a
	// missing nonce are all refused.
	body := `{"amount":100,"currency":"TWD"}`
	send := func(method, path, rawQuery, sent, signedContent, nonce string) string {
		t.Helper()
		target := f.srv.URL + basePath + path
		if rawQuery != "" {
			target += "?" + rawQuery
		}
		req, _ := http.NewRequest(method, target, strings.NewReader(sent))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-LINE-ChannelId", channelID)
		req.Header.Set("X-LINE-Authorization-Nonce", nonce)
		req.Header.Set("X-LINE-Authorization", linepay.Sign(secret, path, signedContent, nonce))
		resp, err := f.srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return string(b)
	}
	if got := send("POST", "/v3/payments/1/confirm", "", strings.Replace(body, "100", "1", 1), body, "n1"); !strings.Contains(got, `"returnCode":"1106"`) {
		t.Errorf("tampered body: %s", got)
	}
	if got := send("POST", "/v3/payments/1/confirm", "", body, body, "n1"); !strings.Contains(got, `"returnCode":"1150"`) {
		t.Errorf("correctly signed confirm of an unknown transaction: %s", got)
	}
	if got := send("GET", "/v3/payments", "orderId=a", "", "orderId=b", "n2"); !strings.Contains(got, `"returnCode":"1106"`) {
		t.Errorf("tampered query: %s", got)
	}
	if got := send("GET", "/v3/payments", "orderId=a", "", "orderId=a", ""); !strings.Contains(got, `"returnCode":"1106"`) {
		t.Errorf("no nonce: %s", got)
	}
}

// TestSign checks the signature against a vector computed independently
// (Python's hmac) from LINE Pay's recipe.
func TestSign(t *testing.T) {
	got := linepay.Sign(secret, "/v3/payments/request", `{"amount":100,"currency":"TWD"}`, "9b3c3a9e-0f5b-4f1e-8f3a-1c2d3e4f5a6b")
	if want := "tMy6CsTLEIhUv9NUtTY7CASGO/NpI2tUb26LOLNBJzo="; got != want {
		t.Errorf("POST signature %s, want %s", got, want)
	}
	if got, want := linepay.Sign(secret, "/v3/payments", "orderId=order-1", "n1"), "+McHiBd1fxbd68yECkKsPfaJUwxt+xW8pAn0ZF8jXvI="; got != want {
		t.Errorf("GET signature %s, want %s", got, want)
	}
}

func TestDecliningCards(t *testing.T) {
	f := newFixture(t)

	// Declined at Confirm: the person picks the card, the merchant's
	// Confirm fails with 1281 and no regKey is issued.
	res := f.request(t, "reg-declined", 840)
	if _, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, linepay.CardDeclinedAtConfirm); err != nil {
		t.Fatal(err)
	}
	_, err := f.client.Confirm(f.ctx, res.TransactionID, 840, "TWD")
	var apiErr *linepay.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != linepay.CodeCardPayment || !apiErr.Declined() ||
		!strings.Contains(apiErr.UserMessage(), "信用卡付款失敗") {
		t.Fatalf("confirm with the declining card: %v", err)
	}
	page, err := sandboxtest.Get(f.ctx, f.srv.Client(), res.PaymentURL.Web)
	if err != nil || !strings.Contains(page.Body, "付款失敗") {
		t.Fatalf("wait page after a failed confirm: %v %s", err, page.Body)
	}
	// A failed transaction does not hold its orderId.
	f.request(t, "reg-declined", 840)

	// Declined later: registration works, every automatic payment fails.
	for _, c := range []struct{ card, code, says string }{
		{linepay.CardDeclinedLater, linepay.CodeCardPayment, "信用卡付款失敗"},
		{linepay.CardAccountError, linepay.CodeAccountStatus, "付款帳戶狀態異常"},
	} {
		regKey := f.register(t, "reg-"+c.card, c.card)
		if regKey == "" {
			t.Fatalf("%s: no regKey", c.card)
		}
		_, err := f.client.PayPreapproved(f.ctx, regKey, 1260, "TWD", "pay-"+c.card, "LINE官方帳號 推廣方案")
		if !errors.As(err, &apiErr) || apiErr.Code != c.code || !apiErr.Declined() || !strings.Contains(apiErr.UserMessage(), c.says) {
			t.Fatalf("%s: %v", c.card, err)
		}
		// A declined payment does not hold the orderId either: after the
		// customer fixes things, the same order can be retried.
		var held int
		f.db.Get(&held, `SELECT count(*) FROM sandbox_linepay_transactions WHERE order_id=$1 AND status <> 'failed'`, "pay-"+c.card)
		if held != 0 {
			t.Fatalf("%s: a declined payment holds its orderId", c.card)
		}
	}
}

func TestSandboxSurvivesRestart(t *testing.T) {
	f := newFixture(t)
	regKey := f.register(t, "reg-1", linepay.CardCTBCMastercard)
	f.srv.Close()

	srv := f.serve(t) // a new process on the same database
	c := &linepay.Client{BaseURL: srv.URL + basePath, ChannelID: channelID, ChannelSecret: secret}
	id, err := c.PayPreapproved(f.ctx, regKey, 840, "", "charge-1", "LINE官方帳號 推廣方案")
	if err != nil || id == "" {
		t.Fatalf("pay after restart: %q %v", id, err)
	}
	if d, err := c.PaymentByOrderID(f.ctx, "reg-1"); err != nil || len(d) != 1 || d[0].PayInfo[0].MaskedCreditCardNumber != "************4444" {
		t.Fatalf("registration payment after restart: %+v %v", d, err)
	}
}

func TestRequestValidation(t *testing.T) {
	f := newFixture(t)
	ok := linepay.RequestParams{Amount: 840, OrderID: "o1", ProductName: "x", ConfirmURL: confirmURL, CancelURL: cancelURL}
	cases := []struct {
		name string
		edit func(*linepay.RequestParams)
		code string
	}{
		{"zero amount", func(p *linepay.RequestParams) {
			p.Amount = 0
			p.Packages = []linepay.Package{{ID: "p", Products: []linepay.Product{{Name: "x", Quantity: 1}}}}
		}, linepay.CodeAmountNotPositive},
		{"USD", func(p *linepay.RequestParams) { p.Currency = "USD" }, linepay.CodeCurrencyUnsupported},
		{"packages do not add up", func(p *linepay.RequestParams) {
			p.Packages = []linepay.Package{{ID: "p", Amount: 840, Name: "x", Products: []linepay.Product{{Name: "x", Quantity: 2, Price: 400}}}}
		}, linepay.CodeParameter},
		{"relative confirmUrl", func(p *linepay.RequestParams) { p.ConfirmURL = "/confirm" }, linepay.CodeParameter},
		{"no orderId", func(p *linepay.RequestParams) { p.OrderID = "" }, linepay.CodeParameter},
	}
	for _, c := range cases {
		p := ok
		c.edit(&p)
		if _, err := f.client.Request(f.ctx, p); apiCode(err) != c.code {
			t.Errorf("%s: %v, want %s", c.name, err, c.code)
		}
	}
	if _, err := f.client.Request(f.ctx, ok); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Request(f.ctx, ok); apiCode(err) != linepay.CodeDuplicateOrderID {
		t.Fatalf("repeated orderId: %v, want 1172", err)
	}
}

func TestPages(t *testing.T) {
	f := newFixture(t)
	hc := f.srv.Client()

	// Everything the merchant sends is escaped.
	res, err := f.client.Request(f.ctx, linepay.RequestParams{Amount: 840, OrderID: "o-xss",
		ProductName: `<script>alert("x")</script>`, ConfirmURL: confirmURL, CancelURL: cancelURL})
	if err != nil {
		t.Fatal(err)
	}
	phone, err := sandboxtest.Get(f.ctx, hc, res.PaymentURL.App)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(phone.Body, "<script>") || !strings.Contains(phone.Body, "&lt;script&gt;") {
		t.Fatalf("product name not escaped: %s", phone.Body)
	}

	// 下一步 without a card re-asks, in zh-TW.
	page, err := phone.Submit(f.ctx, hc, "下一步", nil)
	if err != nil || page.Status != http.StatusUnprocessableEntity || !strings.Contains(page.Body, "請選擇一張信用卡。") {
		t.Fatalf("no card chosen: %d %v", page.Status, err)
	}
	// 確認付款方式 shows the chosen card; 返回 goes back to the choice.
	page, err = phone.Submit(f.ctx, hc, "下一步", url.Values{"card": {linepay.CardCTBCMastercard}})
	if err != nil || page.Location == nil {
		t.Fatalf("choose card: %+v %v", page, err)
	}
	confirm, err := sandboxtest.Get(f.ctx, hc, page.Location.String())
	if err != nil || !strings.Contains(confirm.Body, "確認付款方式") || !strings.Contains(confirm.Body, "中國信託 Mastercard •••• 4444") {
		t.Fatalf("confirm page: %v %s", err, confirm.Body)
	}

	// Cancelling sends the person to cancelUrl, as given, and the merchant's
	// Confirm then finds no request.
	back, err := sandboxtest.CancelLinePay(f.ctx, hc, res.PaymentURL.Web)
	if err != nil || back.String() != cancelURL {
		t.Fatalf("cancel: %v %v", back, err)
	}
	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 840, "TWD"); apiCode(err) != linepay.CodeNoRequest {
		t.Fatalf("confirm after cancel: %v, want 1159", err)
	}
	if _, err := confirm.Submit(f.ctx, hc, "新增", nil); err != nil {
		t.Fatal(err)
	}
	if p, _ := sandboxtest.Get(f.ctx, hc, res.PaymentURL.App); !strings.Contains(p.Body, "付款已取消") {
		t.Fatalf("phone page after cancel: %s", p.Body)
	}

	// A request not approved within 20 minutes expires.
	late := f.request(t, "o-late", 840)
	f.clock.Add(21 * time.Minute)
	if p, _ := sandboxtest.Get(f.ctx, hc, late.PaymentURL.Web); !strings.Contains(p.Body, "付款期限已過") {
		t.Fatalf("wait page after 21 minutes: %s", p.Body)
	}
	if _, err := sandboxtest.ApproveLinePay(f.ctx, hc, late.PaymentURL.Web, linepay.CardCathayVisa); err == nil {
		t.Fatal("approved an expired payment")
	}

	// An unknown reserve id is a 404 page, not an error.
	p, err := sandboxtest.Get(f.ctx, hc, f.srv.URL+basePath+"/app/payment?transactionReserveId=nope")
	if err == nil || p.Status != http.StatusNotFound || !strings.Contains(p.Body, "找不到這筆付款") {
		t.Fatalf("unknown reserve id: %d %v", p.Status, err)
	}
}

func TestUserMessages(t *testing.T) {
	for _, c := range []struct {
		code     string
		declined bool
		says     string
	}{
		{"1141", true, "付款帳戶狀態異常"},
		{"1281", true, "信用卡付款失敗"},
		{"1282", true, "信用卡授權失敗,請改用其他卡片。"},
		{"1283", true, "盜刷"},
		{"1293", true, "信用卡授權失敗"},
		{"1193", true, "重新設定 LINE Pay 付款方式"},
		{"1106", false, "錯誤代碼 1106"},
		{"9000", false, "請稍後再試"},
	} {
		e := &linepay.APIError{Code: c.code, Message: "x"}
		if e.Declined() != c.declined || !strings.HasPrefix(e.UserMessage(), "LINE Pay 付款失敗:") || !strings.Contains(e.UserMessage(), c.says) {
			t.Errorf("%s: declined=%v %q", c.code, e.Declined(), e.UserMessage())
		}
	}
}

// TestClientWithoutLinePayAnswer: a proxy's error page is a plain error
// naming the HTTP status, not an *APIError.
func TestClientWithoutLinePayAnswer(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "bad gateway", http.StatusBadGateway)
	}))
	defer srv.Close()
	c := &linepay.Client{BaseURL: srv.URL, ChannelID: channelID, ChannelSecret: secret}
	err := c.CheckRegKey(context.Background(), "RK1")
	if err == nil || apiCode(err) != "" || !strings.Contains(err.Error(), "502") {
		t.Fatalf("got %v", err)
	}
}

func TestNormalPaymentIssuesNoRegKey(t *testing.T) {
	f := newFixture(t)
	res, err := f.client.Request(f.ctx, linepay.RequestParams{Amount: 500, OrderID: "once", ProductName: "x",
		ConfirmURL: confirmURL, CancelURL: cancelURL, PayType: linepay.Normal})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, linepay.CardCathayVisa); err != nil {
		t.Fatal(err)
	}
	conf, err := f.client.Confirm(f.ctx, res.TransactionID, 500, "")
	if err != nil || conf.RegKey != "" || conf.PayInfo[0].Amount != 500 {
		t.Fatalf("confirm: %+v %v", conf, err)
	}
}

// authorize requests an authorization without capture (as the webstore
// binds LINE Pay: PREAPPROVED, NT$1, capture=false) and has the person
// approve it with card.
func (f *fixture) authorize(t *testing.T, orderID, card string) linepay.RequestResult {
	t.Helper()
	res, err := f.client.Request(f.ctx, linepay.RequestParams{Amount: 1, OrderID: orderID, ProductName: "綁定 LINE Pay 付款方式",
		ConfirmURL: confirmURL, CancelURL: cancelURL, AuthorizeOnly: true})
	if err != nil {
		t.Fatalf("request %s: %v", orderID, err)
	}
	if _, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, card); err != nil {
		t.Fatal(err)
	}
	return res
}

func (f *fixture) status(t *testing.T, transactionID string) (status string, paid bool) {
	t.Helper()
	if err := f.db.QueryRow(`SELECT status, paid_at IS NOT NULL FROM sandbox_linepay_transactions WHERE transaction_id=$1`,
		transactionID).Scan(&status, &paid); err != nil {
		t.Fatal(err)
	}
	return status, paid
}

func TestAuthorizeOnlyBindingAndVoid(t *testing.T) {
	f := newFixture(t)
	res := f.authorize(t, "bind-1", linepay.CardCathayVisa)
	var capture bool
	if err := f.db.Get(&capture, `SELECT capture FROM sandbox_linepay_transactions WHERE order_id='bind-1'`); err != nil || capture {
		t.Fatalf("capture stored as %v (%v), want false", capture, err)
	}

	// Confirm authorizes: the regKey is issued, nothing is captured.
	conf, err := f.client.Confirm(f.ctx, res.TransactionID, 1, "TWD")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(conf.RegKey, "RK") || conf.OrderID != "bind-1" || conf.TransactionID != res.TransactionID ||
		len(conf.PayInfo) != 1 || conf.PayInfo[0].Amount != 1 || conf.PayInfo[0].MaskedCreditCardNumber != "************4242" {
		t.Fatalf("confirm: %+v", conf)
	}
	if status, paid := f.status(t, res.TransactionID); status != "authorized" || paid {
		t.Fatalf("after confirm: status %s, paid_at set %v; want authorized, no paid_at", status, paid)
	}
	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 1, "TWD"); apiCode(err) != linepay.CodeDuplicateTransaction {
		t.Fatalf("second confirm: %v, want 1152", err)
	}
	d, err := f.client.PaymentByOrderID(f.ctx, "bind-1")
	if err != nil || len(d) != 1 || d[0].TransactionID != res.TransactionID || d[0].TransactionType != "PAYMENT" ||
		d[0].PayStatus != "AUTHORIZATION" || d[0].Amount() != 1 || d[0].TransactionDate != "2026-06-11T02:00:00Z" {
		t.Fatalf("details of the authorization: %+v %v", d, err)
	}
	if p, _ := sandboxtest.Get(f.ctx, f.srv.Client(), res.PaymentURL.Web); !strings.Contains(p.Body, "已完成授權") {
		t.Fatalf("wait page of an authorization: %s", p.Body)
	}

	// The void releases it; a second void is refused.
	f.clock.Add(time.Minute)
	if err := f.client.VoidAuthorization(f.ctx, res.TransactionID); err != nil {
		t.Fatalf("void: %v", err)
	}
	if status, paid := f.status(t, res.TransactionID); status != "voided" || paid {
		t.Fatalf("after void: status %s, paid_at set %v", status, paid)
	}
	if err := f.client.VoidAuthorization(f.ctx, res.TransactionID); apiCode(err) != linepay.CodeAlreadyVoided {
		t.Fatalf("second void: %v, want 1165", err)
	}
	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 1, "TWD"); apiCode(err) != linepay.CodeDuplicateTransaction {
		t.Fatalf("confirm after void: %v, want 1152", err)
	}
	d, err = f.client.PaymentByOrderID(f.ctx, "bind-1")
	if err != nil || len(d) != 1 || d[0].PayStatus != "VOIDED_AUTHORIZATION" || d[0].TransactionDate != "2026-06-11T02:00:00Z" {
		t.Fatalf("details of the voided authorization: %+v %v", d, err)
	}
	if p, _ := sandboxtest.Get(f.ctx, f.srv.Client(), res.PaymentURL.App); !strings.Contains(p.Body, "授權已取消") {
		t.Fatalf("phone page of a voided authorization: %s", p.Body)
	}

	// The regKey outlives the void: that is what binding is for.
	if err := f.client.CheckRegKey(f.ctx, conf.RegKey); err != nil {
		t.Fatalf("check reg key after void: %v", err)
	}
	id, err := f.client.PayPreapproved(f.ctx, conf.RegKey, 840, "TWD", "charge-1", "LINE官方帳號 中用量")
	if err != nil || len(id) != 19 {
		t.Fatalf("pay with the bound regKey: %q %v", id, err)
	}
	if status, paid := f.status(t, id); status != "paid" || !paid {
		t.Fatalf("preapproved payment: status %s, paid %v", status, paid)
	}
	d, err = f.client.PaymentByOrderID(f.ctx, "charge-1")
	if err != nil || len(d) != 1 || d[0].TransactionID != id || d[0].PayStatus != "CAPTURE" {
		t.Fatalf("details of the payment: %+v %v", d, err)
	}

	// A captured payment cannot be voided (it is refunded); an unknown
	// transaction is not found.
	if err := f.client.VoidAuthorization(f.ctx, id); apiCode(err) != linepay.CodeNotVoidable {
		t.Fatalf("void of a captured preapproved payment: %v, want 1155", err)
	}
	if err := f.client.VoidAuthorization(f.ctx, "2026061100000099999"); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("void of an unknown transaction: %v, want 1150", err)
	}
	if err := f.client.VoidAuthorization(f.ctx, "not-a-number"); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("void of a malformed transaction id: %v, want 1150", err)
	}

	// The voided authorization keeps its orderId (1172), and a payment
	// retried with it is not mistaken for the voided NT$1.
	if _, err := f.client.PayPreapproved(f.ctx, conf.RegKey, 1, "TWD", "bind-1", "x"); apiCode(err) != linepay.CodeDuplicateOrderID {
		t.Fatalf("payment with the voided authorization's orderId: %v, want 1172", err)
	}
}

func TestVoidRefusesWhatIsNoAuthorization(t *testing.T) {
	f := newFixture(t)

	// A payment captured at Confirm (capture absent = true).
	res := f.request(t, "reg-1", 840)
	if _, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, linepay.CardCTBCMastercard); err != nil {
		t.Fatal(err)
	}
	if err := f.client.VoidAuthorization(f.ctx, res.TransactionID); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("void before confirm: %v, want 1150", err)
	}
	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 840, "TWD"); err != nil {
		t.Fatal(err)
	}
	if status, paid := f.status(t, res.TransactionID); status != "paid" || !paid {
		t.Fatalf("captured payment: status %s, paid %v", status, paid)
	}
	if err := f.client.VoidAuthorization(f.ctx, res.TransactionID); apiCode(err) != linepay.CodeNotVoidable {
		t.Fatalf("void of a captured payment: %v, want 1155", err)
	}
	if status, _ := f.status(t, res.TransactionID); status != "paid" {
		t.Fatalf("a refused void changed the payment to %s", status)
	}

	// An authorization requested but not yet confirmed has nothing to void.
	pending, err := f.client.Request(f.ctx, linepay.RequestParams{Amount: 1, OrderID: "bind-pending", ProductName: "x",
		ConfirmURL: confirmURL, CancelURL: cancelURL, AuthorizeOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.client.VoidAuthorization(f.ctx, pending.TransactionID); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("void of a requested authorization: %v, want 1150", err)
	}

	// Card failures at Confirm are as for a captured payment: no regKey,
	// nothing to void.
	declined := f.authorize(t, "bind-declined", linepay.CardDeclinedAtConfirm)
	if _, err := f.client.Confirm(f.ctx, declined.TransactionID, 1, "TWD"); apiCode(err) != linepay.CodeCardPayment {
		t.Fatalf("authorize with the declining card: %v, want 1281", err)
	}
	if status, _ := f.status(t, declined.TransactionID); status != "failed" {
		t.Fatalf("declined authorization: status %s", status)
	}
	if err := f.client.VoidAuthorization(f.ctx, declined.TransactionID); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("void of a declined authorization: %v, want 1150", err)
	}

	// A NORMAL authorization is authorized too, without a regKey.
	normal, err := f.client.Request(f.ctx, linepay.RequestParams{Amount: 500, OrderID: "auth-normal", ProductName: "x",
		ConfirmURL: confirmURL, CancelURL: cancelURL, PayType: linepay.Normal, AuthorizeOnly: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), normal.PaymentURL.Web, linepay.CardCathayVisa); err != nil {
		t.Fatal(err)
	}
	conf, err := f.client.Confirm(f.ctx, normal.TransactionID, 500, "TWD")
	if err != nil || conf.RegKey != "" {
		t.Fatalf("confirm a NORMAL authorization: %+v %v", conf, err)
	}
	if status, paid := f.status(t, normal.TransactionID); status != "authorized" || paid {
		t.Fatalf("NORMAL authorization: status %s, paid %v", status, paid)
	}
	if err := f.client.VoidAuthorization(f.ctx, normal.TransactionID); err != nil {
		t.Fatalf("void a NORMAL authorization: %v", err)
	}
}
