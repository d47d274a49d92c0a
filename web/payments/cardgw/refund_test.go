package cardgw_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"webstore/billing"
	"webstore/web/payments/cardgw"
)

// charge attaches number and charges it amount, as the store pays: it
// returns the charge id, the reference the store keeps for the payment.
func (f *fixture) charge(t *testing.T, number string, amount int64, key string) string {
	t.Helper()
	card := f.attach(t, number, "12/28")
	id, err := f.client.Charge(f.ctx, card.ID, amount, "LINE官方帳號 推廣方案", key)
	if err != nil {
		t.Fatalf("charge %s: %v", key, err)
	}
	return id
}

func (f *fixture) amountRefunded(t *testing.T, chargeID string) int64 {
	t.Helper()
	var n int64
	if err := f.db.Get(&n, `SELECT amount_refunded FROM sandbox_card_charges WHERE id=$1`, chargeID); err != nil {
		t.Fatal(err)
	}
	return n
}

func apiCodeOf(err error) string {
	if e := apiError(err); e != nil {
		return e.Code
	}
	return ""
}

func TestRefundInPartsUntilExhausted(t *testing.T) {
	f := newFixture(t)
	ch := f.charge(t, "4242424242424242", 1260, "charge-1")

	first, err := f.client.Refund(f.ctx, ch, 260, "refund-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(first.ID, "re_") || first.Charge != ch || first.Amount != 260 || first.Status != "succeeded" ||
		!first.Created.Equal(f.clock.Now().Truncate(time.Second)) {
		t.Fatalf("refund %+v", first)
	}
	// The same key answers the first refund and refunds nothing more.
	again, err := f.client.Refund(f.ctx, ch, 260, "refund-1")
	if err != nil || again != first {
		t.Fatalf("replay: %+v %v, want %+v", again, err, first)
	}
	if got := f.amountRefunded(t, ch); got != 260 {
		t.Fatalf("refunded %d after a replay, want 260", got)
	}
	// The same key for another amount or charge is a merchant bug.
	if _, err := f.client.Refund(f.ctx, ch, 300, "refund-1"); apiCodeOf(err) != cardgw.CodeIdempotencyKeyReused ||
		errors.Is(err, cardgw.ErrOutcomeUnknown) {
		t.Fatalf("same key, other amount: %v", err)
	}
	// A new key for more than the NT$1000 that remain is refused.
	_, err = f.client.Refund(f.ctx, ch, 1001, "refund-2")
	if apiCodeOf(err) != cardgw.CodeAmountTooLarge || apiError(err).Status != http.StatusBadRequest ||
		errors.Is(err, cardgw.ErrAlreadyRefunded) || errors.Is(err, cardgw.ErrOutcomeUnknown) {
		t.Fatalf("refund beyond what remains: %v", err)
	}
	second, err := f.client.Refund(f.ctx, ch, 0, "refund-3") // all that remains
	if err != nil || second.Amount != 1000 {
		t.Fatalf("refund of the rest: %+v %v", second, err)
	}
	// A replay of the whole refund still answers it, amount 0 or 1000.
	for _, amount := range []billing.Money{0, 1000} {
		if r, err := f.client.Refund(f.ctx, ch, amount, "refund-3"); err != nil || r.ID != second.ID {
			t.Fatalf("replay of the rest with %d: %+v %v", amount, r, err)
		}
	}
	for _, amount := range []billing.Money{0, 1} {
		_, err := f.client.Refund(f.ctx, ch, amount, fmt.Sprintf("refund-after-%d", amount))
		if apiCodeOf(err) != cardgw.CodeChargeAlreadyRefunded || !errors.Is(err, cardgw.ErrAlreadyRefunded) || errors.Is(err, cardgw.ErrOutcomeUnknown) {
			t.Fatalf("refund %d of a refunded charge: %v", amount, err)
		}
	}
	if got := f.amountRefunded(t, ch); got != 1260 {
		t.Fatalf("refunded %d, want 1260", got)
	}
	list, err := f.client.FindRefunds(f.ctx, cardgw.RefundFilter{Charge: ch})
	if err != nil || len(list) != 2 || list[0] != first || list[1] != second {
		t.Fatalf("refunds of the charge: %+v %v", list, err)
	}
	if byKey, err := f.client.FindRefunds(f.ctx, cardgw.RefundFilter{IdempotencyKey: "refund-3"}); err != nil || len(byKey) != 1 || byKey[0] != second {
		t.Fatalf("refund by key: %+v %v", byKey, err)
	}
	if none, err := f.client.FindRefunds(f.ctx, cardgw.RefundFilter{IdempotencyKey: "refund-2"}); err != nil || len(none) != 0 {
		t.Fatalf("a refused refund is listed: %+v %v", none, err)
	}
}

func TestRefundRefusals(t *testing.T) {
	f := newFixture(t)
	if _, err := f.client.Refund(f.ctx, "ch_nope", 100, "k1"); apiCodeOf(err) != cardgw.CodeChargeNotFound || apiError(err).Status != http.StatusNotFound {
		t.Fatalf("unknown charge: %v", err)
	}
	if _, err := f.client.Refund(f.ctx, "ch_nope", 100, ""); err == nil {
		t.Fatal("refunded without an idempotency key")
	}
	if _, err := f.client.Refund(f.ctx, "ch_nope", -1, "k2"); err == nil || apiError(err) != nil {
		t.Fatalf("negative amount: %v", err)
	}
	// A declined charge took nothing.
	card := f.attach(t, "4000000000000341", "12/28")
	if _, err := f.client.Charge(f.ctx, card.ID, 840, "x", "declined"); declineCode(err) != cardgw.CodeInsufficientFunds {
		t.Fatalf("charge: %v", err)
	}
	var declined string
	if err := f.db.Get(&declined, `SELECT id FROM sandbox_card_charges WHERE idempotency_key='declined'`); err != nil {
		t.Fatal(err)
	}
	if _, err := f.client.Refund(f.ctx, declined, 0, "k3"); apiCodeOf(err) != cardgw.CodeChargeNotRefundable {
		t.Fatalf("refund of a declined charge: %v", err)
	}
	wrong := *f.client
	wrong.SecretKey = "sk_wrong"
	if _, err := wrong.Refund(f.ctx, declined, 0, "k4"); apiError(err) == nil || apiError(err).Status != http.StatusUnauthorized ||
		errors.Is(err, cardgw.ErrOutcomeUnknown) {
		t.Fatalf("wrong secret key: %v", err)
	}
}

func TestRefundDeclineCard(t *testing.T) {
	f := newFixture(t)
	ch := f.charge(t, "4000 0000 0000 5126", 1260, "charge-1")
	_, err := f.client.Refund(f.ctx, ch, 500, "refund-1")
	var d *cardgw.DeclineError
	if !errors.As(err, &d) || d.Code != cardgw.CodeRefundDeclined || !strings.Contains(d.UserMessage(), "退款失敗") ||
		errors.Is(err, cardgw.ErrOutcomeUnknown) {
		t.Fatalf("refund with 5126: %v", err)
	}
	// The retry answers the same decline; nothing was refunded.
	if _, err := f.client.Refund(f.ctx, ch, 500, "refund-1"); declineCode(err) != cardgw.CodeRefundDeclined {
		t.Fatalf("retry: %v", err)
	}
	if got := f.amountRefunded(t, ch); got != 0 {
		t.Fatalf("refunded %d", got)
	}
	list, err := f.client.FindRefunds(f.ctx, cardgw.RefundFilter{Charge: ch})
	if err != nil || len(list) != 1 || list[0].Status != "failed" || list[0].FailureCode != cardgw.CodeRefundDeclined {
		t.Fatalf("refunds: %+v %v", list, err)
	}
}

func TestConcurrentRefundsNeverExceedTheCharge(t *testing.T) {
	f := newFixture(t)
	ch := f.charge(t, "4242424242424242", 1000, "charge-race")
	var (
		wg             sync.WaitGroup
		mu             sync.Mutex
		made, tooLarge int
	)
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := f.client.Refund(f.ctx, ch, 300, fmt.Sprintf("refund-%d", i))
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				made++
			case apiCodeOf(err) == cardgw.CodeAmountTooLarge:
				tooLarge++
			default:
				t.Errorf("refund %d: %v", i, err)
			}
		}()
	}
	wg.Wait()
	if made != 3 || tooLarge != 7 {
		t.Fatalf("%d refunds made, %d refused; want 3 and 7", made, tooLarge)
	}
	if got := f.amountRefunded(t, ch); got != 900 {
		t.Fatalf("refunded %d, want 900", got)
	}
}

