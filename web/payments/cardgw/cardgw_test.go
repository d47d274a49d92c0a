package cardgw_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"webstore/billing"
	"webstore/billing/billingtest"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/sandboxtest"
)

const (
	publicKey = "pk_test_webstore"
	secretKey = "sk_test_webstore"
	basePath  = "/sandbox/cardgw"
	returnURL = "https://merchant.example/methods/card/return?flow=f1"
)

type fixture struct {
	ctx    context.Context
	db     *sqlx.DB
	clock  *billingtest.Clock
	srv    *httptest.Server
	client *cardgw.Client
	fields string
}

func newFixture(t *testing.T) *fixture {
	t.Helper()
	d, _ := sandboxtest.NewDB(t)
	f := &fixture{ctx: context.Background(), db: d, clock: billingtest.NewClock(time.Date(2026, 6, 11, 10, 0, 0, 0, billing.Taipei))}
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", cardgw.NewSandbox(d, cardgw.SandboxConfig{PublicKey: publicKey, SecretKey: secretKey,
		BasePath: basePath, Now: f.clock.Now}))
	f.srv = httptest.NewServer(mux)
	t.Cleanup(f.srv.Close)
	f.client = &cardgw.Client{BaseURL: f.srv.URL + basePath, SecretKey: secretKey, HTTP: f.srv.Client()}
	f.fields = cardgw.FieldsURL(f.client.BaseURL, publicKey, returnURL)
	return f
}

// token types a card into the fields page and returns the one-time token
// the gateway sends back to the merchant.
func (f *fixture) token(t *testing.T, number, expiry string) string {
	t.Helper()
	p, err := sandboxtest.EnterCard(f.ctx, f.srv.Client(), f.fields, sandboxtest.Card{Number: number, Expiry: expiry, CVC: "123", Name: "王小明"})
	if err != nil {
		t.Fatal(err)
	}
	if p.Location == nil {
		t.Fatalf("card %s refused: %s", number, p.Body)
	}
	q := p.Location.Query()
	if p.Location.Host != "merchant.example" || q.Get("flow") != "f1" || !strings.HasPrefix(q.Get("card_token"), "tok_") {
		t.Fatalf("sent back to %s", p.Location)
	}
	return q.Get("card_token")
}

func (f *fixture) attach(t *testing.T, number, expiry string) cardgw.Card {
	t.Helper()
	card, err := f.client.AttachCard(f.ctx, f.token(t, number, expiry))
	if err != nil {
		t.Fatalf("attach %s: %v", number, err)
	}
	return card
}

func declineCode(err error) string {
	var d *cardgw.DeclineError
	if errors.As(err, &d) {
		return d.Code
	}
	return ""
}

func apiError(err error) *cardgw.APIError {
	var e *cardgw.APIError
	errors.As(err, &e)
	return e
}

