package linepay

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// paymentDetails is the Payment Details API: the paid, authorized and voided
// transactions with the given orderIds or transactionIds (each may repeat or
// be comma-separated). All are transactionType PAYMENT; payStatus tells a
// captured payment (CAPTURE) from an authorization (AUTHORIZATION) and a
// voided one (VOIDED_AUTHORIZATION). A refunded payment lists its refunds
// under refundList, oldest first, with refundAmount negative as LINE Pay
// writes it; the payment itself keeps its amount and payStatus.
func (s *sandbox) paymentDetails(ctx context.Context, c apiCall) (answer, error) {
	q := c.r.URL.Query()
	orders := splitList(q["orderId"])
	var ids []int64
	for _, v := range splitList(q["transactionId"]) {
		id, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return refuse(CodeParameter, "transactionId must be a number."), nil
		}
		ids = append(ids, id)
	}
	if len(orders) == 0 && len(ids) == 0 {
		return refuse(CodeParameter, "orderId or transactionId is required."), nil
	}
	var rows []txnRow
	if err := s.db.SelectContext(ctx, &rows, `SELECT `+txnCols+` FROM sandbox_linepay_transactions
		WHERE channel_id=$1 AND status IN ('paid', 'authorized', 'voided') AND (order_id = ANY($2) OR transaction_id = ANY($3))
		ORDER BY transaction_id`, s.cfg.ChannelID, pq.Array(orders), pq.Array(ids)); err != nil {
		return answer{}, fmt.Errorf("list payments: %w", err)
	}
	if len(rows) == 0 {
		return refuse(CodeNoTransaction, "Transaction record not found."), nil
	}
	refunds, err := s.refundLists(ctx, rows)
	if err != nil {
		return answer{}, err
	}
	info := make([]map[string]any, 0, len(rows))
	for _, t := range rows {
		card, _ := findCard(t.CardID)
		date, payStatus := t.PaidAt.Time, "CAPTURE"
		switch t.Status {
		case "authorized":
			date, payStatus = t.AuthorizedAt.Time, "AUTHORIZATION"
		case "voided":
			date, payStatus = t.AuthorizedAt.Time, "VOIDED_AUTHORIZATION"
		}
		d := map[string]any{
			"transactionId":   t.TransactionID,
			"transactionDate": date.UTC().Format("2006-01-02T15:04:05Z"),
			"transactionType": "PAYMENT",
			"payStatus":       payStatus,
			"orderId":         t.OrderID,
			"productName":     t.ProductName,
			"currency":        t.Currency,
			"payInfo":         []PayInfo{card.payInfo(t.Amount)},
		}
		if r := refunds[t.TransactionID]; len(r) > 0 {
			d["refundList"] = r
		}
		info = append(info, d)
	}
	return success(info), nil
}

// refundLists reads the refunds of the payments in rows, as refundList
// entries by payment transaction id.
func (s *sandbox) refundLists(ctx context.Context, rows []txnRow) (map[int64][]map[string]any, error) {
	ids := make([]int64, 0, len(rows))
	for _, t := range rows {
		ids = append(ids, t.TransactionID)
	}
	var refunds []struct {
		RefundID      int64     `db:"refund_transaction_id"`
		TransactionID int64     `db:"transaction_id"`
		Amount        int64     `db:"amount"`
		RefundType    string    `db:"refund_type"`
		CreatedAt     time.Time `db:"created_at"`
	}
	if err := s.db.SelectContext(ctx, &refunds, `SELECT refund_transaction_id, transaction_id, amount, refund_type, created_at
		FROM sandbox_linepay_refunds WHERE channel_id=$1 AND transaction_id = ANY($2)
		ORDER BY refund_transaction_id`, s.cfg.ChannelID, pq.Array(ids)); err != nil {
		return nil, fmt.Errorf("list refunds: %w", err)
	}
	out := map[int64][]map[string]any{}
	for _, r := range refunds {
		out[r.TransactionID] = append(out[r.TransactionID], map[string]any{
			"refundTransactionId":   r.RefundID,
			"transactionType":       r.RefundType,
			"refundAmount":          -r.Amount,
			"refundTransactionDate": r.CreatedAt.UTC().Format("2006-01-02T15:04:05Z"),
		})
	}
	return out, nil
}

func splitList(vs []string) []string {
	var out []string
	for _, v := range vs {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); p != "" {
				out = append(out, p)
			}
		}
	}
	return out
}
