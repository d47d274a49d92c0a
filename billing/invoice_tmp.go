package billing

// TEMPORARY: placeholders until the mig branch's period and number rules
// land; reconciled at merge.

import (
	"crypto/rand"
	"fmt"
	"math/big"
	"time"
)

// InvoicePeriod is a two-month e-invoice period.
type InvoicePeriod struct {
	Year     int        // Gregorian
	EndMonth time.Month // 2, 4, ..., 12
}

// InvoicePeriodOf is the period containing t (Taiwan time).
func InvoicePeriodOf(t time.Time) InvoicePeriod {
	l := t.In(Taipei)
	m := l.Month()
	if m%2 == 1 {
		m++
	}
	return InvoicePeriod{l.Year(), m}
}

// String names the period as the platform does: ROC year and last month.
func (p InvoicePeriod) String() string { return fmt.Sprintf("%03d%02d", p.Year-1911, int(p.EndMonth)) }

// BookRange is one imported range.
type BookRange struct {
	Period     InvoicePeriod
	Track      string
	Begin, End int
}

// NewRandomNumber is an invoice's random number.
func NewRandomNumber() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(10000))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("%04d", n.Int64()), nil
}

// FormatInvoiceNumber formats a number.
func FormatInvoiceNumber(track string, n int) string { return fmt.Sprintf("%s%08d", track, n) }

// Next is the period after p.
func (p InvoicePeriod) Next() InvoicePeriod {
	if p.EndMonth == 12 {
		return InvoicePeriod{p.Year + 1, 2}
	}
	return InvoicePeriod{p.Year, p.EndMonth + 2}
}
