package cardgw

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// SandboxConfig configures the sandbox.
type SandboxConfig struct {
	// PublicKey opens the card fields page; SecretKey authenticates the
	// server API. The sandbox knows one merchant.
	PublicKey string
	SecretKey string
	// BasePath is the path prefix the handler is mounted under, e.g.
	// /sandbox/cardgw ("" for the root).
	BasePath string
	// Now is the sandbox's clock; default time.Now.
	Now func() time.Time
	// Logger receives internal errors; default slog.Default().
	Logger *slog.Logger
	// RefundFault, when set, is asked before each refund how the sandbox
	// should fail to answer it (see Fault); nil answers every refund.
	RefundFault func(chargeID string) Fault
	// FaultHold is how long a faulty refund holds the request before the
	// sandbox drops the connection, unless the client gives up first;
	// default 40 seconds, longer than Client's default time-out.
	FaultHold time.Duration
}

// tokenLifetime is how long a one-time token from the card fields can be
// attached.
const tokenLifetime = 10 * time.Minute

// maxRequestBody bounds what the sandbox reads of a request.
const maxRequestBody = 64 << 10

type sandbox struct {
	db    *sqlx.DB
	cfg   SandboxConfig
	base  string
	pages pages
	mux   *http.ServeMux
}

// NewSandbox returns the card gateway sandbox: the hosted card fields and
// the server API, under cfg.BasePath (see the package doc), on db, whose
// tables Migrate has made.
func NewSandbox(db *sqlx.DB, cfg SandboxConfig) http.Handler {
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
	s.mux.HandleFunc("GET "+b+"/fields", s.fieldsPage)
	s.mux.HandleFunc("POST "+b+"/fields", s.submitFields)
	s.mux.HandleFunc("POST "+b+"/api/v1/cards", s.api(s.attach))
	s.mux.HandleFunc("POST "+b+"/api/v1/charges", s.api(s.charge))
	s.mux.HandleFunc("POST "+b+"/api/v1/refunds", s.api(s.refund))
	s.mux.HandleFunc("GET "+b+"/api/v1/refunds", s.api(s.listRefunds))
	return s
}

func (s *sandbox) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

func normalizeBase(p string) string {
	p = strings.Trim(p, "/")
	if p == "" {
		return ""
	}
	return "/" + p
}

// reply is an API answer: HTTP status and JSON body.
type reply struct {
	status int
	body   any
}

func refusal(status int, typ, code, message string) reply {
	var e errorBody
	e.Error.Type, e.Error.Code, e.Error.Message = typ, code, message
	return reply{status, e}
}

func badRequest(code, message string) reply {
	return refusal(http.StatusBadRequest, "invalid_request_error", code, message)
}

func decline(code, chargeID string) reply {
	r := refusal(http.StatusPaymentRequired, "card_error", code, declineMessage(code))
	e := r.body.(errorBody)
	e.Error.Charge = chargeID
	r.body = e
	return r
}

func declineMessage(code string) string {
	switch code {
	case CodeCardDeclined:
		return "Your card was declined."
	case CodeInsufficientFunds:
		return "Your card has insufficient funds."
	case CodeExpiredCard:
		return "Your card has expired."
	case CodeRefundDeclined:
		return "The card issuer declined the refund."
	}
	return "Your card was declined."
}

