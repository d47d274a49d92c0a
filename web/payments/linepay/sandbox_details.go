package linepay

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lib/pq"
)

// paymentDetails is the Payment Details API: the paid, authorized and voided
// transactions with the given orderIds or transactionIds (each may repeat or
// be comma-separated). All are transactionType PAYMENT; payStatus tells a
// captured payment (CAPTURE) from an authorization (AUTHORIZATION) and a
// voided one (VOIDED_AUTHORIZATION).
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
		info = append(info, map[string]any{
			"transactionId":   t.TransactionID,
			"transactionDate": date.UTC().Format("2006-01-02T15:04:05Z"),
			"transactionType": "PAYMENT",
			"payStatus":       payStatus,
			"orderId":         t.OrderID,
			"productName":     t.ProductName,
			"currency":        t.Currency,
			"payInfo":         []PayInfo{card.payInfo(t.Amount)},
		})
	}
	return success(info), nil
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
