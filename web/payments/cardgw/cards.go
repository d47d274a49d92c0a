package cardgw

import (
	"regexp"
	"strconv"
	"strings"
	"time"

	"webstore/billing"
)

// testCard is a number the sandbox accepts and what it does.
type testCard struct {
	Number string
	// Display is the number grouped as printed on the card.
	Display string
	Note    string
	// attachDecline and chargeDecline are the decline codes of attaching
	// and of charging the card; empty when they succeed.
	attachDecline string
	chargeDecline string
	// refundDecline is the decline code of every refund of a charge to the
	// card; empty when refunds succeed.
	refundDecline string
}

// testCards lists the accepted numbers (see the package doc).
func testCards() []testCard {
	return []testCard{
		{Number: "4242424242424242", Display: "4242 4242 4242 4242", Note: "Visa,付款成功"},
		{Number: "5555555555554444", Display: "5555 5555 5555 4444", Note: "Mastercard,付款成功"},
		{Number: "3530111333300000", Display: "3530 1113 3330 0000", Note: "JCB,付款成功"},
		{Number: "378282246310005", Display: "3782 822463 10005", Note: "American Express,付款成功(安全碼 4 碼)"},
		{Number: "4000000000000002", Display: "4000 0000 0000 0002", Note: "綁定時遭拒絕", attachDecline: CodeCardDeclined},
		{Number: "4000000000000341", Display: "4000 0000 0000 0341", Note: "可綁定,每次扣款都因額度不足失敗", chargeDecline: CodeInsufficientFunds},
		{Number: "4000000000005126", Display: "4000 0000 0000 5126", Note: "可綁定、扣款成功,每次退款都遭拒絕", refundDecline: CodeRefundDeclined},
	}
}

func findTestCard(number string) (testCard, bool) {
	for _, c := range testCards() {
		if c.Number == number {
			return c, true
		}
	}
	return testCard{}, false
}

// brandOf names a card's brand from its number's prefix.
func brandOf(number string) string {
	prefix := func(n int) int {
		if len(number) < n {
			return -1
		}
		v, _ := strconv.Atoi(number[:n])
		return v
	}
	switch p2, p4 := prefix(2), prefix(4); {
	case strings.HasPrefix(number, "4"):
		return "visa"
	case p2 >= 51 && p2 <= 55, p4 >= 2221 && p4 <= 2720:
		return "mastercard"
	case p4 >= 3528 && p4 <= 3589:
		return "jcb"
	case p2 == 34 || p2 == 37:
		return "amex"
	}
	return "unknown"
}

// luhnValid reports whether a digit string passes the Luhn check.
func luhnValid(number string) bool {
	sum := 0
	double := false
	for i := len(number) - 1; i >= 0; i-- {
		d := int(number[i] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

// cleanNumber drops the spaces and dashes people type in card numbers.
func cleanNumber(s string) string {
	return strings.NewReplacer(" ", "", "-", "", "\u3000", "").Replace(strings.TrimSpace(s))
}

var expiryRE = regexp.MustCompile(`^\s*(\d{1,2})\s*/\s*(\d{2}|\d{4})\s*$`)

// parseExpiry reads MM/YY (or MM/YYYY); ok is false when it is not one.
func parseExpiry(s string) (month, year int, ok bool) {
	m := expiryRE.FindStringSubmatch(s)
	if m == nil {
		return 0, 0, false
	}
	month, _ = strconv.Atoi(m[1])
	year, _ = strconv.Atoi(m[2])
	if year < 100 {
		year += 2000
	}
	return month, year, month >= 1 && month <= 12
}

// expired reports whether a card valid through month/year has run out at
// now: cards work to the end of their month, Taiwan time.
func expired(month, year int, now time.Time) bool {
	end := time.Date(year, time.Month(month)+1, 1, 0, 0, 0, 0, billing.Taipei)
	return !now.Before(end)
}
