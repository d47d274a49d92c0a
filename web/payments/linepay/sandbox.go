package linepay

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
)

// SandboxConfig configures the sandbox.
type SandboxConfig struct {
	// ChannelID and ChannelSecret are the one merchant channel the sandbox
	// knows; a client must use the same pair.
	ChannelID     string
	ChannelSecret string
	// BasePath is the path prefix the handler is mounted under, e.g.
	// /sandbox/linepay ("" for the root).
	BasePath string
	// MerchantName is shown on the person-facing pages; default
	// LINE官方帳號.
	MerchantName string
	// Now is the sandbox's clock; default time.Now.
	Now func() time.Time
	// Logger receives internal errors (answered 9000); default slog.Default().
	Logger *slog.Logger
	// RefundFault, when set, is asked before each refund how the sandbox
	// should fail to answer it (see Fault); nil answers every refund.
	RefundFault func(transactionID string) Fault
	// FaultHold is how long a faulty refund holds the request before the
	// sandbox drops the connection, unless the client gives up first;
	// default 40 seconds, longer than Client's default time-out.
	FaultHold time.Duration
}

// requestLifetime is how long a requested payment waits for the person and
// the merchant's Confirm.
const requestLifetime = 20 * time.Minute

// maxRequestBody bounds what the sandbox reads of a request.
const maxRequestBody = 64 << 10

// sandbox is the handler behind NewSandbox.
type sandbox struct {
	db    *sqlx.DB
	cfg   SandboxConfig
	base  string
	pages pages
	mux   *http.ServeMux
}

