package linepay

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// Client calls the LINE Pay Online API v3 as a merchant. The zero HTTP
// uses a client with a 30-second timeout; LINE Pay asks merchants to wait
// at least 20 seconds for a payment.
type Client struct {
	// BaseURL is the API's origin, e.g. https://sandbox-api-pay.line.me, or
	// a mounted sandbox such as http://localhost:8080/sandbox/linepay. The
	// request signature covers only the API path (/v3/...), never BaseURL's
	// own path.
	BaseURL       string
	ChannelID     string
	ChannelSecret string
	HTTP          *http.Client
}

// PayType is how a requested payment will be used.
type PayType string

const (
	// Normal is a one-off payment.
	Normal PayType = "NORMAL"
	// Preapproved is a payment whose Confirm also issues a regKey for
	// later automatic payments (自動付款).
	Preapproved PayType = "PREAPPROVED"
)

// Product is one line of a package.
type Product struct {
	Name     string `json:"name"`
	Quantity int64  `json:"quantity"`
	Price    int64  `json:"price"`
}

// Package groups products; its Amount is the sum of quantity × price.
type Package struct {
	ID       string    `json:"id"`
	Amount   int64     `json:"amount"`
	Name     string    `json:"name"`
	Products []Product `json:"products"`
}

// RequestParams is a payment request.
type RequestParams struct {
	Amount int64
	// Currency defaults to TWD.
	Currency string
	// OrderID is the merchant's order number, unique per channel.
	OrderID string
	// Packages lists what is bought. When empty, the client sends one
	// package of one ProductName at Amount.
	Packages    []Package
	ProductName string
	ConfirmURL  string
	CancelURL   string
	// PayType defaults to Preapproved: the webstore asks LINE Pay for
	// payments it can repeat every month.
	PayType PayType
	// AuthorizeOnly asks for an authorization without capture
	// (options.payment.capture=false): Confirm holds the amount, and
	// VoidAuthorization releases it. The webstore binds LINE Pay as a
	// payment method this way, without charging anything.
	AuthorizeOnly bool
}

// PaymentURL is where the person approves a requested payment.
type PaymentURL struct {
	Web string `json:"web"`
	App string `json:"app"`
}

// RequestResult is the answer to a payment request.
type RequestResult struct {
	TransactionID      string
	PaymentURL         PaymentURL
	PaymentAccessToken string
}

// PayInfo is how one part of a payment was paid.
type PayInfo struct {
	Method                 string `json:"method"`
	Amount                 int64  `json:"amount"`
	CreditCardNickname     string `json:"creditCardNickname,omitempty"`
	CreditCardBrand        string `json:"creditCardBrand,omitempty"`
	MaskedCreditCardNumber string `json:"maskedCreditCardNumber,omitempty"`
}

// ConfirmResult is a confirmed payment. RegKey is set for Preapproved
// payments: the key for later PayPreapproved calls.
type ConfirmResult struct {
	OrderID       string
	TransactionID string
	RegKey        string
	PayInfo       []PayInfo
}

// Request asks LINE Pay for a payment the person then approves at
// PaymentURL; LINE Pay sends them back to ConfirmURL with transactionId and
// orderId, and the merchant calls Confirm.
func (c *Client) Request(ctx context.Context, p RequestParams) (RequestResult, error) {
	if p.Currency == "" {
		p.Currency = "TWD"
	}
	if p.PayType == "" {
		p.PayType = Preapproved
	}
	if len(p.Packages) == 0 {
		p.Packages = []Package{{ID: p.OrderID, Amount: p.Amount, Name: p.ProductName,
			Products: []Product{{Name: p.ProductName, Quantity: 1, Price: p.Amount}}}}
	}
	body := requestBody{Amount: p.Amount, Currency: p.Currency, OrderID: p.OrderID, Packages: p.Packages,
		RedirectURLs: redirectURLs{ConfirmURL: p.ConfirmURL, CancelURL: p.CancelURL}}
	body.Options.Payment.PayType = p.PayType
	if p.AuthorizeOnly {
		capture := false
		body.Options.Payment.Capture = &capture
	}
	var info struct {
		TransactionID      json.Number `json:"transactionId"`
		PaymentAccessToken string      `json:"paymentAccessToken"`
		PaymentURL         PaymentURL  `json:"paymentUrl"`
	}
	if err := c.call(ctx, http.MethodPost, "/v3/payments/request", nil, body, &info); err != nil {
		return RequestResult{}, err
	}
	return RequestResult{TransactionID: info.TransactionID.String(), PaymentURL: info.PaymentURL,
		PaymentAccessToken: info.PaymentAccessToken}, nil
}

