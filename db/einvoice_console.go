package db

import (
	"context"
	"errors"
	"time"

	"webstore/billing"
)

// What the staff console and the mails read of e-invoices: the number
// books with what is left of them, the invoices waiting for numbers, and
// one charge's invoice.

// BookSummary is one imported number range and how far it is used.
type BookSummary struct {
	Period string `db:"period" json:"period"`
	Track  string `db:"track" json:"track"`
	First  int    `db:"first_no" json:"first_no"`
	Last   int    `db:"last_no" json:"last_no"`
	Next   int    `db:"next_no" json:"next_no"`
}

// Used is how many of the book's numbers were given out.
func (b BookSummary) Used() int { return b.Next - b.First }

// Left is how many are still unused.
func (b BookSummary) Left() int { return b.Last + 1 - b.Next }

// PeriodWaiting is how many invoices of a period wait for a number.
type PeriodWaiting struct {
	Period  string `db:"period" json:"period"`
	Waiting int    `db:"waiting" json:"waiting"`
}

// InvoiceBooks lists every imported book, newest period first, and the
// count of invoices waiting for numbers per period, in one statement.
func (s *Store) InvoiceBooks(ctx context.Context) ([]BookSummary, []PeriodWaiting, error) {
	var out struct {
		Books   jsonList[BookSummary]   `db:"books"`
		Waiting jsonList[PeriodWaiting] `db:"waiting"`
	}
	err := s.DB.GetContext(ctx, &out, `SELECT
		(SELECT coalesce(json_agg(b ORDER BY b.period DESC, b.track, b.first_no), '[]') FROM
			(SELECT period, track, first_no, last_no, next_no FROM einvoice_books) b) AS books,
		(SELECT coalesce(json_agg(w ORDER BY w.period), '[]') FROM
			(SELECT period, count(*) AS waiting FROM einvoices WHERE status = 'waiting' GROUP BY period) w) AS waiting`)
	return out.Books, out.Waiting, err
}

// ChargeInvoice is a charge's e-invoice as receipts and the console show
// it. Number, Date and Random are empty while it waits for a number.
type ChargeInvoice struct {
	ChargeID    int64      `db:"charge_id"`
	Period      string     `db:"period"`
	Number      string     `db:"number"`
	Status      string     `db:"status"` // waiting, issued or cancelled
	InvoiceAt   time.Time  `db:"invoice_at"`
	Random      string     `db:"random_number"`
	B2B         bool       `db:"b2b"`
	CancelledAt *time.Time `db:"cancelled_at"`
	// Allowed is what allowances against it add up to (issued or waiting
	// for the admin's agreement).
	Allowed billing.Money `db:"allowed"`
}

// ErrNoInvoice is InvoiceOf's answer for a charge without an e-invoice.
var ErrNoInvoice = errors.New("the charge has no e-invoice")

// InvoiceOf returns the e-invoice of charge chargeID: ErrNoInvoice when
// the charge has none (nothing was paid, or it is not paid yet).
func (s *Store) InvoiceOf(ctx context.Context, chargeID int64) (ChargeInvoice, error) {
	var inv ChargeInvoice
	err := s.DB.GetContext(ctx, &inv, `SELECT charge_id, period, coalesce(number, '') AS number, status, invoice_at,
		coalesce(random_number, '') AS random_number, b2b, cancelled_at,
		(SELECT coalesce(sum(total), 0) FROM einvoice_allowances al WHERE al.charge_id = e.charge_id) AS allowed
		FROM einvoices e WHERE charge_id = $1`, chargeID)
	if isNoRows(err) {
		return inv, ErrNoInvoice
	}
	return inv, err
}

// ErrNoAllowance is AllowanceOfRefund's answer for a refund that made no
// allowance (it cancelled the invoice, or the charge had none).
var ErrNoAllowance = errors.New("the refund made no allowance")

// AllowanceOfRefund returns the allowance refund refundID made, as it
// stands now (issued, or waiting for the admin's agreement).
func (s *Store) AllowanceOfRefund(ctx context.Context, refundID int64) (Allowance, error) {
	var al Allowance
	err := s.DB.GetContext(ctx, &al, `SELECT `+allowanceCols+allowanceFrom+`WHERE al.refund_id = $1`, refundID)
	if isNoRows(err) {
		return al, ErrNoAllowance
	}
	return al, err
}
