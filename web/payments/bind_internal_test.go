package payments

import (
	"testing"

	"webstore/web/payments/linepay"
)

// A binding's confirmation matches only with its own transaction and
// order, NT$1 over all payment methods, and a regKey; anything else is
// named (and the handler voids it).
func TestConfirmMismatch(t *testing.T) {
	good := linepay.ConfirmResult{OrderID: "bind-cat-abc", TransactionID: "2026113000000000001", RegKey: "RK1",
		PayInfo: []linepay.PayInfo{{Method: "CREDIT_CARD", Amount: 1}}}
	for _, c := range []struct {
		name string
		mut  func(*linepay.ConfirmResult)
		want string
	}{
		{"match", func(*linepay.ConfirmResult) {}, ""},
		{"split over two methods", func(r *linepay.ConfirmResult) {
			r.PayInfo = []linepay.PayInfo{{Amount: 0}, {Amount: 1}}
		}, ""},
		{"another transaction", func(r *linepay.ConfirmResult) { r.TransactionID = "2026113000000000002" }, "transaction 2026113000000000002"},
		{"another order", func(r *linepay.ConfirmResult) { r.OrderID = "bind-bear-abc" }, "order bind-bear-abc"},
		{"another amount", func(r *linepay.ConfirmResult) { r.PayInfo[0].Amount = 840 }, "amount 840"},
		{"no pay info", func(r *linepay.ConfirmResult) { r.PayInfo = nil }, "amount 0"},
		{"no regKey", func(r *linepay.ConfirmResult) { r.RegKey = "" }, "no regKey"},
	} {
		r := good
		r.PayInfo = append([]linepay.PayInfo(nil), good.PayInfo...)
		c.mut(&r)
		if got := confirmMismatch(r, "2026113000000000001", "bind-cat-abc"); got != c.want {
			t.Errorf("%s: %q, want %q", c.name, got, c.want)
		}
	}
}