func TestConcurrentRetriesRefundOnce(t *testing.T) {
	f := newFixture(t)
	ch := f.charge(t, "4242424242424242", 1000, "charge-race")
	ids := make([]string, 8)
	var wg sync.WaitGroup
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := f.client.Refund(f.ctx, ch, 400, "refund-race")
			if err != nil {
				t.Errorf("refund %d: %v", i, err)
			}
			ids[i] = r.ID
		}()
	}
	wg.Wait()
	for _, id := range ids {
		if id != ids[0] {
			t.Fatalf("ids differ: %v", ids)
		}
	}
	if got := f.amountRefunded(t, ch); got != 400 {
		t.Fatalf("refunded %d, want 400", got)
	}
}

// faulty serves a second sandbox on f's database whose refunds fail as
// fault says, and returns a client of it.
func (f *fixture) faulty(t *testing.T, fault func(chargeID string) cardgw.Fault) *cardgw.Client {
	mux := http.NewServeMux()
	mux.Handle(basePath+"/", cardgw.NewSandbox(f.db, cardgw.SandboxConfig{PublicKey: publicKey, SecretKey: secretKey,
		BasePath: basePath, Now: f.clock.Now, RefundFault: fault, FaultHold: 5 * time.Second}))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return &cardgw.Client{BaseURL: srv.URL + basePath, SecretKey: secretKey, HTTP: srv.Client()}
}

