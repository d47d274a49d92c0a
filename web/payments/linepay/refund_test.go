package linepay_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"webstore/billing"
	"webstore/web/payments/linepay"
	"webstore/web/payments/sandboxtest"
)

// pay registers LINE Pay with card and makes one preapproved payment of
// amount, as the store charges: it returns the payment's transaction id,
// the reference the store keeps for the charge.
func (f *fixture) pay(t *testing.T, card, orderID string, amount int64) string {
	t.Helper()
	regKey := f.register(t, "reg-"+orderID, card)
	id, err := f.client.PayPreapproved(f.ctx, regKey, amount, "TWD", orderID, "LINE官方帳號 推廣方案")
	if err != nil {
		t.Fatalf("pay %s: %v", orderID, err)
	}
	return id
}

// refunds reads a payment's refundList through the Payment Details API.
func (f *fixture) refunds(t *testing.T, c *linepay.Client, transactionID string) []linepay.RefundDetail {
	t.Helper()
	d, found, err := c.PaymentByTransactionID(f.ctx, transactionID)
	if err != nil || !found {
		t.Fatalf("details of %s: found %v, %v", transactionID, found, err)
	}
	return d.Refunds
}

func (f *fixture) refundedAmount(t *testing.T, transactionID string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Get(&n, `SELECT refunded_amount FROM sandbox_linepay_transactions WHERE transaction_id=$1`, transactionID); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRefundInPartsUntilExhausted(t *testing.T) {
	f := newFixture(t)
	f.clock.Set(time.Date(2026, 6, 12, 1, 30, 0, 0, time.UTC))
	id := f.pay(t, linepay.CardCathayVisa, "charge-1", 1260)

	first, err := f.client.Refund(f.ctx, id, 260)
	if err != nil {
		t.Fatal(err)
	}
	if len(first.TransactionID) != 19 || first.TransactionID == id || !first.Date.Equal(f.clock.Now()) {
		t.Fatalf("refund %+v", first)
	}
	// More than the NT$1000 that remains is refused, and refunds nothing.
	_, err = f.client.Refund(f.ctx, id, 1001)
	if apiCode(err) != linepay.CodeRefundExceeded || errors.Is(err, linepay.ErrAlreadyRefunded) || errors.Is(err, linepay.ErrOutcomeUnknown) {
		t.Fatalf("refund beyond what remains: %v, want 1164", err)
	}
	var apiErr *linepay.APIError
	if !errors.As(err, &apiErr) || !strings.Contains(apiErr.RefundMessage(), "超過") {
		t.Fatalf("1164 message: %v", err)
	}
	second, err := f.client.Refund(f.ctx, id, 1000)
	if err != nil {
		t.Fatal(err)
	}
	if got := f.refundedAmount(t, id); got != 1260 {
		t.Fatalf("refunded %d, want 1260", got)
	}
	for _, amount := range []billing.Money{1, 0} {
		_, err := f.client.Refund(f.ctx, id, amount)
		if apiCode(err) != linepay.CodeAlreadyRefunded || !errors.Is(err, linepay.ErrAlreadyRefunded) || errors.Is(err, linepay.ErrOutcomeUnknown) {
			t.Fatalf("refund %d of a refunded payment: %v, want 1165", amount, err)
		}
	}

	rs := f.refunds(t, f.client, id)
	if len(rs) != 2 || rs[0].TransactionID != first.TransactionID || rs[0].Amount != 260 || rs[0].TransactionType != "PARTIAL_REFUND" ||
		rs[1].TransactionID != second.TransactionID || rs[1].Amount != 1000 || !rs[1].Date.Equal(f.clock.Now()) {
		t.Fatalf("refundList %+v", rs)
	}
	// The payment itself stays as it was paid.
	d, _, _ := f.client.PaymentByTransactionID(f.ctx, id)
	if d.Amount() != 1260 || d.PayStatus != "CAPTURE" || d.Refunded() != 1260 {
		t.Fatalf("payment after refunds: %+v", d)
	}
}

func TestFullRefundOfANormalPayment(t *testing.T) {
	f := newFixture(t)
	res, err := f.client.Request(f.ctx, linepay.RequestParams{Amount: 500, OrderID: "once", ProductName: "x",
		ConfirmURL: confirmURL, CancelURL: cancelURL, PayType: linepay.Normal})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sandboxtest.ApproveLinePay(f.ctx, f.srv.Client(), res.PaymentURL.Web, linepay.CardCTBCMastercard); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Confirm(f.ctx, res.TransactionID, 500, ""); err != nil {
		t.Fatal(err)
	}
	r, err := f.client.Refund(f.ctx, res.TransactionID, 0)
	if err != nil {
		t.Fatal(err)
	}
	rs := f.refunds(t, f.client, res.TransactionID)
	if len(rs) != 1 || rs[0].TransactionID != r.TransactionID || rs[0].Amount != 500 || rs[0].TransactionType != "PAYMENT_REFUND" {
		t.Fatalf("refundList %+v", rs)
	}
	// LINE Pay writes refundAmount negative; the client reads it positive.
	var raw int64
	if err := f.db.Get(&raw, `SELECT amount FROM sandbox_linepay_refunds WHERE transaction_id=$1`, res.TransactionID); err != nil || raw != 500 {
		t.Fatalf("stored refund %d (%v)", raw, err)
	}
	if _, err := f.client.Refund(f.ctx, res.TransactionID, 0); !errors.Is(err, linepay.ErrAlreadyRefunded) {
		t.Fatalf("second full refund: %v, want 1165", err)
	}
}

func TestRefundRefusals(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.Refund(f.ctx, "2026061100000009999", 0); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("unknown transaction: %v, want 1150", err)
	}
	if _, err := f.client.Refund(f.ctx, "not-a-number", 0); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("malformed transaction id: %v, want 1150", err)
	}
	if _, err := f.client.Refund(f.ctx, "1", -5); err == nil || apiCode(err) != "" || errors.Is(err, linepay.ErrOutcomeUnknown) {
		t.Fatalf("negative amount: %v", err)
	}
	if _, err := f.client.Refund(f.ctx, "", 0); err == nil || errors.Is(err, linepay.ErrOutcomeUnknown) {
		t.Fatalf("no transaction id: %v", err)
	}
	// An authorization captured nothing, so there is nothing to refund.
	auth := f.authorize(t, "bind-1", linepay.CardCathayVisa)
	if _, err := f.client.Confirm(f.ctx, auth.TransactionID, 1, "TWD"); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Refund(f.ctx, auth.TransactionID, 0); apiCode(err) != linepay.CodeStatusUnprocessable {
		t.Fatalf("refund of an authorization: %v, want 1179", err)
	}
	// A requested payment nobody paid is no payment.
	req := f.request(t, "unpaid", 840)
	if _, err := f.client.Refund(f.ctx, req.TransactionID, 0); apiCode(err) != linepay.CodeNoTransaction {
		t.Fatalf("refund of an unpaid request: %v, want 1150", err)
	}
	// The refund card pays, and refuses every refund (1155).
	id := f.pay(t, linepay.CardRefundRefused, "charge-r", 840)
	_, err := f.client.Refund(f.ctx, id, 100)
	var apiErr *linepay.APIError
	if !errors.As(err, &apiErr) || apiErr.Code != linepay.CodeRefundNotEligible || errors.Is(err, linepay.ErrOutcomeUnknown) ||
		!strings.Contains(apiErr.RefundMessage(), "無法退款") {
		t.Fatalf("refund with the refund-refusing card: %v, want 1155", err)
	}
	if got := f.refundedAmount(t, id); got != 0 || len(f.refunds(t, f.client, id)) != 0 {
		t.Fatalf("a refused refund refunded %d", got)
	}
	// A client with the wrong secret is refused, not left unknown.
	wrong := *f.client
	wrong.ChannelSecret = "wrong"
	if _, err := wrong.Refund(f.ctx, id, 0); apiCode(err) != linepay.CodeHeaderError || errors.Is(err, linepay.ErrOutcomeUnknown) {
		t.Fatalf("wrong secret: %v, want 1106", err)
	}
}