// Confirm completes a payment the person approved. The amount and currency
// must be those requested.
func (c *Client) Confirm(ctx context.Context, transactionID string, amount int64, currency string) (ConfirmResult, error) {
	if currency == "" {
		currency = "TWD"
	}
	body := amountBody{Amount: amount, Currency: currency}
	var info struct {
		OrderID       string      `json:"orderId"`
		TransactionID json.Number `json:"transactionId"`
		RegKey        string      `json:"regKey"`
		PayInfo       []PayInfo   `json:"payInfo"`
	}
	path := "/v3/payments/" + url.PathEscape(transactionID) + "/confirm"
	if err := c.call(ctx, http.MethodPost, path, nil, body, &info); err != nil {
		return ConfirmResult{}, err
	}
	return ConfirmResult{OrderID: info.OrderID, TransactionID: info.TransactionID.String(), RegKey: info.RegKey,
		PayInfo: info.PayInfo}, nil
}

// PayPreapproved charges amount to the payment method behind regKey and
// captures it at once.
//
// orderID is the idempotency key: LINE Pay answers a repeated orderId with
// 1172, and then PayPreapproved looks the order up and returns the existing
// transaction if it paid the same amount in the same currency, so a retry
// after a lost answer never pays twice. Any other 1172 stays an *APIError.
func (c *Client) PayPreapproved(ctx context.Context, regKey string, amount int64, currency, orderID, productName string) (string, error) {
	if currency == "" {
		currency = "TWD"
	}
	body := preapprovedBody{ProductName: productName, Amount: amount, Currency: currency, OrderID: orderID, Capture: true}
	var info struct {
		TransactionID json.Number `json:"transactionId"`
	}
	path := "/v3/payments/preapprovedPay/" + url.PathEscape(regKey) + "/payment"
	err := c.call(ctx, http.MethodPost, path, nil, body, &info)
	var apiErr *APIError
	if errors.As(err, &apiErr) && apiErr.Code == CodeDuplicateOrderID {
		paid, lookErr := c.PaymentByOrderID(ctx, orderID)
		if lookErr != nil {
			return "", fmt.Errorf("look up repeated order %s: %w", orderID, lookErr)
		}
		for _, d := range paid {
			// An authorization (say a voided one that took this orderId)
			// charged nothing: it is not the payment asked for.
			captured := d.PayStatus == "" || d.PayStatus == "CAPTURE"
			if d.TransactionType == "PAYMENT" && captured && d.Amount() == amount && d.Currency == currency {
				return d.TransactionID, nil
			}
		}
		return "", err
	}
	if err != nil {
		return "", err
	}
	return info.TransactionID.String(), nil
}

// CheckRegKey reports whether regKey can still pay: nil if so, else an
// *APIError (1190 unknown, 1193 expired).
func (c *Client) CheckRegKey(ctx context.Context, regKey string) error {
	return c.call(ctx, http.MethodGet, "/v3/payments/preapprovedPay/"+url.PathEscape(regKey)+"/check", nil, nil, nil)
}

// VoidAuthorization releases an authorized, uncaptured payment (one
// requested with AuthorizeOnly and confirmed): nothing is charged.
func (c *Client) VoidAuthorization(ctx context.Context, transactionID string) error {
	return c.call(ctx, http.MethodPost, "/v3/payments/authorizations/"+url.PathEscape(transactionID)+"/void", nil, nil, nil)
}

// ExpireRegKey ends regKey: later payments with it fail with 1193.
func (c *Client) ExpireRegKey(ctx context.Context, regKey string) error {
	return c.call(ctx, http.MethodPost, "/v3/payments/preapprovedPay/"+url.PathEscape(regKey)+"/expire", nil, nil, nil)
}