func TestRefundWithoutAnswer(t *testing.T) {
	f := newFixture(t)
	lost := f.charge(t, "4242424242424242", 1260, "charge-lost")
	unmade := f.charge(t, "5555555555554444", 840, "charge-unmade")
	var mu sync.Mutex
	faults := map[string]cardgw.Fault{lost: cardgw.FaultLostAnswer, unmade: cardgw.FaultNoAnswer}
	c := f.faulty(t, func(id string) cardgw.Fault {
		mu.Lock()
		defer mu.Unlock()
		return faults[id]
	})

	start := time.Now()
	for id, key := range map[string]string{lost: "refund-lost", unmade: "refund-unmade"} {
		ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
		_, err := c.Refund(ctx, id, 500, key)
		cancel()
		if !errors.Is(err, cardgw.ErrOutcomeUnknown) || !errors.Is(err, context.DeadlineExceeded) || apiError(err) != nil {
			t.Fatalf("refund of %s without an answer: %v", id, err)
		}
	}
	if time.Since(start) > 3*time.Second {
		t.Fatalf("the client waited %s, past its deadline", time.Since(start))
	}

	// Looking the keys up tells what happened.
	if rs, err := c.FindRefunds(f.ctx, cardgw.RefundFilter{IdempotencyKey: "refund-lost"}); err != nil || len(rs) != 1 ||
		rs[0].Amount != 500 || rs[0].Status != "succeeded" || rs[0].Charge != lost {
		t.Fatalf("the lost answer's refund: %+v %v", rs, err)
	}
	if rs, err := c.FindRefunds(f.ctx, cardgw.RefundFilter{IdempotencyKey: "refund-unmade"}); err != nil || len(rs) != 0 {
		t.Fatalf("the unmade refund: %+v %v", rs, err)
	}
	// Retrying with the same keys, the fault gone, refunds each once.
	mu.Lock()
	clear(faults)
	mu.Unlock()
	for id, key := range map[string]string{lost: "refund-lost", unmade: "refund-unmade"} {
		if r, err := c.Refund(f.ctx, id, 500, key); err != nil || r.Amount != 500 {
			t.Fatalf("retry of %s: %+v %v", key, r, err)
		}
		if got := f.amountRefunded(t, id); got != 500 {
			t.Fatalf("%s: refunded %d, want 500", key, got)
		}
	}
}

func TestRefundOutcomeUnknownWithoutGatewayAnswer(t *testing.T) {
	for name, h := range map[string]http.HandlerFunc{
		"500": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusInternalServerError)
			w.Write([]byte(`{"error":{"type":"api_error","code":"internal_error","message":"Internal error."}}`))
		},
		"502 page": func(w http.ResponseWriter, r *http.Request) { http.Error(w, "bad gateway", http.StatusBadGateway) },
		"409 in flight": func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(http.StatusConflict)
			w.Write([]byte(`{"error":{"type":"idempotency_error","code":"request_in_progress","message":"busy"}}`))
		},
		"no refund id": func(w http.ResponseWriter, r *http.Request) { w.Write([]byte(`{}`)) },
	} {
		srv := httptest.NewServer(h)
		c := &cardgw.Client{BaseURL: srv.URL, SecretKey: secretKey}
		if _, err := c.Refund(context.Background(), "ch_x", 0, "k"); !errors.Is(err, cardgw.ErrOutcomeUnknown) {
			t.Errorf("%s: %v, want an unknown outcome", name, err)
		}
		srv.Close()
	}
}