func TestConcurrentRefundsNeverExceedThePayment(t *testing.T) {
	f := newFixture(t)
	id := f.pay(t, linepay.CardCathayVisa, "charge-race", 1000)
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		made, exceeded int
	)
	for range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.client.Refund(f.ctx, id, 300)
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case apiCode(err) == linepay.CodeRefundExceeded:
				exceeded++
			default:
				t.Errorf("refund: %v", err)
			}
		}()
	}
	wg.Wait()
	if made != 3 || exceeded != 7 {
		t.Fatalf("%d refunds made, %d refused; want 3 and 7", made, exceeded)
	}
	if got := f.refundedAmount(t, id); got != 900 || len(f.refunds(t, f.client, id)) != 3 {
		t.Fatalf("refunded %d, want 900", got)
	}
}

// faulty serves a second sandbox on f's database whose refunds fail as
// fault says, and returns a client of it.
func (f *fixture) faulty(t *testing.T, fault func(transactionID string) linepay.Fault) *linepay.Client {
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", linepay.NewSandbox(f.db, linepay.SandboxConfig{
		ChannelID: channelID, ChannelSecret: secret, BasePath: basePath, Now: f.clock.Now,
		RefundFault: fault, FaultHold: 5 * time.Second}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &linepay.Client{BaseURL: srv.URL + basePath, ChannelID: channelID, ChannelSecret: secret, HTTP: srv.Client()}
}