// api wraps an API handler with the secret key check and JSON output; an
// internal error is logged and answered 500.
func (s *sandbox) api(h func(ctx context.Context, r *http.Request, now time.Time) (reply, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		var rep reply
		token, hasBearer := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if s.cfg.SecretKey == "" || !hasBearer || subtle.ConstantTimeCompare([]byte(token), []byte(s.cfg.SecretKey)) != 1 {
			rep = refusal(http.StatusUnauthorized, "authentication_error", "unauthorized", "Invalid API key.")
		} else {
			var err error
			if rep, err = h(r.Context(), r, s.cfg.Now()); err != nil {
				s.cfg.Logger.ErrorContext(r.Context(), "card gateway sandbox", "path", r.URL.Path, "err", err)
				rep = refusal(http.StatusInternalServerError, "api_error", "internal_error", "Internal error.")
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(rep.status)
		json.NewEncoder(w).Encode(rep.body)
	}
}

// cardRow is a sandbox_cards row.
type cardRow struct {
	ID       string `db:"id"`
	Number   string `db:"number"`
	Brand    string `db:"brand"`
	Last4    string `db:"last4"`
	ExpMonth int    `db:"exp_month"`
	ExpYear  int    `db:"exp_year"`
}

func (c cardRow) public() Card {
	return Card{ID: c.ID, Brand: c.Brand, Last4: c.Last4, ExpMonth: c.ExpMonth, ExpYear: c.ExpYear}
}

// attach spends a one-time token and stores its card.
func (s *sandbox) attach(ctx context.Context, r *http.Request, now time.Time) (reply, error) {
	var req struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Token == "" {
		return badRequest("invalid_request", `The body must be JSON {"token": "tok_..."}.`), nil
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return reply{}, err
	}
	defer tx.Rollback()
	var tok struct {
		Number   string `db:"number"`
		ExpMonth int    `db:"exp_month"`
		ExpYear  int    `db:"exp_year"`
		Holder   string `db:"holder"`
	}
	err = tx.GetContext(ctx, &tok, `UPDATE sandbox_card_tokens SET used_at=$1
		WHERE token=$2 AND used_at IS NULL AND expires_at > $1 RETURNING number, exp_month, exp_year, holder`, now, req.Token)
	if errors.Is(err, sql.ErrNoRows) {
		return badRequest("invalid_token", "The token is unknown, already used or expired."), nil
	}
	if err != nil {
		return reply{}, fmt.Errorf("spend token: %w", err)
	}
	tc, _ := findTestCard(tok.Number)
	switch {
	case tc.attachDecline != "":
		return s.commit(tx, decline(tc.attachDecline, ""))
	case expired(tok.ExpMonth, tok.ExpYear, now):
		return s.commit(tx, decline(CodeExpiredCard, ""))
	}
	card := cardRow{ID: "card_" + strings.ToLower(rand.Text()), Number: tok.Number, Brand: brandOf(tok.Number),
		Last4: tok.Number[len(tok.Number)-4:], ExpMonth: tok.ExpMonth, ExpYear: tok.ExpYear}
	if _, err := tx.ExecContext(ctx, `INSERT INTO sandbox_cards (id, number, brand, last4, exp_month, exp_year, holder, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`, card.ID, card.Number, card.Brand, card.Last4, card.ExpMonth, card.ExpYear, tok.Holder, now); err != nil {
		return reply{}, fmt.Errorf("store card: %w", err)
	}
	out := struct {
		Object string `json:"object"`
		Card
	}{"card", card.public()}
	return s.commit(tx, reply{http.StatusOK, out})
}

// commit ends an API transaction with rep.
func (s *sandbox) commit(tx *sqlx.Tx, rep reply) (reply, error) {
	if err := tx.Commit(); err != nil {
		return reply{}, err
	}
	return rep, nil
}

// chargeRow is a sandbox_card_charges row.
type chargeRow struct {
	ID          string    `db:"id"`
	CardID      string    `db:"card_id"`
	Amount      int64     `db:"amount"`
	Currency    string    `db:"currency"`
	Description string    `db:"description"`
	Status      string    `db:"status"`
	FailureCode string    `db:"failure_code"`
	CreatedAt   time.Time `db:"created_at"`
}

const chargeCols = `id, card_id, amount, currency, description, status, failure_code, created_at`

// answer is the reply a charge gets, the first time and on every replay.
func (c chargeRow) answer() reply {
	if c.Status == "failed" {
		return decline(c.FailureCode, c.ID)
	}
	return reply{http.StatusOK, map[string]any{
		"id": c.ID, "object": "charge", "status": "succeeded", "amount": c.Amount, "currency": c.Currency,
		"card": c.CardID, "description": c.Description, "created": c.CreatedAt.Unix(),
	}}
}

// charge takes a payment from a stored card, once per idempotency key.
func (s *sandbox) charge(ctx context.Context, r *http.Request, now time.Time) (reply, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 255 {
		return badRequest("idempotency_key_required", "Send an Idempotency-Key header (at most 255 characters)."), nil
	}
	var req chargeRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
		return badRequest("invalid_request", "The body must be JSON {card, amount, currency, description}."), nil
	}
	switch {
	case req.Amount <= 0:
		return badRequest("invalid_amount", "amount must be a positive whole number of TWD."), nil
	case req.Currency != "TWD":
		return badRequest("invalid_currency", "currency must be TWD."), nil
	}
	prior, found, err := s.chargeByKey(ctx, key)
	if err != nil {
		return reply{}, err
	}
	if found {
		return replay(prior, req), nil
	}
	var card cardRow
	err = s.db.GetContext(ctx, &card, `SELECT id, number, brand, last4, exp_month, exp_year FROM sandbox_cards WHERE id=$1`, req.Card)
	if errors.Is(err, sql.ErrNoRows) {
		return refusal(http.StatusNotFound, "invalid_request_error", "card_not_found", "No such card."), nil
	}
	if err != nil {
		return reply{}, fmt.Errorf("load card: %w", err)
	}
	status, failure := "succeeded", ""
	tc, _ := findTestCard(card.Number)
	switch {
	case expired(card.ExpMonth, card.ExpYear, now):
		status, failure = "failed", CodeExpiredCard
	case tc.chargeDecline != "":
		status, failure = "failed", tc.chargeDecline
	}
	var ch chargeRow
	// ON CONFLICT waits for a concurrent charge with the same key to commit,
	// then yields no row: that charge is the one.
	err = s.db.GetContext(ctx, &ch, `INSERT INTO sandbox_card_charges (id, card_id, amount, currency, description, status,
		failure_code, idempotency_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING `+chargeCols,
		"ch_"+strings.ToLower(rand.Text()), card.ID, req.Amount, req.Currency, req.Description, status, failure, key, now)
	if errors.Is(err, sql.ErrNoRows) {
		prior, found, err := s.chargeByKey(ctx, key)
		if err != nil || !found {
			return reply{}, fmt.Errorf("charge with key %q conflicted but cannot be read: %w", key, err)
		}
		return replay(prior, req), nil
	}
	if err != nil {
		return reply{}, fmt.Errorf("insert charge: %w", err)
	}
	return ch.answer(), nil
}

func (s *sandbox) chargeByKey(ctx context.Context, key string) (chargeRow, bool, error) {
	var ch chargeRow
	err := s.db.GetContext(ctx, &ch, `SELECT `+chargeCols+` FROM sandbox_card_charges WHERE idempotency_key=$1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return ch, false, nil
	}
	if err != nil {
		return ch, false, fmt.Errorf("load charge by idempotency key: %w", err)
	}
	return ch, true, nil
}

// replay answers a repeated idempotency key with the first result, unless
// the request is for another card or amount: reusing a key for a different
// payment is a merchant bug, refused rather than silently answered.
func replay(prior chargeRow, req chargeRequest) reply {
	if prior.CardID != req.Card || prior.Amount != req.Amount || prior.Currency != req.Currency {
		return refusal(http.StatusConflict, "idempotency_error", "idempotency_key_reused",
			"This Idempotency-Key was used for a charge with other parameters.")
	}
	return prior.answer()
}