// The wire forms of request bodies.
type (
	redirectURLs struct {
		ConfirmURL string `json:"confirmUrl"`
		CancelURL  string `json:"cancelUrl"`
	}
	requestOptions struct {
		Payment struct {
			PayType PayType `json:"payType"`
			// Capture is absent (true) unless an authorization is asked for.
			Capture *bool `json:"capture,omitempty"`
		} `json:"payment"`
	}
	requestBody struct {
		Amount       int64          `json:"amount"`
		Currency     string         `json:"currency"`
		OrderID      string         `json:"orderId"`
		Packages     []Package      `json:"packages"`
		RedirectURLs redirectURLs   `json:"redirectUrls"`
		Options      requestOptions `json:"options"`
	}
	amountBody struct {
		Amount   int64  `json:"amount"`
		Currency string `json:"currency"`
	}
	preapprovedBody struct {
		ProductName string `json:"productName"`
		Amount      int64  `json:"amount"`
		Currency    string `json:"currency"`
		OrderID     string `json:"orderId"`
		Capture     bool   `json:"capture"`
	}
	// envelope is every answer's shape.
	envelope struct {
		ReturnCode    string          `json:"returnCode"`
		ReturnMessage string          `json:"returnMessage"`
		Info          json.RawMessage `json:"info"`
	}
)

// maxResponse bounds what the client reads of an answer.
const maxResponse = 1 << 20

// call sends one signed API request and decodes info into out (when not
// nil). A returnCode other than 0000 is an *APIError.
func (c *Client) call(ctx context.Context, method, path string, query url.Values, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("linepay: encode %s: %w", path, err)
		}
	}
	rawQuery := query.Encode()
	target := strings.TrimSuffix(c.BaseURL, "/") + path
	if rawQuery != "" {
		target += "?" + rawQuery
	}
	req, err := http.NewRequestWithContext(ctx, method, target, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("linepay: %s %s: %w", method, path, err)
	}
	nonce := newNonce()
	signed := string(body)
	if method == http.MethodGet {
		signed = rawQuery
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set(headerChannelID, c.ChannelID)
	req.Header.Set(headerNonce, nonce)
	req.Header.Set(headerSignature, Sign(c.ChannelSecret, path, signed, nonce))

	hc := c.HTTP
	if hc == nil {
		hc = &http.Client{Timeout: 30 * time.Second}
	}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("linepay: %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("linepay: %s %s: read answer: %w", method, path, err)
	}
	var env envelope
	if err := json.Unmarshal(raw, &env); err != nil || env.ReturnCode == "" {
		return fmt.Errorf("linepay: %s %s: HTTP %d with no LINE Pay answer: %.200q", method, path, resp.StatusCode, raw)
	}
	if env.ReturnCode != CodeSuccess {
		return &APIError{Code: env.ReturnCode, Message: env.ReturnMessage}
	}
	if out != nil && len(env.Info) > 0 && string(env.Info) != "null" {
		if err := json.Unmarshal(env.Info, out); err != nil {
			return fmt.Errorf("linepay: %s %s: decode info: %w", method, path, err)
		}
	}
	return nil
}

// The authentication headers of API v3.
const (
	headerChannelID = "X-LINE-ChannelId"
	headerNonce     = "X-LINE-Authorization-Nonce"
	headerSignature = "X-LINE-Authorization"
)

// Sign is LINE Pay v3's request signature: Base64 of HMAC-SHA256 keyed by
// the channel secret over secret + API path + content + nonce, where content
// is the request body for POST and the query string (without '?') for GET.
func Sign(channelSecret, path, content, nonce string) string {
	m := hmac.New(sha256.New, []byte(channelSecret))
	io.WriteString(m, channelSecret+path+content+nonce)
	return base64.StdEncoding.EncodeToString(m.Sum(nil))
}

// newNonce returns a random UUID (version 4): a fresh nonce per request.
func newNonce() string {
	var b [16]byte
	rand.Read(b[:]) // never fails: crypto/rand aborts the program instead
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}