func TestAttachAndCharge(t *testing.T) {
	f := newFixture(t)
	page, err := sandboxtest.Get(f.ctx, f.srv.Client(), f.fields)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`lang="zh-Hant-TW"`, "卡號", "到期日", "安全碼", "持卡人姓名", "儲存卡片", "#06C755", "4242 4242 4242 4242", `autocomplete="cc-number"`} {
		if !strings.Contains(page.Body, want) {
			t.Errorf("fields page lacks %q", want)
		}
	}

	tok := f.token(t, "4242 4242 4242 4242", "12/28")
	card, err := f.client.AttachCard(f.ctx, tok)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(card.ID, "card_") || card.Brand != "visa" || card.Last4 != "4242" || card.ExpMonth != 12 || card.ExpYear != 2028 {
		t.Fatalf("card %+v", card)
	}
	// A one-time token is single use.
	if _, err := f.client.AttachCard(f.ctx, tok); apiError(err) == nil || apiError(err).Code != "invalid_token" {
		t.Fatalf("second attach of one token: %v", err)
	}

	id, err := f.client.Charge(f.ctx, card.ID, 1260, "LINE官方帳號 推廣方案", "charge-1")
	if err != nil || !strings.HasPrefix(id, "ch_") {
		t.Fatalf("charge: %q %v", id, err)
	}
	again, err := f.client.Charge(f.ctx, card.ID, 1260, "LINE官方帳號 推廣方案", "charge-1")
	if err != nil || again != id {
		t.Fatalf("retry: %q %v, want %q", again, err, id)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM sandbox_card_charges`); err != nil || n != 1 {
		t.Fatalf("%d charges (%v), want 1", n, err)
	}
	if _, err := f.client.Charge(f.ctx, card.ID, 840, "LINE官方帳號 推廣方案", "charge-1"); apiError(err) == nil || apiError(err).Status != http.StatusConflict {
		t.Fatalf("same key, other amount: %v", err)
	}
	if other, err := f.client.Charge(f.ctx, card.ID, 840, "LINE官方帳號 推廣方案", "charge-2"); err != nil || other == id {
		t.Fatalf("second charge: %q %v", other, err)
	}
	if _, err := f.client.Charge(f.ctx, card.ID, 840, "x", ""); err == nil {
		t.Fatal("charged without an idempotency key")
	}

	for number, brand := range map[string]string{"5555555555554444": "mastercard", "3530-1113-3330-0000": "jcb"} {
		if c := f.attach(t, number, "01/30"); c.Brand != brand {
			t.Errorf("%s: brand %s, want %s", number, c.Brand, brand)
		}
	}
	amex, err := sandboxtest.EnterCard(f.ctx, f.srv.Client(), f.fields, sandboxtest.Card{Number: "378282246310005", Expiry: "01/30", CVC: "1234", Name: "Amy"})
	if err != nil || amex.Location == nil {
		t.Fatalf("amex with a 4-digit CVC: %v %s", err, amex.Body)
	}
}

func TestDeclines(t *testing.T) {
	f := newFixture(t)
	_, err := f.client.AttachCard(f.ctx, f.token(t, "4000000000000002", "12/28"))
	var d *cardgw.DeclineError
	if !errors.As(err, &d) || d.Code != cardgw.CodeCardDeclined || !strings.Contains(d.UserMessage(), "發卡銀行拒絕") {
		t.Fatalf("attach 0002: %v", err)
	}

	card := f.attach(t, "4000 0000 0000 0341", "12/28")
	_, err = f.client.Charge(f.ctx, card.ID, 1260, "LINE官方帳號 推廣方案", "charge-9")
	if !errors.As(err, &d) || d.Code != cardgw.CodeInsufficientFunds || !strings.Contains(d.UserMessage(), "額度不足") {
		t.Fatalf("charge 0341: %v", err)
	}
	// The retry answers the same decline and records no second attempt.
	if _, err := f.client.Charge(f.ctx, card.ID, 1260, "LINE官方帳號 推廣方案", "charge-9"); declineCode(err) != cardgw.CodeInsufficientFunds {
		t.Fatalf("retry: %v", err)
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM sandbox_card_charges WHERE status='failed'`); err != nil || n != 1 {
		t.Fatalf("%d failed charges (%v), want 1", n, err)
	}
}

func TestExpiredCards(t *testing.T) {
	f := newFixture(t)
	// The page refuses a past expiry, keeping what was typed but the CVC.
	p, err := sandboxtest.EnterCard(f.ctx, f.srv.Client(), f.fields, sandboxtest.Card{Number: "4242 4242 4242 4242", Expiry: "05/26", CVC: "987", Name: "王小明"})
	if err != nil || p.Status != http.StatusUnprocessableEntity || !strings.Contains(p.Body, "這張卡片已過期") {
		t.Fatalf("past expiry: %d %v", p.Status, err)
	}
	if !strings.Contains(p.Body, `value="4242 4242 4242 4242"`) || !strings.Contains(p.Body, `value="王小明"`) || strings.Contains(p.Body, "987") {
		t.Fatalf("re-rendered values: %s", p.Body)
	}

	// A card good through June: a token made on its last evening, attached
	// after midnight, is refused; a card attached in time then cannot be
	// charged in July.
	f.clock.Set(time.Date(2026, 6, 30, 23, 55, 0, 0, billing.Taipei))
	late := f.token(t, "4242424242424242", "06/26")
	card := f.attach(t, "5555555555554444", "06/26")
	f.clock.Set(time.Date(2026, 7, 1, 0, 1, 0, 0, billing.Taipei))
	if _, err := f.client.AttachCard(f.ctx, late); declineCode(err) != cardgw.CodeExpiredCard {
		t.Fatalf("attach after expiry: %v", err)
	}
	_, err = f.client.Charge(f.ctx, card.ID, 840, "x", "charge-1")
	var d *cardgw.DeclineError
	if !errors.As(err, &d) || d.Code != cardgw.CodeExpiredCard || !strings.Contains(d.UserMessage(), "已過期") {
		t.Fatalf("charge after expiry: %v", err)
	}
}

