package cardgw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"webstore/billing"
)

// The refusal codes of refunds (HTTP 400 unless said).
const (
	// CodeChargeAlreadyRefunded: nothing remains of the charge to refund.
	// A refund also matching ErrAlreadyRefunded.
	CodeChargeAlreadyRefunded = "charge_already_refunded"
	// CodeAmountTooLarge: more than what remains of the charge.
	CodeAmountTooLarge = "amount_too_large"
	// CodeChargeNotRefundable: the charge was declined; nothing was taken.
	CodeChargeNotRefundable = "charge_not_refundable"
	// CodeChargeNotFound (HTTP 404): no such charge.
	CodeChargeNotFound = "charge_not_found"
	// CodeIdempotencyKeyReused (HTTP 409): the key was used for a refund of
	// another charge or amount.
	CodeIdempotencyKeyReused = "idempotency_key_reused"
)

// ErrOutcomeUnknown marks a refund the gateway did not answer: a network
// error, a time-out (the context's deadline included), HTTP 5xx or 429, a
// 409 for the same key still in flight, or an answer that is not the
// gateway's. The refund may or may not have been made: repeat it with the
// same idempotency key (which never refunds twice), or look it up with
// FindRefunds.
var ErrOutcomeUnknown = errors.New("cardgw: no answer, the refund may or may not have been made")

// ErrAlreadyRefunded marks a refund refused because nothing remains of the
// charge (charge_already_refunded).
var ErrAlreadyRefunded = errors.New("cardgw: the charge was refunded in full already")

// Refund is one refund of a charge.
type Refund struct {
	ID     string // re_...
	Charge string // ch_...
	Amount billing.Money
	// Status is succeeded, or failed for a declined refund (FailureCode
	// says why); only succeeded refunds returned money.
	Status      string
	FailureCode string
	Created     time.Time
}

// RefundFilter selects refunds for FindRefunds: by charge, by idempotency
// key, or both.
type RefundFilter struct {
	Charge         string
	IdempotencyKey string
}

// Refund returns amount of a charge (the ch_... id Charge returned, which
// the store keeps as the payment reference) to its card; amount 0 refunds
// all that remains. idempotencyKey is required: a repeat with the same key
// answers the first result and refunds nothing more.
//
// A refusal took nothing: a *DeclineError (402, refund_declined) when the
// issuer refused, else an *APIError (amount_too_large, charge_not_refundable,
// charge_not_found, idempotency_key_reused...); charge_already_refunded
// also matches ErrAlreadyRefunded. No answer matches ErrOutcomeUnknown.
func (c *Client) Refund(ctx context.Context, chargeID string, amount billing.Money, idempotencyKey string) (Refund, error) {
	if idempotencyKey == "" {
		return Refund{}, errors.New("cardgw: a refund needs an idempotency key")
	}
	if amount < 0 {
		return Refund{}, fmt.Errorf("cardgw: refund of %s: amount %d is negative", chargeID, amount)
	}
	body, err := json.Marshal(refundRequest{Charge: chargeID, Amount: int64(amount)})
	if err != nil {
		return Refund{}, fmt.Errorf("cardgw: encode refund: %w", err)
	}
	var out refundJSON
	err = c.do(ctx, http.MethodPost, "/api/v1/refunds", idempotencyKey, bytes.NewReader(body), &out)
	var decline *DeclineError
	var apiErr *APIError
	switch {
	case errors.As(err, &decline):
		return Refund{}, err
	case errors.As(err, &apiErr) && !outcomeUnknown(apiErr):
		if apiErr.Code == CodeChargeAlreadyRefunded {
			return Refund{}, fmt.Errorf("%w: %w", ErrAlreadyRefunded, err)
		}
		return Refund{}, err
	case err != nil:
		return Refund{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	case out.ID == "":
		return Refund{}, fmt.Errorf("%w: cardgw: refund of %s: an answer without a refund id", ErrOutcomeUnknown, chargeID)
	}
	return out.refund(), nil
}

// outcomeUnknown reports whether an HTTP refusal leaves the outcome open:
// the gateway failed (5xx), was busy (429), or still works on the same key
// (409 other than a reused key), or the answer was not the gateway's.
func outcomeUnknown(e *APIError) bool {
	return e.Code == "" || e.Status >= 500 || e.Status == http.StatusTooManyRequests ||
		(e.Status == http.StatusConflict && e.Code != CodeIdempotencyKeyReused)
}

// FindRefunds lists refunds, oldest first, declined ones included: how the
// merchant learns whether a refund whose answer was lost was made. An
// unknown key or charge gives an empty list.
func (c *Client) FindRefunds(ctx context.Context, f RefundFilter) ([]Refund, error) {
	if f.Charge == "" && f.IdempotencyKey == "" {
		return nil, errors.New("cardgw: find refunds by charge or idempotency key")
	}
	q := url.Values{}
	if f.Charge != "" {
		q.Set("charge", f.Charge)
	}
	if f.IdempotencyKey != "" {
		q.Set("idempotency_key", f.IdempotencyKey)
	}
	var list struct {
		Data []refundJSON `json:"data"`
	}
	if err := c.do(ctx, http.MethodGet, "/api/v1/refunds?"+q.Encode(), "", nil, &list); err != nil {
		return nil, err
	}
	out := make([]Refund, 0, len(list.Data))
	for _, r := range list.Data {
		out = append(out, r.refund())
	}
	return out, nil
}

// refundRequest is the body of POST /api/v1/refunds; amount 0 (absent)
// refunds all that remains.
type refundRequest struct {
	Charge string `json:"charge"`
	Amount int64  `json:"amount,omitempty"`
}

// refundJSON is a refund as the API writes it.
type refundJSON struct {
	ID          string `json:"id"`
	Object      string `json:"object"`
	Charge      string `json:"charge"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Status      string `json:"status"`
	FailureCode string `json:"failure_code,omitempty"`
	Created     int64  `json:"created"`
}

func (r refundJSON) refund() Refund {
	return Refund{ID: r.ID, Charge: r.Charge, Amount: billing.Money(r.Amount), Status: r.Status,
		FailureCode: r.FailureCode, Created: time.Unix(r.Created, 0)}
}
