package cardgw

import (
	"testing"
	"time"

	"webstore/billing"
)

func TestTestCardsAreValidNumbers(t *testing.T) {
	brands := map[string]string{
		"4242424242424242": "visa", "5555555555554444": "mastercard", "3530111333300000": "jcb",
		"378282246310005": "amex", "4000000000000002": "visa", "4000000000000341": "visa", "4000000000005126": "visa",
	}
	if len(testCards()) != len(brands) {
		t.Fatalf("%d test cards, the doc lists %d", len(testCards()), len(brands))
	}
	for _, c := range testCards() {
		if !luhnValid(c.Number) || cleanNumber(c.Display) != c.Number || brandOf(c.Number) != brands[c.Number] {
			t.Errorf("%s: luhn %v, display %q, brand %s", c.Number, luhnValid(c.Number), c.Display, brandOf(c.Number))
		}
	}
	for _, n := range []string{"4242424242424241", "1234567812345678", "0000000000000001"} {
		if luhnValid(n) {
			t.Errorf("%s passes Luhn", n)
		}
	}
	if brandOf("2221000000000009") != "mastercard" || brandOf("6011000000000004") != "unknown" {
		t.Error("brand by prefix")
	}
}

func TestExpiry(t *testing.T) {
	for _, c := range []struct {
		in          string
		month, year int
		ok          bool
	}{
		{"12/28", 12, 2028, true}, {" 1 / 2030 ", 1, 2030, true}, {"13/28", 13, 2028, false},
		{"00/28", 0, 2028, false}, {"1228", 0, 0, false}, {"", 0, 0, false},
	} {
		m, y, ok := parseExpiry(c.in)
		if ok != c.ok || (ok && (m != c.month || y != c.year)) {
			t.Errorf("parseExpiry(%q) = %d, %d, %v", c.in, m, y, ok)
		}
	}
	// A card is good through the last moment of its month, Taiwan time.
	last := time.Date(2026, 6, 30, 23, 59, 59, 0, billing.Taipei)
	if expired(6, 2026, last) || !expired(6, 2026, last.Add(time.Second)) || !expired(5, 2026, last) {
		t.Error("expiry at the month's end")
	}
}
