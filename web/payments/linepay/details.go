package linepay

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"time"

	"webstore/billing"
)

// PaymentDetail is one transaction as the Payment Details API lists it.
type PaymentDetail struct {
	TransactionID   string
	TransactionDate string
	// TransactionType is PAYMENT for a payment (refunds have their own).
	TransactionType string
	// PayStatus is CAPTURE for a captured payment, AUTHORIZATION for an
	// authorization not captured yet, VOIDED_AUTHORIZATION or
	// EXPIRED_AUTHORIZATION for one that charged nothing.
	PayStatus   string
	OrderID     string
	ProductName string
	Currency    string
	PayInfo     []PayInfo
	// Refunds are the payment's refunds (refundList), oldest first.
	Refunds []RefundDetail
}

// RefundDetail is one refund of a payment, as refundList lists it.
type RefundDetail struct {
	// TransactionID is the refund's own transaction id
	// (refundTransactionId), the one Refund returned.
	TransactionID string
	// TransactionType is PAYMENT_REFUND for a refund of the whole payment
	// at once, PARTIAL_REFUND for a part.
	TransactionType string
	// Amount is what was refunded, positive (LINE Pay writes refundAmount
	// as a negative number).
	Amount billing.Money
	Date   time.Time
}

// Amount is what was paid, over all payment methods.
func (d PaymentDetail) Amount() int64 {
	var n int64
	for _, p := range d.PayInfo {
		n += p.Amount
	}
	return n
}

// Refunded is the total of the payment's refunds.
func (d PaymentDetail) Refunded() billing.Money {
	var n billing.Money
	for _, r := range d.Refunds {
		n += r.Amount
	}
	return n
}

// PaymentByOrderID lists the transactions of a merchant order; an order
// LINE Pay has no payment for gives an empty list, not an error.
func (c *Client) PaymentByOrderID(ctx context.Context, orderID string) ([]PaymentDetail, error) {
	return c.paymentDetails(ctx, url.Values{"orderId": {orderID}})
}

// PaymentByTransactionID finds a payment by its transaction id, with its
// refunds: how a merchant learns whether a refund whose answer was lost was
// made. found is false when LINE Pay has no such payment.
func (c *Client) PaymentByTransactionID(ctx context.Context, transactionID string) (d PaymentDetail, found bool, err error) {
	list, err := c.paymentDetails(ctx, url.Values{"transactionId": {transactionID}})
	if err != nil {
		return PaymentDetail{}, false, err
	}
	for _, d := range list {
		if d.TransactionID == transactionID {
			return d, true, nil
		}
	}
	return PaymentDetail{}, false, nil
}

// paymentDetails calls the Payment Details API; 1150 (nothing found) is an
// empty list.
func (c *Client) paymentDetails(ctx context.Context, query url.Values) ([]PaymentDetail, error) {
	var info []struct {
		TransactionID   json.Number `json:"transactionId"`
		TransactionDate string      `json:"transactionDate"`
		TransactionType string      `json:"transactionType"`
		PayStatus       string      `json:"payStatus"`
		OrderID         string      `json:"orderId"`
		ProductName     string      `json:"productName"`
		Currency        string      `json:"currency"`
		PayInfo         []PayInfo   `json:"payInfo"`
		RefundList      []struct {
			RefundTransactionID   json.Number `json:"refundTransactionId"`
			TransactionType       string      `json:"transactionType"`
			RefundAmount          int64       `json:"refundAmount"`
			RefundTransactionDate time.Time   `json:"refundTransactionDate"`
		} `json:"refundList"`
	}
	err := c.call(ctx, http.MethodGet, "/v3/payments", query, nil, &info)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == CodeNoTransaction {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	out := make([]PaymentDetail, 0, len(info))
	for _, d := range info {
		p := PaymentDetail{TransactionID: d.TransactionID.String(), TransactionDate: d.TransactionDate,
			TransactionType: d.TransactionType, PayStatus: d.PayStatus, OrderID: d.OrderID, ProductName: d.ProductName,
			Currency: d.Currency, PayInfo: d.PayInfo}
		for _, r := range d.RefundList {
			amount := r.RefundAmount
			if amount < 0 {
				amount = -amount
			}
			p.Refunds = append(p.Refunds, RefundDetail{TransactionID: r.RefundTransactionID.String(),
				TransactionType: r.TransactionType, Amount: billing.Money(amount), Date: r.RefundTransactionDate})
		}
		out = append(out, p)
	}
	return out, nil
}
