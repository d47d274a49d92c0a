package billing

import (
	"context"
	"strings"
	"unicode/utf8"
)

// RefundStatus is where a refund is in its lifecycle: pending until the
// provider answers (asked again under its key when the answer was lost),
// then succeeded or failed, both final.
type RefundStatus string

// Refund statuses.
const (
	RefundPending   RefundStatus = "pending"
	RefundSucceeded RefundStatus = "succeeded"
	RefundFailed    RefundStatus = "failed"
)

// Refund failures.
const (
	RefundDeclined        Failure = "declined"         // the provider refused it
	RefundAlreadyRefunded Failure = "already_refunded" // the provider holds the payment as refunded already
)

// RefundAmount checks a refund of amount from a paid charge of total of
// which refunded (succeeded or pending) has been given back, and returns
// the amount to refund: amount 0 asks for everything left. Refunds of a
// charge never add up to more than it paid.
func RefundAmount(total, refunded, amount Money) (Money, error) {
	left := total - refunded
	switch {
	case total <= 0:
		return 0, Errorf(EInvalid, "這筆付款金額為 NT$0,沒有可退款的金額。")
	case left <= 0:
		return 0, Errorf(EInvalid, "這筆付款已全額退款。")
	case amount < 0:
		return 0, Errorf(EInvalid, "退款金額須大於 0。")
	case amount == 0:
		return left, nil
	case amount > left:
		return 0, Errorf(EInvalid, "退款金額 %s 超過可退款金額 %s。", amount, left)
	}
	return amount, nil
}

// RefundReason is a staff member's reason, trimmed and checked: required,
// at most 200 characters.
func RefundReason(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", Errorf(EInvalid, "請填寫退款原因。")
	case utf8.RuneCountInString(s) > 200:
		return "", Errorf(EInvalid, "退款原因最多 200 字。")
	}
	return s, nil
}

// RefundPayment is one request to a payment provider to give back part or
// all of a payment it took.
type RefundPayment struct {
	RefundID   int64
	ChargeID   int64
	AccountID  string
	Kind       PaymentKind
	PaymentRef string // the provider's reference of the payment (what Pay returned)
	Amount     Money
	// Key identifies the refund to the provider: asked again under the same
	// key, a provider that keeps keys answers with the first refund.
	Key string
	// Retry is set when the refund was asked before and the answer lost;
	// Known lists the provider's references of the payment's refunds
	// already recorded, so a provider without keys can be asked what became
	// of this one (a refund it made that is not among them).
	Retry bool
	Known []string
}

// Refunder gives money back through the provider that took it. A refusal
// is a *DeclineError (Failure RefundDeclined or RefundAlreadyRefunded);
// any other error leaves the outcome unknown.
type Refunder interface {
	Refund(ctx context.Context, r RefundPayment) (ref string, err error)
}
