package cardgw

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Fault is how the sandbox fails to answer a refund, so that a merchant's
// handling of a lost answer can be tested (SandboxConfig.RefundFault).
type Fault int

const (
	// FaultNone answers the refund.
	FaultNone Fault = iota
	// FaultLostAnswer makes and commits the refund, then holds the request
	// without answering until the client gives up (or FaultHold passes)
	// and drops the connection: the refund happened, the merchant does not
	// know it.
	FaultLostAnswer
	// FaultNoAnswer holds and drops the request the same way without
	// making the refund.
	FaultNoAnswer
)

// refundRow is a sandbox_card_refunds row.
type refundRow struct {
	ID             string    `db:"id"`
	ChargeID       string    `db:"charge_id"`
	Amount         int64     `db:"amount"`
	Status         string    `db:"status"`
	FailureCode    string    `db:"failure_code"`
	IdempotencyKey string    `db:"idempotency_key"`
	CreatedAt      time.Time `db:"created_at"`
}

const refundCols = `id, charge_id, amount, status, failure_code, idempotency_key, created_at`

func (r refundRow) json() refundJSON {
	return refundJSON{ID: r.ID, Object: "refund", Charge: r.ChargeID, Amount: r.Amount, Currency: "TWD",
		Status: r.Status, FailureCode: r.FailureCode, Created: r.CreatedAt.Unix()}
}

// answer is the reply a refund gets, the first time and on every replay.
func (r refundRow) answer() reply {
	if r.Status == "failed" {
		return decline(r.FailureCode, r.ChargeID)
	}
	return reply{http.StatusOK, r.json()}
}

// refund returns part or all of a succeeded charge to its card, once per
// idempotency key. The charge row is locked while what remains is checked
// and the refund written, so concurrent refunds never return more than was
// charged.
func (s *sandbox) refund(ctx context.Context, r *http.Request, now time.Time) (reply, error) {
	key := r.Header.Get("Idempotency-Key")
	if key == "" || len(key) > 255 {
		return badRequest("idempotency_key_required", "Send an Idempotency-Key header (at most 255 characters)."), nil
	}
	var req refundRequest
	if err := json.NewDecoder(r.Body).Decode(&req); err != nil || req.Charge == "" {
		return badRequest("invalid_request", `The body must be JSON {"charge": "ch_...", "amount": N}.`), nil
	}
	if req.Amount < 0 {
		return badRequest("invalid_amount", "amount must be a positive whole number of TWD, or absent for all that remains."), nil
	}
	fault := FaultNone
	if s.cfg.RefundFault != nil {
		fault = s.cfg.RefundFault(req.Charge)
	}
	if fault == FaultNoAnswer {
		s.holdAndDrop(r)
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return reply{}, err
	}
	defer tx.Rollback()
	var ch struct {
		Status         string `db:"status"`
		Amount         int64  `db:"amount"`
		AmountRefunded int64  `db:"amount_refunded"`
		Number         string `db:"number"`
	}
	err = tx.GetContext(ctx, &ch, `SELECT ch.status, ch.amount, ch.amount_refunded, c.number
		FROM sandbox_card_charges ch JOIN sandbox_cards c ON c.id = ch.card_id WHERE ch.id=$1 FOR UPDATE OF ch`, req.Charge)
	if errors.Is(err, sql.ErrNoRows) {
		return refusal(http.StatusNotFound, "invalid_request_error", CodeChargeNotFound, "No such charge."), nil
	}
	if err != nil {
		return reply{}, fmt.Errorf("load charge: %w", err)
	}
	// Under the charge's lock a repeat of a key for this charge sees the
	// first refund committed.
	prior, found, err := refundByKey(ctx, tx, key)
	if err != nil || found {
		return replayRefund(prior, req), err
	}
	remaining := ch.Amount - ch.AmountRefunded
	amount := req.Amount
	if amount == 0 {
		amount = remaining
	}
	switch {
	case ch.Status != "succeeded":
		return badRequest(CodeChargeNotRefundable, "The charge was declined; nothing was taken to refund."), nil
	case remaining == 0:
		return badRequest(CodeChargeAlreadyRefunded, "The charge has already been refunded in full."), nil
	case amount > remaining:
		return badRequest(CodeAmountTooLarge, fmt.Sprintf("amount %d is more than the %d TWD that remain of the charge.", amount, remaining)), nil
	}
	status, failure := "succeeded", ""
	if tc, _ := findTestCard(ch.Number); tc.refundDecline != "" {
		status, failure = "failed", tc.refundDecline
	}
	var re refundRow
	// ON CONFLICT waits for a concurrent refund with the same key (of
	// another charge: this one is locked) and then yields no row.
	err = tx.GetContext(ctx, &re, `INSERT INTO sandbox_card_refunds (id, charge_id, amount, status, failure_code,
		idempotency_key, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (idempotency_key) DO NOTHING RETURNING `+refundCols,
		"re_"+strings.ToLower(rand.Text()), req.Charge, amount, status, failure, key, now)
	if errors.Is(err, sql.ErrNoRows) {
		tx.Rollback()
		prior, found, err := refundByKey(ctx, s.db, key)
		if err != nil || !found {
			return reply{}, fmt.Errorf("refund with key %q conflicted but cannot be read: %w", key, err)
		}
		return replayRefund(prior, req), nil
	}
	if err != nil {
		return reply{}, fmt.Errorf("insert refund: %w", err)
	}
	if status == "succeeded" {
		if _, err := tx.ExecContext(ctx, `UPDATE sandbox_card_charges SET amount_refunded = amount_refunded + $1 WHERE id=$2`,
			amount, req.Charge); err != nil {
			return reply{}, fmt.Errorf("refund charge %s: %w", req.Charge, err)
		}
	}
	if err := tx.Commit(); err != nil {
		return reply{}, err
	}
	if fault == FaultLostAnswer {
		s.holdAndDrop(r)
	}
	return re.answer(), nil
}

