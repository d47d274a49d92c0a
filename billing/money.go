// Package billing is the billing core of the webstore: plans, money, tax, the
// JST billing calendar, plan changes, promo-code rules and quotes. It is pure
// Go with the standard library only and knows nothing of HTTP, HTML or SQL.
// Every rule about money or codes lives here exactly once; the store and the
// handlers ask it.
package billing

import (
	"strconv"
)

// Money is an exact amount in whole New Taiwan dollars. Plan fees, offsets,
// tax and totals are all whole dollars; no float is used anywhere.
type Money int64

// TaxRatePercent is Taiwan's business tax (shown as 消費稅).
const TaxRatePercent = 5

// TaxOn returns the business tax on a net amount, rounded half up to a whole
// dollar. Tax is always computed after any promo offset.
func TaxOn(net Money) Money {
	if net <= 0 {
		return 0
	}
	return (net*TaxRatePercent + 50) / 100
}

// String formats m as the product shows it: NT$1,200.
func (m Money) String() string {
	return "NT$" + m.Digits()
}

// Plain is m as a machine value: the integer with no separators or sign of
// currency (1260). Forms carry this; the server never parses a display format.
func (m Money) Plain() string {
	return strconv.FormatInt(int64(m), 10)
}

// Decimal formats m with two decimals, as the checkout page does: NT$840.00.
func (m Money) Decimal() string {
	return "NT$" + m.Digits() + ".00"
}

// Digits formats m with thousands separators and no currency sign.
func (m Money) Digits() string {
	n := int64(m)
	neg := n < 0
	if neg {
		n = -n
	}
	s := strconv.FormatInt(n, 10)
	out := make([]byte, 0, len(s)+len(s)/3+1)
	if neg {
		out = append(out, '-')
	}
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	return string(out)
}