func TestRefundWithoutAnswer(t *testing.T) {
	f := newFixture(t)
	lost := f.pay(t, linepay.CardCathayVisa, "charge-lost", 1260)
	unmade := f.pay(t, linepay.CardCathayVisa, "charge-unmade", 840)
	faults := map[string]linepay.Fault{lost: linepay.FaultLostAnswer, unmade: linepay.FaultNoAnswer}
	c := f.faulty(t, func(id string) linepay.Fault { return faults[id] })

	refund := func(id string, amount billing.Money) error {
		ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
		defer cancel()
		_, err := c.Refund(ctx, id, amount)
		return err
	}
	start := time.Now()
	for _, id := range []string{lost, unmade} {
		err := refund(id, 500)
		if !errors.Is(err, linepay.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) || apiCode(err) != "" {
			t.Fatalf("refund of %s without an answer: %v", id, err)
		}
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("the client waited %s, past its deadline", time.Since(start))
	}

	// Looking the payments up tells what happened: one was refunded, the
	// other not.
	if rs := f.refunds(t, c, lost); len(rs) != 1 || rs[0].Amount != 500 {
		t.Fatalf("refunds of the lost answer: %+v", rs)
	}
	if rs := f.refunds(t, c, unmade); len(rs) != 0 {
		t.Fatalf("refunds of the unanswered, unmade one: %+v", rs)
	}
	// With the fault gone, the unmade refund can be asked again; a full
	// refund of the other takes what remains and then 1165 says it is done.
	delete(faults, unmade)
	delete(faults, lost)
	if _, err := c.Refund(f.ctx, unmade, 500); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refund(f.ctx, lost, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Refund(f.ctx, lost, 0); !errors.Is(err, linepay.ErrAlreadyRefunded) {
		t.Fatalf("after the lost answer: %v, want 1165", err)
	}
	if got := f.refundedAmount(t, lost); got != 1260 {
		t.Fatalf("refunded %d, want 1260", got)
	}
}

func TestRefundOutcomeUnknownWithoutLinePayAnswer(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"9000": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"returnCode":"9000","returnMessage":"Internal error."}`))
		},
		"502": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad gateway", http.StatusBadGateway) },
		"no refundTransactionId": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(`{"returnCode":"0000","returnMessage":"Success."}`))
		},
	} {
		srv := httptest.NewServer(h)
		c := &linepay.Client{BaseURL: srv.URL, ChannelID: channelID, ChannelSecret: secret}
		if _, err := c.Refund(context.Background(), "2026061100000000001", 0); !errors.Is(err, linepay.ErrOutcomeUnknown) {
			t.Errorf("%s: %v, want an unknown outcome", name, err)
		}
		srv.Close()
	}
}

func TestRefundWire(t *testing.T) {
	var bodies []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		bodies = append(bodies, string(b))
		want := linepay.Sign(secret, "/v3/payments/2026061100000000001/refund", string(b), r.Header.Get("X-LINE-Authorization-Nonce"))
		if r.Method != http.MethodPost || r.URL.Path != "/v3/payments/2026061100000000001/refund" ||
			r.Header.Get("X-LINE-Authorization") != want || r.Header.Get("X-LINE-ChannelId") != channelID {
			t.Errorf("%s %s, signature %q", r.Method, r.URL.Path, r.Header.Get("X-LINE-Authorization"))
		}
		w.Write([]byte(`{"returnCode":"0000","returnMessage":"Success.",
			"info":{"refundTransactionId":2026061123456789012,"refundTransactionDate":"2026-06-11T02:00:00Z"}}`))
	}))
	defer srv.Close()
	c := &linepay.Client{BaseURL: srv.URL, ChannelID: channelID, ChannelSecret: secret}
	for _, amount := range []billing.Money{260, 0} {
		r, err := c.Refund(context.Background(), "2026061100000000001", amount)
		// The id stays exact: through float64 it would end in ...9000.
		if err != nil || r.TransactionID != "2026061123456789012" || !r.Date.Equal(time.Date(2026, 6, 11, 2, 0, 0, 0, time.UTC)) {
			t.Fatalf("refund %d: %+v %v", amount, r, err)
		}
	}
	if len(bodies) != 2 || bodies[0] != `{"refundAmount":260}` || bodies[1] != `{}` {
		t.Fatalf("bodies %q", bodies)
	}
}

// A refund with no body at all is a full refund too, as LINE Pay takes it.
func TestSandboxRefundWithoutBody(t *testing.T) {
	f := newFixture(t)
	id := f.pay(t, linepay.CardCathayVisa, "charge-1", 840)
	path := "/v3/payments/" + id + "/refund"
	req, err := http.NewRequest(http.MethodPost, f.srv.URL+basePath+path, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-LINE-ChannelId", channelID)
	req.Header.Set("X-LINE-Authorization-Nonce", "n1")
	req.Header.Set("X-LINE-Authorization", linepay.Sign(secret, path, "", "n1"))
	resp, err := f.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), `"returnCode":"0000"`) || f.refundedAmount(t, id) != 840 {
		t.Fatalf("answer %s, refunded %d", b, f.refundedAmount(t, id))
	}
}
