// Package payments routes the billing store's payments to the provider of
// each payment method: LINE Pay preapproved payments (package linepay) or
// the card gateway (package cardgw). Bank transfers cannot be collected
// automatically.
package payments

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"webstore/billing"
	"webstore/web/payments/cardgw"
	"webstore/web/payments/linepay"
)

// ProductName is how the webstore's payments are named to LINE Pay and on
// card statements.
const ProductName = "LINE官方帳號 推廣方案"

// Gateway is the store's billing.Gateway over the real providers. A
// provider's refusal of the payer's method becomes a *billing.DeclineError
// whose Reason is a zh-TW sentence for the admin; anything else (network,
// configuration, a malformed request) stays an ordinary error.
type Gateway struct {
	LinePay *linepay.Client
	Cards   *cardgw.Client
}

var _ billing.Gateway = Gateway{}

// Pay takes p.Amount from the account's stored method. p.Key is passed to
// the provider as its idempotency key (LINE Pay's orderId, the card
// gateway's Idempotency-Key), so a retry with the same key never pays twice
// and returns the first payment's reference.
func (g Gateway) Pay(ctx context.Context, p billing.Payment) (string, error) {
	if p.Amount <= 0 {
		return "", fmt.Errorf("payments: charge %d: amount %d is not positive", p.ChargeID, p.Amount)
	}
	if p.Key == "" {
		return "", fmt.Errorf("payments: charge %d has no idempotency key", p.ChargeID)
	}
	switch p.Kind {
	case billing.LinePay:
		return g.payLinePay(ctx, p)
	case billing.CreditCard:
		return g.payCard(ctx, p)
	case billing.BankTransfer:
		return "", &billing.DeclineError{Reason: "銀行轉帳無法自動扣款,請依帳單上的匯款資訊以轉帳方式付款。"}
	}
	return "", fmt.Errorf("payments: charge %d: unknown payment kind %q", p.ChargeID, p.Kind)
}

// payLinePay pays with the regKey stored as the method's token.
func (g Gateway) payLinePay(ctx context.Context, p billing.Payment) (string, error) {
	if g.LinePay == nil {
		return "", errors.New("payments: LINE Pay is not configured")
	}
	if p.Token == "" {
		return "", &billing.DeclineError{Failure: billing.FailNoPaymentMethod, Reason: "尚未完成 LINE Pay 自動付款設定,請重新設定 LINE Pay 付款方式。"}
	}
	id, err := g.LinePay.PayPreapproved(ctx, p.Token, int64(p.Amount), "TWD", p.Key, ProductName)
	// Any answer from LINE Pay other than success is a refusal: nothing was
	// paid. Only its internal error (9000) and no answer at all leave the
	// outcome unknown, for a later try with the same orderId.
	var apiErr *linepay.APIError
	if errors.As(err, &apiErr) && apiErr.Code != linepay.CodeInternal {
		return "", &billing.DeclineError{Reason: apiErr.UserMessage()}
	}
	if err != nil {
		return "", fmt.Errorf("payments: LINE Pay payment for charge %d: %w", p.ChargeID, err)
	}
	return id, nil
}

// payCard charges the stored card (card_...) that is the method's token.
func (g Gateway) payCard(ctx context.Context, p billing.Payment) (string, error) {
	if g.Cards == nil {
		return "", errors.New("payments: the card gateway is not configured")
	}
	if p.Token == "" {
		return "", &billing.DeclineError{Failure: billing.FailNoPaymentMethod, Reason: "尚未設定信用卡,請重新新增信用卡。"}
	}
	description := fmt.Sprintf("%s 付款編號 %d", ProductName, p.ChargeID)
	id, err := g.Cards.Charge(ctx, p.Token, int64(p.Amount), description, p.Key)
	var decline *cardgw.DeclineError
	if errors.As(err, &decline) {
		failure := billing.FailDeclined
		if decline.Code == cardgw.CodeInsufficientFunds {
			failure = billing.FailInsufficientFunds
		}
		return "", &billing.DeclineError{Failure: failure, Reason: decline.UserMessage()}
	}
	// A 4xx refusal (an unknown or removed card, a malformed request) took
	// nothing; a 409 (the same key in flight) or a 5xx leaves the outcome
	// unknown, for a later try with the same key.
	var apiErr *cardgw.APIError
	if errors.As(err, &apiErr) && apiErr.Status >= 400 && apiErr.Status < 500 && apiErr.Status != http.StatusConflict &&
		apiErr.Status != http.StatusTooManyRequests {
		return "", &billing.DeclineError{Reason: "信用卡扣款失敗:這張卡片已無法使用,請重新新增信用卡。"}
	}
	if err != nil {
		return "", fmt.Errorf("payments: card charge for charge %d: %w", p.ChargeID, err)
	}
	return id, nil
}