// NewSandbox returns the LINE Pay sandbox: the v3 API endpoints and the
// pages standing in for LINE, all under cfg.BasePath (see the package doc),
// on db, whose tables Migrate has made.
func NewSandbox(db *sqlx.DB, cfg SandboxConfig) http.Handler {
	if cfg.MerchantName == "" {
		cfg.MerchantName = "LINE官方帳號"
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.FaultHold <= 0 {
		cfg.FaultHold = 40 * time.Second
	}
	s := &sandbox{db: db, cfg: cfg, base: normalizeBase(cfg.BasePath), pages: parsePages(), mux: http.NewServeMux()}
	b := s.base
	s.mux.HandleFunc("POST "+b+"/v3/payments/request", s.api(s.request))
	s.mux.HandleFunc("POST "+b+"/v3/payments/{transactionId}/confirm", s.api(s.confirm))
	s.mux.HandleFunc("POST "+b+"/v3/payments/{transactionId}/refund", s.api(s.refund))
	s.mux.HandleFunc("POST "+b+"/v3/payments/authorizations/{transactionId}/void", s.api(s.voidAuthorization))
	s.mux.HandleFunc("POST "+b+"/v3/payments/preapprovedPay/{regKey}/payment", s.api(s.payPreapproved))
	s.mux.HandleFunc("GET "+b+"/v3/payments/preapprovedPay/{regKey}/check", s.api(s.checkRegKey))
	s.mux.HandleFunc("POST "+b+"/v3/payments/preapprovedPay/{regKey}/expire", s.api(s.expireRegKey))
	s.mux.HandleFunc("GET "+b+"/v3/payments", s.api(s.paymentDetails))

	s.mux.HandleFunc("GET "+b+"/web/payment/wait", s.waitPage)
	s.mux.HandleFunc("POST "+b+"/web/payment/cancel", s.cancel)
	s.mux.HandleFunc("GET "+b+"/app/payment", s.phonePage)
	s.mux.HandleFunc("POST "+b+"/app/payment/card", s.chooseCard)
	s.mux.HandleFunc("GET "+b+"/app/payment/confirm", s.confirmPage)
	s.mux.HandleFunc("POST "+b+"/app/payment/approve", s.approve)
	return s
}

func (s *sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// normalizeBase turns "sandbox/linepay/" into "/sandbox/linepay", and "/"
// into "".
func normalizeBase(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// absURL is the absolute URL of path (below the base) as the client that
// sent r reaches this sandbox.
func (s *sandbox) absURL(r *http.Request, path string, query url.Values) string {
	scheme := "http"
	if r.TLS != nil || r.Header.Get("X-Forwarded-Proto") == "https" {
		scheme = "https"
	}
	u := url.URL{Scheme: scheme, Host: r.Host, Path: s.base + path, RawQuery: query.Encode()}
	return u.String()
}

// answer is what an API handler replies: returnCode 0000 with info, or an
// error code and message.
type answer struct {
	code    string
	message string
	info    any
}

func success(info any) answer            { return answer{code: CodeSuccess, message: "Success.", info: info} }
func refuse(code, message string) answer { return answer{code: code, message: message} }

// apiCall is one authenticated API request.
type apiCall struct {
	r    *http.Request
	body []byte
	now  time.Time
}

// api wraps an API handler: it reads the body, checks the channel and the
// signature, and writes LINE Pay's envelope. Like LINE Pay, it answers HTTP
// 200 whatever the returnCode; an internal error is logged and answered 9000.
func (s *sandbox) api(h func(ctx context.Context, c apiCall) (answer, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequestBody))
		var a answer
		switch {
		case err != nil:
			a = refuse(CodeParameter, "request body too large or unreadable")
		case s.cfg.ChannelID == "" || s.cfg.ChannelSecret == "" || r.Header.Get(headerChannelID) != s.cfg.ChannelID:
			a = refuse(CodeMerchantNotFound, "Merchant not found.")
		case !s.signatureOK(r, body):
			a = refuse(CodeHeaderError, "Header information error.")
		default:
			a, err = h(r.Context(), apiCall{r: r, body: body, now: s.cfg.Now()})
			if err != nil {
				s.cfg.Logger.ErrorContext(r.Context(), "linepay sandbox", "path", r.URL.Path, "err", err)
				a = refuse(CodeInternal, "Internal error.")
			}
		}
		w.Header().Set("Content-Type", "application/json;charset=UTF-8")
		json.NewEncoder(w).Encode(struct {
			ReturnCode    string `json:"returnCode"`
			ReturnMessage string `json:"returnMessage"`
			Info          any    `json:"info,omitempty"`
		}{a.code, a.message, a.info})
	}
}

// signatureOK checks X-LINE-Authorization against the API path (the
// request path without the mount prefix) and the body, or for GET the raw
// query string.
func (s *sandbox) signatureOK(r *http.Request, body []byte) bool {
	nonce, got := r.Header.Get(headerNonce), r.Header.Get(headerSignature)
	if nonce == "" || got == "" {
		return false
	}
	path := strings.TrimPrefix(r.URL.EscapedPath(), s.base)
	content := string(body)
	if r.Method == http.MethodGet {
		content = r.URL.RawQuery
	}
	want := Sign(s.cfg.ChannelSecret, path, content, nonce)
	return hmac.Equal([]byte(got), []byte(want))
}

// decode reads a JSON body; ok is false (with the answer to give) when it
// is not JSON of that shape.
func decode(body []byte, v any) (answer, bool) {
	if err := json.Unmarshal(body, v); err != nil {
		return refuse(CodeJSON, "JSON data format error: "+err.Error()), false
	}
	return answer{}, true
}

// txnRow is a sandbox_linepay_transactions row.
type txnRow struct {
	TransactionID int64          `db:"transaction_id"`
	OrderID       string         `db:"order_id"`
	PayType       string         `db:"pay_type"`
	ReserveID     sql.NullString `db:"reserve_id"`
	ProductName   string         `db:"product_name"`
	Amount        int64          `db:"amount"`
	Currency      string         `db:"currency"`
	ConfirmURL    string         `db:"confirm_url"`
	CancelURL     string         `db:"cancel_url"`
	Status        string         `db:"status"`
	Capture       bool           `db:"capture"`
	CardID        string         `db:"card_id"`
	RegKey        sql.NullString `db:"reg_key"`
	FailureCode   string         `db:"failure_code"`
	CreatedAt     time.Time      `db:"created_at"`
	ExpiresAt     sql.NullTime   `db:"expires_at"`
	PaidAt        sql.NullTime   `db:"paid_at"`
	AuthorizedAt  sql.NullTime   `db:"authorized_at"`
	VoidedAt      sql.NullTime   `db:"voided_at"`
	// RefundedAmount is the total of the payment's refunds.
	RefundedAmount int64 `db:"refunded_amount"`
}

const txnCols = `transaction_id, order_id, pay_type, reserve_id, product_name, amount, currency, confirm_url, cancel_url,
	status, capture, card_id, reg_key, failure_code, created_at, expires_at, paid_at, authorized_at, voided_at, refunded_amount`

// expired reports whether a requested or approved payment ran out of time.
func (t txnRow) expired(now time.Time) bool {
	return (t.Status == "requested" || t.Status == "approved") && t.ExpiresAt.Valid && !now.Before(t.ExpiresAt.Time)
}

// newTransactionID is the SQL for a fresh 19-digit transaction id: the
// Taipei date (8 digits) then 11 digits of sequence.
const newTransactionID = `(to_char($1::timestamptz AT TIME ZONE 'Asia/Taipei', 'YYYYMMDD')::bigint * 100000000000
	+ nextval('sandbox_linepay_transaction_seq'))`

// request is the Request API.
func (s *sandbox) request(ctx context.Context, c apiCall) (answer, error) {
	var req requestBody
	if a, ok := decode(c.body, &req); !ok {
		return a, nil
	}
	payType := string(req.Options.Payment.PayType)
	if payType == "" {
		payType = string(Normal)
	}
	if a, ok := validRequest(req, payType); !ok {
		return a, nil
	}
	// options.payment.capture=false asks for an authorization only:
	// Confirm then holds the amount until it is voided.
	capture := req.Options.Payment.Capture == nil || *req.Options.Payment.Capture
	// A string, not the []byte: with binary parameters (db.Open) a []byte
	// is sent in jsonb's binary format, which it is not.
	packages, err := json.Marshal(req.Packages)
	if err != nil {
		return answer{}, err
	}
	reserveID := strings.ToLower(rand.Text() + rand.Text())
	accessToken := randomDigits(12)
	var id int64
	err = s.db.GetContext(ctx, &id, `INSERT INTO sandbox_linepay_transactions (transaction_id, channel_id, order_id, pay_type,
		reserve_id, payment_access_token, product_name, packages, amount, currency, confirm_url, cancel_url, status, capture,
		created_at, expires_at)
		VALUES (`+newTransactionID+`, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'requested', $14, $1, $13) RETURNING transaction_id`,
		c.now, s.cfg.ChannelID, req.OrderID, payType, reserveID, accessToken, req.Packages[0].Products[0].Name, string(packages),
		req.Amount, req.Currency, req.RedirectURLs.ConfirmURL, req.RedirectURLs.CancelURL, c.now.Add(requestLifetime), capture)
	if isUniqueViolation(err) {
		return refuse(CodeDuplicateOrderID, "Existing same orderId."), nil
	}
	if err != nil {
		return answer{}, fmt.Errorf("insert requested transaction: %w", err)
	}
	q := url.Values{"transactionReserveId": {reserveID}}
	return success(map[string]any{
		"transactionId":      id,
		"paymentAccessToken": accessToken,
		"paymentUrl": PaymentURL{
			Web: s.absURL(c.r, "/web/payment/wait", q),
			App: s.absURL(c.r, "/app/payment", q),
		},
	}), nil
}

// validRequest checks a payment request as LINE Pay does: positive TWD
// amount equal to the packages' sum, each package the sum of its products,
// and absolute redirect URLs.
func validRequest(req requestBody, payType string) (answer, bool) {
	switch {
	case req.Amount <= 0:
		return refuse(CodeAmountNotPositive, "The payment amount should be greater than 0."), false
	case req.Currency != "TWD":
		return refuse(CodeCurrencyUnsupported, "The currency is not supported by the store."), false
	case req.OrderID == "" || len(req.OrderID) > 100:
		return refuse(CodeParameter, "orderId is required (at most 100 characters)."), false
	case len(req.Packages) == 0:
		return refuse(CodeParameter, "packages is required."), false
	case payType != string(Normal) && payType != string(Preapproved):
		return refuse(CodeParameter, "options.payment.payType must be NORMAL or PREAPPROVED."), false
	case !absoluteHTTP(req.RedirectURLs.ConfirmURL) || !absoluteHTTP(req.RedirectURLs.CancelURL):
		return refuse(CodeParameter, "redirectUrls.confirmUrl and cancelUrl must be absolute http(s) URLs."), false
	}
	var total int64
	for _, p := range req.Packages {
		if len(p.Products) == 0 {
			return refuse(CodeParameter, "packages[].products is required."), false
		}
		var sum int64
		for _, pr := range p.Products {
			if pr.Name == "" || pr.Quantity <= 0 || pr.Price < 0 {
				return refuse(CodeParameter, "packages[].products[] needs a name, a positive quantity and a price."), false
			}
			sum += pr.Quantity * pr.Price
		}
		if sum != p.Amount {
			return refuse(CodeParameter, "packages[].amount must be the sum of its products."), false
		}
		total += p.Amount
	}
	if total != req.Amount {
		return refuse(CodeParameter, "amount must be the sum of packages[].amount."), false
	}
	return answer{}, true
}

func absoluteHTTP(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// confirm is the Confirm API: it pays an approved request with the card the
// person chose and, for PREAPPROVED, issues the regKey. A request made with
// capture=false is authorized instead of paid: nothing is charged, the
// transaction waits for its void, and the regKey is issued all the same.
func (s *sandbox) confirm(ctx context.Context, c apiCall) (answer, error) {
	var req amountBody
	if a, ok := decode(c.body, &req); !ok {
		return a, nil
	}
	id, err := strconv.ParseInt(c.r.PathValue("transactionId"), 10, 64)
	if err != nil {
		return refuse(CodeNoTransaction, "Transaction record not found."), nil
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return answer{}, err
	}
	defer tx.Rollback()
	var t txnRow
	err = tx.GetContext(ctx, &t, `SELECT `+txnCols+` FROM sandbox_linepay_transactions
		WHERE transaction_id=$1 AND channel_id=$2 AND reserve_id IS NOT NULL FOR UPDATE`, id, s.cfg.ChannelID)
	if errors.Is(err, sql.ErrNoRows) {
		return refuse(CodeNoTransaction, "Transaction record not found."), nil
	}
	if err != nil {
		return answer{}, fmt.Errorf("load transaction %d: %w", id, err)
	}
	switch {
	case t.Status == "paid" || t.Status == "authorized" || t.Status == "voided":
		return refuse(CodeDuplicateTransaction, "Existing same transactionId."), nil
	case t.Status == "failed":
		return refuse(t.FailureCode, codeMessage(t.FailureCode)), nil
	case t.Status == "cancelled":
		return refuse(CodeNoRequest, "Payment request information is not found."), nil
	case t.expired(c.now):
		return refuse(CodeExpired, "The payment is expired."), nil
	case t.Status == "requested":
		return refuse(CodeNotApproved, "The payment has not been approved in LINE Pay."), nil
	case req.Amount != t.Amount || req.Currency != t.Currency:
		return refuse(CodeAmountMismatch, "The payment amount is different from the requested amount."), nil
	}
	card, ok := findCard(t.CardID)
	if !ok {
		return answer{}, fmt.Errorf("transaction %d: unknown card %q", id, t.CardID)
	}
	if card.confirmFails != "" {
		if _, err := tx.ExecContext(ctx, `UPDATE sandbox_linepay_transactions SET status='failed', failure_code=$1
			WHERE transaction_id=$2`, card.confirmFails, id); err != nil {
			return answer{}, fmt.Errorf("fail transaction %d: %w", id, err)
		}
		if err := tx.Commit(); err != nil {
			return answer{}, err
		}
		return refuse(card.confirmFails, codeMessage(card.confirmFails)), nil
	}
	var regKey *string
	if t.PayType == string(Preapproved) {
		k := newRegKey()
		regKey = &k
	}
	settle := `UPDATE sandbox_linepay_transactions SET status='paid', paid_at=$1, reg_key=$2 WHERE transaction_id=$3`
	if !t.Capture {
		settle = `UPDATE sandbox_linepay_transactions SET status='authorized', authorized_at=$1, reg_key=$2 WHERE transaction_id=$3`
	}
	if _, err := tx.ExecContext(ctx, settle, c.now, regKey, id); err != nil {
		return answer{}, fmt.Errorf("confirm transaction %d: %w", id, err)
	}
	if regKey != nil {
		if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_linepay_reg_keys (reg_key, channel_id, card_id, transaction_id, created_at)
			VALUES ($1, $2, $3, $4, $5)`, *regKey, s.cfg.ChannelID, card.ID, id, c.now); err != nil {
			return answer{}, fmt.Errorf("issue reg key for %d: %w", id, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return answer{}, err
	}
	info := map[string]any{
		"orderId":       t.OrderID,
		"transactionId": t.TransactionID,
		"payInfo":       []PayInfo{card.payInfo(t.Amount)},
	}
	if regKey != nil {
		info["regKey"] = *regKey
	}
	return success(info), nil
}

// codeMessage is LINE Pay's returnMessage for the codes the sandbox cards
// produce.
func codeMessage(code string) string {
	switch code {
	case CodeAccountStatus:
		return "Payment account status error."
	case CodeCardPayment:
		return "Credit card payment error."
	case CodeCardAuthorization:
		return "Credit card authorization error."
	}
	return "Payment failed."
}

// isUniqueViolation matches PostgreSQL's unique_violation.
func isUniqueViolation(err error) bool {
	var pqErr *pq.Error
	return errors.As(err, &pqErr) && pqErr.Code == "23505"
}

// newRegKey returns a regKey shaped like LINE Pay's: RK and 14 characters.
func newRegKey() string { return "RK" + rand.Text()[:14] }

// randomDigits returns n random decimal digits.
func randomDigits(n int) string {
	b := make([]byte, n)
	rand.Read(b) // never fails: crypto/rand aborts the program instead
	for i := range b {
		b[i] = '0' + b[i]%10
	}
	return string(b)
}
