package payments_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"webstore/billing"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

func refusal(err error) billing.Failure {
	var d *billing.DeclineError
	if errors.As(err, &d) {
		return d.Failure
	}
	return ""
}

// LINE Pay keeps no refund keys: a refund whose answer was lost is found
// among the payment's refunds when asked again, and made only once.
func TestLinePayRefunds(t *testing.T) {
	var lose atomic.Bool
	f := newFixtureWith(t, func(string) linepay.Fault {
		if lose.Load() {
			return linepay.FaultLostAnswer
		}
		return linepay.FaultNone
	}, nil)
	tok := f.regKey(t, "reg-1", linepay.CardCathayVisa)
	ref, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 7, Kind: billing.LinePay, Token: tok, Amount: 1260, Key: "charge-7"})
	if err != nil {
		t.Fatal(err)
	}
	r := billing.RefundPayment{RefundID: 1, ChargeID: 7, Kind: billing.LinePay, PaymentRef: ref, Amount: 420, Key: "refund-1"}
	first, err := f.gw.Refund(f.ctx, r)
	if err != nil || first == "" {
		t.Fatalf("partial refund: %q, %v", first, err)
	}
	lose.Store(true)
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	r2 := billing.RefundPayment{RefundID: 2, ChargeID: 7, Kind: billing.LinePay, PaymentRef: ref, Amount: 420, Key: "refund-2", Known: []string{first}}
	_, err = f.gw.Refund(ctx, r2)
	cancel()
	if err == nil || refusal(err) != "" {
		t.Fatalf("lost answer: %v", err)
	}
	lose.Store(false)
	r2.Retry = true
	second, err := f.gw.Refund(f.ctx, r2)
	if err != nil || second == "" || second == first {
		t.Fatalf("asked again: %q, %v", second, err)
	}
	d, _, err := f.gw.LinePay.PaymentByTransactionID(f.ctx, ref)
	if err != nil || len(d.Refunds) != 2 || d.Refunded() != 840 {
		t.Fatalf("LINE Pay holds %+v, %v; want two refunds of 420", d.Refunds, err)
	}
	// The rest, then nothing is left: already refunded.
	if _, err := f.gw.Refund(f.ctx, billing.RefundPayment{RefundID: 3, Kind: billing.LinePay, PaymentRef: ref, Amount: 420, Key: "refund-3", Known: []string{first, second}}); err != nil {
		t.Fatal(err)
	}
	_, err = f.gw.Refund(f.ctx, billing.RefundPayment{RefundID: 4, Kind: billing.LinePay, PaymentRef: ref, Amount: 1, Key: "refund-4"})
	if refusal(err) == "" {
		t.Fatalf("a refund beyond the payment: %v", err)
	}

	refused := f.regKey(t, "reg-2", linepay.CardRefundRefused)
	ref2, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 8, Kind: billing.LinePay, Token: refused, Amount: 840, Key: "charge-8"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gw.Refund(f.ctx, billing.RefundPayment{RefundID: 5, Kind: billing.LinePay, PaymentRef: ref2, Amount: 840, Key: "refund-5"}); refusal(err) != billing.RefundDeclined {
		t.Fatalf("a refused refund: %v", err)
	}
}

// The card gateway keeps refund keys: asked again under the same key after
// a lost answer, it answers with the refund it made.
func TestCardRefunds(t *testing.T) {
	var lose atomic.Bool
	f := newFixtureWith(t, nil, func(string) cardgw.Fault {
		if lose.Load() {
			return cardgw.FaultLostAnswer
		}
		return cardgw.FaultNone
	})
	card := f.card(t, "4242424242424242")
	ref, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 7, Kind: billing.CreditCard, Token: card, Amount: 840, Key: "charge-7"})
	if err != nil {
		t.Fatal(err)
	}
	lose.Store(true)
	ctx, cancel := context.WithTimeout(f.ctx, 300*time.Millisecond)
	r := billing.RefundPayment{RefundID: 1, Kind: billing.CreditCard, PaymentRef: ref, Amount: 840, Key: "refund-1"}
	_, err = f.gw.Refund(ctx, r)
	cancel()
	if err == nil || refusal(err) != "" {
		t.Fatalf("lost answer: %v", err)
	}
	lose.Store(false)
	r.Retry = true
	made, err := f.gw.Refund(f.ctx, r)
	if err != nil || made == "" {
		t.Fatalf("asked again: %q, %v", made, err)
	}
	found, err := f.gw.Cards.FindRefunds(f.ctx, cardgw.RefundFilter{Charge: ref})
	if err != nil || len(found) != 1 {
		t.Fatalf("the gateway holds %+v, %v; want one refund", found, err)
	}
	if _, err := f.gw.Refund(f.ctx, billing.RefundPayment{RefundID: 2, Kind: billing.CreditCard, PaymentRef: ref, Amount: 1, Key: "refund-2"}); refusal(err) != billing.RefundAlreadyRefunded {
		t.Fatalf("a refund of a refunded charge: %v", err)
	}

	poor := f.card(t, "4000000000005126")
	ref2, err := f.gw.Pay(f.ctx, billing.Payment{ChargeID: 8, Kind: billing.CreditCard, Token: poor, Amount: 840, Key: "charge-8"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.gw.Refund(f.ctx, billing.RefundPayment{RefundID: 3, Kind: billing.CreditCard, PaymentRef: ref2, Amount: 840, Key: "refund-3"}); refusal(err) != billing.RefundDeclined {
		t.Fatalf("a declined refund: %v", err)
	}
	if _, err := f.gw.Refund(f.ctx, billing.RefundPayment{RefundID: 4, Kind: billing.BankTransfer, PaymentRef: "x", Amount: 840, Key: "refund-4"}); refusal(err) != billing.RefundDeclined {
		t.Fatalf("a bank transfer: %v", err)
	}
}
