package cardgw

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the card gateway's server API with the merchant's secret
// key. The zero HTTP uses a client with a 30-second timeout.
type Client struct {
	BaseURL   string
	SecretKey string
	HTTP      *http.Client
}

// Card is a stored, reusable card: ID (card_...) is what the merchant keeps
// and charges; the rest is what it may show.
type Card struct {
	ID       string `json:"id"`
	Brand    string `json:"brand"` // visa, mastercard, jcb or amex
	Last4    string `json:"last4"`
	ExpMonth int    `json:"exp_month"`
	ExpYear  int    `json:"exp_year"`
}

// DeclineError is a card the gateway or the issuer refused (HTTP 402).
type DeclineError struct {
	Code    string // card_declined, insufficient_funds, expired_card; refund_declined for a refund
	Message string
}

func (e *DeclineError) Error() string { return "cardgw: declined: " + e.Code + ": " + e.Message }

// UserMessage is the decline as one plain zh-TW sentence for the person
// paying or the account's admin.
func (e *DeclineError) UserMessage() string {
	switch e.Code {
	case CodeCardDeclined:
		return "信用卡付款失敗:發卡銀行拒絕了這張卡片,請改用其他卡片。"
	case CodeInsufficientFunds:
		return "信用卡付款失敗:卡片額度不足,請改用其他卡片或聯絡發卡銀行。"
	case CodeExpiredCard:
		return "信用卡付款失敗:這張卡片已過期,請更新信用卡資料。"
	case CodeRefundDeclined:
		return "信用卡退款失敗:發卡銀行拒絕了這筆退款,請改以其他方式退還款項。"
	}
	return "信用卡付款失敗,請改用其他卡片。"
}

// The decline codes.
const (
	CodeCardDeclined      = "card_declined"
	CodeInsufficientFunds = "insufficient_funds"
	CodeExpiredCard       = "expired_card"
	CodeRefundDeclined    = "refund_declined" // the issuer refused a refund
)

// APIError is any other refusal: a bad key, an unknown or used token, a
// malformed request. It is the merchant's problem, not the card's.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	return fmt.Sprintf("cardgw: HTTP %d: %s: %s", e.Status, e.Code, e.Message)
}

// FieldsURL is the hosted card fields page the merchant sends the person
// to; the gateway comes back to returnURL with card_token or card_error.
func FieldsURL(baseURL, publicKey, returnURL string) string {
	return strings.TrimSuffix(baseURL, "/") + "/fields?" + url.Values{"key": {publicKey}, "return_url": {returnURL}}.Encode()
}

// AttachCard turns a one-time token from the card fields into a stored
// card. The token is spent even when the card is declined.
func (c *Client) AttachCard(ctx context.Context, oneTimeToken string) (Card, error) {
	var card Card
	err := c.post(ctx, "/api/v1/cards", "", map[string]string{"token": oneTimeToken}, &card)
	return card, err
}

// Charge takes amount TWD from a stored card and returns the charge id.
// idempotencyKey is required: a retry with the same key returns the first
// attempt's result (its charge id, or the same *DeclineError) and never
// charges twice.
func (c *Client) Charge(ctx context.Context, cardToken string, amount int64, description, idempotencyKey string) (string, error) {
	if idempotencyKey == "" {
		return "", errors.New("cardgw: a charge needs an idempotency key")
	}
	var ch struct {
		ID string `json:"id"`
	}
	body := chargeRequest{Card: cardToken, Amount: amount, Currency: "TWD", Description: description}
	if err := c.post(ctx, "/api/v1/charges", idempotencyKey, body, &ch); err != nil {
		return "", err
	}
	return ch.ID, nil
}

// chargeRequest is the body of POST /api/v1/charges.
type chargeRequest struct {
	Card        string `json:"card"`
	Amount      int64  `json:"amount"`
	Currency    string `json:"currency"`
	Description string `json:"description"`
}

// errorBody is every refusal's shape.
type errorBody struct {
	Error struct {
		Type    string `json:"type"`
		Code    string `json:"code"`
		Message string `json:"message"`
		Charge  string `json:"charge,omitempty"`
	} `json:"error"`
}

// post sends one API request; 402 is a *DeclineError, any other non-200 an
// *APIError.
func (c *Client) post(ctx context.Context, path, idempotencyKey string, in, out any) error {
	body, err := json.Marshal(in)
	if err != nil {
		return fmt.Errorf("cardgw: encode %s: %w", path, err)
	}
	return c.do(ctx, http.MethodPost, path, idempotencyKey, bytes.NewReader(body), out)
}

// do sends one API request with the secret key and decodes a 200 answer
// into out; 402 is a *DeclineError, any other status an *APIError.
func (c *Client) do(ctx context.Context, method, path, idempotencyKey string, body io.Reader, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimSuffix(c.BaseURL, "/")+path, body)
	if err != nil {
		return fmt.Errorf("cardgw: %s: %w", path, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.SecretKey)
	if idempotencyKey != "" {
		req.Header.Set("Idempotency-Key", idempotencyKey)
	}
	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("cardgw: %s: %w", path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return fmt.Errorf("cardgw: %s: read answer: %w", path, err)
	}
	if resp.StatusCode == http.StatusOK {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("cardgw: %s: decode answer: %w", path, err)
		}
		return nil
	}
	var e errorBody
	if json.Unmarshal(raw, &e) != nil || e.Error.Code == "" {
		return &APIError{Status: resp.StatusCode, Message: fmt.Sprintf("no gateway answer: %.200q", raw)}
	}
	if resp.StatusCode == http.StatusPaymentRequired {
		return &DeclineError{Code: e.Error.Code, Message: e.Error.Message}
	}
	return &APIError{Status: resp.StatusCode, Code: e.Error.Code, Message: e.Error.Message}
}
