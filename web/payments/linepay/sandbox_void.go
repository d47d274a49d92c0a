package linepay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
)

// Return codes of the Void API besides 1150 (no such transaction, or one
// never authorized). LINE Pay documents both for Void: 1165 for an
// authorization voided already, 1155 (a transaction number this API cannot
// process) for a captured payment, which can only be refunded. (1164 is
// "exceeded refundable amount", a Refund code.)
const (
	CodeNotVoidable   = "1155" // not an authorization: a captured payment is refunded, not voided
	CodeAlreadyVoided = "1165" // the authorization was voided already
)

// voidAuthorization is the Void API: it releases an authorized payment (a
// capture=false request, confirmed). Nothing was charged and nothing is; the
// regKey that Confirm issued stays usable.
func (s *sandbox) voidAuthorization(ctx context.Context, c apiCall) (answer, error) {
	id, err := strconv.ParseInt(c.r.PathValue("transactionId"), 10, 64)
	if err != nil {
		return refuse(CodeNoTransaction, "Transaction record not found."), nil
	}
	var status string
	err = s.db.GetContext(ctx, &status, `UPDATE sandbox_linepay_transactions SET status='voided', voided_at=$1
		WHERE transaction_id=$2 AND channel_id=$3 AND status='authorized' RETURNING status`, c.now, id, s.cfg.ChannelID)
	if err == nil {
		return success(nil), nil
	}
	if !errors.Is(err, sql.ErrNoRows) {
		return answer{}, fmt.Errorf("void transaction %d: %w", id, err)
	}
	err = s.db.GetContext(ctx, &status, `SELECT status FROM sandbox_linepay_transactions
		WHERE transaction_id=$1 AND channel_id=$2`, id, s.cfg.ChannelID)
	if errors.Is(err, sql.ErrNoRows) {
		return refuse(CodeNoTransaction, "Transaction record not found."), nil
	}
	if err != nil {
		return answer{}, fmt.Errorf("load transaction %d: %w", id, err)
	}
	switch status {
	case "voided":
		return refuse(CodeAlreadyVoided, "A transaction has already been voided."), nil
	case "paid":
		return refuse(CodeNotVoidable, "The transaction was captured and cannot be voided; refund it instead."), nil
	}
	// Requested, approved, cancelled or failed: never authorized, so there
	// is no authorization to find.
	return refuse(CodeNoTransaction, "Transaction record not found."), nil
}