func TestFieldsValidation(t *testing.T) {
	f := newFixture(t)
	for _, c := range []struct {
		name string
		card sandboxtest.Card
		says []string
	}{
		{"Luhn", sandboxtest.Card{Number: "4242 4242 4242 4241", Expiry: "12/28", CVC: "123", Name: "A"}, []string{"卡號不正確"}},
		{"real card", sandboxtest.Card{Number: "4111 1111 1111 1111", Expiry: "12/28", CVC: "123", Name: "A"}, []string{"只接受測試卡號"}},
		{"letters", sandboxtest.Card{Number: "4242 abcd", Expiry: "12/28", CVC: "123", Name: "A"}, []string{"卡號格式不正確"}},
		{"empty", sandboxtest.Card{}, []string{"請輸入卡號。", "請輸入到期日。", "請輸入安全碼。", "請輸入持卡人姓名。"}},
		{"month 13", sandboxtest.Card{Number: "4242424242424242", Expiry: "13/28", CVC: "123", Name: "A"}, []string{"到期日格式不正確"}},
		{"amex CVC", sandboxtest.Card{Number: "378282246310005", Expiry: "12/28", CVC: "123", Name: "A"}, []string{"4 位數字"}},
		{"escaped", sandboxtest.Card{Number: "1", Expiry: "12/28", CVC: "123", Name: `<b>"x"</b>`}, []string{"&lt;b&gt;"}},
	} {
		p, err := sandboxtest.EnterCard(f.ctx, f.srv.Client(), f.fields, c.card)
		if err != nil || p.Status != http.StatusUnprocessableEntity {
			t.Errorf("%s: %d %v", c.name, p.Status, err)
			continue
		}
		for _, s := range c.says {
			if !strings.Contains(p.Body, s) {
				t.Errorf("%s: page lacks %q", c.name, s)
			}
		}
		if strings.Contains(p.Body, "<b>") {
			t.Errorf("%s: unescaped input", c.name)
		}
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM sandbox_card_tokens`); err != nil || n != 0 {
		t.Fatalf("%d tokens for refused cards (%v)", n, err)
	}
}

func TestTokenExpires(t *testing.T) {
	f := newFixture(t)
	tok := f.token(t, "4242424242424242", "12/28")
	f.clock.Set(f.clock.Now().Add(11 * time.Minute))
	if _, err := f.client.AttachCard(f.ctx, tok); apiError(err) == nil || apiError(err).Code != "invalid_token" {
		t.Fatalf("attach after 11 minutes: %v", err)
	}
}

func TestCancelAndBadRequests(t *testing.T) {
	f := newFixture(t)
	p, err := sandboxtest.CancelCard(f.ctx, f.srv.Client(), f.fields)
	if err != nil || p.Location == nil || p.Location.Query().Get("card_error") != "cancelled" || p.Location.Query().Get("flow") != "f1" {
		t.Fatalf("cancel: %+v %v", p.Location, err)
	}

	for _, u := range []string{
		cardgw.FieldsURL(f.client.BaseURL, "pk_wrong", returnURL),
		cardgw.FieldsURL(f.client.BaseURL, publicKey, "javascript:alert(1)"),
	} {
		p, err := sandboxtest.Get(f.ctx, f.srv.Client(), u)
		if err == nil || p.Status != http.StatusBadRequest || !strings.Contains(p.Body, "無法開啟信用卡輸入頁面") {
			t.Errorf("%s: %d %v", u, p.Status, err)
		}
	}

	wrong := *f.client
	wrong.SecretKey = "sk_wrong"
	if _, err := wrong.AttachCard(f.ctx, "tok_x"); apiError(err) == nil || apiError(err).Status != http.StatusUnauthorized {
		t.Fatalf("wrong secret key: %v", err)
	}
	if _, err := f.client.Charge(f.ctx, "card_nope", 100, "x", "k"); apiError(err) == nil || apiError(err).Code != "card_not_found" {
		t.Fatalf("unknown card: %v", err)
	}
	if _, err := f.client.Charge(f.ctx, "card_nope", 0, "x", "k"); apiError(err) == nil || apiError(err).Code != "invalid_amount" {
		t.Fatalf("zero amount: %v", err)
	}
}

func TestConcurrentRetriesChargeOnce(t *testing.T) {
	f := newFixture(t)
	card := f.attach(t, "4242424242424242", "12/28")
	ids := make([]string, 12)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			id, err := f.client.Charge(f.ctx, card.ID, 1260, "LINE官方帳號 推廣方案", "charge-race")
			if err != nil {
				t.Errorf("charge %d: %v", i, err)
			}
			ids[i] = id
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids differ: %v", ids)
		}
	}
	var n int
	if err := f.db.Get(&n, `SELECT count(*) FROM sandbox_card_charges`); err != nil || n != 1 {
		t.Fatalf("%d charges (%v), want 1", n, err)
	}
}
