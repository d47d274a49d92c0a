package payments

import (
	"context"
	"errors"
	"fmt"
	"slices"

	"webstore/billing"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

var _ billing.Refunder = Gateway{}

// Refund gives r.Amount of a payment back through the provider that took
// it. A provider's refusal becomes a *DeclineError whose Reason is a zh-TW
// sentence for the staff member; no answer stays an ordinary error (the
// store asks again later with r.Retry set).
//
// A provider that says the payment is refunded already is asked what it
// refunded: a refund of r.Amount that the store has not recorded (not in
// r.Known) is this one, made before its answer was lost.
func (g Gateway) Refund(ctx context.Context, r billing.RefundPayment) (string, error) {
	if r.Amount <= 0 {
		return "", fmt.Errorf("payments: refund %d: amount %d is not positive", r.RefundID, r.Amount)
	}
	if r.PaymentRef == "" {
		return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: "這筆付款沒有付款服務的交易編號,無法退款。"}
	}
	switch r.Kind {
	case billing.LinePay:
		return g.refundLinePay(ctx, r)
	case billing.CreditCard:
		return g.refundCard(ctx, r)
	}
	return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: "此付款方式無法自動退款,請以匯款方式退還款項。"}
}

// refundLinePay refunds through LINE Pay, which keeps no idempotency key:
// a retry first looks for the refund among the payment's.
func (g Gateway) refundLinePay(ctx context.Context, r billing.RefundPayment) (string, error) {
	if g.LinePay == nil {
		return "", errors.New("payments: LINE Pay is not configured")
	}
	if r.Retry {
		if ref, ok, err := g.linePayMade(ctx, r); err != nil || ok {
			return ref, err
		}
	}
	made, err := g.LinePay.Refund(ctx, r.PaymentRef, r.Amount)
	if err == nil {
		return made.TransactionID, nil
	}
	var apiErr *linepay.APIError
	switch {
	case errors.Is(err, linepay.ErrAlreadyRefunded):
		if ref, ok, lerr := g.linePayMade(ctx, r); lerr != nil || ok {
			return ref, lerr
		}
		if errors.As(err, &apiErr) {
			return "", &billing.DeclineError{Failure: billing.RefundAlreadyRefunded, Reason: apiErr.RefundMessage()}
		}
	case errors.Is(err, linepay.ErrOutcomeUnknown):
	case errors.As(err, &apiErr):
		return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: apiErr.RefundMessage()}
	}
	return "", fmt.Errorf("payments: LINE Pay refund %d: %w", r.RefundID, err)
}

// linePayMade looks for a refund of r.Amount of the payment that the store
// has not recorded.
func (g Gateway) linePayMade(ctx context.Context, r billing.RefundPayment) (string, bool, error) {
	d, found, err := g.LinePay.PaymentByTransactionID(ctx, r.PaymentRef)
	if err != nil || !found {
		return "", false, err
	}
	for _, rf := range d.Refunds {
		if rf.Amount == r.Amount && !slices.Contains(r.Known, rf.TransactionID) {
			return rf.TransactionID, true, nil
		}
	}
	return "", false, nil
}

// refundCard refunds through the card gateway under the refund's key: a
// repeat answers the first refund.
func (g Gateway) refundCard(ctx context.Context, r billing.RefundPayment) (string, error) {
	if g.Cards == nil {
		return "", errors.New("payments: the card gateway is not configured")
	}
	made, err := g.Cards.Refund(ctx, r.PaymentRef, r.Amount, r.Key)
	if err == nil {
		return made.ID, nil
	}
	var decline *cardgw.DeclineError
	var apiErr *cardgw.APIError
	switch {
	case errors.As(err, &decline):
		return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: "信用卡退款遭發卡銀行拒絕,請改以其他方式退還款項。"}
	case errors.Is(err, cardgw.ErrAlreadyRefunded):
		found, ferr := g.Cards.FindRefunds(ctx, cardgw.RefundFilter{IdempotencyKey: r.Key})
		if ferr != nil {
			return "", fmt.Errorf("payments: card refund %d: %w", r.RefundID, ferr)
		}
		for _, f := range found {
			if f.Status == "succeeded" {
				return f.ID, nil
			}
		}
		return "", &billing.DeclineError{Failure: billing.RefundAlreadyRefunded, Reason: "這筆信用卡付款已經全額退款,不會重複退款。"}
	case errors.Is(err, cardgw.ErrOutcomeUnknown):
	case errors.As(err, &apiErr):
		return "", &billing.DeclineError{Failure: billing.RefundDeclined, Reason: "信用卡退款失敗:" + apiErr.Message}
	}
	return "", fmt.Errorf("payments: card refund %d: %w", r.RefundID, err)
}
