package billing

import (
	"context"
	"errors"
)

// Payment is one request to a payment provider.
type Payment struct {
	ChargeID  int64
	AccountID string
	Kind      PaymentKind
	Token     string // the provider's token for the stored method
	Amount    Money
	// Key identifies the payment to the provider; a retry with the same key
	// must not pay twice.
	Key string
}

// Gateway takes payments. Implementations talk to LINE Pay or the card
// gateway; a decline is reported as a *DeclineError.
type Gateway interface {
	Pay(ctx context.Context, p Payment) (ref string, err error)
}

// DeclineError is a payment the provider refused: nothing was taken.
// Failure is the refusal's id (declined when unset) and Reason the
// provider's words for the admin (zh-TW).
type DeclineError struct {
	Failure Failure
	Reason  string
}

func (e *DeclineError) Error() string { return "declined: " + e.Reason }

// Refusal returns the provider's refusal in err, its Failure FailDeclined
// when the provider named none, or nil when err is not one (a timeout, a
// 5xx, no answer: the outcome is unknown).
func Refusal(err error) *DeclineError {
	var de *DeclineError
	if errors.As(err, &de) {
		if de.Failure == "" {
			return &DeclineError{Failure: FailDeclined, Reason: de.Reason}
		}
		return de
	}
	return nil
}
