package linepay

import (
	"bytes"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"
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

// refund is the Refund API: it refunds refundAmount (or, without one or
// without a body, all that remains) of a captured payment, normal or preapproved. A payment can
// be refunded in parts until its amount is used up; then every refund is
// 1165, and a part larger than what remains is 1164. The payment row is
// locked for the check and the write, so concurrent refunds never refund
// more than was paid.
func (s *sandbox) refund(ctx context.Context, c apiCall) (answer, error) {
	var req struct {
		RefundAmount *int64 `json:"refundAmount"`
	}
	if len(bytes.TrimSpace(c.body)) > 0 {
		if a, ok := decode(c.body, &req); !ok {
			return a, nil
		}
	}
	if req.RefundAmount != nil && *req.RefundAmount <= 0 {
		return refuse(CodeParameter, "refundAmount must be greater than 0."), nil
	}
	raw := c.r.PathValue("transactionId")
	fault := FaultNone
	if s.cfg.RefundFault != nil {
		fault = s.cfg.RefundFault(raw)
	}
	if fault == FaultNoAnswer {
		s.holdAndDrop(c.r)
	}
	id, err := strconv.ParseInt(raw, 10, 64)
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
		WHERE transaction_id=$1 AND channel_id=$2 FOR UPDATE`, id, s.cfg.ChannelID)
	if errors.Is(err, sql.ErrNoRows) {
		return refuse(CodeNoTransaction, "Transaction record not found."), nil
	}
	if err != nil {
		return answer{}, fmt.Errorf("load transaction %d: %w", id, err)
	}
	switch t.Status {
	case "paid":
	case "authorized", "voided":
		// Nothing was captured: an authorization is voided, not refunded.
		return refuse(CodeStatusUnprocessable, "The transaction status cannot be refunded."), nil
	default:
		// Requested, approved, cancelled or failed: nothing was paid.
		return refuse(CodeNoTransaction, "Transaction record not found."), nil
	}
	card, ok := findCard(t.CardID)
	if !ok {
		return answer{}, fmt.Errorf("transaction %d: unknown card %q", id, t.CardID)
	}
	remaining := t.Amount - t.RefundedAmount
	amount := remaining
	if req.RefundAmount != nil {
		amount = *req.RefundAmount
	}
	switch {
	case card.refundFails != "":
		return refuse(card.refundFails, refundMessage(card.refundFails)), nil
	case remaining == 0:
		return refuse(CodeAlreadyRefunded, refundMessage(CodeAlreadyRefunded)), nil
	case amount > remaining:
		return refuse(CodeRefundExceeded, refundMessage(CodeRefundExceeded)), nil
	}
	refundType := "PARTIAL_REFUND"
	if amount == t.Amount {
		refundType = "PAYMENT_REFUND"
	}
	var refundID int64
	if err := tx.GetContext(ctx, &refundID, `INSERT INTO sandbox_linepay_refunds
		(refund_transaction_id, transaction_id, channel_id, amount, refund_type, created_at)
		VALUES (`+newTransactionID+`, $2, $3, $4, $5, $1) RETURNING refund_transaction_id`,
		c.now, id, s.cfg.ChannelID, amount, refundType); err != nil {
		return answer{}, fmt.Errorf("insert refund of %d: %w", id, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE sandbox_linepay_transactions SET refunded_amount = refunded_amount + $1
		WHERE transaction_id=$2`, amount, id); err != nil {
		return answer{}, fmt.Errorf("refund transaction %d: %w", id, err)
	}
	if err := tx.Commit(); err != nil {
		return answer{}, err
	}
	if fault == FaultLostAnswer {
		s.holdAndDrop(c.r)
	}
	return success(map[string]any{
		"refundTransactionId":   refundID,
		"refundTransactionDate": c.now.UTC().Format("2006-01-02T15:04:05Z"),
	}), nil
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

// refundMessage is LINE Pay's returnMessage for the Refund API's codes.
func refundMessage(code string) string {
	switch code {
	case CodeRefundNotEligible:
		return "This transaction cannot be refunded."
	case CodeRefundPeriodOver:
		return "The refund period has passed."
	case CodeRefundExceeded:
		return "The refund amount exceeds the refundable amount."
	case CodeAlreadyRefunded:
		return "The transaction has already been refunded."
	}
	return "Refund failed."
}
