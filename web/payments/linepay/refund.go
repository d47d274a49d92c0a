package linepay

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"time"

	"webstore/billing"
)

// Return codes of the Refund API, as LINE Pay documents them.
const (
	CodeRefundNotEligible   = "1155" // the transaction cannot be refunded
	CodeRefundPeriodOver    = "1163" // the refund period has passed
	CodeRefundExceeded      = "1164" // more than what remains refundable
	CodeAlreadyRefunded     = "1165" // refunded in full already
	CodeStatusUnprocessable = "1179" // the transaction's status cannot be processed (an authorization, say)
)

// ErrOutcomeUnknown marks a refund LINE Pay did not answer: a network
// error, a time-out (the context's deadline included), an answer that is
// not LINE Pay's, or its internal error 9000. The refund may or may not have
// been made; PaymentByTransactionID tells which (its refundList).
var ErrOutcomeUnknown = errors.New("linepay: no answer, the refund may or may not have been made")

// ErrAlreadyRefunded marks a refund refused because the payment was
// refunded in full already (1165): a caller retrying after a lost answer
// learns that the refund it asked for was made.
var ErrAlreadyRefunded = errors.New("linepay: the payment was refunded in full already")

// Refund is a refund LINE Pay made: its own transaction id
// (refundTransactionId) and when.
type Refund struct {
	TransactionID string
	Date          time.Time
}

// Refund refunds amount of the captured payment transactionID (what
// PayPreapproved or Confirm returned); amount 0 refunds all that remains.
// A payment can be refunded in parts until its amount is used up.
//
// A refusal is an *APIError (1150 no such payment, 1155 not refundable,
// 1163 too late, 1164 more than remains, 1179 not a captured payment...);
// 1165, refunded in full already, also matches ErrAlreadyRefunded. No
// answer at all matches ErrOutcomeUnknown. LINE Pay has no idempotency key
// for refunds: after a lost answer, look the payment's refunds up before
// asking again, or a partial refund may be made twice.
func (c *Client) Refund(ctx context.Context, transactionID string, amount billing.Money) (Refund, error) {
	if transactionID == "" {
		return Refund{}, errors.New("linepay: a refund needs the payment's transaction id")
	}
	if amount < 0 {
		return Refund{}, fmt.Errorf("linepay: refund of %s: amount %d is negative", transactionID, amount)
	}
	var body refundBody
	if amount > 0 {
		n := int64(amount)
		body.RefundAmount = &n
	}
	var info struct {
		RefundTransactionID   json.Number `json:"refundTransactionId"`
		RefundTransactionDate time.Time   `json:"refundTransactionDate"`
	}
	path := "/v3/payments/" + url.PathEscape(transactionID) + "/refund"
	err := c.call(ctx, http.MethodPost, path, nil, body, &info)
	var apiErr *APIError
	switch {
	case errors.As(err, &apiErr) && apiErr.Code == CodeAlreadyRefunded:
		return Refund{}, fmt.Errorf("%w: %w", ErrAlreadyRefunded, err)
	case errors.As(err, &apiErr) && apiErr.Code != CodeInternal:
		return Refund{}, err
	case err != nil:
		return Refund{}, fmt.Errorf("%w: %w", ErrOutcomeUnknown, err)
	case info.RefundTransactionID == "":
		return Refund{}, fmt.Errorf("%w: linepay: refund of %s: 0000 without refundTransactionId", ErrOutcomeUnknown, transactionID)
	}
	return Refund{TransactionID: info.RefundTransactionID.String(), Date: info.RefundTransactionDate}, nil
}

// refundBody is the Refund API's body: {} (no refundAmount) refunds all
// that remains.
type refundBody struct {
	RefundAmount *int64 `json:"refundAmount,omitempty"`
}