func refundByKey(ctx context.Context, q sqlx.QueryerContext, key string) (refundRow, bool, error) {
	var re refundRow
	err := sqlx.GetContext(ctx, q, &re, `SELECT `+refundCols+` FROM sandbox_card_refunds WHERE idempotency_key=$1`, key)
	if errors.Is(err, sql.ErrNoRows) {
		return re, false, nil
	}
	if err != nil {
		return re, false, fmt.Errorf("load refund by idempotency key: %w", err)
	}
	return re, true, nil
}

// replayRefund answers a repeated idempotency key with the first result,
// unless the request is for another charge or amount (0, all that
// remained, matches the first refund's amount).
func replayRefund(prior refundRow, req refundRequest) reply {
	if prior.ChargeID != req.Charge || (req.Amount != 0 && req.Amount != prior.Amount) {
		return refusal(http.StatusConflict, "idempotency_error", CodeIdempotencyKeyReused,
			"This Idempotency-Key was used for a refund with other parameters.")
	}
	return prior.answer()
}

// listRefunds answers GET /api/v1/refunds?charge=...&idempotency_key=...
// with the matching refunds, oldest first, declined ones included.
func (s *sandbox) listRefunds(ctx context.Context, r *http.Request, _ time.Time) (reply, error) {
	q := r.URL.Query()
	charge, key := q.Get("charge"), q.Get("idempotency_key")
	if charge == "" && key == "" {
		return badRequest("invalid_request", "Give charge or idempotency_key."), nil
	}
	var rows []refundRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+refundCols+` FROM sandbox_card_refunds
		WHERE ($1 = '' OR charge_id = $1) AND ($2 = '' OR idempotency_key = $2) ORDER BY seq`, charge, key); err != nil {
		return reply{}, fmt.Errorf("list refunds: %w", err)
	}
	data := make([]refundJSON, 0, len(rows))
	for _, re := range rows {
		data = append(data, re.json())
	}
	return reply{http.StatusOK, map[string]any{"object": "list", "data": data}}, nil
}

// holdAndDrop keeps r waiting without an answer until its client gives up
// or FaultHold passes, then drops the connection: net/http closes it
// without a response for http.ErrAbortHandler.
func (s *sandbox) holdAndDrop(r *http.Request) {
	t := time.NewTimer(s.cfg.FaultHold)
	defer t.Stop()
	select {
	case <-r.Context().Done():
	case <-t.C:
	}
	panic(http.ErrAbortHandler)
}
