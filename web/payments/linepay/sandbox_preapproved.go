package linepay

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// payPreapproved is the Preapproved Payment API: it pays with the card
// behind the regKey, at once (capture).
func (s *sandbox) payPreapproved(ctx context.Context, c apiCall) (answer, error) {
	var req struct {
		ProductName string `json:"productName"`
		Amount      int64  `json:"amount"`
		Currency    string `json:"currency"`
		OrderID     string `json:"orderId"`
		Capture     *bool  `json:"capture"`
	}
	if a, ok := decode(c.body, &req); !ok {
		return a, nil
	}
	switch {
	case req.Amount <= 0:
		return refuse(CodeAmountNotPositive, "The payment amount should be greater than 0."), nil
	case req.Currency != "TWD":
		return refuse(CodeCurrencyUnsupported, "The currency is not supported by the store."), nil
	case req.OrderID == "" || len(req.OrderID) > 100 || req.ProductName == "":
		return refuse(CodeParameter, "orderId and productName are required."), nil
	case req.Capture != nil && !*req.Capture:
		return refuse(CodeParameter, "The sandbox supports only capture=true."), nil
	}
	regKey := c.r.PathValue("regKey")
	card, a, err := s.regKeyCard(ctx, regKey)
	if err != nil || a.code != "" {
		return a, err
	}
	var taken bool
	if err := s.db.GetContext(ctx, &taken, `SELECT EXISTS (SELECT 1 FROM sandbox_linepay_transactions
		WHERE channel_id=$1 AND order_id=$2 AND status <> 'failed')`, s.cfg.ChannelID, req.OrderID); err != nil {
		return answer{}, fmt.Errorf("look up order %s: %w", req.OrderID, err)
	}
	if taken {
		return refuse(CodeDuplicateOrderID, "Existing same orderId."), nil
	}
	status, failure := "paid", card.paymentFails
	var paidAt *time.Time
	if failure != "" {
		status = "failed"
	} else {
		paidAt = &c.now
	}
	var id int64
	err = s.db.GetContext(ctx, &id, `INSERT INTO sandbox_linepay_transactions (transaction_id, channel_id, order_id, pay_type,
		product_name, amount, currency, status, card_id, reg_key, failure_code, created_at, paid_at)
		VALUES (`+newTransactionID+`, $2, $3, 'PREAPPROVED', $4, $5, $6, $7, $8, $9, $10, $1, $11) RETURNING transaction_id`,
		c.now, s.cfg.ChannelID, req.OrderID, req.ProductName, req.Amount, req.Currency, status, card.ID, regKey, failure, paidAt)
	if isUniqueViolation(err) {
		return refuse(CodeDuplicateOrderID, "Existing same orderId."), nil // a concurrent payment won
	}
	if err != nil {
		return answer{}, fmt.Errorf("insert preapproved payment: %w", err)
	}
	if failure != "" {
		return refuse(failure, codeMessage(failure)), nil
	}
	return success(map[string]any{
		"transactionId":   id,
		"transactionDate": c.now.UTC().Format("2006-01-02T15:04:05Z"),
	}), nil
}

// regKeyCard finds the card behind a usable regKey; otherwise a (the
// answer 1190 or 1193) is set.
func (s *sandbox) regKeyCard(ctx context.Context, regKey string) (sandboxCard, answer, error) {
	var row struct {
		CardID    string       `db:"card_id"`
		ExpiredAt sql.NullTime `db:"expired_at"`
	}
	err := s.db.GetContext(ctx, &row, `SELECT card_id, expired_at FROM sandbox_linepay_reg_keys
		WHERE reg_key=$1 AND channel_id=$2`, regKey, s.cfg.ChannelID)
	if errors.Is(err, sql.ErrNoRows) {
		return sandboxCard{}, refuse(CodeRegKeyUnavailable, "The regKey is unavailable."), nil
	}
	if err != nil {
		return sandboxCard{}, answer{}, fmt.Errorf("load reg key: %w", err)
	}
	if row.ExpiredAt.Valid {
		return sandboxCard{}, refuse(CodeRegKeyExpired, "The regKey is expired."), nil
	}
	card, ok := findCard(row.CardID)
	if !ok {
		return sandboxCard{}, answer{}, fmt.Errorf("reg key: unknown card %q", row.CardID)
	}
	return card, answer{}, nil
}

// checkRegKey is the Check RegKey API.
func (s *sandbox) checkRegKey(ctx context.Context, c apiCall) (answer, error) {
	_, a, err := s.regKeyCard(ctx, c.r.PathValue("regKey"))
	if err != nil || a.code != "" {
		return a, err
	}
	return success(nil), nil
}

// expireRegKey is the Expire RegKey API.
func (s *sandbox) expireRegKey(ctx context.Context, c apiCall) (answer, error) {
	regKey := c.r.PathValue("regKey")
	_, a, err := s.regKeyCard(ctx, regKey)
	if err != nil || a.code != "" {
		return a, err
	}
	if _, err := s.db.ExecContext(ctx, `UPDATE sandbox_linepay_reg_keys SET expired_at=$1
		WHERE reg_key=$2 AND channel_id=$3 AND expired_at IS NULL`, c.now, regKey, s.cfg.ChannelID); err != nil {
		return answer{}, fmt.Errorf("expire reg key: %w", err)
	}
	return success(nil), nil
}
